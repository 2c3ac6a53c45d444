"""The spend guard of the model manager: its count of running hours per UTC day, and what it does when the
budget is used up (docs/model-lifecycle.md, "The spend guard"). The flood it bounds: test_lifecycle_simulation.py."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customlabels.config import MODEL_ARN_EXAMPLE, ConfigError, PipelineConfig
from customlabels_runtime.model_manager.dependencies import Settings
from customlabels_runtime.model_manager.records import Decision, Observation
from customlabels_runtime.model_manager.rules import decide, should_inspect
from customlabels_runtime.model_manager.spend_guard import budget_spent
from customlabels_runtime.model_manager.state import (
    MAX_COUNTED_VERSIONS,
    next_state,
    resumed_state,
    running_seconds_today,
)
from customlabels_runtime.model_manager.versions import Versions
from support.manager import SETTINGS

pytestmark = pytest.mark.unit

BUDGET = replace(SETTINGS, max_running_seconds_per_day=12 * 3600)
NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def spent(
    status="RUNNING", visible=5, in_flight=0, mapping=True, busy=False, announced=False, seconds=12 * 3600
) -> Observation:
    return Observation(
        NOON, visible, in_flight, status, mapping, NOON, announced, mapping_busy=busy, running_seconds_today=seconds
    )


# --- the budget -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lifecycle", "hours", "expected"),
    [
        ("on-demand", None, 12),
        ("always-on", None, None),
        ("manual", None, None),
        ("on-demand", 24, None),
        ("on-demand", 3, 3),
        ("always-on", 20, 20),
    ],
)
def test_the_budget_by_mode(lifecycle, hours, expected):
    config = PipelineConfig(MODEL_ARN_EXAMPLE, model_lifecycle=lifecycle, max_model_hours_per_day=hours)
    assert config.effective_max_model_hours_per_day == expected
    assert config.manager_environment()["MAX_RUNNING_SECONDS_PER_DAY"] == str((expected or 0) * 3600)
    assert (
        Settings.from_environ(
            {**config.manager_environment(), "QUEUE_URL": "q", "MAPPING_UUID": "m", "STATE_PARAMETER": "s"}
        ).max_running_seconds_per_day
        == (expected or 0) * 3600
    )


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"max_model_hours_per_day": "0"}, "max_model_hours_per_day=0 is out of range"),
        ({"max_model_hours_per_day": "25"}, "max_model_hours_per_day=25 is out of range"),
        (
            {"max_model_hours_per_day": "6", "model_lifecycle": "manual"},
            "with model_lifecycle=manual the manager never",
        ),
    ],
)
def test_a_budget_that_cannot_hold_is_refused(values, problem):
    with pytest.raises(ConfigError, match=problem):
        PipelineConfig.from_mapping({"model_arn": MODEL_ARN_EXAMPLE, **values})


# --- decide, once the budget is used up ------------------------------------------------------------------
def test_a_running_model_first_loses_its_event_source_then_stops_once_nothing_is_in_flight():
    first = decide(spent(mapping=True), BUDGET)
    assert (first.stop_model, first.enable_mapping, first.budget_paused) == (False, False, True)
    in_flight = decide(spent(mapping=False, in_flight=3), BUDGET)
    assert (in_flight.stop_model, in_flight.enable_mapping) == (False, None)
    drained = decide(spent(mapping=False, in_flight=0), BUDGET)
    assert (drained.stop_model, drained.start_model, drained.budget_paused) == (True, False, True)
    assert "00:00 UTC" in drained.reason and "customlabels model resume" in drained.reason


def test_a_stopped_model_is_not_started_for_waiting_or_announced_images():
    for observed in (spent("STOPPED", mapping=False), spent("STOPPED", mapping=False, announced=True)):
        decision = decide(observed, BUDGET)
        assert (decision.start_model, decision.enable_mapping, decision.budget_paused) == (False, None, True)
    assert decide(spent("STOPPED", mapping=False, announced=True), BUDGET).image_seen_at == NOON  # starts next day


def test_the_guard_does_not_look_at_the_queue_while_paused():
    assert not should_inspect(spent("STOPPED", mapping=False), BUDGET, 5)
    assert should_inspect(spent("STOPPED", mapping=False, seconds=0), BUDGET, 5)


def test_under_the_budget_manual_mode_or_no_budget_nothing_changes():
    assert not decide(spent(seconds=12 * 3600 - 1), BUDGET).budget_paused
    assert not budget_spent(spent(), replace(BUDGET, lifecycle="manual"))
    assert not budget_spent(spent(seconds=86_400), SETTINGS)


# --- the count --------------------------------------------------------------------------------------------
def state_after(runs: list[tuple[datetime, str]]) -> dict:
    state: dict = {}
    for now, status in runs:
        observed = Observation(now, 0, 0, status, status == "RUNNING", None, running_seconds_today=0)
        state = next_state(observed, Decision("", now, 0), state)
    return state


def test_running_periods_are_counted_and_a_new_utc_day_starts_at_zero():
    start = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)
    state = state_after(
        [
            (start, "RUNNING"),
            (start + timedelta(hours=1), "STOPPED"),
            (start + timedelta(hours=1, minutes=30), "RUNNING"),
        ]
    )
    assert running_seconds_today(state, start + timedelta(hours=1, minutes=45)) == 3600 + 15 * 60
    # Still running at 00:30 the next day: only the half hour after midnight counts for that day.
    assert running_seconds_today(state, start + timedelta(hours=2, minutes=30)) == 30 * 60


def test_resume_gives_another_full_budget_from_now():
    start = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    state = state_after([(start, "RUNNING"), (start + timedelta(hours=12), "RUNNING")])
    now = start + timedelta(hours=12)
    assert running_seconds_today(state, now) == 12 * 3600
    resumed = resumed_state(state, now)
    assert running_seconds_today(resumed, now + timedelta(hours=1)) == 3600
    kept = next_state(
        Observation(now + timedelta(minutes=1), 0, 0, "RUNNING", True, None), Decision("", now, 0), resumed
    )
    assert kept["resumed_at"] == now.isoformat()  # the manager keeps the resume for the rest of the day


@given(
    st.dictionaries(
        st.sampled_from(
            ["budget_day", "running_seconds", "resumed_at", "model_status", "model_status_since", "running_since"]
        ),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.just(86_400),
            st.just(3 * 86_400),
            st.floats(allow_nan=True),
            st.text(),
            st.just("RUNNING"),
            st.just(NOON.date().isoformat()),
            st.just((NOON - timedelta(hours=1)).isoformat()),
            st.dictionaries(
                st.text(max_size=3), st.sampled_from([(NOON - timedelta(hours=20)).isoformat(), "x", 5]), max_size=5
            ),
        ),
    )
)
def test_any_state_gives_a_count_between_zero_and_the_day_so_far(state):
    """A corrupted state can make the guard forget (count 0), never count more than the day has had for each of the
    versions that may run at once (in service, retiring, a candidate)."""
    assert 0 <= running_seconds_today(state, NOON) <= MAX_COUNTED_VERSIONS * 12 * 3600


def test_two_versions_running_for_an_hour_count_two_hours_and_each_stop_closes_its_own():
    """A promotion: the candidate starts beside the version in service; the old one retires an hour later."""
    start = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

    def seen(minutes, statuses):
        versions = Versions("new", statuses=statuses)
        return Observation(start + timedelta(minutes=minutes), 0, 0, statuses["new"], True, None, versions=versions)

    state: dict = {}
    for minutes, statuses in (
        (0, {"new": "RUNNING", "old": "RUNNING"}),
        (60, {"new": "RUNNING", "old": "RUNNING"}),
        (61, {"new": "RUNNING", "old": "STOPPING"}),
        (90, {"new": "RUNNING"}),
    ):
        state = next_state(seen(minutes, statuses), Decision("", start, 0), state)
    assert running_seconds_today(state, start + timedelta(minutes=90)) == (61 + 90) * 60
    assert state["running_since"] == {"new": start.isoformat()}
