"""The model manager: every rule of `decide`, its data access against the emulator and moto, and its stack."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_cdk.assertions import Match
from aws_lambda_powertools import Logger, Metrics
from conftest import MODEL_ARN, synth_template
from moto import mock_aws

from customlabels.emulator.rekognition import CustomLabelsService, serve
from customlabels.local.esm import EventSourceMapping, serve_mapping_api
from manager import Observation, Settings, decide, manage, project_arn

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SETTINGS = Settings(MODEL_ARN, "on-demand", idle_seconds=1800, min_inference_units=1, max_inference_units=1,
                    queue_url="q", mapping_uuid="m", state_parameter="/p")


def seen(status="STOPPED", visible=0, in_flight=0, mapping=False, idle_minutes=0.0, announced=False):
    return Observation(NOW, visible, in_flight, status, mapping, NOW - timedelta(minutes=idle_minutes), announced)


# --- decide: on-demand -----------------------------------------------------------------------------------


@pytest.mark.unit
def test_work_waiting_on_a_stopped_model_starts_it_and_keeps_the_event_source_off():
    decision = decide(seen("STOPPED", visible=3, mapping=True), SETTINGS)
    assert (decision.start_model, decision.stop_model, decision.enable_mapping) == (True, False, False)
    assert decision.last_activity == NOW


@pytest.mark.unit
def test_an_announced_upload_starts_the_model_before_its_message_is_counted():
    assert decide(seen("STOPPED", announced=True), SETTINGS).start_model


@pytest.mark.unit
def test_a_never_started_model_is_startable():
    assert decide(seen("TRAINING_COMPLETED", visible=1), SETTINGS).start_model


@pytest.mark.unit
@pytest.mark.parametrize("status", ["STARTING", "STOPPING", "FAILED"])
def test_while_not_running_nothing_starts_and_the_event_source_stays_off(status):
    decision = decide(seen(status, visible=5, mapping=True), SETTINGS)
    assert (decision.start_model, decision.stop_model, decision.enable_mapping) == (False, False, False)


@pytest.mark.unit
def test_a_running_model_gets_its_event_source_enabled():
    decision = decide(seen("RUNNING", visible=5, mapping=False), SETTINGS)
    assert (decision.start_model, decision.stop_model, decision.enable_mapping) == (False, False, True)


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
def test_first_run_counts_as_activity():
    observation = Observation(NOW, 0, 0, "RUNNING", True, None)
    assert not decide(observation, SETTINGS).stop_model


# --- decide: always-on and manual ------------------------------------------------------------------------


@pytest.mark.unit
def test_always_on_starts_a_stopped_model_never_stops_it_and_keeps_the_event_source_on():
    always = Settings(**{**SETTINGS.__dict__, "lifecycle": "always-on"})
    assert decide(seen("STOPPED"), always).start_model
    idle = decide(seen("RUNNING", mapping=False, idle_minutes=10_000), always)
    assert (idle.stop_model, idle.enable_mapping) == (False, True)


@pytest.mark.unit
def test_manual_never_acts():
    manual = Settings(**{**SETTINGS.__dict__, "lifecycle": "manual"})
    for observation in (seen("STOPPED", visible=9), seen("RUNNING", mapping=True, idle_minutes=10_000)):
        decision = decide(observation, manual)
        assert (decision.start_model, decision.stop_model, decision.enable_mapping) == (False, False, None)


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
        queue_url = sqs.create_queue(QueueName="work")["QueueUrl"]
        ssm.put_parameter(Name="/state", Value="{}", Type="String")
        rekognition = boto3.client("rekognition", region_name="eu-west-1",
                                   endpoint_url=f"http://127.0.0.1:{rekognition_server.server_address[1]}")
        lambda_ = boto3.client("lambda", region_name="eu-west-1",
                               endpoint_url=f"http://127.0.0.1:{lambda_server.server_address[1]}")
        yield service, Clients(rekognition, sqs, lambda_, ssm), Settings(
            MODEL_ARN, "on-demand", 60, 1, 2, queue_url, mapping.uuid, "/state"), mapping
    rekognition_server.shutdown()
    lambda_server.shutdown()


def run(world, when, **kwargs):
    _, clients, settings, _ = world
    project = project_arn(clients.rekognition, settings.model_arn)
    return manage(settings, clients, project, Logger(), Metrics(), now=when, **kwargs)


@pytest.mark.integration
def test_project_arn_is_found_from_the_model_arn(world):
    _, clients, _, _ = world
    assert project_arn(clients.rekognition, MODEL_ARN) == \
        "arn:aws:rekognition:eu-west-1:123456789012:project/bees/1615479933000"


@pytest.mark.integration
def test_a_burst_starts_the_model_with_its_units_then_idle_time_stops_it(world):
    service, clients, settings, mapping = world
    clients.sqs.send_message(QueueUrl=settings.queue_url, MessageBody="image")
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
    assert run(world, NOW + timedelta(seconds=66))["stop"] is True
    assert not mapping.enabled
    assert service.describe_project_versions({"ProjectArn": model.project_arn})[
        "ProjectVersionDescriptions"][0]["Status"] == "STOPPED"
    state = json.loads(clients.ssm.get_parameter(Name="/state")["Parameter"]["Value"])
    assert state["last_activity"] == (NOW + timedelta(seconds=5)).isoformat()


@pytest.mark.integration
def test_a_message_in_flight_blocks_the_stop(world):
    service, clients, settings, _ = world
    clients.sqs.send_message(QueueUrl=settings.queue_url, MessageBody="image")
    run(world, NOW)
    clients.sqs.receive_message(QueueUrl=settings.queue_url, VisibilityTimeout=600)  # in flight, not visible
    assert run(world, NOW + timedelta(hours=3))["stop"] is False
    assert service.models[MODEL_ARN].status == "RUNNING"


@pytest.mark.integration
def test_manager_metrics_report_starts_and_idle_minutes(world, capsys):
    _, clients, settings, _ = world
    clients.sqs.send_message(QueueUrl=settings.queue_url, MessageBody="image")
    metrics = Metrics()
    metrics.clear_metrics()  # Powertools shares one metric set between instances
    service_project = project_arn(clients.rekognition, settings.model_arn)
    manage(settings, clients, service_project, Logger(), metrics, now=NOW)
    metrics.flush_metrics()
    blob = json.loads([line for line in capsys.readouterr().out.splitlines() if '"_aws"' in line][-1])
    assert blob["ModelStarts"] == [1.0]
    assert blob["ModelRunningIdleMinutes"] == [0.0]


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


@pytest.mark.integration
@pytest.mark.parametrize(("mode", "actions"), [("always-on", ["rekognition:StartProjectVersion"]), ("manual", None)])
def test_other_modes_get_fewer_rights(tmp_path, mode, actions):
    statements = manager_statements(synth_template(tmp_path, model_lifecycle=mode))
    if actions is None:
        assert "StartStopTheModel" not in statements and "GateTheEventSource" not in statements
    else:
        assert statements["StartStopTheModel"]["Action"] == actions[0]
    template = synth_template(tmp_path / "x", model_lifecycle=mode)
    template.has_resource_properties("AWS::Lambda::EventSourceMapping", {"Enabled": True})
    assert not template.find_resources("AWS::CloudWatch::Alarm", {"Properties": {
        "MetricName": "ModelRunningIdleMinutes"}})  # an idle model is intended there


@pytest.mark.integration
def test_on_demand_inference_starts_disabled_and_the_manager_runs_every_minute_and_on_upload(default_template):
    default_template.has_resource_properties("AWS::Lambda::EventSourceMapping", {"Enabled": False})
    default_template.has_resource_properties("AWS::Events::Rule", {"ScheduleExpression": "rate(1 minute)"})
    default_template.has_resource_properties("AWS::Events::Rule", {"EventPattern": {
        "source": ["aws.s3"], "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [Match.any_value()]}, "object": {"key": [{"prefix": "test_images/"}]}}}})
    default_template.has_resource_properties("Custom::S3BucketNotifications", {
        "NotificationConfiguration": Match.object_like({"EventBridgeConfiguration": {}})})
    default_template.has_resource_properties("AWS::Lambda::Function", {
        "ReservedConcurrentExecutions": 1, "Environment": {"Variables": Match.object_like({
            "MODEL_LIFECYCLE": "on-demand", "IDLE_SECONDS": "1800"})}})


@pytest.mark.integration
def test_idle_alarm_fires_at_twice_idle_minutes(tmp_path):
    template = synth_template(tmp_path, idle_minutes="15")
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "ModelRunningIdleMinutes", "Namespace": "CustomLabelsPipeline", "Statistic": "Maximum",
        "Threshold": 30, "ComparisonOperator": "GreaterThanThreshold"})
