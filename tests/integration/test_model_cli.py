"""`customlabels model`'s waiting against the emulator on a manual clock, and stack outputs from moto
CloudFormation."""

import json
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from customlabels.errors import CommandError
from customlabels.operations import model
from support.aws import MODEL_ARN

pytestmark = pytest.mark.integration


def test_wait_polls_through_starting_until_running_on_the_clock(emulator, clock):
    """`--wait` polls every `poll` seconds of its clock and sees each state the model passes through."""
    service, endpoint = emulator
    rekognition = boto3.client("rekognition", region_name="eu-west-1", endpoint_url=endpoint)
    service.start_project_version({"ProjectVersionArn": MODEL_ARN, "MinInferenceUnits": 1})
    seen = []
    final = model.wait_for(
        rekognition,
        MODEL_ARN,
        {"RUNNING"},
        timeout=300,
        poll=10,
        on_status=seen.append,
        clock=clock,
        sleep=clock.sleep,
    )
    assert final == "RUNNING"
    assert seen == ["STARTING"] * 3 + ["RUNNING"]  # 30 s start delay, read at 0, 10, 20 and 30 s
    assert clock.slept == [10, 10, 10]


def test_wait_gives_up_at_its_timeout_with_the_last_status(emulator, clock):
    service, endpoint = emulator
    rekognition = boto3.client("rekognition", region_name="eu-west-1", endpoint_url=endpoint)
    service.start_project_version({"ProjectVersionArn": MODEL_ARN, "MinInferenceUnits": 1})
    assert (
        model.wait_for(rekognition, MODEL_ARN, {"RUNNING"}, timeout=15, poll=10, clock=clock, sleep=clock.sleep)
        == "STARTING"
    )
    assert clock.slept == [10, 10]


def test_stack_outputs_name_the_model_and_the_managers_state(emulator):
    service, endpoint = emulator
    service.set_status(MODEL_ARN, "STOPPED")  # stopped since 09:00, as the manager's state says
    with mock_aws():
        ssm = boto3.client("ssm", region_name="eu-west-1")
        cloudformation = boto3.client("cloudformation", region_name="eu-west-1")
        ssm.put_parameter(
            Name="/state",
            Type="String",
            Value=json.dumps(
                {
                    "model_status": "STOPPED",
                    "model_status_since": "2026-11-22T09:00:00+00:00",
                    "last_activity": "2026-11-22T08:30:00+00:00",
                }
            ),
        )
        cloudformation.create_stack(
            StackName="CustomLabelsPipeline",
            TemplateBody=json.dumps(
                {
                    "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
                    "Outputs": {
                        "ModelArn": {"Value": MODEL_ARN},
                        "ModelManagerStateParameter": {"Value": "/state"},
                        "ModelLifecycleMode": {"Value": "on-demand"},
                    },
                }
            ),
        )
        target = model.stack_target(cloudformation, "CustomLabelsPipeline")
        rekognition = boto3.client("rekognition", region_name="eu-west-1", endpoint_url=endpoint)
        current = model.status(rekognition, target, ssm)
        with pytest.raises(CommandError, match="--stack Missing"):
            model.stack_target(cloudformation, "Missing")
    assert target == model.Target(MODEL_ARN, "/state", "on-demand")
    assert (current.status, current.since, current.last_activity) == (
        "STOPPED",
        "2026-11-22T09:00:00+00:00",
        "2026-11-22T08:30:00+00:00",
    )


def test_status_shows_the_spend_guards_hours_today(emulator):
    _, endpoint = emulator
    with mock_aws():
        ssm = boto3.client("ssm", region_name="eu-west-1")
        ssm.put_parameter(
            Name="/state",
            Type="String",
            Value=json.dumps(
                {
                    "model_status": "RUNNING",
                    "model_status_since": "2026-11-22T09:00:00+00:00",
                    "budget_day": "2026-11-22",
                    "running_seconds": 1800,
                }
            ),
        )
        rekognition = boto3.client("rekognition", region_name="eu-west-1", endpoint_url=endpoint)
        current = model.status(
            rekognition, model.Target(MODEL_ARN, "/state"), ssm, now=datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
        )
    assert current.hours_today == 3.5  # half an hour closed earlier, three open since 09:00
