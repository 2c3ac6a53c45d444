"""The local stack's CloudFormation outputs and the deployed stack's: the same names (but for what the twin has no
counterpart of, each with its reason), so `--stack` reads the local stack as it reads the deployed one."""

import boto3
import pytest
from moto import mock_aws

from customlabels.config import PipelineConfig
from customlabels.local.aws import LocalResources
from customlabels.local.result_events import EventWatch
from customlabels.local.stack_outputs import ABSENT_LOCALLY, local_outputs, register_stack
from customlabels.operations.stack_outputs import stack_outputs
from support.aws import ACCOUNT, MODEL_ARN, REGION

pytestmark = pytest.mark.integration

RESOURCES = LocalResources(
    endpoint="http://127.0.0.1:1",
    region=REGION,
    bucket="customlabels-local",
    queue_url="http://127.0.0.1:1/queue",
    queue_arn="arn:aws:sqs:eu-west-1:123456789012:queue",
    dead_letter_queue_url="http://127.0.0.1:1/dlq",
    dead_letter_queue_arn="arn:aws:sqs:eu-west-1:123456789012:dlq",
    key_id="key",
    state_parameter="/customlabels-local/model-manager/state",
    thresholds_parameter="/customlabels-local/inference/thresholds",
    manager_invocations_url="http://127.0.0.1:1/invocations",
    result_events=EventWatch(bus="default", queue_url="http://127.0.0.1:1/events", rule="watch"),
    model_version_parameter="/customlabels-local/inference/model-version",
)


def test_the_local_outputs_are_the_deployed_ones_but_for_those_without_a_local_counterpart(default_template):
    deployed = set(default_template.to_json()["Outputs"])
    local = set(local_outputs(PipelineConfig(model_arn=MODEL_ARN), RESOURCES, ACCOUNT))
    assert local.isdisjoint(ABSENT_LOCALLY)
    assert local | set(ABSENT_LOCALLY) == deployed


def test_the_commands_read_the_registered_stack_as_a_deployed_one():
    outputs = local_outputs(PipelineConfig(model_arn=MODEL_ARN, function_timeout_seconds=30), RESOURCES, ACCOUNT)
    with mock_aws():
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        register_stack(cloudformation, outputs)
        read = stack_outputs(cloudformation, "CustomLabelsPipeline")
    assert read == outputs
    assert read["ModelVersionParameter"] == RESOURCES.model_version_parameter
    assert read["ModelVersionDrainSeconds"] == str(60 + 30 + 30)
    assert read["ResultEventBusArn"] == f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
