"""The manager's state document (one SSM parameter, docs/model-lifecycle.md): reading it whatever it holds, the
running time it counts for the spend guard, and the state to write after a run."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from customlabels_runtime.model_manager.records import Decision, Observation


def parse_time(value: Any, now: datetime) -> datetime | None:
    """An ISO timestamp with a time zone, not after `now`; anything else (garbage, a naive timestamp, a number,
    a time in the future, which would postpone every stop) is None: unknown."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
        if moment.utcoffset() is None or moment > now:
            return None
    except (ValueError, OverflowError):
        return None
    return moment


def parse_state(value: Any) -> dict[str, Any]:
    """The state document, or {} when it is not a JSON object; its fields are checked where they are used."""
    if not isinstance(value, str):
        return {}
    try:
        state = json.loads(value)
    except (ValueError, RecursionError):
        return {}
    return state if isinstance(state, dict) else {}


def _budget_start(state: Mapping[str, Any], now: datetime) -> datetime:
    """Where today's count of running time starts: 00:00 UTC, or a later `customlabels model resume`."""
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    resumed = parse_time(state.get("resumed_at"), now)
    return max(midnight, resumed) if resumed is not None else midnight


def _counted_seconds(state: Mapping[str, Any], now: datetime) -> tuple[float, float]:
    """(closed, open): running seconds of today's closed RUNNING periods as recorded, and of the period open
    since the last observed RUNNING status. An observed stop closes a period up to one run late, so the guard
    counts at most one interval too much, never too little. Anything unreadable counts as 0."""
    start = _budget_start(state, now)
    closed = state.get("running_seconds")
    valid = (
        state.get("budget_day") == start.date().isoformat()
        and isinstance(closed, int | float)
        and not isinstance(closed, bool)
        and 0 <= closed <= 86_400
    )
    open_seconds = 0.0
    since = parse_time(state.get("model_status_since"), now)
    if state.get("model_status") == "RUNNING" and since is not None:
        open_seconds = max(0.0, (now - max(since, start)).total_seconds())
    return (float(closed) if valid else 0.0), open_seconds


def running_seconds_today(state: Mapping[str, Any], now: datetime) -> float:
    """Seconds the model has been RUNNING on `now`'s UTC day (since a resume), by the manager's state; never more
    than the day (or the resume) has had."""
    return min(sum(_counted_seconds(state, now)), (now - _budget_start(state, now)).total_seconds())


def resumed_state(state: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """`customlabels model resume`: the state with today's count of running time restarted at `now`, so the
    guard allows another full budget today; the manager acts on it at its next run."""
    return {
        **state,
        "resumed_at": now.isoformat(),
        "budget_day": now.astimezone(UTC).date().isoformat(),
        "running_seconds": 0,
    }


def next_state(seen: Observation, decision: Decision, state: Mapping[str, Any]) -> dict[str, Any]:
    """The state to write: always valid, whatever was read."""
    since = parse_time(state.get("model_status_since"), seen.now)
    closed, open_seconds = _counted_seconds(state, seen.now)
    if state.get("model_status") != seen.model_status or since is None:
        since = seen.now
        closed += open_seconds  # a RUNNING period ended (observed now): count it as closed
    new = {
        "last_activity": decision.last_activity.isoformat(),
        "model_status": seen.model_status,
        "model_status_since": since.isoformat(),
        "budget_day": _budget_start(state, seen.now).date().isoformat(),
        "running_seconds": round(closed, 3),
    }
    resumed = parse_time(state.get("resumed_at"), seen.now)
    if resumed is not None and resumed.date() == seen.now.date():
        new["resumed_at"] = resumed.isoformat()
    if decision.image_seen_at is not None:
        new["image_seen_at"] = decision.image_seen_at.isoformat()
        if decision.waiting_key:
            new["waiting_key"] = decision.waiting_key
    if decision.start_due_at is not None:
        new["start_due_at"] = decision.start_due_at.isoformat()
    return new
