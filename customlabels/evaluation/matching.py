"""Ground-truth boxes matched to detections, the one matching of evaluate, the gallery's verdicts and review's
disagreements: per label, predictions are matched greedily in order of confidence to the unmatched ground-truth
box of the same label with the highest IoU, if that IoU reaches the threshold. Greedy matching in confidence order
means the matches of the predictions above any threshold do not depend on those below it, so one pass gives exact
counts at every threshold (what the PR curve and tuning need). scikit-learn has no box matching.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from customlabels.datasets.manifest import ManifestEntry
from customlabels.results.model import Prediction

IOU_TOLERANCE = 1e-9
"""IoUs this close are equal: boxes given as ratios carry float rounding, and an IoU of exactly 0.5 computed
as 0.49999999999999994 must still match at --iou 0.5."""


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (left, top, width, height) boxes."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    intersection = width * height
    return intersection / (a[2] * a[3] + b[2] * b[3] - intersection)


def _gt_box(entry: ManifestEntry, box: Any) -> tuple[float, float, float, float]:
    width, height = entry.image_width or 1, entry.image_height or 1
    return box.left / width, box.top / height, box.width / width, box.height / height


def match_detections(
    entry: ManifestEntry,
    predictions: Iterable[Prediction],
    iou_threshold: float,
) -> tuple[list[tuple[Prediction, bool, str | None]], list[Any]]:
    """Greedy matching in confidence order (equal confidences in the order given): (prediction, true positive,
    label of the best-overlapping ground-truth box of another label) and the ground-truth boxes left unmatched.
    Of boxes with equal IoU, the one listed first in the manifest is taken."""
    boxes = [(box, _gt_box(entry, box)) for box in entry.boxes]
    matched: set[int] = set()
    verdicts = []
    for prediction in sorted((p for p in predictions if p.box is not None), key=lambda p: -p.confidence):
        best, best_iou = None, iou_threshold
        confused_with, confused_iou = None, iou_threshold
        for index, (box, ratios) in enumerate(boxes):
            overlap = iou(prediction.box, ratios)
            if (
                box.label == prediction.label
                and index not in matched
                and overlap >= iou_threshold - IOU_TOLERANCE
                and (best is None or overlap > best_iou + IOU_TOLERANCE)
            ):
                best, best_iou = index, overlap
            elif box.label != prediction.label and overlap >= confused_iou - IOU_TOLERANCE:
                confused_with, confused_iou = box.label, overlap
        if best is not None:
            matched.add(best)
        verdicts.append((prediction, best is not None, None if best is not None else confused_with))
    return verdicts, [box for index, (box, _) in enumerate(boxes) if index not in matched]
