"""The ground truth of a manifest against one image's detections, for the gallery and the pictures: which
detection is a true positive, and at which confidence each ground-truth box is found (so that the gallery's
slider can say which are missed at any threshold).

The matching is evaluate's own (customlabels.evaluation.matching, greedy in confidence order), so the gallery
never disagrees with `evaluate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from customlabels.datasets.manifest import ManifestEntry
from customlabels.evaluation.matching import match_detections
from customlabels.results.model import Prediction
from customlabels.visualize.pictures import TruthBox


@dataclass(frozen=True)
class Comparison:
    verdicts: dict[int, bool]
    """Index of a prediction -> whether it is a true positive (a box matched by IoU, or an image-level label the
    image has)."""
    boxes: tuple[TruthBox, ...]
    labels: tuple[str, ...]
    """The image-level ground-truth labels (classification manifests)."""
    image_level_found: dict[str, float]
    """Image-level truth label -> the highest confidence a prediction gives it (absent: never predicted)."""


def compare(entry: ManifestEntry, predictions: Sequence[Prediction], iou_threshold: float) -> Comparison:
    """Greedy matching in confidence order means the matches of the predictions at or above a threshold do not
    depend on those below it; so a box's matched confidence is the lowest threshold at which `match_detections`
    no longer leaves it unmatched, found by adding the predictions one confidence at a time."""
    verdicts: dict[int, bool] = {}
    scored, _ = match_detections(entry, predictions, iou_threshold)
    for prediction, true_positive, _confused in scored:
        verdicts[next(i for i, p in enumerate(predictions) if p is prediction)] = true_positive
    found: dict[int, float] = {}
    for confidence in sorted({p.confidence for p in predictions if p.box is not None}, reverse=True):
        _, unmatched = match_detections(entry, [p for p in predictions if p.confidence >= confidence], iou_threshold)
        for index, box in enumerate(entry.boxes):
            if index not in found and not any(box is other for other in unmatched):
                found[index] = confidence
    width, height = entry.image_width or 1, entry.image_height or 1
    boxes = tuple(
        TruthBox(
            box.label, (box.left / width, box.top / height, box.width / width, box.height / height), found.get(index)
        )
        for index, box in enumerate(entry.boxes)
    )
    image_level_found: dict[str, float] = {}
    for index, prediction in enumerate(predictions):
        if prediction.box is None:
            verdicts[index] = prediction.label in entry.labels
            if prediction.label in entry.labels:
                image_level_found[prediction.label] = max(
                    prediction.confidence, image_level_found.get(prediction.label, 0.0)
                )
    return Comparison(verdicts, boxes, entry.labels, image_level_found)
