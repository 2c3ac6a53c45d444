"""What the manager's inputs announce: whether a waiting queue message or an EventBridge invocation is an image the
pipeline infers, by the contract's reader of S3 events and its image rule (`contract.is_input_image`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from customlabels_runtime.contract import (
    OBJECTS_CREATED,
    UNREADABLE,
    QueueMessage,
    is_input_image,
    read_event_bridge_event,
    read_queue_message,
)
from customlabels_runtime.model_manager.state import parse_time


def message_kind(body: Any, input_prefix: str, results_prefix: str | None = None) -> str:
    """What one queue message is, read as the inference function reads it (`contract.read_queue_message`, the
    pipeline's image rule `contract.is_input_image`): "image" (it announces at least one image the function
    infers), "never" (S3's `s3:TestEvent`, or only objects the function skips: deleted here), or "unknown"
    (unreadable: the function fails it, SQS retries it and then moves it to the DLQ; left alone here)."""
    message = read_queue_message(body)
    if message.kind == UNREADABLE:
        return "unknown"
    return "image" if _announces_an_image(message, input_prefix, results_prefix) else "never"


def announced_image(event: Any, input_prefix: str, results_prefix: str | None = None) -> bool:
    """Whether this invocation is EventBridge's `Object Created` for an image the pipeline infers. The stack's
    rule matches images only; the event is read again here, by the one reader of S3 events, so that no other
    event can count as one."""
    if not isinstance(event, Mapping) or event.get("source") != "aws.s3":
        return False
    message = read_event_bridge_event(event)
    return message.kind == OBJECTS_CREATED and _announces_an_image(message, input_prefix, results_prefix)


def _announces_an_image(message: QueueMessage, input_prefix: str, results_prefix: str | None) -> bool:
    return _image_key(message, input_prefix, results_prefix) is not None


def _image_key(message: QueueMessage, input_prefix: str, results_prefix: str | None) -> str | None:
    results = input_prefix if results_prefix is None else results_prefix
    return next((item.key for item in message.objects if is_input_image(item.key, input_prefix, results)), None)


def image_key(body: Any, input_prefix: str, results_prefix: str | None = None) -> str | None:
    """The first image a queue message announces (None: none), to name the image that waits."""
    return _image_key(read_queue_message(body), input_prefix, results_prefix)


def announced_key(event: Any, input_prefix: str, results_prefix: str | None = None) -> str | None:
    """The image an EventBridge `Object Created` announces (None: not an image the pipeline infers)."""
    if not announced_image(event, input_prefix, results_prefix):
        return None
    return _image_key(read_event_bridge_event(event), input_prefix, results_prefix)


def announcement_time(event: Mapping[str, Any], now: datetime) -> datetime | None:
    """The upload time of an announcement (EventBridge's `time`), None when absent or not believable."""
    return parse_time(event.get("time"), now) if isinstance(event, Mapping) else None
