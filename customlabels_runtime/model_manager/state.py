"""The manager's state document (one SSM parameter, docs/model-lifecycle.md): reading it whatever it holds, the
running time it counts for the spend guard (every version it saw RUNNING, each counted: two versions running for an
hour are two hours), and the state to write after a run."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from customlabels_runtime.model_manager.records import Decision, Observation

MAX_COUNTED_VERSIONS = 3
"""The versions that may run at once and are counted: in service, retiring, a promotion's candidate."""


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


def _running_periods(state: Mapping[str, Any], now: datetime) -> dict[str, datetime]:
    """Since when each version has been RUNNING, by its ARN (`running_since`); a state written before versions were
    counted apart has the one model's `model_status` and `model_status_since`. Unreadable entries are left out."""
    periods = state.get("running_since")
    if isinstance(periods, dict):
        found = {arn: parse_time(since, now) for arn, since in periods.items() if isinstance(arn, str)}
        return {arn: since for arn, since in found.items() if since is not None}
    since = parse_time(state.get("model_status_since"), now)
    model = state.get("model_version") if isinstance(state.get("model_version"), str) else ""
    return {model: since} if state.get("model_status") == "RUNNING" and since is not None else {}


def _open_seconds(since: datetime, start: datetime, now: datetime) -> float:
    return max(0.0, (now - max(since, start)).total_seconds())


def _counted_seconds(state: Mapping[str, Any], now: datetime) -> tuple[float, dict[str, float]]:
    """(closed, open): running seconds of today's closed RUNNING periods as recorded, and of each version's period
    open since it was first observed RUNNING. An observed stop closes a period up to one run late, so the guard
    counts at most one interval too much per version, never too little. Anything unreadable counts as 0."""
    start = _budget_start(state, now)
    closed = state.get("running_seconds")
    valid = (
        state.get("budget_day") == start.date().isoformat()
        and isinstance(closed, int | float)
        and not isinstance(closed, bool)
        and 0 <= closed <= MAX_COUNTED_VERSIONS * 86_400
    )
    open_seconds = {arn: _open_seconds(since, start, now) for arn, since in _running_periods(state, now).items()}
    return (float(closed) if valid else 0.0), open_seconds


def running_seconds_today(state: Mapping[str, Any], now: datetime) -> float:
    """Seconds of RUNNING on `now`'s UTC day (since a resume), summed over the versions, by the manager's state;
    never more than the day (or the resume) has had for each version that may run at once."""
    closed, open_seconds = _counted_seconds(state, now)
    elapsed = (now - _budget_start(state, now)).total_seconds()
    return min(closed + sum(open_seconds.values()), MAX_COUNTED_VERSIONS * elapsed)


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
    model = seen.model_arn or ""
    if state.get("model_status") != seen.model_status or since is None or state.get("model_version", "") != model:
        since = seen.now  # a new status, or another version in service
    closed, open_seconds = _counted_seconds(state, seen.now)
    periods = _running_periods(state, seen.now)
    closed += sum(seconds for arn, seconds in open_seconds.items() if arn not in seen.running)  # ended (seen now)
    new = {
        "last_activity": decision.last_activity.isoformat(),
        "model_status": seen.model_status,
        "model_status_since": since.isoformat(),
        "budget_day": _budget_start(state, seen.now).date().isoformat(),
        "running_seconds": round(closed, 3),
        "running_since": {arn: periods.get(arn, seen.now).isoformat() for arn in sorted(seen.running)},
    }
    if model:
        new["model_version"] = model
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
