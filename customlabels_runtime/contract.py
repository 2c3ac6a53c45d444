"""The rules the functions, the stack and the tool share, written once: which keys are images, where a result
goes, the metrics' namespace and names, the default stack name. Standard library only, imports nothing of ours."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
MODEL_STARTS = "ModelStarts"
MODEL_STOPS = "ModelStops"
MODEL_RUNNING_IDLE_MINUTES = "ModelRunningIdleMinutes"
QUEUE_MESSAGES_DISCARDED = "QueueMessagesDiscarded"
MODEL_HOURS_TODAY = "ModelHoursToday"
SPEND_GUARD_PAUSED = "SpendGuardPaused"

IMAGE_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG")
"""Object key suffixes that trigger inference; S3 suffix filters are case-sensitive."""

RESULT_SUFFIX = ".json"


def is_image_key(key: str) -> bool:
    """The one rule for "an image" by name, as the bucket notifications and the manager's rule apply it:
    a suffix of IMAGE_SUFFIXES exactly (`bee.Jpg` never reaches the queue, so nothing would answer it)."""
    return key.endswith(IMAGE_SUFFIXES)


def result_key_for(key: str, input_prefix: str, results_prefix: str) -> str:
    """`test_images/a/b.jpg` -> `<results prefix>a/b.jpg.json` (the rule of docs/result-contract.md)."""
    return results_prefix + key[len(input_prefix) :] + RESULT_SUFFIX


def result_status(document: Mapping[str, Any] | None) -> str:
    """The status of an image by its result document (docs/result-contract.md): `pending` (no result yet),
    `error` (input that can never succeed), `labels`, or `nothing` (no label passed its threshold)."""
    if document is None:
        return "pending"
    if document.get("Error"):
        return "error"
    return "labels" if document.get("CustomLabels") else "nothing"
