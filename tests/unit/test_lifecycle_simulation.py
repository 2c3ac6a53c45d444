"""The model lifecycle simulated for a day of each workload profile (bench/lifecycle.py), with the real manager:
the promises of docs/model-lifecycle.md, checked on every profile, with and without the on-upload trigger.

The last tests break the manager on purpose and show that these checks catch it."""

from dataclasses import replace

import pytest

from bench.lifecycle import FLOOD, PROFILES, flood_outcomes, spend_table, table
from customlabels.config import MODEL_ARN_EXAMPLE, PipelineConfig
from customlabels.simulation.lifecycle import DAY, Profile, simulate
from customlabels_runtime.model_manager import logic, observe, rules

pytestmark = pytest.mark.unit


CONFIG = PipelineConfig(MODEL_ARN_EXAMPLE)


NAMES = [profile.name for profile in PROFILES]


@pytest.fixture(scope="module")
def outcomes():
    return {
        (profile.name, announced): simulate(profile, announcements=announced)
        for profile in PROFILES
        for announced in (True, False)
    }


@pytest.mark.parametrize("announced", [True, False], ids=["on-upload+schedule", "schedule-alone"])
@pytest.mark.parametrize("name", NAMES)
def test_every_image_is_answered_and_none_reaches_the_dlq(outcomes, name, announced):
    outcome = outcomes[name, announced]
    assert outcome.manager_errors == []
    assert len(outcome.results) == outcome.images
    assert outcome.dead_letters == 0
    # The event source is off while the model is not RUNNING: no image spends a receive on a cold model.
    assert outcome.received_while_not_running == 0
    assert (outcome.end_status, outcome.end_queued) == ("STOPPED", 0)


@pytest.mark.parametrize("announced", [True, False], ids=["on-upload+schedule", "schedule-alone"])
@pytest.mark.parametrize("name", [name for name, profile in zip(NAMES, PROFILES, strict=True) if profile.uploads])
def test_the_model_stops_within_idle_minutes_plus_one_interval_after_the_last_result(outcomes, name, announced):
    outcome = outcomes[name, announced]
    assert outcome.stop_after_last_result is not None
    assert outcome.stop_after_last_result <= (CONFIG.idle_minutes + CONFIG.manager_interval_minutes) * 60


@pytest.mark.parametrize("announced", [True, False], ids=["on-upload+schedule", "schedule-alone"])
@pytest.mark.parametrize("name", NAMES)
def test_the_model_never_stops_with_messages_waiting_or_in_flight(outcomes, name, announced):
    outcome = outcomes[name, announced]
    assert len(outcome.stops) == len(outcome.queued_at_stops) == len(outcome.in_flight_at_stops)
    assert all(in_flight == 0 for in_flight in outcome.in_flight_at_stops)
    # Only the spend guard stops with images waiting: they wait in the queue for the next day.
    assert all(
        queued == 0
        for stop, queued in zip(outcome.stops, outcome.queued_at_stops, strict=True)
        if stop not in outcome.guard_stops
    )


@pytest.mark.parametrize("announced", [True, False], ids=["on-upload+schedule", "schedule-alone"])
def test_a_day_without_images_never_starts_the_model_despite_s3s_test_event(outcomes, announced):
    outcome = outcomes["a day with no images", announced]
    assert (outcome.starts, outcome.running_seconds) == ([], 0)


def test_announcements_keep_a_trickle_on_one_start_where_the_schedule_alone_restarts():
    """Images answered between two scheduled runs are invisible to the schedule: their announcements (at their
    upload time) are what tells the manager that work keeps coming. (Without a spend guard, which would stop an
    all-day trickle at its budget.)"""
    trickle = next(profile for profile in PROFILES if profile.name.startswith("trickle"))
    all_day = PipelineConfig(MODEL_ARN_EXAMPLE, max_model_hours_per_day=24)
    assert len(simulate(trickle, config=all_day).starts) == 1
    assert len(simulate(trickle, announcements=False, config=all_day).starts) > 1


# --- the spend guard --------------------------------------------------------------------------------------
BUDGET_SECONDS = CONFIG.effective_max_model_hours_per_day * 3600
SLACK_SECONDS = 2 * CONFIG.manager_interval_minutes * 60
"""The guard sees RUNNING up to one run late and stops one run after disabling the event source."""


@pytest.fixture(scope="module")
def floods():
    """The flood as deployed, with the default budget and without one."""
    return flood_outcomes()


@pytest.mark.parametrize("announced", [True, False], ids=["on-upload+schedule", "schedule-alone"])
@pytest.mark.parametrize("name", NAMES)
def test_no_day_bills_more_than_the_budget(outcomes, name, announced):
    assert all(
        seconds <= BUDGET_SECONDS + SLACK_SECONDS for seconds in outcomes[name, announced].running_by_day.values()
    )


def test_the_flood_keeps_every_promise_of_the_lifecycle(floods):
    flood = floods[0]
    assert flood.manager_errors == []
    assert (len(flood.results), flood.dead_letters, flood.received_while_not_running) == (flood.images, 0, 0)
    assert (flood.end_status, flood.end_queued) == ("STOPPED", 0)
    assert all(in_flight == 0 for in_flight in flood.in_flight_at_stops)
    assert all(
        queued == 0
        for stop, queued in zip(flood.stops, flood.queued_at_stops, strict=True)
        if stop not in flood.guard_stops
    )


def test_the_flood_is_held_at_the_budget_and_goes_on_the_next_day(floods):
    flood = floods[0]
    assert BUDGET_SECONDS <= flood.running_by_day[0] <= BUDGET_SECONDS + SLACK_SECONDS
    assert len(flood.guard_stops) == 1 and flood.guard_stops[0] < DAY
    assert flood.guard_paused_seconds > 0  # what the SpendGuardPaused alarm reports
    waited = [flood.results[index] for index, upload in enumerate(flood.uploads) if flood.guard_stops[0] < upload < DAY]
    assert waited and min(waited) >= DAY  # held in the queue until 00:00 UTC, then answered
    assert (len(flood.results), flood.dead_letters) == (flood.images, 0)


def test_without_a_budget_the_flood_bills_the_whole_day(floods):
    guarded, unguarded = floods
    assert guarded.running_by_day[0] <= BUDGET_SECONDS + SLACK_SECONDS
    assert unguarded.running_by_day[0] > 23 * 3600
    rows = spend_table([guarded, unguarded])
    assert len(rows) == 4 and "| 12 |" in rows[2] and "| none |" in rows[3]


def test_the_table_has_a_row_per_profile(outcomes):
    rows = table([(outcomes[name, True], outcomes[name, False]) for name in NAMES])
    assert len(rows) == 2 + len(PROFILES)
    assert all(row.startswith(f"| {name} |") for row, name in zip(rows[2:], NAMES, strict=True))


# --- the checks above catch a broken manager -------------------------------------------------------------
SHORT_BURST = Profile("short burst", tuple(600.0 + index / 10 for index in range(50)), seconds=2 * 3600)


def test_a_manager_that_starts_for_any_waiting_message_is_caught(monkeypatch):
    decide = rules.decide
    monkeypatch.setattr(observe, "should_inspect", lambda *args: False)
    monkeypatch.setattr(
        logic,
        "decide",
        lambda seen, settings: decide(
            replace(seen, image_seen_at=seen.now if seen.visible else seen.image_seen_at), settings
        ),
    )
    assert simulate(PROFILES[-1]).starts  # the old rule: S3's test event starts the model


def test_a_manager_that_leaves_the_event_source_on_is_caught(monkeypatch):
    decide = rules.decide
    monkeypatch.setattr(
        logic,
        "decide",
        lambda seen, settings: replace(decide(seen, settings), enable_mapping=None if seen.mapping_enabled else True),
    )
    assert simulate(SHORT_BURST).received_while_not_running > 0


def test_a_manager_that_never_stops_is_caught(monkeypatch):
    decide = rules.decide
    monkeypatch.setattr(logic, "decide", lambda seen, settings: replace(decide(seen, settings), stop_model=False))
    assert simulate(SHORT_BURST).stop_after_last_result is None


def test_a_manager_without_the_spend_guard_is_caught(monkeypatch):
    monkeypatch.setattr(rules, "budget_spent", lambda seen, settings: False)  # decide and should_inspect read it
    assert simulate(FLOOD).running_by_day[0] > BUDGET_SECONDS + SLACK_SECONDS


def test_a_manager_that_stops_under_work_is_caught(monkeypatch):
    decide = rules.decide
    monkeypatch.setattr(
        logic,
        "decide",
        lambda seen, settings: replace(
            decide(seen, settings), stop_model=seen.model_status == "RUNNING" and seen.queued > 0
        ),
    )
    assert any(simulate(SHORT_BURST).queued_at_stops)
