"""Logic of the inference function: one S3 image event in, exactly one result JSON out.

Plain functions over data and clients, so that tests call them with moto S3 and a stubbed or emulated
Rekognition without patching anything. `handler.py` only wires them to Lambda.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import ClientError

from customlabels_runtime import contract
from customlabels_runtime.contract import (
    ObjectCreated,
    error_code,
    error_message,
    is_input_image,
    read_queue_message,
    result_key_for,
)
from customlabels_runtime.inference.detection import Detection
from customlabels_runtime.inference.metrics import PipelineMetrics
from customlabels_runtime.inference.model_version_source import ModelVersionSource, control_for, in_service
from customlabels_runtime.inference.result_publishing import NoResultEvents, ResultEvents
from customlabels_runtime.inference.thresholds import Thresholds, ThresholdSource
from customlabels_runtime.inference.throughput import THROTTLING_CODES, ThroughputControl

PERMANENT_ERROR_CODES = frozenset(
    {
        "InvalidImageFormatException",
        "ImageTooLargeException",
        "InvalidS3ObjectException",
        "InvalidParameterException",
    }
)
"""Rekognition errors that no retry can cure: the image gets a result JSON with an `Error` object."""

IMAGE_DELETED = "ImageDeletedBeforeProcessing"
"""Error code of the result written when the image was deleted between upload and processing."""

RETRY_RESERVE_SECONDS = 10.0
"""A throttled call is retried in the invocation while more than this is left of it (to write the results and
answer); after that the record fails and SQS delivers it again."""

REKOGNITION_RETRIES = {"mode": "standard", "total_max_attempts": 1}
"""The Rekognition client's botocore retries: none. Throttles must reach the throughput control (`detect`), which
retries them at its next slot; botocore's backoff would wait seconds, blind to the model's capacity, and cannot
be told to leave throttles alone. `detect` retries server errors itself; SQS redelivers the rest."""

SERVER_ERROR_RETRIES = 2
"""A 5xx answer is retried this many times in the invocation (the client has no retries of its own)."""

SOURCE_VERSION_METADATA = "source-version-id"
SOURCE_ETAG_METADATA = "source-etag"


@dataclass(frozen=True)
class Settings:
    """What the function needs to know, read from the environment that `PipelineConfig` produces."""

    model_arn: str
    min_confidence: float | None
    input_prefix: str
    results_prefix: str
    batch_workers: int = 10
    min_inference_units: int = 1
    max_inference_units: int = 1
    """The model's range: above its minimum it may auto-scale, which the throughput control shows demand for."""
    thresholds_parameter: str | None = None
    """The SSM parameter holding the runtime thresholds (None: `min_confidence` only)."""
    thresholds_max_age: int = 60
    """Seconds a read of the thresholds parameter is cached: how long a change takes to apply."""
    model_version_parameter: str | None = None
    """The SSM parameter naming the version in service (None: `model_arn` always); cached `model_version_max_age` s."""
    model_version_max_age: int = 60
    model: Mapping[str, str] | None = None
    """The own model that results name instead of ProjectVersionArn (backend onnx): its `Uri` and `Sha256`."""

    @property
    def scale_factor(self) -> float:
        """How many times its starting capacity the model may grow to (1: it does not auto-scale)."""
        return self.max_inference_units / self.min_inference_units

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        model = "ONNX_MODEL" if environ.get("ONNX_MODEL") else "MODEL_ARN"  # the own model, or Custom Labels'
        missing = [name for name in (model, "INPUT_PREFIX", "RESULTS_PREFIX") if not environ.get(name)]
        if missing:
            raise RuntimeError(
                f"Environment variable(s) {', '.join(missing)} not set: deploy the function with the "
                "project's CDK stack, which sets them from its configuration"
            )
        min_confidence = environ.get("MIN_CONFIDENCE", "")
        return cls(
            model_arn=environ.get("MODEL_ARN", ""),
            min_confidence=float(min_confidence) if min_confidence else None,
            input_prefix=environ["INPUT_PREFIX"],
            results_prefix=environ["RESULTS_PREFIX"],
            batch_workers=int(environ.get("BATCH_WORKERS", "10")),
            min_inference_units=int(environ.get("MIN_INFERENCE_UNITS", "1")),
            max_inference_units=int(environ.get("MAX_INFERENCE_UNITS", "1")),
            thresholds_parameter=environ.get("THRESHOLDS_PARAMETER") or None,
            thresholds_max_age=int(environ.get("THRESHOLDS_MAX_AGE_SECONDS", "60")),
            model_version_parameter=environ.get("MODEL_VERSION_PARAMETER") or None,
            model_version_max_age=int(environ.get("MODEL_VERSION_MAX_AGE_SECONDS", "60")),
        )


ImageEvent = ObjectCreated
"""One created object a queue message announces (`contract.read_queue_message`); `process_image` decides whether
it is an image to infer."""


class UnreadableMessageError(ValueError):
    """A queue message that is neither an S3 object-created event nor S3's test event: failed, never deleted, so
    that SQS retries it and then keeps it in the DLQ, where `customlabels dlq list` shows it."""


@dataclass(frozen=True)
class Outcome:
    """What became of one image: `labels`, `error` (a result with an `Error` object) or `skipped`."""

    key: str | None
    status: str
    detail: str = ""
    label_count: int = 0
    result_key: str | None = None
    latency_ms: float | None = None
    """The model's answer time for the admitted call."""
    slot_wait_ms: float | None = None
    """The wait for the throughput control's slot before it (throttled attempts included)."""


@dataclass
class Dependencies:
    settings: Settings
    s3: Any
    rekognition: Any
    metrics: PipelineMetrics
    logger: Any
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    throughput: ThroughputControl = field(default_factory=ThroughputControl)
    """This environment's rate of DetectCustomLabels calls, kept across invocations (it is what was learned)."""
    thresholds: ThresholdSource | None = None
    """Where the runtime thresholds come from; None: the deploy-time `min_confidence` alone."""
    own_model: Callable[[ImageEvent, Thresholds], Detection] | None = None
    """The own model that answers in place of DetectCustomLabels (backend onnx), with the same permanent errors."""
    result_events: ResultEvents | NoResultEvents = field(default_factory=NoResultEvents)
    """Announces each result once it is written (result_publishing.py); by default nothing is put."""
    model_version: ModelVersionSource | None = None
    """Where the version in service comes from (model_version_source.py); None: the deploy-time `model_arn`."""

    def image_settings(self) -> Settings:
        """The settings of one image: the version in service read now, for its call and its result alike."""
        return in_service(self.settings, self.model_version)

    def throughput_for(self, version_arn: str) -> ThroughputControl:
        """The control of that version's calls: each version has its own capacity (model_version_source.py)."""
        return control_for(version_arn, self.throughput, self.model_version)

    def current_thresholds(self) -> Thresholds:
        if self.thresholds is None:
            return Thresholds(self.settings.min_confidence)
        return self.thresholds.current()


def image_events(body: str) -> list[ImageEvent]:
    """The created objects one queue message announces (none for S3's `s3:TestEvent`); UnreadableMessageError for
    anything else (`contract.read_queue_message` says what it understands)."""
    message = read_queue_message(body)
    if message.kind == contract.UNREADABLE:
        raise UnreadableMessageError(message.problem)
    return list(message.objects)


def is_processable(key: str, settings: Settings) -> bool:
    """The pipeline's one image rule (`contract.is_input_image`), which the model manager applies too."""
    return is_input_image(key, settings.input_prefix, settings.results_prefix)


def result_document(
    image: ImageEvent,
    settings: Settings,
    thresholds: Thresholds,
    custom_labels: list[dict],
    processed_at: datetime,
    error: dict | None = None,
) -> dict:
    """The result JSON contract (docs/result-contract.md)."""
    document: dict[str, Any] = {
        "Image": {"Bucket": image.bucket, "Key": image.key, "VersionId": image.version_id, "ETag": image.etag},
        **({"Model": dict(settings.model)} if settings.model else {"ProjectVersionArn": settings.model_arn}),
        "MinConfidence": thresholds.request_min_confidence(),
        "Thresholds": thresholds.to_document(),
        "CustomLabels": custom_labels,
    }
    if error is not None:
        document["Error"] = error
    document["ProcessedAt"] = processed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return document


def _is_not_found(error: ClientError) -> bool:
    return error_code(error) in ("404", "NoSuchKey", "NotFound", "NoSuchVersion")


def _current_object(image: ImageEvent, s3: Any) -> ImageEvent | None:
    """The object as it is now (version and ETag), or None when it no longer exists."""
    try:
        head = s3.head_object(Bucket=image.bucket, Key=image.key)
    except ClientError as error:
        if _is_not_found(error):
            return None
        raise
    return ImageEvent(image.bucket, image.key, head.get("VersionId") or None, head["ETag"].strip('"'))


def _is_superseded(event: ImageEvent, current: ImageEvent) -> bool:
    """True when a newer upload replaced the version this event announces: its own event will be processed."""
    if event.version_id and current.version_id:
        return event.version_id != current.version_id
    return bool(event.etag) and event.etag != current.etag


def _result_exists_for(image: ImageEvent, result_key: str, s3: Any) -> bool:
    """True when a redelivered message finds its result already written: no second (billed) inference."""
    try:
        head = s3.head_object(Bucket=image.bucket, Key=result_key)
    except ClientError as error:
        if _is_not_found(error):
            return False
        raise
    metadata = head.get("Metadata", {})
    return metadata.get(SOURCE_VERSION_METADATA, "") == (image.version_id or "") and metadata.get(
        SOURCE_ETAG_METADATA, ""
    ) == (image.etag or "")


def _already_done(image: ImageEvent, result_key: str, deps: Dependencies) -> bool:
    """The result of this version is written (`_result_exists_for`): announce it again, since the invocation that
    wrote it may have ended before its event was put (events are at least once: docs/result-contract.md)."""
    if not _result_exists_for(image, result_key, deps.s3):
        return False
    deps.result_events.announce_stored(image.bucket, result_key, deps.s3)
    return True


def write_result(image: ImageEvent, result_key: str, document: dict, s3: Any) -> None:
    """Put the result JSON; the bucket's default SSE-KMS encrypts it with the pipeline's key."""
    s3.put_object(
        Bucket=image.bucket,
        Key=result_key,
        Body=json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8"),
        ContentType="application/json",
        Metadata={SOURCE_VERSION_METADATA: image.version_id or "", SOURCE_ETAG_METADATA: image.etag or ""},
    )


def record_result(image: ImageEvent, result_key: str, document: dict, deps: Dependencies) -> None:
    """Write the result, then announce it: an event never comes before its result, and never fails it."""
    write_result(image, result_key, document, deps.s3)
    deps.result_events.announce(document, result_key)


def detect_request(image: ImageEvent, settings: Settings, thresholds: Thresholds) -> dict:
    s3_object = {"Bucket": image.bucket, "Name": image.key}
    if image.version_id:
        s3_object["Version"] = image.version_id
    request: dict[str, Any] = {"ProjectVersionArn": settings.model_arn, "Image": {"S3Object": s3_object}}
    min_confidence = thresholds.request_min_confidence()
    if min_confidence is not None:
        request["MinConfidence"] = min_confidence
    return request


def detect(request: dict, deps: Dependencies, retry_until: float) -> Detection:
    """DetectCustomLabels at this environment's rate; a throttled call is retried at the next slot, in the
    invocation, until `retry_until` (a `throughput.clock` time): no SQS receive is spent on throttling."""
    control = deps.throughput_for(request["ProjectVersionArn"])
    server_errors = 0
    ready = control.clock()
    while True:
        slot = control.wait()
        sent = control.clock()
        try:
            response = deps.rekognition.detect_custom_labels(**request)
        except ClientError as error:
            if error_code(error) not in THROTTLING_CODES:
                if (
                    error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) < 500
                    or server_errors == SERVER_ERROR_RETRIES
                ):
                    raise
                server_errors += 1
                continue
            control.throttled(slot)
            deps.metrics.call_throttled()
            if control.clock() >= retry_until:
                raise
            continue
        control.admitted(slot)
        return Detection(response, control.clock() - sent, sent - ready)


def process_image(event: ImageEvent, deps: Dependencies, retry_until: float = float("-inf")) -> Outcome:
    """Infer one image and write its result. Transient errors propagate so SQS retries the message; throttles
    are retried here until `retry_until` (the default: not at all)."""
    settings = deps.image_settings()
    if not is_processable(event.key, settings):
        return Outcome(event.key, "skipped", "not-an-image")
    result_key = result_key_for(event.key, settings.input_prefix, settings.results_prefix)
    if over := contract.bytes_over_key_limit(result_key):
        # S3 refuses such a key (KeyTooLongError) however often it is retried: no inference, no retry, no DLQ
        # loop that no redrive could end; the log and the metric say which image and why.
        deps.logger.error(
            "Image skipped: its result key would be over S3's key limit, so it can never get a result; "
            "upload it again under a shorter name",
            extra={"key": event.key, "result_key_bytes": contract.MAX_KEY_BYTES + over},
        )
        deps.metrics.image_failed(contract.KEY_TOO_LONG)
        return Outcome(event.key, "skipped", contract.KEY_TOO_LONG)
    thresholds = deps.current_thresholds()
    current = _current_object(event, deps.s3)
    if current is None:
        image = ImageEvent(event.bucket, event.key, event.version_id, event.etag)
        error = {
            "Code": IMAGE_DELETED,
            "Message": "The image was deleted before it could be processed; upload it again to retry.",
        }
        record_result(image, result_key, result_document(image, settings, thresholds, [], deps.clock(), error), deps)
        deps.metrics.image_failed(IMAGE_DELETED)
        return Outcome(event.key, "error", IMAGE_DELETED, result_key=result_key)
    if _is_superseded(event, current):
        return Outcome(event.key, "skipped", "superseded")
    if _already_done(current, result_key, deps):
        return Outcome(event.key, "skipped", "already-done", result_key=result_key)
    try:
        own_model, request = deps.own_model, detect_request(current, settings, thresholds)
        detection = own_model(current, thresholds) if own_model else detect(request, deps, retry_until)
    except ClientError as error:
        code = error_code(error)
        deps.metrics.image_failed(code)
        if code not in PERMANENT_ERROR_CODES:
            raise
        message = error_message(error)
        document = result_document(current, settings, thresholds, [], deps.clock(), {"Code": code, "Message": message})
        record_result(current, result_key, document, deps)
        return Outcome(event.key, "error", code, result_key=result_key)
    latency_ms, slot_wait_ms = detection.latency_seconds * 1000, detection.slot_wait_seconds * 1000
    labels = thresholds.keep(detection.response.get("CustomLabels", []))
    record_result(current, result_key, result_document(current, settings, thresholds, labels, deps.clock()), deps)
    deps.metrics.image_processed(len(labels), latency_ms, slot_wait_ms)
    return Outcome(
        event.key,
        "labels",
        label_count=len(labels),
        result_key=result_key,
        latency_ms=round(latency_ms, 1),
        slot_wait_ms=round(slot_wait_ms, 1),
    )


def process_message(record: SQSRecord, deps: Dependencies, retry_until: float = float("-inf")) -> list[Outcome]:
    """Every image of one SQS message; an exception fails the message so that SQS redelivers it."""
    try:
        events = image_events(record.body)
    except UnreadableMessageError as problem:
        deps.logger.error(
            "Queue message is not an S3 object-created event; SQS will retry it, then move it to the DLQ",
            extra={"message_id": record.message_id, "problem": str(problem)},
        )
        deps.metrics.message_unreadable()
        raise
    if not events:
        deps.logger.info("Skipped S3's s3:TestEvent", extra={"message_id": record.message_id})
        return [Outcome(None, "skipped", "test-event")]
    outcomes = []
    for event in events:
        try:
            outcome = process_image(event, deps, retry_until)
        except Exception as error:
            code = error_code(error) if isinstance(error, ClientError) else type(error).__name__
            deps.logger.warning(
                "Image failed; SQS will retry it, then move it to the DLQ",
                extra={"key": event.key, "message_id": record.message_id, "error_code": code},
            )
            raise
        deps.logger.info(
            "Image done",
            extra={
                "key": event.key,
                "message_id": record.message_id,
                "status": outcome.status,
                "detail": outcome.detail,
                "labels": outcome.label_count,
                "result_key": outcome.result_key,
                "latency_ms": outcome.latency_ms,
                "slot_wait_ms": outcome.slot_wait_ms,
            },
        )
        outcomes.append(outcome)
    return outcomes


class ConcurrentBatchProcessor(BatchProcessor):
    """A Powertools SQS BatchProcessor that handles the records of a batch on a bounded thread pool,
    so one slow image does not serialize the batch. Failures are reported per record, also when every record of
    the batch fails: that is per-record failures (retried by SQS, counted by their own metrics, then the DLQ), not
    a function error (docs/reliability.md, "A batch whose every record fails")."""

    def __init__(self, max_workers: int) -> None:
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self.max_workers = max_workers

    def process(self) -> list[tuple]:
        with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
            return list(pool.map(self._process_record, self.records))


def handle_event(event: dict, context: Any, deps: Dependencies) -> dict:
    """Process one SQS batch and answer with the partial batch response (`batchItemFailures`)."""
    processor = ConcurrentBatchProcessor(max_workers=deps.settings.batch_workers)
    retry_until = float("-inf")  # without a Lambda context (a direct call) a throttle fails the record at once
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        retry_until = deps.throughput.clock() + context.get_remaining_time_in_millis() / 1000 - RETRY_RESERVE_SECONDS
    with processor(
        records=event["Records"],
        handler=lambda record: process_message(record, deps, retry_until),
        lambda_context=context,
    ):
        processor.process()
    return processor.response()
