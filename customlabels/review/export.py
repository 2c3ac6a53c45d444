"""`review export`: the images whose results a person should check, written as a Ground Truth manifest whose labels
are the model's predictions (pre-annotations a reviewer corrects rather than draws from scratch).

An image is chosen when
- a detection's confidence falls in the uncertain band [low, high): the model is unsure;
- nothing was detected (unless left out): a miss is invisible in the results otherwise;
- with a second model's results, the two disagree: a box of one that no box of the same label of the other
  overlaps with IoU >= `iou` (customlabels.evaluation.matching, one model standing in for the ground truth), or
  an image-level label only one of them gives.
Images with an error result are not chosen: their fix is the image, not its labels.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from customlabels.datasets.manifest import CLASSIFICATION, MULTILABEL, OBJECT_DETECTION, Box, KeyMatcher, ManifestEntry
from customlabels.evaluation.matching import match_detections
from customlabels.results.model import Prediction, result_from_document

ATTRIBUTE = "review"
JOB_NAME = "customlabels-review"


class ReviewError(ValueError):
    """Results that cannot make a review manifest; the message names the fix."""


@dataclass(frozen=True)
class Rules:
    low: float = 50.0
    high: float = 90.0
    include_nothing: bool = True
    iou: float = 0.5

    def __post_init__(self) -> None:
        if not 0 <= self.low < self.high <= 100:
            raise ReviewError(
                f"the uncertain band {self.low:g}-{self.high:g} is empty: give --low below --high, both 0-100"
            )


@dataclass(frozen=True)
class Candidate:
    document: dict[str, Any]
    """The result JSON whose predictions become the pre-annotations."""
    reasons: tuple[str, ...]

    @property
    def source_ref(self) -> str:
        image = self.document["Image"]
        if not isinstance(image.get("Bucket"), str) or not image["Bucket"]:
            raise ReviewError(
                f"{image['Key']}: its result names no Image.Bucket, which the manifest's source-ref needs. Fix: give "
                "--results the result JSONs as the pipeline wrote them (`results --out` or `local run --out`)"
            )
        return f"s3://{image['Bucket']}/{image['Key']}"

    @property
    def predictions(self) -> tuple[Prediction, ...]:
        return result_from_document(self.document).predictions


def _uncertain(predictions: Sequence[Prediction], rules: Rules) -> list[str]:
    return [f"uncertain {p.label} {p.confidence:.1f}%" for p in predictions if rules.low <= p.confidence < rules.high]


def disagreements(first: Sequence[Prediction], second: Sequence[Prediction], iou: float) -> list[str]:
    """What one model finds and the other does not, each way, as evaluate would count it with the other model's
    boxes for ground truth."""
    found = []
    for name, (mine, theirs) in (("first", (first, second)), ("second", (second, first))):
        boxes = tuple(Box(p.label, *p.box) for p in theirs if p.box is not None)
        verdicts, _ = match_detections(ManifestEntry(0, "", boxes, image_width=1, image_height=1), mine, iou)
        found += [f"only the {name} model: {p.label} {p.confidence:.1f}%" for p, matched, _ in verdicts if not matched]
        other_labels = {p.label for p in theirs if p.box is None}
        found += [
            f"only the {name} model: {p.label} (image)" for p in mine if p.box is None and p.label not in other_labels
        ]
    return found


def select(
    first: Sequence[dict[str, Any]],
    rules: Rules,
    second: Sequence[dict[str, Any]] | None = None,
) -> list[Candidate]:
    """The images to review, in key order, each with why; pre-annotations from `first`."""
    other = KeyMatcher(second or [], key=lambda document: document["Image"]["Key"]) if second is not None else None
    chosen = []
    for document in sorted(first, key=lambda d: d["Image"]["Key"]):
        if document.get("Error"):
            continue
        predictions = result_from_document(document).predictions
        reasons = _uncertain(predictions, rules)
        if not predictions and rules.include_nothing:
            reasons.append("nothing detected")
        if other is not None:
            counterpart = other.match(document["Image"]["Key"])
            if counterpart is None:
                reasons.append("no result of the second model")
            elif not counterpart.get("Error"):
                reasons += disagreements(predictions, result_from_document(counterpart).predictions, rules.iou)
        if reasons:
            chosen.append(Candidate(document, tuple(reasons)))
    return chosen


def manifest_lines(
    candidates: Sequence[Candidate],
    image_size: Callable[[str], tuple[int, int] | None],
    created: datetime | None = None,
) -> list[str]:
    """One Ground Truth line per image: object detection when any prediction has a box (sizes from
    `image_size(key)`, boxes in pixels), else image classification (multi-label unless every image has exactly
    one label, since nothing detected is an empty multi-label list).
    The metadata says the labels are the model's (`human-annotated: no`, each box's confidence 0-1) and keeps
    why the image was chosen under `customlabels-review-reasons`."""
    date = (created or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S")
    labels = sorted({p.label for c in candidates for p in c.predictions})
    class_ids = {label: index for index, label in enumerate(labels)}
    class_map = {str(index): label for label, index in class_ids.items()}
    detection = any(p.box is not None for c in candidates for p in c.predictions)
    multilabel = not detection and any(len({p.label for p in c.predictions}) != 1 for c in candidates)
    lines = []
    for candidate in candidates:
        predictions = sorted(candidate.predictions, key=lambda p: -p.confidence)
        if detection:
            value, kind = _boxes(candidate.document["Image"]["Key"], predictions, class_ids, class_map, image_size)
        elif multilabel:
            value, kind = _labels(predictions, class_ids)
        else:
            value, kind = _label(predictions[0], class_ids)
        metadata = {
            "human-annotated": "no",
            "creation-date": date,
            "job-name": JOB_NAME,
            "customlabels-review-reasons": list(candidate.reasons),
            **kind,
        }
        lines.append(
            json.dumps(
                {"source-ref": candidate.source_ref, ATTRIBUTE: value, f"{ATTRIBUTE}-metadata": metadata},
                ensure_ascii=False,
            )
        )
    return lines


Label = tuple[Any, dict[str, Any]]
"""A line's label attribute: its value, and what its metadata says of its kind (type, classes, confidences)."""


def _boxes(
    key: str,
    predictions: Sequence[Prediction],
    class_ids: dict[str, int],
    class_map: dict[str, str],
    image_size: Callable[[str], tuple[int, int] | None],
) -> Label:
    """Object detection: the boxes in pixels of the image's size, each with its confidence 0-1."""
    size = image_size(key)
    if size is None:
        raise ReviewError(
            f"{key}: its size is needed for box pre-annotations in pixels, and no image under "
            "--images matches it. Fix: give --images the folder of the uploaded images"
        )
    width, height = size
    boxed = [p for p in predictions if p.box is not None]
    value = {
        "image_size": [{"width": width, "height": height, "depth": 3}],
        "annotations": [_pixels(class_ids[p.label], p.box, width, height) for p in boxed],
    }
    return value, {
        "type": OBJECT_DETECTION,
        "class-map": class_map,
        "objects": [{"confidence": round(p.confidence / 100, 4)} for p in boxed],
    }


def _labels(predictions: Sequence[Prediction], class_ids: dict[str, int]) -> Label:
    """Multi-label classification: every label predicted, each with its highest confidence."""
    names = list(dict.fromkeys(p.label for p in predictions))
    return [class_ids[label] for label in names], {
        "type": MULTILABEL,
        "class-map": {str(class_ids[n]): n for n in names},
        "confidence-map": {str(class_ids[p.label]): round(p.confidence / 100, 4) for p in reversed(predictions)},
    }


def _label(best: Prediction, class_ids: dict[str, int]) -> Label:
    """Image classification: the one label."""
    return class_ids[best.label], {
        "type": CLASSIFICATION,
        "class-name": best.label,
        "confidence": round(best.confidence / 100, 4),
    }


def _pixels(class_id: int, box: tuple[float, float, float, float], width: int, height: int) -> dict[str, int]:
    """A box in whole pixels, at least 1 x 1 and inside the image however the ratios round."""
    left, top = min(round(box[0] * width), width - 1), min(round(box[1] * height), height - 1)
    return {
        "class_id": class_id,
        "left": left,
        "top": top,
        "width": max(1, min(round(box[2] * width), width - left)),
        "height": max(1, min(round(box[3] * height), height - top)),
    }
