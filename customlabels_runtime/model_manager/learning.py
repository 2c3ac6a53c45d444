"""What the manager learns of its model from its own runs, for the latency budget (docs/model-lifecycle.md, "A
latency budget"): how long a start takes, and how fast the inference function drains the queue (the capacity its
throughput control found). Both are kept in the manager's state, the last few of each; the manager plans with the
longest start and the fastest drain it saw, each a measurement on the safe side (below)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from customlabels_runtime.model_manager.records import Decision, Observation
from customlabels_runtime.model_manager.state import parse_time

DEFAULT_START_SECONDS = 1800.0
"""Before this model's first start is seen: 30 minutes. AWS documents no figure ("starting a model might take a
few minutes", the Custom Labels guide); the simulations take 10. Assuming long starts early rather than late."""
DEFAULT_IMAGES_PER_SECOND_PER_UNIT = 1.0
"""Before the first drain is measured: a fifth of the typical 5 images/s per inference unit, so a large backlog
starts the model early rather than late."""
KEPT = 5
"""Measurements kept of each: the planning follows a model whose starts grow slower within five starts."""
MIN_DRAIN_SPAN_SECONDS = 30.0
"""A drain is measured over at least this long: the queue's counts are approximate (SQS), a span of seconds is noise."""


def _measurements(value: Any) -> list[float]:
    """The kept measurements: positive finite numbers of a list, anything else dropped."""
    if not isinstance(value, list):
        return []
    kept = [float(v) for v in value if isinstance(v, int | float) and not isinstance(v, bool)]
    return [v for v in kept if math.isfinite(v) and v > 0][-KEPT:]


def learned_start_seconds(state: Mapping[str, Any]) -> float | None:
    """The longest of the recent starts, from StartProjectVersion to the first run that saw RUNNING (so up to one
    interval longer than the start itself: on the safe side); None before the first."""
    return max(_measurements(state.get("start_seconds")), default=None)


def learned_images_per_second(state: Mapping[str, Any]) -> float | None:
    """The fastest recent drain of the queue while the model ran with its event source enabled. Each is the fall of
    the queue's count between two runs: images that arrived meanwhile make it smaller, never larger, so each is at
    most the capacity the function found; None before the first."""
    return max(_measurements(state.get("drain_rates")), default=None)


def _drain(seen: Observation, state: Mapping[str, Any]) -> tuple[list[float], list | None]:
    """(rates, reference): a new rate when the queue fell since the reference run; the reference moves on."""
    rates = _measurements(state.get("drain_rates"))
    if seen.model_status != "RUNNING" or not seen.mapping_enabled:
        return rates, None
    reference = state.get("drain_from")
    since = parse_time(reference[0], seen.now) if isinstance(reference, list) and len(reference) == 2 else None
    count = reference[1] if since is not None and isinstance(reference[1], int) else None
    if since is None or count is None:
        return rates, ([seen.now.isoformat(), seen.queued] if seen.queued else None)
    span = (seen.now - since).total_seconds()
    if span < MIN_DRAIN_SPAN_SECONDS:
        return rates, reference
    if count > seen.queued:
        rates = [*rates, round((count - seen.queued) / span, 3)][-KEPT:]
    return rates, ([seen.now.isoformat(), seen.queued] if seen.queued else None)


def learned_state(seen: Observation, decision: Decision, state: Mapping[str, Any]) -> dict[str, Any]:
    """The learning part of the state to write: the measurements, the start under way, the drain's reference."""
    starts = _measurements(state.get("start_seconds"))
    requested = seen.starting_since
    if requested is not None and seen.model_status == "RUNNING":
        starts = [*starts, round((seen.now - requested).total_seconds(), 1)][-KEPT:]
        requested = None
    if decision.start_model:
        requested = seen.now
    elif seen.model_status not in ("STARTING", "RUNNING"):
        requested = None  # a start that did not happen (it failed), or the model stopped: nothing under way
    rates, reference = _drain(seen, state)
    new: dict[str, Any] = {}
    if starts:
        new["start_seconds"] = starts
    if requested is not None:
        new["start_requested_at"] = requested.isoformat()
    if rates:
        new["drain_rates"] = rates
    if reference is not None:
        new["drain_from"] = reference
    return new


def starting_since(state: Mapping[str, Any], now: datetime) -> datetime | None:
    return parse_time(state.get("start_requested_at"), now)
