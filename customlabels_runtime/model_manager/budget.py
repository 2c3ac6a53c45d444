"""The latency budget's rules (`max_wait_minutes`, on demand; docs/model-lifecycle.md, "A latency budget"): when a
stopped model must be started so that the oldest waiting image is answered within the budget, and why an image
waits longer. Pure functions of what a run observed, like the rest of `decide`."""

from __future__ import annotations

from datetime import datetime, timedelta

from customlabels_runtime.model_manager.dependencies import Settings
from customlabels_runtime.model_manager.learning import DEFAULT_IMAGES_PER_SECOND_PER_UNIT, DEFAULT_START_SECONDS
from customlabels_runtime.model_manager.records import Observation

ENABLE_SECONDS = 30.0
"""Enabling the event source and the first batch's receive, after the run that sees RUNNING."""


def start_seconds(seen: Observation) -> float:
    """How long a start takes: the longest recently seen, or the safe default before the first."""
    return seen.start_seconds or DEFAULT_START_SECONDS


def images_per_second(seen: Observation, settings: Settings) -> float:
    """How fast the waiting images drain once the model runs: as measured, or the safe default before."""
    return seen.images_per_second or DEFAULT_IMAGES_PER_SECOND_PER_UNIT * settings.min_inference_units


def lead_seconds(seen: Observation, settings: Settings) -> float:
    """How long before the oldest image's deadline the model must be asked to start: the start, one interval to
    the run that sees it RUNNING, the event source's enabling, draining every image waiting now at the learned
    rate (the count rule: enough images wait that waiting longer would make one miss the budget), and one more
    interval because the next chance to start is the next run."""
    waiting = max(seen.queued, 1)
    return (
        start_seconds(seen)
        + 2 * settings.interval_seconds
        + ENABLE_SECONDS
        + waiting / images_per_second(seen, settings)
    )


def start_due_at(seen: Observation, settings: Settings, waits_since: datetime | None) -> datetime | None:
    """When the model must be started for the image waiting since `waits_since`; None without a budget or an
    image. An unknown wait counts from now (the caller passes now)."""
    if settings.max_wait_seconds <= 0 or waits_since is None:
        return None
    return waits_since + timedelta(seconds=settings.max_wait_seconds - lead_seconds(seen, settings))


def drained_after_seconds(settings: Settings) -> float:
    """With a budget, a running model stops once the queue has been empty for one interval (an image arriving
    later waits for the next start, within its budget); without one, after `idle_minutes`."""
    if settings.max_wait_seconds > 0:
        return min(settings.idle_seconds, settings.interval_seconds)
    return settings.idle_seconds


def late_reason(
    seen: Observation, settings: Settings, waits_since: datetime | None, paused: bool, starting_now: bool = False
) -> str | None:
    """Why the oldest image waits longer than its budget (None: it does not, or there is no budget): what
    `customlabels model status` and the WaitBudgetMissed alarm's warning say."""
    if settings.max_wait_seconds <= 0 or waits_since is None or seen.model_status == "RUNNING":
        return None
    if (seen.now - waits_since).total_seconds() <= settings.max_wait_seconds:
        return None
    learned = start_seconds(seen) / 60
    if paused:
        return "the spend guard holds the model stopped (max_model_hours_per_day used up)"
    if starting_now:
        return "the model is started only now: it was not startable earlier (stopping, failed or a failed start)"
    if seen.model_status == "STARTING" and seen.starting_since is not None:
        starting = (seen.now - seen.starting_since).total_seconds() / 60
        if starting > learned:
            return (
                f"the model has been STARTING for {starting:.0f} min, longer than the {learned:.0f} min its starts took"
            )
        return f"the model is STARTING (a start takes {learned:.0f} min): the budget is shorter than a start"
    if seen.model_status in ("STOPPED", "TRAINING_COMPLETED"):
        return "the model could not be started (see the manager's log: StartProjectVersion failed?)"
    return f"the model is {seen.model_status}, not startable until that ends"
