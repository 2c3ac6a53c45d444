"""Logic of the model manager: start the model when an image waits, stop it when idle, gate the event source.

A running Custom Labels model is billed per inference-unit hour whether used or not. One run (`manage`) observes
(observe.py: queue depth, model state, event source state, the manager's state), decides with pure rules
(rules.py, spend_guard.py: so every rule is tested without AWS) and acts (act.py). The rules are explained in
docs/model-lifecycle.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from customlabels_runtime.model_manager.act import act
from customlabels_runtime.model_manager.dependencies import Dependencies
from customlabels_runtime.model_manager.observe import observe
from customlabels_runtime.model_manager.rules import decide


class InspectionFailedError(RuntimeError):
    """Raised after a run has acted, when it could not look at the queue (missing rights, a key it cannot use):
    the invocation fails so that the manager's Errors alarm reports it."""


def manage(
    deps: Dependencies,
    *,
    work_announced: bool = False,
    announced_at: datetime | None = None,
    now: datetime | None = None,
    announced_key: str | None = None,
) -> dict[str, Any]:
    """One run: observe, decide (pure), act."""
    seen, state = observe(deps, now or datetime.now(UTC), work_announced, announced_at, announced_key)
    result = act(decide(seen, deps.settings), seen, state, deps)
    if seen.inspection is not None and seen.inspection.error:
        deps.logger.error("Could not look at the waiting messages", extra={"error": seen.inspection.error})
        raise InspectionFailedError(seen.inspection.error)
    return result
