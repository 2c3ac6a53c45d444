"""The latency budget's rules (`max_wait_minutes`; docs/model-lifecycle.md, "A latency budget"): when a stopped model
starts, that a running one stops once drained, what the manager learns of its model, and why an image is late."""

from dataclasses import replace
from datetime import timedelta

import pytest

from customlabels_runtime.model_manager import budget, learning
from customlabels_runtime.model_manager.messages import announced_key, image_key
from customlabels_runtime.model_manager.records import Decision, Observation
from customlabels_runtime.model_manager.rules import decide
from customlabels_runtime.model_manager.state import next_state
from support.events import eventbridge_object_created, s3_event
from support.manager import NOW, SETTINGS

pytestmark = pytest.mark.unit

HOUR = replace(SETTINGS, max_wait_seconds=3600, interval_seconds=60)
LEARNED = {"start_seconds": 600.0, "images_per_second": 5.0}


def stopped(waiting_since_minutes=None, visible=1, announced=False, **kwargs):
    """A stopped model with `visible` messages, an image known to wait since that many minutes ago."""
    since = None if waiting_since_minutes is None else NOW - timedelta(minutes=waiting_since_minutes)
    return Observation(
        NOW, visible, 0, "STOPPED", False, NOW - timedelta(hours=2), announced, image_seen_at=since, **kwargs
    )


def lead(seen, settings=HOUR):
    """What the rule documents: the start, two intervals, the event source's enabling, the backlog at the rate."""
    return (
        budget.start_seconds(seen)
        + 2 * 60
        + budget.ENABLE_SECONDS
        + seen.queued / budget.images_per_second(seen, settings)
    )


def test_without_a_budget_an_image_starts_the_model_at_once_as_before():
    assert decide(stopped(0), SETTINGS).start_model is True


def test_within_the_budget_the_model_waits_and_says_when_it_starts():
    seen = stopped(10, **LEARNED)
    decision = decide(seen, HOUR)
    assert (decision.start_model, decision.image_seen_at) == (False, seen.image_seen_at)
    assert decision.start_due_at == seen.image_seen_at + timedelta(seconds=3600 - lead(seen))
    assert "starts at" in decision.reason


def test_the_model_starts_once_waiting_longer_would_miss_the_budget():
    seen = stopped(0, **LEARNED)
    due_after = 3600 - lead(seen)
    just_before = replace(seen, now=NOW + timedelta(seconds=due_after - 1))
    at_due = replace(seen, now=NOW + timedelta(seconds=due_after))
    assert decide(just_before, HOUR).start_model is False
    assert decide(at_due, HOUR).start_model is True


def test_before_the_first_start_is_seen_the_safe_default_is_assumed():
    seen = stopped(0)
    assert budget.start_seconds(seen) == learning.DEFAULT_START_SECONDS
    assert budget.images_per_second(seen, HOUR) == learning.DEFAULT_IMAGES_PER_SECOND_PER_UNIT
    # A budget shorter than the default start (plus its margin) starts at once.
    assert decide(stopped(0), replace(HOUR, max_wait_seconds=15 * 60)).start_model is True


def test_many_waiting_images_start_the_model_earlier_the_count_rule():
    few, many, more = (stopped(0, visible=count, **LEARNED) for count in (10, 10_000, 20_000))
    # 10,000 images at the learned 5 a second are 33 minutes of work: the start is due 33 minutes earlier.
    assert decide(few, HOUR).start_due_at - decide(many, HOUR).start_due_at == timedelta(seconds=9_990 / 5)
    # 20,000 are 67 minutes of work: over the budget with the start, so now.
    assert decide(more, HOUR).start_model is True


def test_no_start_while_nothing_waits_even_when_due():
    seen = stopped(None, visible=3, **LEARNED)  # messages, but no image known (S3's test event)
    assert decide(seen, HOUR).start_model is False


def test_the_wait_counts_from_the_earliest_announcement_and_names_its_image():
    earlier = NOW - timedelta(minutes=20)
    seen = stopped(None, visible=0, announced=True, announced_at=earlier, announced_key="test_images/a.jpg", **LEARNED)
    decision = decide(seen, HOUR)
    assert (decision.image_seen_at, decision.waiting_key) == (earlier, "test_images/a.jpg")
    later = stopped(
        20,
        visible=1,
        announced=True,
        announced_at=NOW,
        announced_key="test_images/b.jpg",
        waiting_key="test_images/a.jpg",
    )
    kept = decide(later, HOUR)
    assert (kept.image_seen_at, kept.waiting_key) == (earlier, "test_images/a.jpg")


def test_a_running_model_stops_once_the_queue_has_been_empty_for_an_interval():
    drained = Observation(NOW, 0, 0, "RUNNING", True, NOW - timedelta(seconds=61))
    assert decide(drained, HOUR).stop_model is True
    assert decide(drained, SETTINGS).stop_model is False  # without a budget: idle_minutes
    assert decide(replace(drained, last_activity=NOW - timedelta(seconds=30)), HOUR).stop_model is False
    assert decide(replace(drained, in_flight=1), HOUR).stop_model is False


def test_the_manager_learns_the_start_it_asked_for_when_it_sees_running():
    asked = Decision("start", NOW, 0, start_model=True)
    state = learning.learned_state(stopped(0), asked, {})
    assert state["start_requested_at"] == NOW.isoformat()
    running = Observation(NOW + timedelta(minutes=11), 0, 0, "RUNNING", False, NOW, starting_since=NOW)
    learned = learning.learned_state(running, Decision("run", NOW, 0), state)
    assert learned["start_seconds"] == [660.0] and "start_requested_at" not in learned
    assert learning.learned_start_seconds(learned) == 660.0


def test_the_manager_learns_the_drain_rate_over_at_least_half_a_minute():
    first = Observation(NOW, 300, 10, "RUNNING", True, NOW)
    state = learning.learned_state(first, Decision("run", NOW, 0), {})
    assert state["drain_from"] == [NOW.isoformat(), 310]
    soon = replace(first, now=NOW + timedelta(seconds=10), visible=250)
    assert learning.learned_state(soon, Decision("run", NOW, 0), state)["drain_from"] == state["drain_from"]
    later = replace(first, now=NOW + timedelta(seconds=60), visible=0, in_flight=10)
    learned = learning.learned_state(later, Decision("run", NOW, 0), state)
    assert learned["drain_rates"] == [5.0]  # 300 images in 60 s


@pytest.mark.parametrize(
    "state",
    [
        {"start_seconds": "600"},
        {"start_seconds": [True, -1, float("nan"), "x"]},
        {"drain_rates": {"a": 1}},
        {"drain_from": ["not a time", 3]},
        {"drain_from": [NOW.isoformat()]},
    ],
)
def test_learned_values_that_are_not_measurements_are_unknown(state):
    assert learning.learned_start_seconds(state) is None
    assert learning.learned_images_per_second(state) is None
    learning.learned_state(Observation(NOW, 1, 0, "RUNNING", True, NOW), Decision("run", NOW, 0), state)


def test_a_late_image_is_reported_with_why():
    late = stopped(61, **LEARNED)
    assert budget.late_reason(late, HOUR, late.image_seen_at, paused=False).startswith("the model could not be started")
    assert "spend guard" in budget.late_reason(late, HOUR, late.image_seen_at, paused=True)
    starting = replace(late, model_status="STARTING", starting_since=NOW - timedelta(minutes=25))
    assert "STARTING for 25 min, longer than the 10 min" in budget.late_reason(
        starting, HOUR, late.image_seen_at, False
    )
    assert budget.late_reason(stopped(59, **LEARNED), HOUR, NOW - timedelta(minutes=59), False) is None
    assert budget.late_reason(late, SETTINGS, late.image_seen_at, False) is None  # no budget, no promise


def test_the_state_remembers_when_the_model_starts_and_which_image_waits():
    seen = stopped(10, waiting_key="test_images/a.jpg", **LEARNED)
    decision = decide(seen, HOUR)
    state = next_state(seen, decision, {})
    assert state["start_due_at"] == decision.start_due_at.isoformat()
    assert state["waiting_key"] == "test_images/a.jpg"


def test_the_waiting_images_key_is_read_as_the_pipeline_reads_its_events():
    assert announced_key(eventbridge_object_created("test_images/a b.jpg"), "test_images/") == "test_images/a b.jpg"
    assert announced_key(eventbridge_object_created("test_images/a.jpg.json"), "test_images/") is None
    assert announced_key(eventbridge_object_created("other/a.jpg"), "test_images/") is None
    assert (
        image_key(s3_event("test_images/notes.txt", "test_images/x%2By.png"), "test_images/") == "test_images/x+y.png"
    )
    assert image_key("not json", "test_images/") is None


def test_while_the_spend_guard_holds_the_model_the_wait_counts_from_the_first_held_image():
    guarded = replace(HOUR, max_running_seconds_per_day=3600)
    held = stopped(90, waiting_key="test_images/a.jpg", running_seconds_today=3600, **LEARNED)
    later = replace(held, work_announced=True, announced_at=NOW, announced_key="test_images/b.jpg")
    decision = decide(later, guarded)
    assert decision.budget_paused and not decision.start_model
    assert (decision.image_seen_at, decision.waiting_key) == (held.image_seen_at, "test_images/a.jpg")
    assert "spend guard" in budget.late_reason(later, guarded, decision.image_seen_at, paused=True)
