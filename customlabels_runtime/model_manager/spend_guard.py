"""The spend guard's rules: whether today's budget of model running hours is used up, and then what to do (hold
the model stopped and the images in the queue until the next UTC day or `customlabels model resume`)."""

from __future__ import annotations

from datetime import datetime

from customlabels_runtime.model_manager.dependencies import Settings
from customlabels_runtime.model_manager.records import Decision, Observation


def budget_spent(seen: Observation, settings: Settings) -> bool:
    """Whether the spend guard's daily budget of running time is used up (never in `manual` mode)."""
    return (
        settings.lifecycle != "manual"
        and settings.max_running_seconds_per_day > 0
        and seen.running_seconds_today >= settings.max_running_seconds_per_day
    )


def paused_by_budget(
    seen: Observation, settings: Settings, last: datetime, idle: float, remember: datetime | None
) -> Decision:
    """The spend guard: disable the event source first, stop the model once nothing is in flight (no batch is
    failed, no receive spent), start nothing; images wait in the queue (4 days' retention) for the next UTC day."""
    why = (
        f"spend guard: the model ran {seen.running_seconds_today / 3600:.2f} h today, the budget is "
        f"{settings.max_running_seconds_per_day / 3600:g} h; images wait in the queue until 00:00 UTC or "
        "`customlabels model resume`"
    )
    disable = False if seen.mapping_enabled and not seen.mapping_busy else None
    stop = seen.model_status == "RUNNING" and not seen.mapping_enabled and not seen.mapping_busy and seen.in_flight == 0
    step = (
        "; stopping the model"
        if stop
        else ("; waiting for the batches in flight" if seen.model_status == "RUNNING" else "")
    )
    return Decision(
        why + step, last, idle, stop_model=stop, enable_mapping=disable, image_seen_at=remember, budget_paused=True
    )
