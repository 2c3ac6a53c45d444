"""The inference handler on moto S3 and SQS (real notifications, URL-encoded keys) with Rekognition stubbed."""

import json
import threading
from datetime import UTC, datetime

import boto3
import pytest
from aws_lambda_powertools import Metrics
from botocore.exceptions import ReadTimeoutError
from botocore.stub import Stubber

from customlabels.local.emulator.clock import ManualClock
from customlabels_runtime.contract import DETECT_LATENCY, SLOT_WAIT
from customlabels_runtime.inference.logic import (
    IMAGE_DELETED,
    SERVER_ERROR_RETRIES,
    handle_event,
    image_events,
)
from customlabels_runtime.inference.metrics import PipelineMetrics
from customlabels_runtime.inference.throughput import ThroughputControl
from support.aws import MODEL_ARN, REGION
from support.inference import BUCKET, LABELS, deps_for, failed_ids

pytestmark = pytest.mark.integration


TRANSIENT = [
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "InternalServerError",
    "ResourceNotReadyException",
]


PERMANENT = [
    "InvalidImageFormatException",
    "ImageTooLargeException",
    "InvalidS3ObjectException",
    "InvalidParameterException",
]


KEYS = [
    "test_images/bee.jpg",
    "test_images/with space.jpg",
    "test_images/a+b.png",
    "test_images/100% bee.jpeg",
    "test_images/ünïcödé/蜂.JPG",
    "test_images/deep/er/nest/ed/x.PNG",
]


@pytest.mark.parametrize("key", KEYS)
def test_each_image_gets_one_result_json_in_the_contract(pipeline, key):
    put = pipeline.upload(key)
    event = pipeline.receive(2)  # s3:TestEvent + the upload
    pipeline.expect_detect(key, version=put["VersionId"])

    response = handle_event(event, None, deps_for(pipeline))

    assert response == {"batchItemFailures": []}
    stored = pipeline.s3.get_object(Bucket=BUCKET, Key=key + ".json")
    assert stored["ContentType"] == "application/json"
    assert json.loads(stored["Body"].read()) == {
        "Image": {"Bucket": BUCKET, "Key": key, "VersionId": put["VersionId"], "ETag": put["ETag"].strip('"')},
        "ProjectVersionArn": MODEL_ARN,
        "MinConfidence": None,
        "Thresholds": {"min_confidence": None, "labels": {}},
        "CustomLabels": LABELS,
        "ProcessedAt": "2026-11-22T10:00:00Z",
    }
    assert pipeline.object_keys() == sorted([key, key + ".json"])


def test_min_confidence_is_sent_and_recorded_when_configured(pipeline):
    pipeline.upload("test_images/bee.jpg")
    pipeline.expect_detect("test_images/bee.jpg", min_confidence=90.0)
    assert handle_event(pipeline.receive(2), None, deps_for(pipeline, min_confidence=90.0))["batchItemFailures"] == []
    assert pipeline.result("test_images/bee.jpg.json")["MinConfidence"] == 90.0


def test_results_prefix_mirrors_the_key_below_it(pipeline):
    pipeline.upload("test_images/a/b.jpg")
    pipeline.expect_detect("test_images/a/b.jpg")
    handle_event(pipeline.receive(2), None, deps_for(pipeline, results_prefix="results/"))
    assert pipeline.object_keys() == ["results/a/b.jpg.json", "test_images/a/b.jpg"]


def test_non_images_and_the_results_location_are_ignored(pipeline):
    pipeline.upload("test_images/notes.txt")
    pipeline.upload("test_images/results/old.jpg")
    event = pipeline.receive(3)
    response = handle_event(event, None, deps_for(pipeline, results_prefix="test_images/results/"))
    assert response["batchItemFailures"] == []
    assert pipeline.object_keys() == ["test_images/notes.txt", "test_images/results/old.jpg"]  # no Rekognition call


@pytest.mark.parametrize("code", PERMANENT)
def test_permanent_errors_write_an_error_result_and_are_not_retried(pipeline, code):
    pipeline.upload("test_images/broken.jpg")
    pipeline.expect_error(code, "Request has invalid image format")
    response = handle_event(pipeline.receive(2), None, deps_for(pipeline))
    assert response["batchItemFailures"] == []
    result = pipeline.result("test_images/broken.jpg.json")
    assert result["Error"] == {"Code": code, "Message": "Request has invalid image format"}
    assert result["CustomLabels"] == []


@pytest.mark.parametrize("code", TRANSIENT)
def test_transient_errors_fail_the_record_for_sqs_to_retry(pipeline, code):
    """Without time left in the invocation (no Lambda context) nothing is retried in it, except a server error's
    own retries (the Rekognition client has none of its own)."""
    pipeline.upload("test_images/bee.jpg")
    event = pipeline.receive(2)
    for _ in range(1 + (SERVER_ERROR_RETRIES if code == "InternalServerError" else 0)):
        pipeline.expect_error(code)
    response = handle_event(event, None, deps_for(pipeline))
    image_message = event["Records"][-1]["messageId"]
    assert failed_ids(response) == {image_message}
    assert pipeline.object_keys() == ["test_images/bee.jpg"]
    pipeline.stub.assert_no_pending_responses()


class Invocation:
    """The part of Lambda's context the handler reads: the time left."""

    def __init__(self, seconds_left: float) -> None:
        self.seconds_left = seconds_left

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds_left * 1000)


def simulated_control() -> ThroughputControl:
    clock = ManualClock(0.0)
    return ThroughputControl(clock=clock, sleep=clock.sleep)


def test_the_models_latency_and_the_wait_for_a_slot_are_two_metrics_and_in_each_images_log_line(pipeline, caplog):
    """Two images on one thread at 1 call/s, the model answering in 0.15 s (the simulated clock moves as the stubbed
    call is made): the first goes at once, the second waits 0.85 s for its slot. The latency is the model's 150 ms
    for both; the wait for the slot is a metric of its own, not model latency."""
    for name in ("a.jpg", "b.jpg"):
        pipeline.upload(f"test_images/{name}")
    event = pipeline.receive(3)
    for body in (record["body"] for record in event["Records"]):
        for image in image_events(body):
            pipeline.expect_detect(image.key)
    deps = deps_for(pipeline, batch_workers=1)
    clock = ManualClock(0.0)
    deps.throughput = ThroughputControl(initial_rate=1.0, window_seconds=1.0, clock=clock, sleep=clock.sleep)
    metrics = Metrics(namespace="CustomLabelsPipelineTest")
    metrics.clear_metrics()  # Powertools shares one metric set between instances
    deps.metrics = PipelineMetrics(metrics)
    pipeline.rekognition.meta.events.register_first(BEFORE_DETECT, lambda **_: clock.advance(0.15))  # the model

    assert handle_event(event, None, deps)["batchItemFailures"] == []

    published = metrics.serialize_metric_set()
    assert published[DETECT_LATENCY] == [pytest.approx(150.0), pytest.approx(150.0)]
    assert published[SLOT_WAIT] == [0.0, pytest.approx(850.0)]
    logged = [record for record in caplog.records if record.getMessage() == "Image done"]
    assert [(record.latency_ms, record.slot_wait_ms) for record in logged if record.status == "labels"] == [
        (150.0, 0.0),
        (150.0, 850.0),
    ]


def test_a_throttled_call_is_retried_in_the_invocation_at_a_lower_rate_without_spending_a_receive(pipeline):
    pipeline.upload("test_images/bee.jpg")
    event = pipeline.receive(2)
    pipeline.expect_error("ProvisionedThroughputExceededException")
    pipeline.expect_error("ThrottlingException")
    pipeline.expect_detect("test_images/bee.jpg")
    deps = deps_for(pipeline)
    deps.throughput = simulated_control()

    assert handle_event(event, Invocation(60), deps)["batchItemFailures"] == []

    assert pipeline.result("test_images/bee.jpg.json")["CustomLabels"] == LABELS
    assert (deps.throughput.throttled_calls, deps.throughput.admitted_calls) == (2, 1)
    # Below one whole lane, the third call took the fractional lane and waited for it: capacity found, a step up.
    assert deps.throughput.rate == pytest.approx(0.95**2 * (1 + deps.throughput.fraction_step))
    assert deps.throughput.clock.slept == [pytest.approx(1 / 0.95), pytest.approx(1 / 0.95**2)]


def test_throttles_are_retried_until_the_invocation_keeps_only_its_reserve_then_sqs_retries(pipeline):
    """12 s left, 10 s kept to finish: calls at 0, 1.05 and 2.16 s (the rate falling), all throttled; the third is
    past the 2 s allowed, so the record fails and SQS delivers it again."""
    pipeline.upload("test_images/bee.jpg")
    event = pipeline.receive(2)
    for _ in range(3):
        pipeline.expect_error("ProvisionedThroughputExceededException")
    deps = deps_for(pipeline)
    deps.throughput = simulated_control()

    response = handle_event(event, Invocation(10 + 2), deps)

    assert failed_ids(response) == {event["Records"][-1]["messageId"]}
    pipeline.stub.assert_no_pending_responses()
    assert deps.throughput.throttled_calls == 3


# Stubber answers in `before-call`; hooks that must run on every call use `before-parameter-build`.
BEFORE_DETECT = "before-parameter-build.rekognition.DetectCustomLabels"


def test_a_timeout_fails_the_record(pipeline, caplog):
    pipeline.upload("test_images/bee.jpg")
    event = pipeline.receive(2)

    def time_out(**_):
        raise ReadTimeoutError(endpoint_url="https://rekognition.eu-west-1.amazonaws.com")

    deps = deps_for(pipeline)
    deps.rekognition = boto3.client("rekognition", region_name=REGION)  # not stubbed: the hook is the model
    deps.rekognition.meta.events.register(BEFORE_DETECT, time_out)
    assert failed_ids(handle_event(event, None, deps)) == {event["Records"][-1]["messageId"]}
    assert [r.error_code for r in caplog.records if hasattr(r, "error_code")] == ["ReadTimeoutError"]


def test_an_s3_server_error_fails_the_record(pipeline):
    pipeline.upload("test_images/bee.jpg")
    event = pipeline.receive(2)
    s3 = boto3.client("s3", region_name=REGION)
    with Stubber(s3) as s3_stub:
        s3_stub.add_client_error("head_object", service_error_code="SlowDown", http_status_code=503)
        deps = deps_for(pipeline)
        deps.s3 = s3
        assert failed_ids(handle_event(event, None, deps)) == {event["Records"][-1]["messageId"]}


def test_a_mixed_batch_reports_only_the_transient_failure(pipeline):
    keys = ["test_images/ok.jpg", "test_images/corrupt.jpg", "test_images/throttled.jpg"]
    for key in keys:
        pipeline.upload(key)
    pipeline.upload("test_images/readme.md")
    event = pipeline.receive(5)
    by_key = {image.key: r["messageId"] for r in event["Records"] for image in image_events(r["body"])}
    pipeline.expect_detect("test_images/ok.jpg")
    pipeline.expect_error("InvalidImageFormatException")
    pipeline.expect_error("ProvisionedThroughputExceededException")

    response = handle_event(event, None, deps_for(pipeline, batch_workers=1))  # one worker: stub order = key order

    assert failed_ids(response) == {by_key["test_images/throttled.jpg"]}
    assert pipeline.result("test_images/ok.jpg.json")["CustomLabels"] == LABELS
    assert pipeline.result("test_images/corrupt.jpg.json")["Error"]["Code"] == "InvalidImageFormatException"
    assert "test_images/throttled.jpg.json" not in pipeline.object_keys()
    assert "test_images/readme.md.json" not in pipeline.object_keys()


def test_records_of_a_batch_are_processed_concurrently(pipeline):
    for index in range(6):
        pipeline.upload(f"test_images/{index}.jpg")
    event = pipeline.receive(7)
    for _ in range(6):
        pipeline.stub.add_response("detect_custom_labels", {"CustomLabels": []})
    # All six calls must be in progress at once to pass the barrier: a batch handled one image at a time
    # breaks it (after a timeout long enough for any machine), instead of depending on how fast threads start.
    together = threading.Barrier(6, timeout=60)
    broken = []

    def model_waits_for_the_others(**_):
        try:
            together.wait()
        except threading.BrokenBarrierError:
            broken.append(True)

    pipeline.rekognition.meta.events.register(BEFORE_DETECT, model_waits_for_the_others)
    assert handle_event(event, None, deps_for(pipeline, batch_workers=6))["batchItemFailures"] == []
    assert not broken, "the records of a batch were not processed concurrently"
    assert len([k for k in pipeline.object_keys() if k.endswith(".json")]) == 6


def test_an_image_deleted_before_processing_gets_an_error_result(pipeline):
    pipeline.upload("test_images/gone.jpg")
    event = pipeline.receive(2)
    pipeline.s3.delete_object(Bucket=BUCKET, Key="test_images/gone.jpg")
    assert handle_event(event, None, deps_for(pipeline))["batchItemFailures"] == []
    assert pipeline.result("test_images/gone.jpg.json")["Error"]["Code"] == IMAGE_DELETED


def test_a_redelivered_message_gives_the_same_file_without_a_second_inference(pipeline):
    pipeline.upload("test_images/bee.jpg")
    event = pipeline.receive(2)
    pipeline.expect_detect("test_images/bee.jpg")  # exactly one response: a second call would fail the record
    deps = deps_for(pipeline)
    handle_event(event, None, deps)
    first = pipeline.s3.get_object(Bucket=BUCKET, Key="test_images/bee.jpg.json")
    deps.clock = lambda: datetime(2027, 1, 1, tzinfo=UTC)

    assert handle_event(event, None, deps)["batchItemFailures"] == []

    second = pipeline.s3.get_object(Bucket=BUCKET, Key="test_images/bee.jpg.json")
    assert second["VersionId"] == first["VersionId"]
    assert second["Body"].read() == first["Body"].read()


def test_an_overwritten_image_gets_the_result_of_its_last_version(pipeline):
    first = pipeline.upload("test_images/bee.jpg", b"first")
    second = pipeline.upload("test_images/bee.jpg", b"second version")
    event = pipeline.receive(3)
    pipeline.expect_detect("test_images/bee.jpg", version=second["VersionId"])  # the stale event makes no call
    assert handle_event(event, None, deps_for(pipeline, batch_workers=1))["batchItemFailures"] == []
    image = pipeline.result("test_images/bee.jpg.json")["Image"]
    assert image["VersionId"] == second["VersionId"] != first["VersionId"]
    assert image["ETag"] == second["ETag"].strip('"')


def test_failures_are_counted_by_error_code(pipeline, capsys):
    pipeline.upload("test_images/bee.jpg")
    event = pipeline.receive(2)
    pipeline.expect_error("ProvisionedThroughputExceededException")
    handle_event(event, None, deps_for(pipeline))
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    failed = [b for b in blobs if "ImagesFailed" in b]
    assert failed and failed[0]["ErrorCode"] == "ProvisionedThroughputExceededException"
    assert failed[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "CustomLabelsPipelineTest"
