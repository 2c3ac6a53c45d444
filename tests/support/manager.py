"""The model manager under test: its settings in each lifecycle mode, at a fixed time, and its dependencies on the
local stack's services."""

import json
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

import boto3
from aws_lambda_powertools import Logger, Metrics
from moto import mock_aws

from customlabels.local.emulator.server import serve
from customlabels.local.esm import EventSourceMapping
from customlabels.local.lambda_api import serve_mapping_api
from customlabels_runtime.model_manager.dependencies import Dependencies, Settings
from customlabels_runtime.model_manager.observe import project_arn
from support.aws import MODEL_ARN

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


SETTINGS = Settings(
    MODEL_ARN,
    "on-demand",
    idle_seconds=1800,
    min_inference_units=1,
    max_inference_units=1,
    queue_url="q",
    mapping_uuid="m",
    state_parameter="/p",
    input_prefix="test_images/",
)


def mode(lifecycle):
    return Settings(**{**SETTINGS.__dict__, "lifecycle": lifecycle})


@contextmanager
def on_local_services(service, **settings):
    """The model manager's dependencies on the local stack's services: moto's SQS (a work queue with a DLQ after
    5 receives) and SSM (the state parameter `/state`), the Rekognition emulator `service`, and the local event
    source mapping's Lambda API (never started: no pollers). Yields (deps, mapping); `settings` override the
    manager's (on demand, idle 60 s, 1 to 2 units)."""
    rekognition_server = serve(service)
    mapping = EventSourceMapping(
        environment={},
        queue_url="unused",
        queue_arn="arn:aws:sqs:eu-west-1:1:work",
        region="eu-west-1",
        batch_size=10,
        max_concurrency=2,
        memory_mb=512,
        timeout_seconds=60,
        log_path="unused",
        enabled=False,
    )
    lambda_server = serve_mapping_api(mapping)
    try:
        with mock_aws():
            sqs = boto3.client("sqs", region_name="eu-west-1")
            ssm = boto3.client("ssm", region_name="eu-west-1")
            dlq_url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            queue_url = sqs.create_queue(
                QueueName="work",
                Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})},
            )["QueueUrl"]
            ssm.put_parameter(Name="/state", Value="{}", Type="String")
            rekognition, lambda_ = (
                boto3.client(name, region_name="eu-west-1", endpoint_url=f"http://127.0.0.1:{server.server_address[1]}")
                for name, server in (("rekognition", rekognition_server), ("lambda", lambda_server))
            )
            base = Settings(MODEL_ARN, "on-demand", 60, 1, 2, queue_url, mapping.uuid, "/state", "test_images/")
            chosen = replace(base, **settings)
            project = project_arn(rekognition, chosen.model_arn)
            yield Dependencies(chosen, project, rekognition, sqs, lambda_, ssm, Logger(), Metrics()), mapping
    finally:
        rekognition_server.shutdown()
        lambda_server.shutdown()
