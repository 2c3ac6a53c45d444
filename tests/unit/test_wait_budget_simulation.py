"""The latency budget in the lifecycle simulation (the real manager on a simulated clock): the targets of issue 30
on bench's profiles, and properties over random arrival times with Hypothesis (every image answered within its
budget plus one tick when starts take the learned time; no start while nothing waits; stop once drained). The
last tests break the rule on purpose and show that these checks catch it."""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.wait_budget import BUDGETS_MINUTES, HOUR_PER_START, TARGETS, budget_runs, budget_table, verdicts
from customlabels.config import MODEL_ARN_EXAMPLE, PipelineConfig
from customlabels.simulation.lifecycle import Outcome, Profile, simulate
from customlabels_runtime.model_manager import rules

pytestmark = pytest.mark.unit

TICK = PipelineConfig(MODEL_ARN_EXAMPLE).manager_interval_minutes * 60


@pytest.fixture(scope="module")
def runs():
    return budget_runs()


def test_the_targets_of_issue_30_are_met(runs):
    for run in runs:
        target = TARGETS.get((run.profile.name, run.budget_minutes))
        if target is not None:
            assert run.outcome.billed_seconds() / 60 <= target, (run.profile.name, run.budget_minutes)
    assert {(run.profile.name, run.budget_minutes) for run in runs} >= set(TARGETS)


def test_no_profile_bills_more_than_today(runs):
    assert all(run.outcome.billed_seconds() <= run.today.billed_seconds() for run in runs)


def test_every_result_within_its_budget_plus_a_tick_where_any_schedule_can(runs):
    for run in runs:
        possible = run.best_possible_worst_wait <= run.budget_minutes * 60
        assert not run.late or not possible, (run.profile.name, run.budget_minutes, run.outcome.worst_wait)
    impossible = [run for run in runs if run.late]
    # Only the 10,000-image burst at 15 minutes: a 10-minute start and 33 minutes of work at 5 images/s.
    assert [(run.profile.name, run.budget_minutes) for run in impossible] == [("10,000-image burst", 15)]
    assert impossible[0].outcome.worst_wait == impossible[0].today.worst_wait  # it starts at once, as today


def test_nothing_is_lost_and_no_image_meets_a_cold_model(runs):
    for run in runs:
        outcome = run.outcome
        assert outcome.manager_errors == []
        assert (len(outcome.results), outcome.dead_letters, outcome.received_while_not_running) == (
            outcome.images,
            0,
            0,
        )
        assert (outcome.end_status, outcome.end_queued) == ("STOPPED", 0)


def test_the_table_and_the_verdicts_say_each_target(runs):
    rows = budget_table(runs)
    assert len(rows) == 2 + len(runs) and len(runs) == 3 * len(BUDGETS_MINUTES)
    said = "\n".join(verdicts(runs))
    assert said.count(": met") == len(TARGETS) and "NOT met, and no schedule can" in said


def test_a_minimum_bill_per_start_bills_each_start_at_least_that():
    outcome = simulate(Profile("two images", (600.0, 4 * 3600.0), seconds=8 * 3600), config=budgeted(30))
    assert len(outcome.starts) == 2
    periods = [stopped - began for began, stopped in outcome.world.running_periods]
    assert outcome.billed_seconds() == sum(periods)
    assert abs(outcome.billed_seconds() - outcome.running_seconds) <= 1  # periods end at a run, the count each second
    assert outcome.billed_seconds(HOUR_PER_START) == 2 * HOUR_PER_START


# --- properties over random arrivals ----------------------------------------------------------------------
def budgeted(minutes: int) -> PipelineConfig:
    return PipelineConfig(MODEL_ARN_EXAMPLE, max_wait_minutes=minutes)


def waiting_at(outcome: Outcome, moment: float) -> bool:
    """An image was uploaded and not yet answered at `moment`."""
    return any(
        upload <= moment < outcome.results.get(index, float("inf")) for index, upload in enumerate(outcome.uploads)
    )


arrivals = st.lists(st.floats(min_value=600, max_value=6 * 3600, allow_nan=False), min_size=1, max_size=30)


def run_random(uploads: list[float], minutes: int, start_seconds: int) -> Outcome:
    uploads = sorted(uploads)
    profile = Profile("random", tuple(uploads), seconds=int(uploads[-1]) + minutes * 60 + 2 * 3600)
    return simulate(profile, config=budgeted(minutes), start_seconds=start_seconds)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrivals, st.sampled_from([15, 30, 60, 120]), st.sampled_from([300, 600, 900]))
def test_no_image_waits_longer_than_its_budget_plus_a_tick(uploads, minutes, start_seconds):
    outcome = run_random(uploads, minutes, start_seconds)
    assert outcome.manager_errors == []
    assert len(outcome.results) == outcome.images and outcome.dead_letters == 0
    assert outcome.worst_wait <= minutes * 60 + TICK


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrivals, st.sampled_from([15, 60]), st.sampled_from([300, 600]))
def test_no_start_while_nothing_waits_and_a_stop_once_drained(uploads, minutes, start_seconds):
    outcome = run_random(uploads, minutes, start_seconds)
    assert all(waiting_at(outcome, start) for start in outcome.starts)
    assert all(queued == 0 for queued in outcome.queued_at_stops)
    # Each stop within two ticks of the last result before it: an empty queue for one interval, seen by a run.
    for stop in outcome.stops:
        answered = [result for result in outcome.results.values() if result <= stop]
        assert answered and stop - max(answered) <= 2 * TICK + 1
    assert len(outcome.stops) == len(outcome.starts) and outcome.end_status == "STOPPED"


# --- the checks above catch a broken rule -----------------------------------------------------------------
def test_a_rule_that_waits_the_whole_budget_is_caught(monkeypatch):
    """Starting at the budget itself, without the start's time ahead: the images are late."""
    monkeypatch.setattr(
        rules,
        "start_due_at",
        lambda seen, settings, since: None if since is None else since + timedelta(seconds=settings.max_wait_seconds),
    )
    outcome = run_random([600.0, 900.0], 30, 600)
    assert outcome.worst_wait > 30 * 60 + TICK


def test_a_rule_that_never_stops_early_is_caught(monkeypatch):
    monkeypatch.setattr(rules, "drained_after_seconds", lambda settings: settings.idle_seconds)
    outcome = run_random([600.0], 60, 600)
    last = max(outcome.results.values())
    assert min(stop for stop in outcome.stops if stop >= last) - last > 2 * TICK + 1


def test_with_a_budget_the_spend_guard_still_bounds_a_flood_and_nothing_is_lost():
    from bench.lifecycle import FLOOD, PROFILES

    config = budgeted(60)
    flood = simulate(FLOOD, config=config)
    budget_seconds = config.effective_max_model_hours_per_day * 3600
    assert flood.running_by_day[0] <= budget_seconds + 2 * TICK and flood.guard_stops
    assert (len(flood.results), flood.dead_letters, flood.manager_errors) == (flood.images, 0, [])
    quiet = simulate(PROFILES[-1], config=config)  # a day with no images, S3's test event waiting
    assert quiet.starts == [] and quiet.manager_errors == []
