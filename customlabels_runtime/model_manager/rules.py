"""The manager's rules, pure functions of what a run observed: `decide` what to do now, and `should_inspect` (whether
to look at the waiting messages first). Every rule is tested without AWS; docs/model-lifecycle.md explains them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from customlabels_runtime.model_manager.budget import drained_after_seconds, start_due_at
from customlabels_runtime.model_manager.dependencies import Settings
from customlabels_runtime.model_manager.records import Decision, Observation
from customlabels_runtime.model_manager.spend_guard import budget_spent, paused_by_budget

STARTABLE = frozenset({"STOPPED", "TRAINING_COMPLETED"})
"""States from which StartProjectVersion is accepted."""
INSPECT_MIN_RECEIVE_COUNT = 2
"""An inspection spends one of a message's receives: with a maxReceiveCount below this it would send the image
to the DLQ, so the manager does not inspect and counts every visible message as an image (the old rule)."""


def decide(seen: Observation, settings: Settings) -> Decision:
    """What to do now, by the mode; see docs/model-lifecycle.md for the rules."""
    last = _last_activity(seen)
    idle = (seen.now - last).total_seconds()
    if budget_spent(seen, settings):  # what waits is remembered, to start at once the next day
        held = _earliest_known_wait(seen)
        return replace(paused_by_budget(seen, settings, last, idle, held), waiting_key=_key_known_to_wait(seen, held))
    if settings.lifecycle == "manual":
        return Decision(
            f"manual: model {seen.model_status}, {_waiting(seen)}; gating the event source only",
            last,
            idle,
            enable_mapping=_gate(seen),
            image_seen_at=_image_known_to_wait(seen),
        )
    if settings.lifecycle == "always-on":
        start = seen.model_status in STARTABLE
        return Decision(
            f"always-on: model {seen.model_status}" + ("; starting it" if start else ""),
            last,
            idle,
            start_model=start,
            enable_mapping=_gate(seen),
            image_seen_at=_image_known_to_wait(seen),
        )
    if seen.model_status == "RUNNING":
        return _keep_or_stop(seen, settings, last, idle)
    return _start_or_wait(seen, settings, last, idle)


def _has_work(seen: Observation) -> bool:
    """Only queue work keeps a running model awake: messages seen now, or (for a model not running) an announced
    upload; for a running model an announcement counts at its own time (`_last_activity`)."""
    return seen.queued > 0 or (seen.work_announced and seen.model_status != "RUNNING")


def _last_activity(seen: Observation) -> datetime:
    """Now when there is work, else the last recorded; an announced upload moves a running model's timer to its
    upload (its message was queued then), never later: a late announcement cannot, as it did in issue 13."""
    last = seen.now if _has_work(seen) or seen.last_activity is None else seen.last_activity
    if seen.model_status == "RUNNING" and seen.work_announced:
        last = max(last, seen.announced_at or seen.now)
    return last


def _image_known_to_wait(seen: Observation) -> datetime | None:
    """Since when an image is known to wait for a model that is not running, to remember so that no later run
    looks at the queue again (and, with a latency budget, to count its wait from); None: none. The earliest of an
    announcement's upload time (EventBridge's `time`, "the time the event occurred") and the record of an earlier
    run, trusted only while messages wait."""
    return None if seen.model_status == "RUNNING" else _earliest_known_wait(seen)


def _earliest_known_wait(seen: Observation) -> datetime | None:
    """The earliest known wait, whatever the model's status (the spend guard remembers it while it holds the
    model, so that the wait of the held images counts from when they came)."""
    known = [seen.image_seen_at] if seen.image_seen_at is not None and seen.queued > 0 else []
    if seen.work_announced:
        known.append(seen.announced_at or seen.now)
    return min(known, default=None)


def _key_known_to_wait(seen: Observation, since: datetime | None) -> str | None:
    """The key of the image waiting since `since`: the record's, or the announced one when it is the earliest."""
    if since is None:
        return None
    if seen.work_announced and since == (seen.announced_at or seen.now) and seen.announced_key:
        return seen.announced_key
    return seen.waiting_key


def _gate(seen: Observation) -> bool | None:
    """In every mode the event source runs exactly while the model runs: an image is never received (and never
    spends its receive count toward the DLQ) by a model that cannot answer it. None: leave it as it is."""
    running = seen.model_status == "RUNNING"
    return None if seen.mapping_busy or seen.mapping_enabled == running else running


def _waiting(seen: Observation) -> str:
    return f"{seen.visible} waiting and {seen.in_flight} in flight"


def _keep_or_stop(seen: Observation, settings: Settings, last: datetime, idle: float) -> Decision:
    """On demand, a running model: kept while there is work or for idle_seconds after it, then stopped (unless an
    upload was just announced, or the event source is changing)."""
    limit = drained_after_seconds(settings)
    if _has_work(seen) or idle < limit:
        return Decision(
            f"model RUNNING, {_waiting(seen)}, idle {idle:.0f}s of {limit:g}s",
            last,
            idle,
            enable_mapping=_gate(seen),
        )
    if seen.work_announced:  # its message may not be in the queue yet: the next scheduled run decides
        return Decision(
            f"model RUNNING, idle {idle:.0f}s, an upload announced: the next scheduled run decides",
            last,
            idle,
            enable_mapping=_gate(seen),
        )
    if seen.mapping_busy:
        return Decision(
            f"no work for {idle:.0f}s but the event source is changing: stopping on a later run", last, idle
        )
    return Decision(
        f"no work for {idle:.0f}s (idle limit {limit:g}s"
        + (", the queue drained within the latency budget" if settings.max_wait_seconds > 0 else "")
        + "): stopping the model",
        last,
        idle,
        stop_model=True,
        enable_mapping=False if seen.mapping_enabled else None,
    )


def _start_or_wait(seen: Observation, settings: Settings, last: datetime, idle: float) -> Decision:
    """On demand, a model that is not running: started when it can be and an image is known to wait, and with a
    latency budget only once waiting longer would make the oldest image miss it (budget.py)."""
    waits_since = _image_known_to_wait(seen)
    key = _key_known_to_wait(seen, waits_since)
    due = start_due_at(seen, settings, waits_since)
    if seen.model_status in STARTABLE and waits_since is not None:
        if due is not None and seen.now < due:
            return Decision(
                f"{_waiting(seen)}, the oldest since {waits_since:%Y-%m-%d %H:%M:%S} UTC; within the latency "
                f"budget of {settings.max_wait_seconds / 60:g} min the model starts at {due:%H:%M:%S} UTC",
                last,
                idle,
                enable_mapping=_gate(seen),
                image_seen_at=waits_since,
                waiting_key=key,
                start_due_at=due,
            )
        why = "upload announced" if seen.work_announced else "an image waits"
        if due is not None:
            why = (
                f"the oldest image, waiting since {waits_since:%H:%M:%S} UTC, would miss the latency budget of "
                f"{settings.max_wait_seconds / 60:g} min if the model started later"
            )
        return Decision(
            f"{why} ({_waiting(seen)}) and the model is {seen.model_status}: starting it",
            last,
            idle,
            start_model=True,
            enable_mapping=_gate(seen),
            image_seen_at=waits_since,
            waiting_key=key,
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
    return Decision(
        f"model {seen.model_status}, {_waiting(seen)}{looked}",
        last,
        idle,
        enable_mapping=_gate(seen),
        image_seen_at=waits_since,
        waiting_key=key,
    )


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
