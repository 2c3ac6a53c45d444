"""The local stack's CloudFormation stack: a stack of the deployed one's name in moto whose outputs carry the deployed
outputs' names with the local values, so that every command's `--stack` works against the local stack as it does
against AWS (`customlabels thresholds show --stack CustomLabelsPipeline` with the endpoints `local serve` prints)."""

from __future__ import annotations

import json
import warnings
from typing import Any

from customlabels.config import PipelineConfig
from customlabels.local.aws import LocalResources
from customlabels_runtime.contract import DEFAULT_STACK_NAME
from customlabels_runtime.result_events import result_event_pattern

ABSENT_LOCALLY = {
    "FunctionName": "the function runs as local processes (the event source's pollers), not a Lambda function",
    "ModelManagerFunctionName": "the manager runs as a local process on its schedule",
    "AlarmTopicArn": "no alarms or SNS locally",
    "DashboardName": "no CloudWatch dashboard locally",
    "UploaderPolicyArn": "no IAM locally: the twin runs with fake credentials",
    "ResultReaderPolicyArn": "no IAM locally",
    "OperatorPolicyArn": "no IAM locally",
    "ModelTrainerPolicyArn": "no IAM locally",
}
"""The deployed stack's outputs the local stack has no counterpart for, and why (a test holds the two together)."""


def local_outputs(config: PipelineConfig, resources: LocalResources, account: str) -> dict[str, str]:
    """The deployed stack's outputs (stacks/pipeline_stack.py), by the same names, with the local values."""
    outputs = {
        "BucketName": resources.bucket,
        "UploadPrefix": config.input_prefix,
        "ResultsPrefix": config.effective_results_prefix,
        "QueueUrl": resources.queue_url,
        "DeadLetterQueueUrl": resources.dead_letter_queue_url,
        "ThresholdsParameter": resources.thresholds_parameter,
    }
    if config.backend == "onnx":
        outputs["OnnxModel"] = config.onnx_model
    else:
        outputs |= {
            "ModelArn": config.model_arn,
            "ModelLifecycleMode": config.model_lifecycle,
            "ModelManagerStateParameter": resources.state_parameter,
            "ModelVersionParameter": resources.model_version_parameter,
            "ModelVersionDrainSeconds": str(config.version_drain_seconds),
        }
    if resources.result_events is not None:
        outputs["ResultEventBusArn"] = (
            f"arn:aws:events:{resources.region}:{account}:event-bus/{resources.result_events.bus}"
        )
        outputs["ResultEventPattern"] = json.dumps(result_event_pattern(resources.bucket))
    return outputs


def register_stack(cloudformation: Any, outputs: dict[str, str], stack_name: str = DEFAULT_STACK_NAME) -> None:
    """A stack of one placeholder resource (moto creates no real resources from a template) and the outputs."""
    template = {
        "Description": "The customlabels local stack (moto): its outputs name the local resources",
        "Resources": {"LocalStack": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {name: {"Value": value} for name, value in outputs.items()},
    }
    with warnings.catch_warnings():  # moto says it does not model the placeholder's type, which needs nothing
        warnings.simplefilter("ignore", UserWarning)
        cloudformation.create_stack(StackName=stack_name, TemplateBody=json.dumps(template))
