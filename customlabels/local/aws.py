"""Emulated AWS (moto's server on 127.0.0.1) provisioned like the CDK stack, from the same configuration."""

from __future__ import annotations

import json
import logging
import socket
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from customlabels.config import DLQ_RETENTION_DAYS, INITIAL_MANAGER_STATE, QUEUE_RETENTION_DAYS, PipelineConfig
from customlabels.local import moto_patches
from customlabels.local.result_events import EventWatch, watch_result_events
from customlabels_runtime.contract import IMAGE_SUFFIXES
from customlabels_runtime.model_version import initial_document

DAY_SECONDS = 24 * 3600

FAKE_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


@dataclass(frozen=True)
class LocalResources:
    """What `provision` created; the same names the deployed stack's outputs give."""

    endpoint: str
    region: str
    bucket: str
    queue_url: str
    queue_arn: str
    dead_letter_queue_url: str
    dead_letter_queue_arn: str
    key_id: str
    state_parameter: str
    thresholds_parameter: str
    manager_invocations_url: str
    """Where the model manager's upload rule delivers its events: Lambda's asynchronous invocation queue."""
    result_events: EventWatch | None = None
    """The result events' bus and the queue the watch rule fills (None: result_events=off)."""
    model_version_parameter: str | None = None
    """The version in service (customlabels_runtime/model_version.py), as the stack's; None: backend onnx."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_moto() -> tuple[ThreadedMotoServer, str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise
    moto_patches.apply()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    # moto keeps its state per process: start every local stack from an empty account.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10).close()
    return server, endpoint


LOCAL_REGION = "us-east-1"
"""The region of the local stack when the configuration names none (backend onnx: no model ARN to take it from)."""


def client(service: str, endpoint: str, region: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=region, **FAKE_CREDENTIALS)


def provision(
    config: PipelineConfig, endpoint: str, *, bucket: str = "customlabels-local", visibility_timeout: int | None = None
) -> LocalResources:
    """Key, versioned SSE-KMS bucket, queue with DLQ and redrive, one notification per image suffix, the
    model manager's upload rule and its state parameter, and the result events' watch rule.

    `visibility_timeout` overrides the configuration's (6x the function timeout) to rehearse retries
    in seconds rather than minutes; left unset, it is exactly what the deployed queue gets.
    """
    region = config.region or LOCAL_REGION
    kms, s3, sqs, ssm = (client(name, endpoint, region) for name in ("kms", "s3", "sqs", "ssm"))
    key_id = kms.create_key(Description="customlabels local pipeline")["KeyMetadata"]["KeyId"]
    _create_bucket(s3, bucket, region, key_id)
    (dlq_url, dlq_arn), (queue_url, queue_arn) = _create_queues(sqs, config, bucket, key_id, visibility_timeout)
    _notify_queue_of_uploads(s3, config, bucket, queue_arn)
    events = client("events", endpoint, region)
    invocations_url = _create_manager_upload_rule(events, sqs, config, bucket)
    state_parameter, thresholds_parameter, version_parameter = _create_parameters(ssm, config, bucket)
    watch = watch_result_events(events, sqs, config, bucket, _queue_arn)
    return LocalResources(
        endpoint,
        region,
        bucket,
        queue_url,
        queue_arn,
        dlq_url,
        dlq_arn,
        key_id,
        state_parameter,
        thresholds_parameter,
        invocations_url,
        watch,
        version_parameter,
    )


def _create_bucket(s3: Any, bucket: str, region: str, key_id: str) -> None:
    s3.create_bucket(
        Bucket=bucket,
        **({} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}),
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_id},
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )


def _queue_arn(sqs: Any, queue_url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _create_queues(
    sqs: Any, config: PipelineConfig, bucket: str, key_id: str, visibility_timeout: int | None
) -> tuple[tuple[str, str], tuple[str, str]]:
    """The DLQ, then the queue that redrives into it: (url, arn) of each."""
    dlq_url = sqs.create_queue(
        QueueName=f"{bucket}-dlq",
        Attributes={"KmsMasterKeyId": key_id, "MessageRetentionPeriod": str(DLQ_RETENTION_DAYS * DAY_SECONDS)},
    )["QueueUrl"]
    dlq_arn = _queue_arn(sqs, dlq_url)
    queue_url = sqs.create_queue(
        QueueName=f"{bucket}-queue",
        Attributes={
            "KmsMasterKeyId": key_id,
            "MessageRetentionPeriod": str(QUEUE_RETENTION_DAYS * DAY_SECONDS),
            "VisibilityTimeout": str(visibility_timeout or config.visibility_timeout_seconds),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": config.max_receive_count}),
        },
    )["QueueUrl"]
    return (dlq_url, dlq_arn), (queue_url, _queue_arn(sqs, queue_url))


def _notify_queue_of_uploads(s3: Any, config: PipelineConfig, bucket: str, queue_arn: str) -> None:
    """One notification per image suffix under the input prefix, as the stack's; EventBridge gets every event."""
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {
                        "Key": {
                            "FilterRules": [
                                {"Name": "prefix", "Value": config.input_prefix},
                                {"Name": "suffix", "Value": suffix},
                            ]
                        }
                    },
                }
                for suffix in IMAGE_SUFFIXES
            ],
            "EventBridgeConfiguration": {},
        },
    )


def _create_manager_upload_rule(events: Any, sqs: Any, config: PipelineConfig, bucket: str) -> str:
    """The stack's upload rule with its own pattern: moto sends every object's event to EventBridge, which
    evaluates the pattern, and delivers the matches to a queue standing in for Lambda's async invocations
    (whose URL this returns)."""
    invocations_url = sqs.create_queue(QueueName=f"{bucket}-manager-invocations")["QueueUrl"]
    rule = f"{bucket}-manager-on-upload"
    events.put_rule(Name=rule, EventPattern=json.dumps(config.upload_event_pattern(bucket)))
    events.put_targets(Rule=rule, Targets=[{"Id": "model-manager", "Arn": _queue_arn(sqs, invocations_url)}])
    return invocations_url


def _create_parameters(ssm: Any, config: PipelineConfig, bucket: str) -> tuple[str, str, str | None]:
    """The model manager's state, the function's thresholds and (Custom Labels) the version in service, with the
    stack's initial values: their names."""
    state_parameter = f"/{bucket}/model-manager/state"
    ssm.put_parameter(Name=state_parameter, Value=INITIAL_MANAGER_STATE, Type="String")
    thresholds_parameter = f"/{bucket}/inference/thresholds"
    ssm.put_parameter(Name=thresholds_parameter, Value=config.initial_thresholds_document(), Type="String")
    if config.backend == "onnx":
        return state_parameter, thresholds_parameter, None
    version_parameter = f"/{bucket}/inference/model-version"
    ssm.put_parameter(Name=version_parameter, Value=initial_document(config.model_arn), Type="String")
    return state_parameter, thresholds_parameter, version_parameter
