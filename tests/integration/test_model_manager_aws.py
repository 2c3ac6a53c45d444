"""The model manager's data access against the emulator and moto, and its part of the stack."""

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from aws_cdk.assertions import Match
from aws_lambda_powertools import Metrics
from botocore.exceptions import ClientError

from customlabels.local.emulator.rekognition import CustomLabelsService
from customlabels_runtime.model_manager.logic import manage
from customlabels_runtime.model_manager.observe import project_arn
from support.aws import MODEL_ARN
from support.cloudformation import synth_template
from support.events import TEST_EVENT, s3_event
from support.manager import NOW, on_local_services

pytestmark = pytest.mark.integration


# --- observe and act, against the emulator and moto ------------------------------------------------------
@pytest.fixture
def world():
    """moto SQS and SSM, the Rekognition emulator, and the local event source mapping's Lambda API."""
    service = CustomLabelsService()
    service.add_model(MODEL_ARN)
    with on_local_services(service) as (deps, mapping):
        yield service, deps, deps.settings, mapping


def run(world, when, **kwargs):
    _, deps, _, _ = world
    return manage(deps, now=when, **kwargs)


def send(world, *bodies):
    _, clients, settings, _ = world
    for body in bodies:
        clients.sqs.send_message(QueueUrl=settings.queue_url, MessageBody=body)


def waiting(world):
    """(body, receive count) of every message in the queue, read without leaving them in flight."""
    _, clients, settings, _ = world
    messages = clients.sqs.receive_message(
        QueueUrl=settings.queue_url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=0,
        MessageSystemAttributeNames=["ApproximateReceiveCount"],
    ).get("Messages", [])
    return sorted((m["Body"], int(m["Attributes"]["ApproximateReceiveCount"]) - 1) for m in messages)


def state_of(world):
    _, clients, _, _ = world
    return json.loads(clients.ssm.get_parameter(Name="/state")["Parameter"]["Value"])


def test_project_arn_is_found_from_the_model_arn(world):
    _, clients, _, _ = world
    assert (
        project_arn(clients.rekognition, MODEL_ARN)
        == "arn:aws:rekognition:eu-west-1:123456789012:project/bees/1615479933000"
    )


def test_s3s_test_event_alone_never_starts_the_model_and_is_deleted(world):
    """Issue 22, defect 1: every deploy put s3:TestEvent in the queue and the manager started the model for it."""
    service, _, _, mapping = world
    send(world, TEST_EVENT, s3_event("test_images/notes.txt"), s3_event("test_images/bee.jpg.json"))
    for minute in range(3):
        assert run(world, NOW + timedelta(minutes=minute))["start"] is False
    assert service.models[MODEL_ARN].status == "TRAINING_COMPLETED"  # as training left it
    assert not mapping.enabled
    assert waiting(world) == []  # none of them can ever be work


def test_an_image_behind_a_test_event_starts_the_model_and_is_left_for_the_event_source(world):
    service, _, _, _ = world
    send(world, TEST_EVENT, s3_event("test_images/bee.jpg"), "garbage")
    result = run(world, NOW)
    assert result["start"] is True and "an image waits" in result["reason"]
    assert service.models[MODEL_ARN].status == "STARTING"
    # The image and the unknown message wait, visible, each received once by the look; the test event is gone.
    assert waiting(world) == [("garbage", 1), (s3_event("test_images/bee.jpg"), 1)]


def test_an_unknown_message_alone_does_not_start_the_model(world):
    service, _, _, _ = world
    send(world, "garbage")
    assert run(world, NOW)["start"] is False
    assert service.models[MODEL_ARN].status == "TRAINING_COMPLETED"  # as training left it
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


def test_an_image_is_looked_at_once_per_stopped_period_even_when_starts_fail(world):
    """Every receive counts toward maxReceiveCount: once an image is seen, no run looks at the queue again."""
    service, deps, _, _ = world
    failing = replace(deps, rekognition=FailingStarts(deps.rekognition, failures=3))
    send(world, s3_event("test_images/bee.jpg"))
    for minute in range(3):
        with pytest.raises(ClientError):
            manage(failing, now=NOW + timedelta(minutes=minute))
    assert waiting(world) == [(s3_event("test_images/bee.jpg"), 1)]
    assert manage(failing, now=NOW + timedelta(minutes=3))["start"] is True
    assert service.models[MODEL_ARN].status == "STARTING"
    assert waiting(world) == [(s3_event("test_images/bee.jpg"), 2)]  # 1 look + this test's own read


def test_a_burst_starts_the_model_with_its_units_then_idle_time_stops_it(world):
    service, clients, settings, mapping = world
    send(world, s3_event("test_images/bee.jpg"))
    assert run(world, NOW)["start"] is True
    model = service.models[MODEL_ARN]
    assert (model.status, model.min_inference_units, model.max_inference_units) == ("STARTING", 1, 2)
    assert not mapping.enabled  # not before the model runs
    assert run(world, NOW + timedelta(seconds=5)) == {
        "reason": "model RUNNING, 1 waiting and 0 in flight, idle 0s of 60s",
        "start": False,
        "stop": False,
        "enable_mapping": True,
        "model_status": "RUNNING",
        "paused": False,
        "model_arn": MODEL_ARN,
        "retired": None,
    }
    assert mapping.enabled
    clients.sqs.purge_queue(QueueUrl=settings.queue_url)
    assert run(world, NOW + timedelta(seconds=30))["stop"] is False
    assert run(world, NOW + timedelta(seconds=66), work_announced=True, announced_at=NOW)["stop"] is False  # schedule
    assert run(world, NOW + timedelta(seconds=67))["stop"] is True
    assert not mapping.enabled
    assert (
        service.describe_project_versions({"ProjectArn": model.project_arn})["ProjectVersionDescriptions"][0]["Status"]
        == "STOPPED"
    )
    assert state_of(world)["last_activity"] == (NOW + timedelta(seconds=5)).isoformat()


def test_a_message_in_flight_blocks_the_stop(world):
    service, clients, settings, _ = world
    send(world, s3_event("test_images/bee.jpg"))
    run(world, NOW)
    clients.sqs.receive_message(QueueUrl=settings.queue_url, VisibilityTimeout=600)  # in flight, not visible
    assert run(world, NOW + timedelta(hours=3))["stop"] is False
    assert service.models[MODEL_ARN].status == "RUNNING"


@pytest.mark.parametrize(
    "value",
    [
        '{"last_activity": "garbage"}',
        '{"last_activity": "2026-11-22T11:00:00"}',
        "1732276800",
        '["2026-11-22T11:00:00+00:00"]',
        "not json",
        '{"last_activity": 5, "model_status": [], "model_status_since": {}}',
        '{"last_activity": "2099-01-01T00:00:00+00:00"}',
        None,
    ],
)
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
    assert state_of(world) == {
        "last_activity": NOW.isoformat(),
        "model_status": "RUNNING",
        "model_status_since": NOW.isoformat(),
        "budget_day": NOW.date().isoformat(),
        "running_seconds": 0.0,
        "running_since": {MODEL_ARN: NOW.isoformat()},
        "model_version": MODEL_ARN,
    }
    assert run(world, NOW + timedelta(seconds=59))["stop"] is False
    assert run(world, NOW + timedelta(seconds=60))["stop"] is True


def test_manager_metrics_report_starts_and_idle_minutes(world, capsys):
    _, deps, _, _ = world
    send(world, s3_event("test_images/bee.jpg"))
    metrics = Metrics()
    metrics.clear_metrics()  # Powertools shares one metric set between instances
    manage(replace(deps, metrics=metrics), now=NOW)
    metrics.flush_metrics()
    blob = json.loads([line for line in capsys.readouterr().out.splitlines() if '"_aws"' in line][-1])
    assert blob["ModelStarts"] == [1.0]
    assert blob["ModelRunningIdleMinutes"] == [0.0]
    assert blob["QueueMessagesDiscarded"] == [0.0]


# --- the stack -------------------------------------------------------------------------------------------
def manager_statements(template):
    policies = template.find_resources(
        "AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": Match.string_like_regexp("^ModelLifecycleManagerRole")}]}}
    )
    [policy] = policies.values()
    return {
        statement["Sid"]: statement
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "Sid" in statement
    }


def test_on_demand_grants_start_stop_on_the_model_and_gating_on_the_one_mapping(default_template):
    statements = manager_statements(default_template)
    assert statements["StartStopTheModel"]["Action"] == [
        "rekognition:StartProjectVersion",
        "rekognition:StopProjectVersion",
    ]
    assert statements["StartStopTheModel"]["Resource"] == MODEL_ARN.split("/version/")[0] + "/version/*"
    assert statements["DescribeTheModel"]["Resource"] == "arn:aws:rekognition:eu-west-1:123456789012:project/bees/*"
    [mapping_id] = default_template.find_resources("AWS::Lambda::EventSourceMapping")
    assert mapping_id in json.dumps(statements["GateTheEventSource"]["Resource"])
    queue_ids = [
        k for k, v in default_template.find_resources("AWS::SQS::Queue").items() if "RedrivePolicy" in v["Properties"]
    ]
    assert statements["ReadQueueDepth"]["Resource"] == {"Fn::GetAtt": [queue_ids[0], "Arn"]}
    assert statements["LookAtWaitingMessages"]["Resource"] == {"Fn::GetAtt": [queue_ids[0], "Arn"]}
    assert sorted(statements["LookAtWaitingMessages"]["Action"]) == [
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:ReceiveMessage",
    ]


@pytest.mark.parametrize("mode", ["on-demand", "always-on", "manual"])
def test_inference_starts_disabled_and_the_manager_runs_every_minute_and_on_upload(tmp_path, mode):
    """The manager enables the event source once the model is RUNNING, in every mode (the upload rule's pattern
    is tested in test_stack.py)."""
    default_template = synth_template(tmp_path, model_lifecycle=mode)
    default_template.has_resource_properties("AWS::Lambda::EventSourceMapping", {"Enabled": False})
    default_template.has_resource_properties("AWS::Events::Rule", {"ScheduleExpression": "rate(1 minute)"})
    default_template.has_resource_properties(
        "Custom::S3BucketNotifications",
        {"NotificationConfiguration": Match.object_like({"EventBridgeConfiguration": {}})},
    )
    default_template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "ReservedConcurrentExecutions": 1,
            "Environment": {"Variables": Match.object_like({"MODEL_LIFECYCLE": mode, "IDLE_SECONDS": "1800"})},
        },
    )
    # Only on demand does the manager look at waiting messages before starting the model.
    assert ("LookAtWaitingMessages" in manager_statements(default_template)) == (mode == "on-demand")


def test_idle_alarm_fires_at_twice_idle_minutes(tmp_path):
    template = synth_template(tmp_path, idle_minutes="15")
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ModelRunningIdleMinutes",
            "Namespace": "CustomLabelsPipeline",
            "Statistic": "Maximum",
            "Threshold": 30,
            "ComparisonOperator": "GreaterThanThreshold",
        },
    )
