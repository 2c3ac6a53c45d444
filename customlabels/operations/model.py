"""Look at, start and stop the Custom Labels model of a deployed (or local) pipeline."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from customlabels.config import MODEL_ARN_PATTERN
from customlabels.errors import CommandError
from customlabels.operations.stack_outputs import stack_outputs

SETTLED = {"start": {"RUNNING"}, "stop": {"STOPPED"}, "status": {"RUNNING", "STOPPED", "TRAINING_COMPLETED"}}
"""What `--wait` waits for after each action (FAILED always ends the wait)."""


@dataclass(frozen=True)
class Target:
    """The model, and the model manager's state parameter when the stack is known."""

    model_arn: str
    state_parameter: str | None = None
    lifecycle: str | None = None
    thresholds_parameter: str | None = None
    version_parameter: str | None = None
    """The parameter of the version in service (output `ModelVersionParameter`; docs/model-lifecycle.md)."""
    drain_seconds: float | None = None
    """How long after a switch the old version may still get calls (output `ModelVersionDrainSeconds`)."""


@dataclass(frozen=True)
class ModelStatus:
    model_arn: str
    status: str
    message: str
    min_inference_units: int | None
    max_inference_units: int | None
    since: str | None
    last_activity: str | None
    hours_today: float | None = None
    """Running hours this UTC day as the manager's spend guard counts them (None without its state)."""
    wait: WaitStatus | None = None
    """The latency budget's view, from the manager's state (None without its state)."""


@dataclass(frozen=True)
class WaitStatus:
    """What the manager's last run recorded about waiting images (docs/model-lifecycle.md, "A latency budget")."""

    budget_minutes: float | None
    """`max_wait_minutes`; None: no budget (the model starts at the first image)."""
    waiting_since: datetime | None
    """Since when the oldest image known to wait for a model that is not running waits; None: none."""
    waiting_key: str | None
    start_due_at: datetime | None
    """When the manager will start the model for it; None: now (or no image waits, or no budget)."""
    late: str | None
    """Why the oldest image waits longer than the budget (None: it does not)."""
    start_minutes: float | None = None
    """The longest recent start the manager saw (None: none yet; it assumes its safe default)."""
    waited_minutes: float | None = None
    """How long the oldest image has waited, at the time of the status."""


def wait_status(state: dict[str, Any], now: datetime) -> WaitStatus:
    """The waiting images as the manager's state says, each field read as the manager reads it."""
    from customlabels_runtime.model_manager.learning import learned_start_seconds
    from customlabels_runtime.model_manager.state import parse_time

    budget = state.get("wait_budget_seconds")
    budget_minutes = budget / 60 if isinstance(budget, int | float) and not isinstance(budget, bool) else None
    key, late = state.get("waiting_key"), state.get("late")
    start = learned_start_seconds(state)
    since = parse_time(state.get("image_seen_at"), now)
    return WaitStatus(
        budget_minutes,
        since,
        key if isinstance(key, str) else None,
        _any_time(state.get("start_due_at")),
        late if isinstance(late, str) else None,
        None if start is None else start / 60,
        None if since is None else (now - since).total_seconds() / 60,
    )


def _any_time(value: Any) -> datetime | None:
    """A time the manager planned (it may be in the future), None when unreadable."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.utcoffset() is not None else None


def stack_target(cloudformation: Any, stack_name: str) -> Target:
    """The model of a deployed stack, from its outputs."""
    outputs = stack_outputs(cloudformation, stack_name)
    if "ModelArn" not in outputs:
        raise CommandError(f"--stack {stack_name}: no ModelArn output; is it a Custom Labels pipeline stack?")
    return Target(
        outputs["ModelArn"],
        outputs.get("ModelManagerStateParameter"),
        outputs.get("ModelLifecycleMode"),
        outputs.get("ThresholdsParameter"),
        outputs.get("ModelVersionParameter"),
        _seconds(outputs.get("ModelVersionDrainSeconds")),
    )


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def check_model_arn(model_arn: str) -> str:
    if not MODEL_ARN_PATTERN.match(model_arn):
        raise CommandError(
            f"--model-arn {model_arn!r} is not a project version ARN "
            "(arn:aws:rekognition:REGION:ACCOUNT:project/NAME/version/NAME/TIMESTAMP)"
        )
    return model_arn


def describe(rekognition: Any, model_arn: str) -> dict[str, Any]:
    match = MODEL_ARN_PATTERN.match(model_arn)
    [project] = rekognition.describe_projects(ProjectNames=[match["project"]])["ProjectDescriptions"]
    [version] = rekognition.describe_project_versions(
        ProjectArn=project["ProjectArn"], VersionNames=[match["version"]]
    )["ProjectVersionDescriptions"]
    return version


def status(rekognition: Any, target: Target, ssm: Any | None = None, now: datetime | None = None) -> ModelStatus:
    description = describe(rekognition, target.model_arn)
    state: dict[str, Any] = {}
    if ssm is not None and target.state_parameter:
        state = json.loads(ssm.get_parameter(Name=target.state_parameter)["Parameter"]["Value"] or "{}")
    since = state.get("model_status_since") if state.get("model_status") == description["Status"] else None
    hours, wait, now = None, None, now or datetime.now(UTC)
    if state:
        from customlabels_runtime.model_manager.state import running_seconds_today

        hours = running_seconds_today(state, now) / 3600
        wait = wait_status(state, now)
    return ModelStatus(
        target.model_arn,
        description["Status"],
        description.get("StatusMessage", ""),
        description.get("MinInferenceUnits"),
        description.get("MaxInferenceUnits"),
        since,
        state.get("last_activity"),
        hours,
        wait,
    )


def start(rekognition: Any, model_arn: str, inference_units: int, max_inference_units: int | None = None) -> str:
    units = {"MinInferenceUnits": inference_units}
    if max_inference_units and max_inference_units > inference_units:
        units["MaxInferenceUnits"] = max_inference_units
    return rekognition.start_project_version(ProjectVersionArn=model_arn, **units)["Status"]


def stop(rekognition: Any, model_arn: str) -> str:
    return rekognition.stop_project_version(ProjectVersionArn=model_arn)["Status"]


def wait_for(
    rekognition: Any,
    model_arn: str,
    wanted: set[str],
    timeout: float,
    poll: float = 10.0,
    on_status: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Poll until the model is in `wanted` (or FAILED, or `timeout` seconds pass); returns the last status."""
    deadline = clock() + timeout
    while True:
        current = describe(rekognition, model_arn)["Status"]
        if on_status:
            on_status(current)
        if current in wanted or current == "FAILED" or clock() >= deadline:
            return current
        sleep(poll)


def resume(ssm: Any, state_parameter: str, now: datetime) -> dict[str, Any]:
    """`model resume`: restart today's count of the spend guard in the manager's state, which it acts on at its
    next run (docs/model-lifecycle.md, "The spend guard"); returns the state written."""
    from customlabels_runtime.model_manager.state import parse_state, resumed_state

    state = resumed_state(parse_state(ssm.get_parameter(Name=state_parameter)["Parameter"]["Value"]), now)
    ssm.put_parameter(Name=state_parameter, Value=json.dumps(state), Type="String", Overwrite=True)
    return state
