"""The manager's rules, pure functions of what a run observed: `decide` what to do now, and `should_inspect` (whether
to look at the waiting messages first). Every rule is tested without AWS; docs/model-lifecycle.md explains them."""

from __future__ import annotations

from customlabels_runtime.model_manager.dependencies import Settings
from customlabels_runtime.model_manager.records import Decision, Observation
from customlabels_runtime.model_manager.spend_guard import budget_spent, paused_by_budget

STARTABLE = frozenset({"STOPPED", "TRAINING_COMPLETED"})
"""States from which StartProjectVersion is accepted."""
INSPECT_MIN_RECEIVE_COUNT = 2
"""An inspection spends one of a message's receives: with a maxReceiveCount below this it would send the image
to the DLQ, so the manager does not inspect and counts every visible message as an image (the old rule)."""


def decide(seen: Observation, settings: Settings) -> Decision:
    """What to do now; see docs/model-lifecycle.md for the rules."""
    status, running = seen.model_status, seen.model_status == "RUNNING"
    # Only queue work keeps a running model awake: messages seen now, or an announced upload at its own time (its
    # message was queued then). A late announcement cannot move the timer past its upload, as it did in issue 13.
    active = seen.queued > 0 or (seen.work_announced and not running)
    last = seen.now if active or seen.last_activity is None else seen.last_activity
    if running and seen.work_announced:
        last = max(last, seen.announced_at or seen.now)
    idle = (seen.now - last).total_seconds()
    image_waiting = not running and (seen.work_announced or (seen.image_seen_at is not None and seen.queued > 0))
    remember = (seen.now if seen.work_announced else seen.image_seen_at) if image_waiting else None
    # In every mode the event source runs exactly while the model runs: an image is never received (and never
    # spends its receive count toward the DLQ) by a model that cannot answer it.
    gate = None if seen.mapping_busy or seen.mapping_enabled == running else running
    waiting = f"{seen.visible} waiting and {seen.in_flight} in flight"
    if budget_spent(seen, settings):  # what waits is remembered as below, to start at once the next day
        held = seen.now if seen.work_announced else (seen.image_seen_at if seen.queued else None)
        return paused_by_budget(seen, settings, last, idle, held)
    if settings.lifecycle == "manual":
        return Decision(
            f"manual: model {status}, {waiting}; gating the event source only",
            last,
            idle,
            enable_mapping=gate,
            image_seen_at=remember,
        )
    if settings.lifecycle == "always-on":
        return Decision(
            f"always-on: model {status}" + ("; starting it" if status in STARTABLE else ""),
            last,
            idle,
            start_model=status in STARTABLE,
            enable_mapping=gate,
            image_seen_at=remember,
        )
    if running:
        if active or idle < settings.idle_seconds:
            return Decision(
                f"model RUNNING, {waiting}, idle {idle:.0f}s of {settings.idle_seconds:g}s",
                last,
                idle,
                enable_mapping=gate,
            )
        if seen.work_announced:  # its message may not be in the queue yet: the next scheduled run decides
            return Decision(
                f"model RUNNING, idle {idle:.0f}s, an upload announced: the next scheduled run decides",
                last,
                idle,
                enable_mapping=gate,
            )
        if seen.mapping_busy:
            return Decision(
                f"no work for {idle:.0f}s but the event source is changing: stopping on a later run", last, idle
            )
        return Decision(
            f"no work for {idle:.0f}s (idle limit {settings.idle_seconds:g}s): stopping the model",
            last,
            idle,
            stop_model=True,
            enable_mapping=False if seen.mapping_enabled else None,
        )
    if status in STARTABLE and image_waiting:
        why = "upload announced" if seen.work_announced else "an image waits"
        return Decision(
            f"{why} ({waiting}) and the model is {status}: starting it",
            last,
            idle,
            start_model=True,
            enable_mapping=gate,
            image_seen_at=remember,
        )
    found = seen.inspection
    looked = (
        ""
        if found is None
        else (
            f"; looked at {found.received}: {found.images} image(s), {found.discarded} "
            f"discarded, {found.unknown} unknown" + (f", {found.error}" if found.error else "")
        )
    )
    return Decision(f"model {status}, {waiting}{looked}", last, idle, enable_mapping=gate, image_seen_at=remember)


def should_inspect(seen: Observation, settings: Settings, max_receive_count: int | None) -> bool:
    """Look at the waiting messages only when that alone decides a start: on demand, a startable model, visible
    messages, and no image known yet. Once one is seen the model starts and no further look happens until it
    has run, so an image spends at most one receive this way per stopped period."""
    return (
        settings.lifecycle == "on-demand"
        and seen.model_status in STARTABLE
        and seen.visible > 0
        and not seen.work_announced
        and seen.image_seen_at is None
        and not budget_spent(seen, settings)
        and (max_receive_count is None or max_receive_count >= INSPECT_MIN_RECEIVE_COUNT)
    )
