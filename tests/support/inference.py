"""The inference function under test: moto's bucket and queue with a stubbed Rekognition (the `pipeline` fixture
builds a `Pipeline`), its dependencies, and its thresholds parameter."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from aws_lambda_powertools import Logger, Metrics
from botocore.stub import ANY, Stubber

from customlabels.local.lambda_events import sqs_event
from customlabels_runtime.inference.logic import SOURCE_ETAG_METADATA, Dependencies, Settings
from customlabels_runtime.inference.metrics import PipelineMetrics
from support.aws import MODEL_ARN, REGION

BUCKET = "images"


HANDLER_NOW = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)


LABELS = [
    {
        "Name": "bee",
        "Confidence": 97.5,
        "Geometry": {"BoundingBox": {"Width": 0.2, "Height": 0.3, "Left": 0.1, "Top": 0.4}},
    },
    {"Name": "flower", "Confidence": 81.25},
]


PARAMETER = "/customlabels/test/thresholds"


@dataclass
class Pipeline:
    s3: object
    sqs: object
    queue_url: str
    queue_arn: str
    rekognition: object
    stub: Stubber

    def upload(self, key, body=b"\xff\xd8 not decoded by the handler"):
        return self.s3.put_object(Bucket=BUCKET, Key=key, Body=body)

    def receive(self, expected):
        """The next `expected` notifications as one Lambda SQS event (the first is moto's s3:TestEvent)."""
        messages = []
        while len(messages) < expected:
            batch = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
            ).get("Messages", [])
            assert batch, f"expected {expected} notifications, got {len(messages)}"
            messages += batch
        return sqs_event(messages, self.queue_arn, REGION)

    def result(self, key):
        return json.loads(self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())

    def written_results(self) -> dict[str, dict]:
        """Every result the handler wrote (each version, by the metadata it gives results), by key and version."""
        written = {}
        for version in self.s3.list_object_versions(Bucket=BUCKET).get("Versions", []):
            key, version_id = version["Key"], version["VersionId"]
            head = self.s3.head_object(Bucket=BUCKET, Key=key, VersionId=version_id)
            if SOURCE_ETAG_METADATA in head.get("Metadata", {}):
                body = self.s3.get_object(Bucket=BUCKET, Key=key, VersionId=version_id)["Body"].read()
                written[f"{key} ({version_id})"] = json.loads(body)
        return written

    def object_keys(self):
        return sorted(o["Key"] for o in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))

    def expect_detect(self, key, labels=LABELS, min_confidence=None, version=ANY, model_arn=MODEL_ARN):
        request = {
            "ProjectVersionArn": model_arn,
            "Image": {"S3Object": {"Bucket": BUCKET, "Name": key, "Version": version}},
        }
        if min_confidence is not None:
            request["MinConfidence"] = min_confidence
        self.stub.add_response("detect_custom_labels", {"CustomLabels": labels}, request)

    def expect_error(self, code, message="from the stub"):
        status = 500 if code in ("InternalServerError", "ThrottlingException") else 400  # the API reference's
        self.stub.add_client_error(
            "detect_custom_labels", service_error_code=code, service_message=message, http_status_code=status
        )


def deps_for(pipeline, **settings):
    values = {
        "model_arn": MODEL_ARN,
        "min_confidence": None,
        "input_prefix": "test_images/",
        "results_prefix": "test_images/",
        "batch_workers": 10,
        **settings,
    }
    return Dependencies(
        settings=Settings(**values),
        s3=pipeline.s3,
        rekognition=pipeline.rekognition,
        metrics=PipelineMetrics(Metrics()),
        logger=Logger(),
        clock=lambda: HANDLER_NOW,
    )


def failed_ids(response):
    """The message ids a batch response reports failed (Lambda's partial batch response)."""
    return {failure["itemIdentifier"] for failure in response["batchItemFailures"]}


class Rejections:
    """Records what the thresholds reader rejects, and why."""

    def __init__(self):
        self.seen = []

    def __call__(self, problem, reason):
        self.seen.append((problem, reason))
