"""The model manager: every rule of `decide`, its state and image rules, its data access against the emulator and
moto, and its stack."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_cdk.assertions import Match
from aws_lambda_powertools import Logger, Metrics
from botocore.exceptions import ClientError
from conftest import MODEL_ARN, synth_template
from moto import mock_aws

from customlabels import config
from customlabels.emulator.rekognition import CustomLabelsService, serve
from customlabels.local.esm import EventSourceMapping, serve_mapping_api
from customlabels_runtime.model_manager.logic import (
    IMAGE_SUFFIXES,
    Observation,
    Settings,
    announced_image,
    announcement_time,
    decide,
    manage,
    message_kind,
    parse_state,
    parse_time,
    project_arn,
    should_inspect,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SETTINGS = Settings(MODEL_ARN, "on-demand", idle_seconds=1800, min_inference_units=1, max_inference_units=1,
                    queue_url="q", mapping_uuid="m", state_parameter="/p", input_prefix="test_images/")
MODES = ("on-demand", "always-on", "manual")
STATUSES = ("TRAINING_IN_PROGRESS", "TRAINING_COMPLETED", "TRAINING_FAILED", "STARTING", "RUNNING", "FAILED",
            "STOPPING", "STOPPED", "DELETING", "COPYING_IN_PROGRESS", "DEPRECATED", "EXPIRED")


def seen(status="STOPPED", visible=0, in_flight=0, mapping=False, idle_minutes=0.0, announced=False,
         image_seen=False, busy=False):
    return Observation(NOW, visible, in_flight, status, mapping, NOW - timedelta(minutes=idle_minutes), announced,
                       image_seen_at=NOW - timedelta(minutes=1) if image_seen else None, mapping_busy=busy)


def mode(lifecycle):
    return Settings(**{**SETTINGS.__dict__, "lifecycle": lifecycle})


def s3_event(*keys):
    return json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "s3": {
        "bucket": {"name": "b"}, "object": {"key": key, "size": 1}}} for key in keys]})


TEST_EVENT = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b",
                         "Time": "2026-11-22T12:00:00.000Z"})


# --- decide: on-demand -----------------------------------------------------------------------------------


@pytest.mark.unit
def test_a_known_image_on_a_stopped_model_starts_it_and_keeps_the_event_source_off():
    decision = decide(seen("STOPPED", visible=3, mapping=True, image_seen=True), SETTINGS)
    assert (decision.start_model, decision.stop_model, decision.enable_mapping) == (True, False, False)
    assert decision.last_activity == NOW
    assert decision.image_seen_at == NOW - timedelta(minutes=1)  # remembered until the model runs


@pytest.mark.unit
def test_waiting_messages_alone_do_not_start_a_stopped_model():
    """S3's test event (or any message) waiting while no image is known must not bill a model."""
    decision = decide(seen("STOPPED", visible=3, in_flight=2), SETTINGS)
    assert (decision.start_model, decision.enable_mapping, decision.image_seen_at) == (False, None, None)


@pytest.mark.unit
def test_a_remembered_image_is_forgotten_once_the_queue_is_empty():
    decision = decide(seen("STOPPED", image_seen=True), SETTINGS)
    assert (decision.start_model, decision.image_seen_at) == (False, None)


@pytest.mark.unit
def test_an_announced_upload_starts_the_model_before_its_message_is_counted():
    decision = decide(seen("STOPPED", announced=True), SETTINGS)
    assert (decision.start_model, decision.image_seen_at) == (True, NOW)


@pytest.mark.unit
def test_a_never_started_model_is_startable():
    assert decide(seen("TRAINING_COMPLETED", visible=1, image_seen=True), SETTINGS).start_model


@pytest.mark.unit
@pytest.mark.parametrize("status", ["STARTING", "STOPPING", "FAILED", "DEPRECATED"])
def test_while_not_running_nothing_starts_and_the_event_source_stays_off(status):
    decision = decide(seen(status, visible=5, mapping=True, announced=True, image_seen=True), SETTINGS)
    assert (decision.start_model, decision.stop_model, decision.enable_mapping) == (False, False, False)


@pytest.mark.unit
def test_a_running_model_gets_its_event_source_enabled_and_forgets_the_image():
    decision = decide(seen("RUNNING", visible=5, mapping=False, image_seen=True), SETTINGS)
    assert (decision.start_model, decision.stop_model, decision.enable_mapping) == (False, False, True)
    assert decision.image_seen_at is None


@pytest.mark.unit
def test_a_running_model_idle_for_idle_minutes_is_stopped_after_disabling_the_event_source():
    decision = decide(seen("RUNNING", mapping=True, idle_minutes=30), SETTINGS)
    assert (decision.stop_model, decision.enable_mapping) == (True, False)
    assert decision.last_activity == NOW - timedelta(minutes=30)


@pytest.mark.unit
def test_a_running_model_idle_for_less_is_kept():
    decision = decide(seen("RUNNING", mapping=True, idle_minutes=29.9), SETTINGS)
    assert (decision.stop_model, decision.enable_mapping) == (False, None)


@pytest.mark.unit
def test_a_message_in_flight_blocks_a_stop_however_long_the_idle_time():
    decision = decide(seen("RUNNING", in_flight=1, mapping=True, idle_minutes=600), SETTINGS)
    assert not decision.stop_model
    assert decision.last_activity == NOW


@pytest.mark.unit
def test_an_announcement_moves_a_running_models_idle_timer_only_to_its_upload_time():
    """Issue 13: announcements drained for hours, each counted as work *now*, kept a billed model awake. An
    announcement now counts at its upload time (when its message was queued), never later."""
    stale = Observation(NOW, 0, 0, "RUNNING", True, NOW - timedelta(minutes=20), True,
                        announced_at=NOW - timedelta(minutes=25))
    assert decide(stale, SETTINGS).last_activity == NOW - timedelta(minutes=20)
    fresh = Observation(NOW, 0, 0, "RUNNING", True, NOW - timedelta(minutes=20), True,
                        announced_at=NOW - timedelta(seconds=10))
    assert decide(fresh, SETTINGS).last_activity == NOW - timedelta(seconds=10)


@pytest.mark.unit
def test_announcement_time_is_the_events_time_when_believable():
    assert announcement_time({"time": "2026-11-22T11:59:50Z"}, NOW) == NOW - timedelta(seconds=10)
    for event in ({}, {"time": "2026-11-22T12:05:00Z"}, {"time": "garbage"}, {"time": 5}, []):
        assert announcement_time(event, NOW) is None


@pytest.mark.unit
def test_an_announced_run_leaves_an_idle_stop_to_the_next_scheduled_run():
    """Its image's message may not be in the queue yet; the scheduled run a minute later sees it, or stops."""
    announced = decide(Observation(NOW, 0, 0, "RUNNING", True, NOW - timedelta(minutes=45), True,
                                   announced_at=NOW - timedelta(minutes=46)), SETTINGS)
    assert (announced.stop_model, announced.last_activity) == (False, NOW - timedelta(minutes=45))
    assert decide(seen("RUNNING", mapping=True, idle_minutes=45), SETTINGS).stop_model


@pytest.mark.unit
def test_no_stop_while_the_event_source_is_changing():
    decision = decide(seen("RUNNING", mapping=False, idle_minutes=600, busy=True), SETTINGS)
    assert (decision.stop_model, decision.enable_mapping) == (False, None)


@pytest.mark.unit
def test_first_run_counts_as_activity():
    observation = Observation(NOW, 0, 0, "RUNNING", True, None)
    assert not decide(observation, SETTINGS).stop_model


# --- decide: the event source follows the model in every mode --------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize("lifecycle", MODES)
@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("mapping", [True, False])
def test_in_every_mode_the_event_source_is_on_exactly_while_the_model_runs(lifecycle, status, mapping):
    decision = decide(seen(status, visible=2, mapping=mapping), mode(lifecycle))
    after = mapping if decision.enable_mapping is None else decision.enable_mapping
    assert after == (status == "RUNNING")


@pytest.mark.unit
def test_always_on_starts_a_stopped_model_never_stops_it():
    always = mode("always-on")
    assert decide(seen("STOPPED"), always).start_model
    idle = decide(seen("RUNNING", mapping=False, idle_minutes=10_000), always)
    assert (idle.stop_model, idle.enable_mapping) == (False, True)


@pytest.mark.unit
def test_manual_never_starts_or_stops():
    manual = mode("manual")
    for observation in (seen("STOPPED", visible=9, announced=True, image_seen=True),
                        seen("RUNNING", mapping=True, idle_minutes=10_000)):
        decision = decide(observation, manual)
        assert (decision.start_model, decision.stop_model) == (False, False)


# --- what counts as an image -----------------------------------------------------------------------------


@pytest.mark.unit
def test_the_managers_suffixes_are_the_pipelines():
    assert IMAGE_SUFFIXES == config.IMAGE_SUFFIXES


@pytest.mark.parametrize(("body", "kind"), [
    (TEST_EVENT, "never"),
    (s3_event("test_images/a/bee.jpg"), "image"),
    (s3_event("test_images/a/bee.PNG"), "image"),
    (s3_event("test_images/a+b%28c%29.jpeg"), "image"),  # URL-encoded as S3 sends it
    (s3_event("test_images/notes.txt"), "never"),
    (s3_event("test_images/a/bee.jpg.json"), "never"),  # a result beside its image
    (s3_event("elsewhere/bee.jpg"), "never"),  # outside the input prefix
    (s3_event("test_images/bee.Jpg"), "never"),  # no bucket notification matches this case
    (s3_event("test_images/notes.txt", "test_images/bee.jpg"), "image"),
    ("not json", "unknown"),
    ("[1, 2]", "unknown"),
    (json.dumps({"Records": [{"s3": "x"}]}), "unknown"),
    (json.dumps({"Records": []}), "unknown"),
    (None, "unknown"),
])
@pytest.mark.unit
def test_message_kind(body, kind):
    assert message_kind(body, "test_images/") == kind


@pytest.mark.parametrize(("event", "announced"), [
    ({"source": "aws.events", "detail-type": "Scheduled Event"}, False),
    ({"source": "aws.s3", "detail-type": "Object Created", "detail": {"object": {"key": "test_images/b.jpg"}}}, True),
    ({"source": "aws.s3", "detail-type": "Object Created", "detail": {"object": {"key": "test_images/b.jpg.json"}}},
     False),
    ({"source": "aws.s3", "detail-type": "Object Created", "detail": {"object": {"key": "test_images/c.txt"}}}, False),
    ({"source": "aws.s3", "detail-type": "Object Created", "detail": {"object": []}}, False),
    ({"source": "aws.s3", "detail-type": "Object Created"}, True),  # the local stack sends no detail
    ({}, False),
])
@pytest.mark.unit
def test_announced_image(event, announced):
    assert announced_image(event, "test_images/") is announced


@pytest.mark.unit
def test_no_look_at_the_queue_when_it_would_spend_an_images_last_receive():
    stopped = seen("STOPPED", visible=1)
    assert should_inspect(stopped, SETTINGS, 5) and should_inspect(stopped, SETTINGS, None)
    assert not should_inspect(stopped, SETTINGS, 1)
    assert not should_inspect(seen("STOPPED", visible=1, image_seen=True), SETTINGS, 5)  # once per stopped period
    assert not should_inspect(seen("STARTING", visible=1), SETTINGS, 5)
    assert not should_inspect(stopped, mode("always-on"), 5)


# --- the state -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["garbage", "2026-11-22T11:00:00", 1732276800, 17.5, ["2026-11-22T11:00:00+00:00"],
                                   None, {"a": 1}, "", "2026-11-22T12:00:01+00:00", "9999-12-31T23:59:59-23:59"])
@pytest.mark.unit
def test_an_unusable_or_future_time_is_unknown(value):
    assert parse_time(value, NOW) is None


@pytest.mark.unit
def test_a_valid_time_in_any_zone_is_kept():
    assert parse_time("2026-11-22T13:30:00+02:00", NOW) == NOW - timedelta(minutes=30)


@pytest.mark.unit
@pytest.mark.parametrize("value", ["garbage", "[1]", "42", "null", '"text"', "[" * 5000 + "]" * 5000, None])
def test_a_state_that_is_not_a_json_object_is_empty(value):
    assert parse_state(value) == {}


# --- observe and act, against the emulator and moto ------------------------------------------------------


@dataclass
class Clients:
    rekognition: Any
    sqs: Any
    lambda_: Any
    ssm: Any


@pytest.fixture
def world():
    """moto SQS and SSM, the Rekognition emulator, and the local event source mapping's Lambda API."""
    service = CustomLabelsService()
    service.add_model(MODEL_ARN)
    rekognition_server = serve(service)
    mapping = EventSourceMapping(environment={}, queue_url="unused", queue_arn="arn:aws:sqs:eu-west-1:1:work",
                                 region="eu-west-1", batch_size=10, max_concurrency=2, memory_mb=512,
                                 timeout_seconds=60, log_path="unused", enabled=False)  # never started: no pollers
    lambda_server = serve_mapping_api(mapping)
    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-west-1")
        ssm = boto3.client("ssm", region_name="eu-west-1")
        dlq_url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue_url = sqs.create_queue(QueueName="work", Attributes={"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})})["QueueUrl"]
        ssm.put_parameter(Name="/state", Value="{}", Type="String")
        rekognition = boto3.client("rekognition", region_name="eu-west-1",
                                   endpoint_url=f"http://127.0.0.1:{rekognition_server.server_address[1]}")
        lambda_ = boto3.client("lambda", region_name="eu-west-1",
                               endpoint_url=f"http://127.0.0.1:{lambda_server.server_address[1]}")
        yield service, Clients(rekognition, sqs, lambda_, ssm), Settings(
            MODEL_ARN, "on-demand", 60, 1, 2, queue_url, mapping.uuid, "/state", "test_images/"), mapping
    rekognition_server.shutdown()
    lambda_server.shutdown()


def run(world, when, **kwargs):
    _, clients, settings, _ = world
    project = project_arn(clients.rekognition, settings.model_arn)
    return manage(settings, clients, project, Logger(), Metrics(), now=when, **kwargs)


def send(world, *bodies):
    _, clients, settings, _ = world
    for body in bodies:
        clients.sqs.send_message(QueueUrl=settings.queue_url, MessageBody=body)


def waiting(world):
    """(body, receive count) of every message in the queue, read without leaving them in flight."""
    _, clients, settings, _ = world
    messages = clients.sqs.receive_message(QueueUrl=settings.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0,
                                           MessageSystemAttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
    return sorted((m["Body"], int(m["Attributes"]["ApproximateReceiveCount"]) - 1) for m in messages)


def state_of(world):
    _, clients, _, _ = world
    return json.loads(clients.ssm.get_parameter(Name="/state")["Parameter"]["Value"])


@pytest.mark.integration
def test_project_arn_is_found_from_the_model_arn(world):
    _, clients, _, _ = world
    assert project_arn(clients.rekognition, MODEL_ARN) == \
        "arn:aws:rekognition:eu-west-1:123456789012:project/bees/1615479933000"


@pytest.mark.unit
def test_the_manager_environment_gives_the_settings_the_input_prefix():
    environment = {**config.PipelineConfig(MODEL_ARN, input_prefix="in/").manager_environment(),
                   "QUEUE_URL": "q", "MAPPING_UUID": "m", "STATE_PARAMETER": "/p"}
    assert Settings.from_environ(environment).input_prefix == "in/"


@pytest.mark.integration
def test_s3s_test_event_alone_never_starts_the_model_and_is_deleted(world):
    """Issue 22, defect 1: every deploy put s3:TestEvent in the queue and the manager started the model for it."""
    service, _, _, mapping = world
    send(world, TEST_EVENT, s3_event("test_images/notes.txt"), s3_event("test_images/bee.jpg.json"))
    for minute in range(3):
        assert run(world, NOW + timedelta(minutes=minute))["start"] is False
    assert service.models[MODEL_ARN].status == "STOPPED"
    assert not mapping.enabled
    assert waiting(world) == []  # none of them can ever be work


@pytest.mark.integration
def test_an_image_behind_a_test_event_starts_the_model_and_is_left_for_the_event_source(world):
    service, _, _, _ = world
    send(world, TEST_EVENT, s3_event("test_images/bee.jpg"), "garbage")
    result = run(world, NOW)
    assert result["start"] is True and "an image waits" in result["reason"]
    assert service.models[MODEL_ARN].status == "STARTING"
    # The image and the unknown message wait, visible, each received once by the look; the test event is gone.
    assert waiting(world) == [("garbage", 1), (s3_event("test_images/bee.jpg"), 1)]


@pytest.mark.integration
def test_an_unknown_message_alone_does_not_start_the_model(world):
    service, _, _, _ = world
    send(world, "garbage")
    assert run(world, NOW)["start"] is False
    assert service.models[MODEL_ARN].status == "STOPPED"
    assert waiting(world) == [("garbage", 1)]  # left for the inference function to fail and the DLQ to keep


class FailingStarts:
    """The emulator's Rekognition, with StartProjectVersion refused (a quota, say) `failures` times."""

    def __init__(self, rekognition, failures):
        self._rekognition, self.failures = rekognition, failures

    def __getattr__(self, name):
        return getattr(self._rekognition, name)

    def start_project_version(self, **kwargs):
        if self.failures:
            self.failures -= 1
            raise ClientError({"Error": {"Code": "LimitExceededException", "Message": "quota"}}, "StartProjectVersion")
        return self._rekognition.start_project_version(**kwargs)


@pytest.mark.integration
def test_an_image_is_looked_at_once_per_stopped_period_even_when_starts_fail(world):
    """Every receive counts toward maxReceiveCount: once an image is seen, no run looks at the queue again."""
    service, clients, settings, _ = world
    failing = Clients(FailingStarts(clients.rekognition, failures=3), clients.sqs, clients.lambda_, clients.ssm)
    send(world, s3_event("test_images/bee.jpg"))
    project = project_arn(clients.rekognition, settings.model_arn)
    for minute in range(3):
        with pytest.raises(ClientError):
            manage(settings, failing, project, Logger(), Metrics(), now=NOW + timedelta(minutes=minute))
    assert waiting(world) == [(s3_event("test_images/bee.jpg"), 1)]
    assert manage(settings, failing, project, Logger(), Metrics(), now=NOW + timedelta(minutes=3))["start"] is True
    assert service.models[MODEL_ARN].status == "STARTING"
    assert waiting(world) == [(s3_event("test_images/bee.jpg"), 2)]  # 1 look + this test's own read


@pytest.mark.integration
def test_a_burst_starts_the_model_with_its_units_then_idle_time_stops_it(world):
    service, clients, settings, mapping = world
    send(world, s3_event("test_images/bee.jpg"))
    assert run(world, NOW)["start"] is True
    model = service.models[MODEL_ARN]
    assert (model.status, model.min_inference_units, model.max_inference_units) == ("STARTING", 1, 2)
    assert not mapping.enabled  # not before the model runs
    assert run(world, NOW + timedelta(seconds=5)) == {
        "reason": "model RUNNING, 1 waiting and 0 in flight, idle 0s of 60s", "start": False, "stop": False,
        "enable_mapping": True, "model_status": "RUNNING"}
    assert mapping.enabled
    clients.sqs.purge_queue(QueueUrl=settings.queue_url)
    assert run(world, NOW + timedelta(seconds=30))["stop"] is False
    assert run(world, NOW + timedelta(seconds=66), work_announced=True, announced_at=NOW)["stop"] is False  # schedule
    assert run(world, NOW + timedelta(seconds=67))["stop"] is True
    assert not mapping.enabled
    assert service.describe_project_versions({"ProjectArn": model.project_arn})[
        "ProjectVersionDescriptions"][0]["Status"] == "STOPPED"
    assert state_of(world)["last_activity"] == (NOW + timedelta(seconds=5)).isoformat()


@pytest.mark.integration
def test_a_message_in_flight_blocks_the_stop(world):
    service, clients, settings, _ = world
    send(world, s3_event("test_images/bee.jpg"))
    run(world, NOW)
    clients.sqs.receive_message(QueueUrl=settings.queue_url, VisibilityTimeout=600)  # in flight, not visible
    assert run(world, NOW + timedelta(hours=3))["stop"] is False
    assert service.models[MODEL_ARN].status == "RUNNING"


@pytest.mark.parametrize("value", ['{"last_activity": "garbage"}', '{"last_activity": "2026-11-22T11:00:00"}',
                                   "1732276800", '["2026-11-22T11:00:00+00:00"]', "not json",
                                   '{"last_activity": 5, "model_status": [], "model_status_since": {}}',
                                   '{"last_activity": "2099-01-01T00:00:00+00:00"}', None])
@pytest.mark.integration
def test_a_bad_or_missing_state_is_rewritten_and_waits_a_full_idle_period(world, value):
    """Issue 22, defect 2: a corrupt or deleted state parameter made every run raise, so nothing stopped the model."""
    service, clients, _, mapping = world
    service.models[MODEL_ARN].status = "RUNNING"
    if value is None:
        clients.ssm.delete_parameter(Name="/state")
    else:
        clients.ssm.put_parameter(Name="/state", Value=value, Type="String", Overwrite=True)
    result = run(world, NOW)
    assert (result["stop"], result["enable_mapping"], mapping.enabled) == (False, True, True)  # unknown: work now
    assert state_of(world) == {"last_activity": NOW.isoformat(), "model_status": "RUNNING",
                               "model_status_since": NOW.isoformat()}
    assert run(world, NOW + timedelta(seconds=59))["stop"] is False
    assert run(world, NOW + timedelta(seconds=60))["stop"] is True


@pytest.mark.integration
def test_manager_metrics_report_starts_and_idle_minutes(world, capsys):
    _, clients, settings, _ = world
    send(world, s3_event("test_images/bee.jpg"))
    metrics = Metrics()
    metrics.clear_metrics()  # Powertools shares one metric set between instances
    service_project = project_arn(clients.rekognition, settings.model_arn)
    manage(settings, clients, service_project, Logger(), metrics, now=NOW)
    metrics.flush_metrics()
    blob = json.loads([line for line in capsys.readouterr().out.splitlines() if '"_aws"' in line][-1])
    assert blob["ModelStarts"] == [1.0]
    assert blob["ModelRunningIdleMinutes"] == [0.0]
    assert blob["QueueMessagesDiscarded"] == [0.0]


# --- the stack -------------------------------------------------------------------------------------------


def manager_statements(template):
    policies = template.find_resources("AWS::IAM::Policy", {"Properties": {
        "Roles": [{"Ref": Match.string_like_regexp("^ModelLifecycleManagerRole")}]}})
    [policy] = policies.values()
    return {statement["Sid"]: statement for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if "Sid" in statement}


@pytest.mark.integration
def test_on_demand_grants_start_stop_on_the_model_and_gating_on_the_one_mapping(default_template):
    statements = manager_statements(default_template)
    assert statements["StartStopTheModel"]["Action"] == ["rekognition:StartProjectVersion",
                                                         "rekognition:StopProjectVersion"]
    assert statements["StartStopTheModel"]["Resource"] == MODEL_ARN
    assert statements["DescribeTheModel"]["Resource"] == "arn:aws:rekognition:eu-west-1:123456789012:project/bees/*"
    [mapping_id] = default_template.find_resources("AWS::Lambda::EventSourceMapping")
    assert mapping_id in json.dumps(statements["GateTheEventSource"]["Resource"])
    queue_ids = [k for k, v in default_template.find_resources("AWS::SQS::Queue").items()
                 if "RedrivePolicy" in v["Properties"]]
    assert statements["ReadQueueDepth"]["Resource"] == {"Fn::GetAtt": [queue_ids[0], "Arn"]}
    assert statements["LookAtWaitingMessages"]["Resource"] == {"Fn::GetAtt": [queue_ids[0], "Arn"]}
    assert sorted(statements["LookAtWaitingMessages"]["Action"]) == [
        "sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:ReceiveMessage"]


@pytest.mark.integration
@pytest.mark.parametrize("mode", ["on-demand", "always-on", "manual"])
def test_inference_starts_disabled_and_the_manager_runs_every_minute_and_on_upload(tmp_path, mode):
    """The manager enables the event source once the model is RUNNING, in every mode (the upload rule's pattern
    is tested in test_stack.py)."""
    default_template = synth_template(tmp_path, model_lifecycle=mode)
    default_template.has_resource_properties("AWS::Lambda::EventSourceMapping", {"Enabled": False})
    default_template.has_resource_properties("AWS::Events::Rule", {"ScheduleExpression": "rate(1 minute)"})
    default_template.has_resource_properties("Custom::S3BucketNotifications", {
        "NotificationConfiguration": Match.object_like({"EventBridgeConfiguration": {}})})
    default_template.has_resource_properties("AWS::Lambda::Function", {
        "ReservedConcurrentExecutions": 1, "Environment": {"Variables": Match.object_like({
            "MODEL_LIFECYCLE": mode, "IDLE_SECONDS": "1800"})}})
    # Only on demand does the manager look at waiting messages before starting the model.
    assert ("LookAtWaitingMessages" in manager_statements(default_template)) == (mode == "on-demand")


@pytest.mark.integration
def test_idle_alarm_fires_at_twice_idle_minutes(tmp_path):
    template = synth_template(tmp_path, idle_minutes="15")
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "ModelRunningIdleMinutes", "Namespace": "CustomLabelsPipeline", "Statistic": "Maximum",
        "Threshold": 30, "ComparisonOperator": "GreaterThanThreshold"})
