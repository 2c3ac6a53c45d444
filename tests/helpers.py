"""What the tests share that is not a fixture: constants, builders and small fakes, in one module that
every tier imports (`from helpers import ...`); fixtures are in conftest.py. No test imports another test
module."""

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aws_lambda_powertools import Logger, Metrics
from botocore.stub import ANY, Stubber
from PIL import Image

from customlabels.datasets.manifest import Box, ManifestEntry
from customlabels.local.lambda_events import sqs_event
from customlabels.results.model import ImageResult, Prediction
from customlabels_runtime.inference.logic import Dependencies, PipelineMetrics, Settings
from customlabels_runtime.model_manager.dependencies import Settings as ManagerSettings

ROOT = Path(__file__).resolve().parent.parent
MODEL_ARN = "arn:aws:rekognition:eu-west-1:123456789012:project/bees/version/bees.2021-03-11T15.05.33/1615479933000"


def cdk_json_context() -> dict:
    return json.loads((ROOT / "cdk.json").read_text())["context"]


def synth_context(**overrides) -> dict:
    """cdk.json's context plus a model ARN, with Lambda bundling skipped (tests/e2e/test_packaging.py bundles)."""
    return {**cdk_json_context(), "model_arn": MODEL_ARN, "aws:cdk:bundling-stacks": [], **overrides}


def synth_template(tmp_path: Path, **overrides):
    """Synthesize the app (cdk-nag included) and return the stack's `Template`."""
    from aws_cdk.assertions import Template

    from stacks.application import build_app

    app = build_app(synth_context(**overrides), outdir=str(tmp_path / "cdk.out"))
    assembly = app.synth()
    return Template.from_json(assembly.stacks[0].template)


# --- the emulator tests' --------------------------------------------------------------------------------------------
ARN = "arn:aws:rekognition:eu-west-1:123456789012:project/bees/version/bees.2021-03-11T15.05.33/1615479933000"


SEEN = [
    {"Name": "bee", "Confidence": 91.0},
    {"Name": "flower", "Confidence": 62.0},
    {"Name": "wasp", "Confidence": 45.0},
]


def image_bytes(fmt="JPEG", size=(320, 240)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 180, 40)).save(buffer, fmt)
    return buffer.getvalue()


def mpo_bytes(size=(320, 240)) -> bytes:
    """A JPEG carrying a second embedded image, as phones write them (Pillow calls the format MPO)."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 180, 40)).save(
        buffer, "MPO", save_all=True, append_images=[Image.new("RGB", size, (40, 80, 200))]
    )
    return buffer.getvalue()


def huge_png(width=20000, height=20000) -> bytes:
    """A valid 1-bit PNG of `width` x `height` in a small file (tens of kB): a decompression bomb to Pillow."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + (width + 7) // 8)
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Sees:
    def __init__(self, labels):
        self.labels = labels

    def detect(self, key, width, height):
        return [dict(label) for label in self.labels]


# --- the evaluate tests' --------------------------------------------------------------------------------------------
def entry(line, key, boxes=(), labels=(), size=(100, 100)):
    return ManifestEntry(line, f"s3://gt/{key}", tuple(boxes), tuple(labels), *size)


def detection(label, confidence, left, top, width, height):
    """A prediction with a box given in pixels of a 100 x 100 image."""
    return Prediction(label, confidence, (left / 100, top / 100, width / 100, height / 100))


ENTRIES = [
    entry(1, "a.jpg", [Box("bee", 0, 0, 50, 50), Box("bee", 50, 50, 50, 50)]),
    entry(2, "b.jpg", [Box("bee", 10, 10, 30, 30)]),
    entry(3, "c.jpg", [Box("bee", 20, 20, 40, 40)]),
]


RESULTS = [
    ImageResult(
        "test_images/a.jpg",
        (detection("bee", 95, 0, 50, 20, 20), detection("bee", 90, 0, 0, 50, 50), detection("bee", 80, 60, 60, 40, 40)),
    ),
    ImageResult("test_images/b.jpg", (detection("bee", 60, 70, 70, 20, 20), detection("flower", 85, 10, 10, 30, 30))),
    ImageResult("test_images/c.jpg"),
]


# --- the gallery tests' ---------------------------------------------------------------------------------------------
def box(left, top, width, height):
    return {"BoundingBox": {"Left": left, "Top": top, "Width": width, "Height": height}}


GALLERY_RESULTS = {
    "meadow/bee #1.jpg": [
        {"Name": "bee", "Confidence": 95.0, "Geometry": box(0.1, 0.1, 0.3, 0.3)},
        {"Name": "flower", "Confidence": 60.0, "Geometry": box(0.5, 0.5, 0.3, 0.3)},
    ],
    "flowers.png": [
        {"Name": "flower", "Confidence": 85.0, "Geometry": box(0.2, 0.2, 0.4, 0.4)},
        {"Name": "sunny", "Confidence": 70.0},
    ],
    "empty.jpg": [],
}


ERROR = {"Code": "InvalidImageFormatException", "Message": "Request has unsupported image format"}


# --- the handler tests' ---------------------------------------------------------------------------------------------
REGION = "eu-west-1"


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

    def object_keys(self):
        return sorted(o["Key"] for o in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))

    def expect_detect(self, key, labels=LABELS, min_confidence=None, version=ANY):
        request = {
            "ProjectVersionArn": MODEL_ARN,
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


def notify_queue(s3, sqs, bucket: str, prefix: str = "test_images/") -> tuple[str, str]:
    """A work queue that `bucket` notifies of new objects under `prefix` (no suffix filter), as the pipeline's bucket
    notifies its queue; its URL and ARN."""
    queue_url = sqs.create_queue(QueueName="work")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
                }
            ]
        },
    )
    return queue_url, queue_arn


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


# --- the model manager tests' ---------------------------------------------------------------------------------------
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


SETTINGS = ManagerSettings(
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
    return ManagerSettings(**{**SETTINGS.__dict__, "lifecycle": lifecycle})


def s3_event(*keys, event_name="ObjectCreated:Put", bucket="b"):
    """An S3 event notification as S3 sends it to a queue: one record per key, the key URL-encoded by the caller
    (S3 docs, "Event message structure")."""
    return json.dumps(
        {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "eventName": event_name,
                    "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 1}},
                }
                for key in keys
            ]
        }
    )


def sns_notification(message: str) -> str:
    """`message` as SNS delivers it to an SQS queue without raw message delivery: a JSON envelope with the message
    as a string (SNS docs, "Amazon SNS raw message delivery", the example with raw message delivery disabled)."""
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "dc1e94d9-56c5-5e96-808d-cc7f68faa162",
            "TopicArn": "arn:aws:sns:us-east-2:111122223333:ExampleTopic1",
            "Subject": "Amazon S3 Notification",
            "Message": message,
            "Timestamp": "2021-02-16T21:41:19.978Z",
            "SignatureVersion": "1",
            "Signature": "FMG5tlZhJNHLHUXvZgtZzlk24FzVa7oX0T4P03neeXw8ZEXZx6z35j2FOTuNYShn2h0bKNC/zLTnMyIx",
            "SigningCertURL": "https://sns.us-east-2.amazonaws.com/SimpleNotificationService-010a507c1833636cd94bdb98bd93083a.pem",
            "UnsubscribeURL": "https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-2:111122223333:ExampleTopic1:e1039402-24e7-40a3-a0d4-797da162b297",
        }
    )


def eventbridge_object_created(key, bucket="b", detail_type="Object Created"):
    """An S3 event as EventBridge delivers it, the key as is (S3 docs, "EventBridge event message structure",
    the `Object Created` example)."""
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": "111122223333",
        "time": "2021-11-12T00:00:00Z",
        "region": "ca-central-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {
                "key": key,
                "size": 5,
                "etag": "b1946ac92492d2347c6235b4d2611184",
                "version-id": "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
                "sequencer": "617f08299329d189",
            },
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": "123456789012",
            "source-ip-address": "1.2.3.4",
            "reason": "PutObject",
        },
    }


TEST_EVENT = json.dumps(
    {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b", "Time": "2026-11-22T12:00:00.000Z"}
)


# --- the thresholds tests' ------------------------------------------------------------------------------------------
PARAMETER = "/customlabels/test/thresholds"


class Rejections:
    def __init__(self):
        self.seen = []

    def __call__(self, problem, reason):
        self.seen.append((problem, reason))


# --- the transfer tests' --------------------------------------------------------------------------------------------
def write_picture(path, size=(200, 150), fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (200, 180, 40)).save(path, fmt)


# --- the local pipeline's tests -----------------------------------------------------------------------------------
def picture(fmt="JPEG", size=(320, 240)) -> bytes:
    """A plain green picture, as bytes (the local pipeline's test images)."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (90, 160, 60)).save(buffer, fmt)
    return buffer.getvalue()


def thresholds_cli(stack, *args):
    """`customlabels thresholds ARGS` in a process of its own, against the local stack's parameter and endpoints."""
    endpoint = stack.resources.endpoint
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_SSM": endpoint,
        "AWS_ENDPOINT_URL_S3": endpoint,
        "COLUMNS": "200",
        "AWS_ENDPOINT_URL_REKOGNITION": stack.rekognition_endpoint,
        "AWS_DEFAULT_REGION": stack.config.region,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "customlabels",
            "thresholds",
            *args,
            "--parameter",
            stack.resources.thresholds_parameter,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def refused(capsys, argv: list[str]) -> str:
    """What `customlabels ARGV` says on stderr when it refuses with exit 1 (the error boundary, no traceback)."""
    from customlabels.cli import main

    code = main(argv)
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err, (code, err)
    return " ".join(err.split())  # the console folds long lines at its width


# --- the synthesized template, made concrete (tests/integration/test_access.py) ---------------------------------------
ACCOUNT, REGION = "123456789012", "eu-west-1"


def concrete_values(template: dict, names: dict[str, str] | None = None) -> dict[tuple[str, str], str]:
    """(logical id, "Ref" or attribute) -> a concrete value, as CloudFormation would give it for this account and
    region; `names` sets the physical name of a resource (default: its logical id)."""
    names = names or {}
    values: dict[tuple[str, str], str] = {}
    for logical_id, resource in template["Resources"].items():
        name = names.get(logical_id, logical_id)
        kind = resource["Type"]
        arn = {
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}",
            "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT}:role/{name}",
            "AWS::IAM::ManagedPolicy": f"arn:aws:iam::{ACCOUNT}:policy/{name}",
            "AWS::KMS::Key": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{name}",
            "AWS::CloudWatch::Alarm": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}",
            "AWS::Lambda::EventSourceMapping": f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:{name}",
            "AWS::SNS::Topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*",
            "AWS::Lambda::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
        }.get(kind)
        if arn:
            values[logical_id, "Arn"] = arn
        values[logical_id, "Ref"] = {
            "AWS::SQS::Queue": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}",
            "AWS::IAM::ManagedPolicy": arn,
            "AWS::SNS::Topic": arn,
        }.get(kind, name)
        values[logical_id, "QueueName"] = name
    return values


def resolve(node, values: dict[tuple[str, str], str], stack_id: str):
    """`node` with CloudFormation's intrinsic functions replaced by `values` (see `concrete_values`)."""
    pseudo = {
        "AWS::Partition": "aws",
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::StackId": stack_id,
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": stack_id.split("/")[1],
    }
    if isinstance(node, list):
        return [resolve(item, values, stack_id) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"}:
        return pseudo.get(node["Ref"]) or values[node["Ref"], "Ref"]
    if set(node) == {"Fn::GetAtt"}:
        return values[tuple(node["Fn::GetAtt"])]
    if set(node) == {"Fn::Join"}:
        separator, parts = node["Fn::Join"]
        return separator.join(resolve(part, values, stack_id) for part in parts)
    return {key: resolve(value, values, stack_id) for key, value in node.items()}


# --- the evaluation report's tests ----------------------------------------------------------------------------------
MODEL_B_RESULTS = [
    ImageResult("test_images/a.jpg", (detection("bee", 97, 0, 0, 50, 50), detection("bee", 93, 50, 50, 50, 50))),
    ImageResult("test_images/b.jpg"),
    ImageResult("test_images/c.jpg", (detection("bee", 88, 20, 20, 40, 40),)),
    ImageResult("test_images/d.jpg", (detection("bee", 70, 10, 60, 30, 30),)),
]
"""A second model on ENTRIES plus an empty image d.jpg: right on a and c (where model A errs on a and c), it misses
b's bee and sees a bee on the empty d."""


def write_evaluation_inputs(folder: Path) -> dict[str, Path]:
    """ENTRIES and an image without objects as a manifest, their 100 x 100 images, and the results of two models
    (RESULTS and MODEL_B_RESULTS) as result JSON folders."""
    from customlabels.datasets.manifest import object_detection_line

    entries = [*ENTRIES, entry(4, "d.jpg")]
    paths = {name: folder / name for name in ("images", "results-a", "results-b")}
    paths["manifest"] = folder / "gt.manifest"
    paths["manifest"].write_text(
        "".join(object_detection_line(e.source_ref, 100, 100, list(e.boxes), ["bee"]) + "\n" for e in entries)
    )
    paths["images"].mkdir(parents=True)
    for e in entries:
        Image.new("RGB", (100, 100), (128, 128, 128)).save(paths["images"] / e.key)
    for name, results in (("results-a", [*RESULTS, ImageResult("test_images/d.jpg")]), ("results-b", MODEL_B_RESULTS)):
        for result in results:
            path = paths[name] / (result.key + ".json")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(
                json.dumps(
                    {
                        "Image": {"Bucket": "b", "Key": result.key},
                        "ProjectVersionArn": f"{MODEL_ARN}-{name}",
                        "CustomLabels": [
                            {
                                "Name": p.label,
                                "Confidence": p.confidence,
                                "Geometry": {
                                    "BoundingBox": dict(zip(("Left", "Top", "Width", "Height"), p.box, strict=True))
                                },
                            }
                            for p in result.predictions
                        ],
                    }
                )
            )
    return paths


# --- the browser tests' ---------------------------------------------------------------------------------------------
def image_widths(page, selector: str) -> list[int]:
    """The natural widths of the images `selector` finds, read once each has a source and has loaded or failed:
    a browser loads images asynchronously, so reading them earlier races with the loading (0 for one that failed).
    The wait's deadline only bounds a hang."""
    settled = "selector => [...document.querySelectorAll(selector)].every(i => i.currentSrc && i.complete)"
    page.wait_for_function(settled, arg=selector, timeout=120_000)
    return page.locator(selector).evaluate_all("imgs => imgs.map(i => i.naturalWidth)")
