"""The model manager's rules: every rule of `decide`, its state and what counts as an image."""

import json
from datetime import timedelta

import pytest

from customlabels import config
from customlabels.config_model_manager import MODEL_LIFECYCLES
from customlabels_runtime.model_manager.dependencies import Settings
from customlabels_runtime.model_manager.messages import announced_image, announcement_time, message_kind
from customlabels_runtime.model_manager.records import Observation
from customlabels_runtime.model_manager.rules import decide, should_inspect
from customlabels_runtime.model_manager.state import parse_state, parse_time
from support.aws import MODEL_ARN, MODEL_STATUSES
from support.events import TEST_EVENT, eventbridge_object_created, s3_event, sns_notification
from support.manager import NOW, SETTINGS, mode

pytestmark = pytest.mark.unit


def seen(
    status="STOPPED",
    visible=0,
    in_flight=0,
    mapping=False,
    idle_minutes=0.0,
    announced=False,
    image_seen=False,
    busy=False,
):
    return Observation(
        NOW,
        visible,
        in_flight,
        status,
        mapping,
        NOW - timedelta(minutes=idle_minutes),
        announced,
        image_seen_at=NOW - timedelta(minutes=1) if image_seen else None,
        mapping_busy=busy,
    )


# --- decide: on-demand -----------------------------------------------------------------------------------
def test_a_known_image_on_a_stopped_model_starts_it_and_keeps_the_event_source_off():
    decision = decide(seen("STOPPED", visible=3, mapping=True, image_seen=True), SETTINGS)
    assert (decision.start_model, decision.stop_model, decision.enable_mapping) == (True, False, False)
    assert decision.last_activity == NOW
    assert decision.image_seen_at == NOW - timedelta(minutes=1)  # remembered until the model runs


def test_waiting_messages_alone_do_not_start_a_stopped_model():
    """S3's test event (or any message) waiting while no image is known must not bill a model."""
    decision = decide(seen("STOPPED", visible=3, in_flight=2), SETTINGS)
    assert (decision.start_model, decision.enable_mapping, decision.image_seen_at) == (False, None, None)


def test_a_remembered_image_is_forgotten_once_the_queue_is_empty():
    decision = decide(seen("STOPPED", image_seen=True), SETTINGS)
    assert (decision.start_model, decision.image_seen_at) == (False, None)


def test_an_announced_upload_starts_the_model_before_its_message_is_counted():
    decision = decide(seen("STOPPED", announced=True), SETTINGS)
    assert (decision.start_model, decision.image_seen_at) == (True, NOW)


def test_a_never_started_model_is_startable():
    assert decide(seen("TRAINING_COMPLETED", visible=1, image_seen=True), SETTINGS).start_model


@pytest.mark.parametrize("status", ["STARTING", "STOPPING", "FAILED", "DEPRECATED"])
def test_while_not_running_nothing_starts_and_the_event_source_stays_off(status):
    decision = decide(seen(status, visible=5, mapping=True, announced=True, image_seen=True), SETTINGS)
    assert (decision.start_model, decision.stop_model, decision.enable_mapping) == (False, False, False)


def test_a_running_model_gets_its_event_source_enabled_and_forgets_the_image():
    decision = decide(seen("RUNNING", visible=5, mapping=False, image_seen=True), SETTINGS)
    assert (decision.start_model, decision.stop_model, decision.enable_mapping) == (False, False, True)
    assert decision.image_seen_at is None


def test_a_running_model_idle_for_idle_minutes_is_stopped_after_disabling_the_event_source():
    decision = decide(seen("RUNNING", mapping=True, idle_minutes=30), SETTINGS)
    assert (decision.stop_model, decision.enable_mapping) == (True, False)
    assert decision.last_activity == NOW - timedelta(minutes=30)


def test_a_running_model_idle_for_less_is_kept():
    decision = decide(seen("RUNNING", mapping=True, idle_minutes=29.9), SETTINGS)
    assert (decision.stop_model, decision.enable_mapping) == (False, None)


def test_a_message_in_flight_blocks_a_stop_however_long_the_idle_time():
    decision = decide(seen("RUNNING", in_flight=1, mapping=True, idle_minutes=600), SETTINGS)
    assert not decision.stop_model
    assert decision.last_activity == NOW


def test_an_announcement_moves_a_running_models_idle_timer_only_to_its_upload_time():
    """Issue 13: announcements drained for hours, each counted as work *now*, kept a billed model awake. An
    announcement now counts at its upload time (when its message was queued), never later."""
    stale = Observation(
        NOW, 0, 0, "RUNNING", True, NOW - timedelta(minutes=20), True, announced_at=NOW - timedelta(minutes=25)
    )
    assert decide(stale, SETTINGS).last_activity == NOW - timedelta(minutes=20)
    fresh = Observation(
        NOW, 0, 0, "RUNNING", True, NOW - timedelta(minutes=20), True, announced_at=NOW - timedelta(seconds=10)
    )
    assert decide(fresh, SETTINGS).last_activity == NOW - timedelta(seconds=10)


def test_announcement_time_is_the_events_time_when_believable():
    assert announcement_time({"time": "2026-11-22T11:59:50Z"}, NOW) == NOW - timedelta(seconds=10)
    for event in ({}, {"time": "2026-11-22T12:05:00Z"}, {"time": "garbage"}, {"time": 5}, []):
        assert announcement_time(event, NOW) is None


def test_an_announced_run_leaves_an_idle_stop_to_the_next_scheduled_run():
    """Its image's message may not be in the queue yet; the scheduled run a minute later sees it, or stops."""
    announced = decide(
        Observation(
            NOW, 0, 0, "RUNNING", True, NOW - timedelta(minutes=45), True, announced_at=NOW - timedelta(minutes=46)
        ),
        SETTINGS,
    )
    assert (announced.stop_model, announced.last_activity) == (False, NOW - timedelta(minutes=45))
    assert decide(seen("RUNNING", mapping=True, idle_minutes=45), SETTINGS).stop_model


def test_no_stop_while_the_event_source_is_changing():
    decision = decide(seen("RUNNING", mapping=False, idle_minutes=600, busy=True), SETTINGS)
    assert (decision.stop_model, decision.enable_mapping) == (False, None)


def test_first_run_counts_as_activity():
    observation = Observation(NOW, 0, 0, "RUNNING", True, None)
    assert not decide(observation, SETTINGS).stop_model


# --- decide: the event source follows the model in every mode --------------------------------------------
@pytest.mark.parametrize("lifecycle", MODEL_LIFECYCLES)
@pytest.mark.parametrize("status", MODEL_STATUSES)
@pytest.mark.parametrize("mapping", [True, False])
def test_in_every_mode_the_event_source_is_on_exactly_while_the_model_runs(lifecycle, status, mapping):
    decision = decide(seen(status, visible=2, mapping=mapping), mode(lifecycle))
    after = mapping if decision.enable_mapping is None else decision.enable_mapping
    assert after == (status == "RUNNING")


def test_always_on_starts_a_stopped_model_never_stops_it():
    always = mode("always-on")
    assert decide(seen("STOPPED"), always).start_model
    idle = decide(seen("RUNNING", mapping=False, idle_minutes=10_000), always)
    assert (idle.stop_model, idle.enable_mapping) == (False, True)


def test_manual_never_starts_or_stops():
    manual = mode("manual")
    for observation in (
        seen("STOPPED", visible=9, announced=True, image_seen=True),
        seen("RUNNING", mapping=True, idle_minutes=10_000),
    ):
        decision = decide(observation, manual)
        assert (decision.start_model, decision.stop_model) == (False, False)


# --- what counts as an image (the inference function's reading: tests/integration/test_queue_messages.py) ---
@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (TEST_EVENT, "never"),
        (s3_event("test_images/a/bee.jpg"), "image"),
        (s3_event("test_images/a/bee.PNG"), "image"),
        (s3_event("test_images/a+b%28c%29.jpeg"), "image"),  # URL-encoded as S3 sends it
        (s3_event("test_images/notes.txt"), "never"),
        (s3_event("test_images/a/bee.jpg.json"), "never"),  # a result beside its image
        (s3_event("elsewhere/bee.jpg"), "never"),  # outside the input prefix
        (s3_event("test_images/bee.Jpg"), "never"),  # no bucket notification matches this case
        (s3_event("test_images/notes.txt", "test_images/bee.jpg"), "image"),
        (sns_notification(s3_event("test_images/bee.jpg")), "image"),  # S3 -> SNS -> SQS
        (sns_notification(TEST_EVENT), "never"),
        (json.dumps(eventbridge_object_created("test_images/a+b.jpg")), "image"),  # a rule targeting the queue
        (s3_event("test_images/bee.jpg", event_name="ObjectRemoved:Delete"), "unknown"),  # the function fails it
        (json.dumps(eventbridge_object_created("test_images/bee.jpg", detail_type="Object Deleted")), "unknown"),
        (json.dumps({"hello": "x"}), "unknown"),
        ("not json", "unknown"),
        ("[1, 2]", "unknown"),
        (json.dumps({"Records": [{"s3": "x"}]}), "unknown"),
        (json.dumps({"Records": []}), "unknown"),
        (None, "unknown"),
    ],
)
def test_message_kind(body, kind):
    assert message_kind(body, "test_images/") == kind


def test_an_image_under_a_results_location_of_its_own_is_not_one_to_infer():
    """As the inference function skips it (`contract.is_input_image`), the manager does not start the model for it."""
    body = s3_event("test_images/results/bee.jpg")
    assert message_kind(body, "test_images/", "test_images/results/") == "never"
    assert message_kind(body, "test_images/") == "image"


@pytest.mark.parametrize(
    ("event", "announced"),
    [
        ({"source": "aws.events", "detail-type": "Scheduled Event"}, False),
        (eventbridge_object_created("test_images/b.jpg"), True),
        (eventbridge_object_created("test_images/with space+plus.jpg"), True),  # EventBridge does not URL-encode
        (eventbridge_object_created("test_images/b.jpg.json"), False),
        (eventbridge_object_created("test_images/c.txt"), False),
        (eventbridge_object_created("test_images/b.jpg", detail_type="Object Deleted"), False),
        ({"source": "aws.s3", "detail-type": "Object Created", "detail": {"object": []}}, False),
        ({"source": "aws.s3", "detail-type": "Object Created"}, False),  # no key: nothing says an image is coming
        ({}, False),
    ],
)
def test_announced_image(event, announced):
    assert announced_image(event, "test_images/") is announced


def test_no_look_at_the_queue_when_it_would_spend_an_images_last_receive():
    stopped = seen("STOPPED", visible=1)
    assert should_inspect(stopped, SETTINGS, 5) and should_inspect(stopped, SETTINGS, None)
    assert not should_inspect(stopped, SETTINGS, 1)
    assert not should_inspect(seen("STOPPED", visible=1, image_seen=True), SETTINGS, 5)  # once per stopped period
    assert not should_inspect(seen("STARTING", visible=1), SETTINGS, 5)
    assert not should_inspect(stopped, mode("always-on"), 5)


# --- the state -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "2026-11-22T11:00:00",
        1732276800,
        17.5,
        ["2026-11-22T11:00:00+00:00"],
        None,
        {"a": 1},
        "",
        "2026-11-22T12:00:01+00:00",
        "9999-12-31T23:59:59-23:59",
    ],
)
def test_an_unusable_or_future_time_is_unknown(value):
    assert parse_time(value, NOW) is None


def test_a_valid_time_in_any_zone_is_kept():
    assert parse_time("2026-11-22T13:30:00+02:00", NOW) == NOW - timedelta(minutes=30)


@pytest.mark.parametrize("value", ["garbage", "[1]", "42", "null", '"text"', "[" * 5000 + "]" * 5000, None])
def test_a_state_that_is_not_a_json_object_is_empty(value):
    assert parse_state(value) == {}


def test_the_manager_environment_gives_the_settings_the_input_and_results_prefixes():
    """The manager applies the function's image rule, which needs both (`contract.is_input_image`)."""
    environment = {
        **config.PipelineConfig(MODEL_ARN, input_prefix="in/", results_prefix="in/results/").manager_environment(),
        "QUEUE_URL": "q",
        "MAPPING_UUID": "m",
        "STATE_PARAMETER": "/p",
    }
    settings = Settings.from_environ(environment)
    assert (settings.input_prefix, settings.effective_results_prefix) == ("in/", "in/results/")
