"""The model lifecycle simulated for a day of each workload profile (bench/lifecycle.py), with the real manager:
the promises of docs/model-lifecycle.md, checked on every profile, with and without the on-upload trigger.

The last tests break the manager on purpose and show that these checks catch it."""

from dataclasses import replace

import pytest

from bench.lifecycle import PROFILES, Profile, manager_module, simulate, table
from customlabels.config import MODEL_ARN_EXAMPLE, PipelineConfig

pytestmark = pytest.mark.unit


CONFIG = PipelineConfig(MODEL_ARN_EXAMPLE)


NAMES = [profile.name for profile in PROFILES]


@pytest.fixture(scope="module")
def outcomes():
    return {(profile.name, announced): simulate(profile, announcements=announced)
            for profile in PROFILES for announced in (True, False)}


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
    assert len(outcome.stops) == len(outcome.queued_at_stops)
    assert all(queued == 0 for queued in outcome.queued_at_stops)


@pytest.mark.parametrize("announced", [True, False], ids=["on-upload+schedule", "schedule-alone"])
def test_a_day_without_images_never_starts_the_model_despite_s3s_test_event(outcomes, announced):
    outcome = outcomes["a day with no images", announced]
    assert (outcome.starts, outcome.running_seconds) == ([], 0)


def test_announcements_keep_a_trickle_on_one_start_where_the_schedule_alone_restarts(outcomes):
    """Images answered between two scheduled runs are invisible to the schedule: their announcements (at their
    upload time) are what tells the manager that work keeps coming."""
    assert len(outcomes["trickle, 1 image / 5 min", True].starts) == 1
    assert len(outcomes["trickle, 1 image / 5 min", False].starts) > 1


def test_the_table_has_a_row_per_profile(outcomes):
    rows = table([(outcomes[name, True], outcomes[name, False]) for name in NAMES])
    assert len(rows) == 2 + len(PROFILES)
    assert all(row.startswith(f"| {name} |") for row, name in zip(rows[2:], NAMES, strict=True))


# --- the checks above catch a broken manager -------------------------------------------------------------
SHORT_BURST = Profile("short burst", tuple(600.0 + index / 10 for index in range(50)), seconds=2 * 3600)


def test_a_manager_that_starts_for_any_waiting_message_is_caught(monkeypatch):
    manager = manager_module()
    decide = manager.decide
    monkeypatch.setattr(manager, "should_inspect", lambda *args: False)
    monkeypatch.setattr(manager, "decide", lambda seen, settings: decide(
        replace(seen, image_seen_at=seen.now if seen.visible else seen.image_seen_at), settings))
    assert simulate(PROFILES[-1]).starts  # the old rule: S3's test event starts the model


def test_a_manager_that_leaves_the_event_source_on_is_caught(monkeypatch):
    manager = manager_module()
    decide = manager.decide
    monkeypatch.setattr(manager, "decide", lambda seen, settings: replace(
        decide(seen, settings), enable_mapping=None if seen.mapping_enabled else True))
    assert simulate(SHORT_BURST).received_while_not_running > 0


def test_a_manager_that_never_stops_is_caught(monkeypatch):
    manager = manager_module()
    decide = manager.decide
    monkeypatch.setattr(manager, "decide", lambda seen, settings: replace(decide(seen, settings), stop_model=False))
    assert simulate(SHORT_BURST).stop_after_last_result is None


def test_a_manager_that_stops_under_work_is_caught(monkeypatch):
    manager = manager_module()
    decide = manager.decide
    monkeypatch.setattr(manager, "decide", lambda seen, settings: replace(
        decide(seen, settings), stop_model=seen.model_status == "RUNNING" and seen.queued > 0))
    assert any(simulate(SHORT_BURST).queued_at_stops)
