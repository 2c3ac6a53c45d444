"""The event that announces a written result, written once for the inference function that puts it, the stack
that grants and outputs its pattern, the local twin that routes it and the tool that checks it
(docs/result-contract.md, "The result event"). Standard library only, imports nothing of ours but the contract.

An event is small whatever the number of detections: one entry per label name (its highest confidence and how
many times it was detected), at most MAX_LABELS names of at most MAX_LABEL_NAME_CHARACTERS, the most confident
first; what is left out is counted in `LabelsOmitted` and the result object (`Result.Key`) has everything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from customlabels_runtime.contract import result_status

SOURCE = "customlabels"
"""The events' `source`: not `aws.`, which EventBridge keeps for AWS services."""

DETAIL_TYPE = "Result Written"
"""The events' `detail-type` (EventBridge allows 128 characters)."""

SCHEMA_VERSION = "1.0"
"""`MAJOR.MINOR` of `event.schema.json` that `Detail.SchemaVersion` carries: a minor version adds optional
fields, a major one changes or removes one (docs/result-contract.md, "Versions")."""

MAX_LABELS = 25
"""Label names an event lists at most; more are counted in `LabelsOmitted`."""

MAX_LABEL_NAME_CHARACTERS = 256
"""A longer label name is left out of the event (counted in `LabelsOmitted`), never cut: a rule matches whole names."""

MAX_ENTRY_BYTES = 256 * 1024
"""EventBridge's limit on one PutEvents entry ("Calculating PutEvents event entry size": Time counts 14 bytes,
Source, DetailType, Detail and each of Resources the bytes of their UTF-8)."""

EVENT_BUS_VARIABLE = "RESULT_EVENT_BUS"
"""The inference function's environment variable naming the bus (empty: no events), set from `result_events`."""

DEFAULT_BUS = "default"
"""The account's default event bus, where events go unless the configuration names another."""


def event_detail(document: Mapping[str, Any], result_key: str) -> dict[str, Any]:
    """The `detail` of the event for the result `document` stored at `result_key` (in the image's bucket)."""
    image = document["Image"]
    labels = _labels(document.get("CustomLabels") or [])
    listed = dict(labels[:MAX_LABELS])
    detail: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Image": {key: image.get(key) for key in ("Bucket", "Key", "VersionId", "ETag")},
        "Result": {"Bucket": image["Bucket"], "Key": result_key},
        "Outcome": result_status(document),
        "Labels": listed,
        "Detections": len(document.get("CustomLabels") or []),
        "LabelsOmitted": len(_names(document)) - len(listed),
        "Model": model_name(document),
        "ProcessedAt": document.get("ProcessedAt"),
    }
    if document.get("Error"):
        detail["Error"] = {"Code": str(document["Error"].get("Code", ""))}
    return detail


def model_name(document: Mapping[str, Any]) -> str | None:
    """The model a result names, as one string: its ProjectVersionArn (Custom Labels), or the own model's
    `Uri@sha256:<first 12 hex digits>` (backend onnx), so that results of two versions of a file are told apart.
    The event's `Model`, and how `results`, `evaluate` and the gallery name it."""
    own = document.get("Model")
    if isinstance(own, Mapping) and isinstance(own.get("Uri"), str) and own["Uri"]:
        return f"{own['Uri']}@sha256:{str(own.get('Sha256', ''))[:12]}"
    return document.get("ProjectVersionArn")


def _names(document: Mapping[str, Any]) -> set[str]:
    return {str(label.get("Name")) for label in document.get("CustomLabels") or []}


def _labels(custom_labels: list[Mapping[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Each label name that fits in an event with its highest confidence and count, the most confident first."""
    summary: dict[str, dict[str, Any]] = {}
    for label in custom_labels:
        name = str(label.get("Name"))
        if len(name) > MAX_LABEL_NAME_CHARACTERS:
            continue
        confidence = float(label.get("Confidence", 0.0))
        seen = summary.setdefault(name, {"MaxConfidence": confidence, "Count": 0})
        seen["MaxConfidence"] = max(seen["MaxConfidence"], confidence)
        seen["Count"] += 1
    return sorted(summary.items(), key=lambda item: (-item[1]["MaxConfidence"], item[0]))


def put_events_entry(detail: Mapping[str, Any], bus: str) -> dict[str, Any]:
    """The PutEvents entry of one event (`Detail` a JSON object as a string, as the API takes it), timed when its
    result was written (`ProcessedAt`)."""
    entry: dict[str, Any] = {
        "Source": SOURCE,
        "DetailType": DETAIL_TYPE,
        "Detail": json.dumps(detail, ensure_ascii=False, separators=(",", ":")),
    }
    if detail.get("ProcessedAt"):
        entry["Time"] = datetime.strptime(detail["ProcessedAt"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    if bus != DEFAULT_BUS:
        entry["EventBusName"] = bus
    return entry


def entry_size(entry: Mapping[str, Any]) -> int:
    """The entry's size as EventBridge counts it against MAX_ENTRY_BYTES."""
    size = 14 if entry.get("Time") is not None else 0
    for name in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(name) or "").encode("utf-8"))
    return size + sum(len(resource.encode("utf-8")) for resource in entry.get("Resources") or [])


def result_event_pattern(bucket_name: str) -> dict[str, Any]:
    """The EventBridge pattern of every result event of the pipeline whose bucket is `bucket_name`: the stack
    outputs it (ResultEventPattern) and the local twin's watch rule routes with it."""
    return {"source": [SOURCE], "detail-type": [DETAIL_TYPE], "detail": {"Image": {"Bucket": [bucket_name]}}}
