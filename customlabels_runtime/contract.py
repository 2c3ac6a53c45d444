"""The rules the functions, the stack and the tool share, written once: which keys are images, where a result
goes, what a queue message is, how an AWS error is read, the metrics' namespace and names, the default stack name.
Standard library only, imports nothing of ours."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

DEFAULT_STACK_NAME = "CustomLabelsPipeline"
"""The stack's name unless `-c stack_name=...` says otherwise; the commands' default `--stack`."""

METRICS_NAMESPACE = "CustomLabelsPipeline"
"""The CloudWatch namespace the functions publish to and the alarms and dashboard read."""

INFERENCE_SERVICE = "customlabels-inference"
MANAGER_SERVICE = "customlabels-model-manager"
"""The functions' Powertools service names: the `service` dimension of each metric they publish."""

# The metrics the functions publish and the dashboard and alarms read.
IMAGES_PROCESSED = "ImagesProcessed"
LABELS_DETECTED = "LabelsDetected"
DETECT_LATENCY = "DetectCustomLabelsLatency"
"""The model's answer time for an image's admitted call (ms), without the wait for its slot."""
SLOT_WAIT = "DetectCustomLabelsSlotWait"
"""How long an image waited for its slot of the throughput control before its admitted call (ms), throttled
attempts included: the pipeline holding itself to the model's capacity, not the model being slow."""
CALLS_THROTTLED = "DetectCustomLabelsThrottled"
"""Calls the model refused for throughput; each is retried at the next slot of the throughput control."""
IMAGES_FAILED = "ImagesFailed"
THRESHOLDS_REJECTED = "ThresholdsRejected"
MODEL_VERSION_REJECTED = "ModelVersionRejected"
"""Reads of the version-in-service parameter that failed or held no version of the project (dimension `Reason`):
the function keeps the last good version (customlabels_runtime/inference/model_version_source.py)."""
MODEL_STARTS = "ModelStarts"
MODEL_STOPS = "ModelStops"
MODEL_RUNNING_IDLE_MINUTES = "ModelRunningIdleMinutes"
QUEUE_MESSAGES_DISCARDED = "QueueMessagesDiscarded"
QUEUE_MESSAGES_UNREADABLE = "QueueMessagesUnreadable"
"""Receives of a queue message that is neither an S3 object-created event nor S3's test event (`read_queue_message`):
the inference function fails it, SQS retries it, then moves it to the DLQ; the `UnreadableMessages` alarm reads it."""
RESULT_EVENTS_FAILED = "ResultEventsFailed"
"""Result events that PutEvents refused after their retries (the result itself is written); the alarm of the same
name reads it (customlabels_runtime/inference/result_publishing.py)."""
MODEL_HOURS_TODAY = "ModelHoursToday"
SPEND_GUARD_PAUSED = "SpendGuardPaused"
OLDEST_IMAGE_WAIT_MINUTES = "OldestImageWaitMinutes"
"""Minutes the oldest image known to wait for a model that is not running has waited (0: none)."""
WAIT_BUDGET_MISSED = "WaitBudgetMissed"
"""1 while an image waits longer than `max_wait_minutes` for a model that is not running; the alarm reads it."""

IMAGE_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG")
"""Object key suffixes that trigger inference; S3 suffix filters are case-sensitive."""

RESULT_SUFFIX = ".json"

TRAINING_PREFIX = "training/"
"""Where `customlabels model train` puts the manifests it uploads and the training output in the pipeline's bucket
(the stack's trainer policy grants it): manifests and JSON, never an image suffix, so never read as an image."""

MAX_KEY_BYTES = 1024
"""S3's limit on a key: "a sequence of Unicode characters encoded in UTF-8, with a maximum length of 1,024 bytes",
prefix and delimiters included (Naming Amazon S3 objects, https://docs.aws.amazon.com/AmazonS3/latest/userguide/
object-keys.html)."""
KEY_TOO_LONG = "KeyTooLongError"
"""S3's error code for a longer key (400, "Your key is too long.": the list of error codes,
https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList)."""


def is_image_key(key: str) -> bool:
    """The one rule for "an image" by name, as the bucket notifications and the manager's rule apply it:
    a suffix of IMAGE_SUFFIXES exactly (`bee.Jpg` never reaches the queue, so nothing would answer it)."""
    return key.endswith(IMAGE_SUFFIXES)


def is_input_image(key: str, input_prefix: str, results_prefix: str) -> bool:
    """The one rule for "an image the pipeline infers", which the inference function and the model manager both
    apply to a queue message: under the input prefix, an image by name (`is_image_key`), and not under a results
    location of its own (a guard against loops)."""
    under_results = results_prefix != input_prefix and key.startswith(results_prefix)
    return key.startswith(input_prefix) and is_image_key(key) and not under_results


def result_key_for(key: str, input_prefix: str, results_prefix: str) -> str:
    """`test_images/a/b.jpg` -> `<results prefix>a/b.jpg.json` (the rule of docs/result-contract.md)."""
    return results_prefix + key[len(input_prefix) :] + RESULT_SUFFIX


def bytes_over_key_limit(key: str) -> int:
    """How many bytes of UTF-8 `key` has beyond MAX_KEY_BYTES (0 when S3 can store it). An image whose result key
    is over can never get a result: `upload` refuses it, and the function does not try."""
    return max(0, len(key.encode("utf-8")) - MAX_KEY_BYTES)


def error_code(error: BaseException) -> str:
    """The code AWS answered with (botocore's `ClientError.response["Error"]["Code"]`), the one reading of it for
    the functions and the tool; "Unknown" when there is none. Read from the response, so no botocore here."""
    return _error_field(error, "Code") or "Unknown"


def error_message(error: BaseException) -> str:
    """The message AWS answered with (`ClientError.response["Error"]["Message"]`); "" when there is none."""
    return _error_field(error, "Message")


def _error_field(error: BaseException, name: str) -> str:
    details = (getattr(error, "response", None) or {}).get("Error") or {}
    return str(details.get(name) or "")


def result_status(document: Mapping[str, Any] | None) -> str:
    """The status of an image by its result document (docs/result-contract.md): `pending` (no result yet),
    `error` (input that can never succeed), `labels`, or `nothing` (no label passed its threshold)."""
    if document is None:
        return "pending"
    if document.get("Error"):
        return "error"
    return "labels" if document.get("CustomLabels") else "nothing"


# --- what a queue message is ------------------------------------------------------------------------------------
OBJECTS_CREATED = "objects-created"
"""A message announcing created objects: each is processed (and skipped if it is not an input image)."""
TEST_EVENT = "test-event"
"""S3's `s3:TestEvent`, sent when the bucket's notifications are configured: nothing to do, deleted."""
UNREADABLE = "unreadable"
"""Anything else: it is not deleted but failed, so that SQS retries it and then keeps it in the DLQ."""


@dataclass(frozen=True)
class ObjectCreated:
    """One created object a message announces, its key decoded."""

    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None


@dataclass(frozen=True)
class QueueMessage:
    """What a queue message is (`kind`), where it came from (`source`) and, when unreadable, why (`problem`)."""

    kind: str
    objects: tuple[ObjectCreated, ...] = ()
    source: str = ""
    problem: str = ""


def read_queue_message(body: Any) -> QueueMessage:
    """The one reader of the work queue's messages, for the inference function, the model manager and
    `customlabels dlq`. Never raises. Understood, as AWS documents each:

    - an S3 event notification (S3 -> SQS, or S3 -> SNS -> SQS with raw message delivery): `Records` of
      `ObjectCreated:*` events, keys URL-encoded (S3 docs, "Event message structure");
    - the same inside an SNS notification (S3 -> SNS -> SQS without raw message delivery): `Type` `Notification`,
      the S3 event as a JSON string in `Message` (SNS docs, "Amazon SNS raw message delivery");
    - an EventBridge `Object Created` event from `aws.s3` (a rule targeting the queue): the key in
      `detail.object.key`, not URL-encoded (S3 docs, "EventBridge event message structure");
    - S3's `s3:TestEvent`, directly or inside an SNS notification.

    Anything else is UNREADABLE, with the problem named: not JSON, JSON that is no S3 event, an S3 event of
    another kind (`ObjectRemoved:Delete`, `Object Deleted`: the queue is subscribed to more than the stack
    configures), or a record without its bucket or key."""
    document, problem = _json(body, "the message body")
    if problem:
        return QueueMessage(UNREADABLE, problem=problem)
    if _is_sns_notification(document):
        inner, problem = _json(document["Message"], "the SNS notification's Message")
        if problem:
            return QueueMessage(UNREADABLE, source="SNS", problem=problem)
        message = _s3_notification(inner)
        return QueueMessage(message.kind, message.objects, f"SNS {message.source}".strip(), message.problem)
    if isinstance(document, Mapping) and document.get("source") == "aws.s3" and "detail-type" in document:
        return read_event_bridge_event(document)
    return _s3_notification(document)


def read_event_bridge_event(event: Any) -> QueueMessage:
    """An EventBridge event from S3 (in the queue, or the model manager's own invocation): OBJECTS_CREATED for
    `Object Created` with its bucket and key (as is: EventBridge does not URL-encode it), else UNREADABLE."""
    source = "EventBridge"
    if not isinstance(event, Mapping) or event.get("source") != "aws.s3":
        return QueueMessage(UNREADABLE, source=source, problem="not an EventBridge event from aws.s3")
    if event.get("detail-type") != "Object Created":
        return QueueMessage(
            UNREADABLE, source=source, problem=f"an S3 event of another kind ({_shown(event.get('detail-type'))})"
        )
    detail = event.get("detail")
    bucket, key, version_id, etag = (
        _path(detail, "bucket", "name"),
        _path(detail, "object", "key"),
        _path(detail, "object", "version-id"),
        _path(detail, "object", "etag"),
    )
    if not _is_name(bucket) or not _is_name(key):
        return QueueMessage(UNREADABLE, source=source, problem="an Object Created event without its bucket or key")
    return QueueMessage(OBJECTS_CREATED, (ObjectCreated(bucket, key, _optional(version_id), _optional(etag)),), source)


def _s3_notification(document: Any) -> QueueMessage:
    source = "S3"
    if not isinstance(document, Mapping):
        return QueueMessage(UNREADABLE, source=source, problem=f"JSON but not an object ({type(document).__name__})")
    if document.get("Event") == "s3:TestEvent":
        return QueueMessage(TEST_EVENT, source=source)
    records = document.get("Records")
    if "Records" not in document:
        keys = ", ".join(_shown(name, quote=False) for name in sorted(str(name) for name in document)[:5]) or "none"
        return QueueMessage(UNREADABLE, source="", problem=f"a JSON object that is not an S3 event (keys: {keys})")
    if not isinstance(records, list) or not records:
        return QueueMessage(UNREADABLE, source=source, problem="an S3 event without records")
    objects = []
    for number, record in enumerate(records, 1):
        event_name = _path(record, "eventName")
        if not isinstance(event_name, str) or not event_name.startswith("ObjectCreated:"):
            return QueueMessage(
                UNREADABLE,
                source=source,
                problem=f"record {number} is an S3 event of another kind ({_shown(event_name)})",
            )
        bucket, key = _path(record, "s3", "bucket", "name"), _path(record, "s3", "object", "key")
        if not _is_name(bucket) or not _is_name(key):
            return QueueMessage(UNREADABLE, source=source, problem=f"record {number} has no bucket name or object key")
        version_id, etag = _path(record, "s3", "object", "versionId"), _path(record, "s3", "object", "eTag")
        # S3 URL-encodes keys in notifications ("red flower.jpg" becomes "red+flower.jpg").
        objects.append(ObjectCreated(bucket, unquote_plus(key), _optional(version_id), _optional(etag)))
    return QueueMessage(OBJECTS_CREATED, tuple(objects), source)


SHOWN_CHARACTERS = 40
"""How much of a hostile message's own text a problem quotes: enough to recognise it, never the whole message."""


def _shown(value: Any, quote: bool = True) -> str:
    text = repr(value) if quote else str(value)
    return text if len(text) <= SHOWN_CHARACTERS else text[: SHOWN_CHARACTERS - 1] + "…"


def _json(text: Any, what: str) -> tuple[Any, str]:
    if not isinstance(text, str):
        return None, f"{what} is not text"
    try:
        return json.loads(text), ""
    except (ValueError, RecursionError):
        return None, f"{what} is not JSON"


def _is_sns_notification(document: Any) -> bool:
    return (
        isinstance(document, Mapping)
        and document.get("Type") == "Notification"
        and "TopicArn" in document
        and "Message" in document
    )


def _path(document: Any, *names: str) -> Any:
    """document[names[0]][names[1]]..., or None where a level is missing or not an object."""
    for name in names:
        if not isinstance(document, Mapping):
            return None
        document = document.get(name)
    return document


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _optional(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
