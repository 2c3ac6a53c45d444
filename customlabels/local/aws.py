"""Emulated AWS (moto's server on 127.0.0.1) provisioned like the CDK stack, from the same configuration."""

from __future__ import annotations

import functools
import json
import logging
import socket
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3
from moto.events.models import EventPattern
from moto.moto_server import werkzeug_app
from moto.moto_server.utilities import RegexConverter
from moto.s3.exceptions import S3ClientError
from moto.s3.responses import S3Response
from moto.server import ThreadedMotoServer
from moto.sqs.models import SQSBackend

from customlabels.config import (
    DLQ_RETENTION_DAYS,
    IMAGE_SUFFIXES,
    INITIAL_MANAGER_STATE,
    KEY_TOO_LONG,
    MAX_KEY_BYTES,
    QUEUE_RETENTION_DAYS,
    PipelineConfig,
)

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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


_RECEIVE_LOCK = threading.Lock()


def _one_receiver_at_a_time(receive):
    """moto's ReceiveMessage checks that a message is visible and then marks it received, without a lock; a
    SendMessage wakes every long poll at once, so two pollers can both take the new message, a second delivery
    within the visibility timeout (getmoto/moto#519, still so in moto 5.2; a flake hunt saw it). The pipeline
    tolerates duplicates (SQS is at-least-once), but in the local twin a duplicate must come from a plan, as
    every fault does, never from thread timing. So each pass over the queue runs under one lock, and the long
    poll waits outside it, as moto's own loop does."""

    @functools.wraps(receive)
    def receive_message(self, queue_name, count, wait_seconds_timeout, visibility_timeout, *args, **kwargs):
        deadline = time.monotonic() + (wait_seconds_timeout or 0)
        while True:
            with _RECEIVE_LOCK:
                messages = receive(self, queue_name, count, 0, visibility_timeout, *args, **kwargs)
            left = deadline - time.monotonic()
            if messages or left <= 0:
                return messages
            self.get_queue(queue_name).wait_for_messages(min(1.0, left))

    receive_message.one_at_a_time = True
    return receive_message


_WIDENED_ROUTES = {".+": r"[\s\S]+", "/.*": r"/[\s\S]*"}


class _AnyCharacterRoute(RegexConverter):
    """moto's server routes an object request by the regex `.+` over the decoded path, and `.` does not match a
    newline: a key with a line break in it (legal in S3, and a legal file name) was answered 404 to every request,
    so `local run` failed with "AWS refused PutObject: 404" (issue 27). The same routes, matching every character."""

    def __init__(self, url_map: Any, *items: Any) -> None:
        super().__init__(url_map, *items)
        self.regex = _WIDENED_ROUTES.get(self.regex, self.regex)


class KeyTooLongError(S3ClientError):
    """S3's answer to a write naming a key over its limit (contract.KEY_TOO_LONG, 400, "Your key is too long.")."""

    code = KEY_TOO_LONG

    def __init__(self) -> None:
        super().__init__(KEY_TOO_LONG, "Your key is too long.")


def _keys_at_most_s3s_length(key_response):
    """moto stores keys of any length; S3 refuses to create one over MAX_KEY_BYTES of UTF-8 ("a maximum length of
    1,024 bytes", Naming Amazon S3 objects). Every write of an object (PUT, copy, multipart) is refused the same way
    here; reads are left to moto (no such key can exist)."""

    @functools.wraps(key_response)
    def _key_response(self, request, full_url):
        if request.method in ("PUT", "POST") and len(self.parse_key_name().encode("utf-8")) > MAX_KEY_BYTES:
            raise KeyTooLongError()
        return key_response(self, request, full_url)

    _key_response.s3_key_length = True
    return _key_response


_LINE_FEED_STAND_IN = "\ue000"  # a private-use character: no file name or key prefix holds one in practice


def _wildcard_across_lines(wildcard_match):
    """moto's EventBridge `wildcard` turns `*` into the regex `.*`, which stops at a line feed, so the model
    manager's upload rule never fired for an image whose name holds one (EventBridge's `*` is any characters).
    The same match, with each line feed of the value and the pattern standing in as one other character."""

    @functools.wraps(wildcard_match)
    def match(item: Any, pattern: str) -> bool:
        if isinstance(item, str) and "\n" in item:
            item, pattern = item.replace("\n", _LINE_FEED_STAND_IN), pattern.replace("\n", _LINE_FEED_STAND_IN)
        return wildcard_match(item, pattern)

    match.across_lines = True
    return staticmethod(match)


def start_moto() -> tuple[ThreadedMotoServer, str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise
    if not getattr(SQSBackend.receive_message, "one_at_a_time", False):
        SQSBackend.receive_message = _one_receiver_at_a_time(SQSBackend.receive_message)
    if not getattr(S3Response._key_response, "s3_key_length", False):
        S3Response._key_response = _keys_at_most_s3s_length(S3Response._key_response)
    werkzeug_app.RegexConverter = _AnyCharacterRoute
    if not getattr(EventPattern._wildcard_match, "across_lines", False):
        EventPattern._wildcard_match = _wildcard_across_lines(EventPattern._wildcard_match)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    # moto keeps its state per process: start every local stack from an empty account.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10).close()
    return server, endpoint


def client(service: str, endpoint: str, region: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=region, **FAKE_CREDENTIALS)


def provision(
    config: PipelineConfig, endpoint: str, *, bucket: str = "customlabels-local", visibility_timeout: int | None = None
) -> LocalResources:
    """Key, versioned SSE-KMS bucket, queue with DLQ and redrive, one notification per image suffix, the
    model manager's upload rule and its state parameter.

    `visibility_timeout` overrides the configuration's (6x the function timeout) to rehearse retries
    in seconds rather than minutes; left unset, it is exactly what the deployed queue gets.
    """
    region = config.region
    kms, s3, sqs, ssm = (client(name, endpoint, region) for name in ("kms", "s3", "sqs", "ssm"))
    key_id = kms.create_key(Description="customlabels local pipeline")["KeyMetadata"]["KeyId"]

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

    dlq_url = sqs.create_queue(
        QueueName=f"{bucket}-dlq",
        Attributes={"KmsMasterKeyId": key_id, "MessageRetentionPeriod": str(DLQ_RETENTION_DAYS * DAY_SECONDS)},
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName=f"{bucket}-queue",
        Attributes={
            "KmsMasterKeyId": key_id,
            "MessageRetentionPeriod": str(QUEUE_RETENTION_DAYS * DAY_SECONDS),
            "VisibilityTimeout": str(visibility_timeout or config.visibility_timeout_seconds),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": config.max_receive_count}),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

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
    # The stack's upload rule with its own pattern: moto sends every object's event to EventBridge, which
    # evaluates the pattern, and delivers the matches to a queue standing in for Lambda's async invocations.
    invocations_url = sqs.create_queue(QueueName=f"{bucket}-manager-invocations")["QueueUrl"]
    invocations_arn = sqs.get_queue_attributes(QueueUrl=invocations_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = client("events", endpoint, region)
    rule = f"{bucket}-manager-on-upload"
    events.put_rule(Name=rule, EventPattern=json.dumps(config.upload_event_pattern(bucket)))
    events.put_targets(Rule=rule, Targets=[{"Id": "model-manager", "Arn": invocations_arn}])
    state_parameter = f"/{bucket}/model-manager/state"
    ssm.put_parameter(Name=state_parameter, Value=INITIAL_MANAGER_STATE, Type="String")
    thresholds_parameter = f"/{bucket}/inference/thresholds"
    ssm.put_parameter(Name=thresholds_parameter, Value=config.initial_thresholds_document(), Type="String")
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
    )
