"""The model's outputs as candidates: a class index (0-based, into the spec's labels), a score 0-1, and a box in
input pixels (x1, y1, x2, y2; None for a classifier's image-level label). One decoder per format."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from customlabels_runtime.onnx_model.spec import ModelSpec


@dataclass(frozen=True)
class Candidate:
    label: int
    score: float
    box: tuple[float, float, float, float] | None = None


def activate(scores: np.ndarray, activation: str) -> np.ndarray:
    """Scores along the last axis (the classes) as probabilities: softmax, sigmoid, or as they are."""
    scores = scores.astype(np.float64)
    if activation == "softmax":
        shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
        return shifted / shifted.sum(axis=-1, keepdims=True)
    if activation == "sigmoid":
        return 1 / (1 + np.exp(-scores))
    return scores


def decode(spec: ModelSpec, outputs: Mapping[str, np.ndarray], first: np.ndarray, min_score: float) -> list[Candidate]:
    """The candidates at or above `min_score`, best first, at most `spec.max_detections`. `outputs` by name (the
    tf-od-api format reads its outputs by name), `first` the first output (the other formats')."""
    candidates = DECODERS[spec.format](spec, outputs, first, min_score)
    kept = [c for c in candidates if c.score >= min_score and 0 <= c.label < len(spec.labels)]
    return sorted(kept, key=lambda c: -c.score)[: spec.max_detections]


def _tf_od_api(spec: ModelSpec, outputs: Mapping[str, np.ndarray], _first: np.ndarray, _min: float) -> list[Candidate]:
    """Boxes normalized ymin, xmin, ymax, xmax of the input; classes 1-based; the first num_detections are real."""
    boxes, scores = outputs["detection_boxes"][0], outputs["detection_scores"][0]
    classes = outputs["detection_classes"][0]
    count = len(scores)
    if "num_detections" in outputs:
        count = min(count, int(np.asarray(outputs["num_detections"]).reshape(-1)[0]))
    width, height = spec.input.width, spec.input.height
    return [
        Candidate(
            round(float(classes[i])) - 1,
            float(scores[i]),
            (boxes[i][1] * width, boxes[i][0] * height, boxes[i][3] * width, boxes[i][2] * height),
        )
        for i in range(count)
    ]


def _yolo_e2e(spec: ModelSpec, _outputs: Mapping[str, np.ndarray], first: np.ndarray, _min: float) -> list[Candidate]:
    """Rows x1, y1, x2, y2 (input pixels), score, class (0-based), NMS already done."""
    return [Candidate(round(float(row[5])), float(row[4]), tuple(map(float, row[:4]))) for row in first[0]]


def _yolo_raw(
    spec: ModelSpec, _outputs: Mapping[str, np.ndarray], first: np.ndarray, min_score: float
) -> list[Candidate]:
    """[4 + C, N]: cx, cy, w, h (input pixels) and C class scores per anchor. Each anchor is its best class (as
    Ultralytics' NMS does by default); then NMS at `nms_iou` among the boxes of each class."""
    rows = first[0].astype(np.float64)
    scores = activate(rows[4:].T, spec.activation)
    best = scores.argmax(axis=1)
    best_scores = scores[np.arange(len(best)), best]
    keep = best_scores >= min_score
    centres, sizes = rows[:2].T[keep], rows[2:4].T[keep]
    boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)
    classes, kept_scores = best[keep], best_scores[keep]
    candidates = []
    for label in np.unique(classes):
        mine = np.flatnonzero(classes == label)
        for index in non_max_suppression(boxes[mine], kept_scores[mine], spec.nms_iou):
            candidates.append(Candidate(int(label), float(kept_scores[mine[index]]), tuple(boxes[mine[index]])))
    return candidates


def non_max_suppression(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[int]:
    """Indexes of the boxes kept, best first: each box suppresses the lower-scored ones overlapping it by more
    than `iou_threshold` (intersection over union)."""
    order = list(np.argsort(-scores, kind="stable"))
    kept = []
    while order:
        best, order = order[0], order[1:]
        kept.append(int(best))
        if order:
            rest = np.asarray(order)
            overlap = iou(boxes[best], boxes[rest])
            order = [int(i) for i in rest[overlap <= iou_threshold]]
    return kept


def iou(box: Sequence[float], boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of `box` with each of `boxes` (x1, y1, x2, y2)."""
    x1, y1 = np.maximum(box[0], boxes[:, 0]), np.maximum(box[1], boxes[:, 1])
    x2, y2 = np.minimum(box[2], boxes[:, 2]), np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-12)


def _classifier(spec: ModelSpec, _outputs: Mapping[str, np.ndarray], first: np.ndarray, _min: float) -> list[Candidate]:
    """[1, C] scores: one image-level candidate per class."""
    scores = activate(np.asarray(first).reshape(-1), spec.activation)
    return [Candidate(label, float(score)) for label, score in enumerate(scores)]


DECODERS: dict[str, Callable[..., list[Candidate]]] = {
    "tf-od-api": _tf_od_api,
    "yolo-e2e": _yolo_e2e,
    "yolo-raw": _yolo_raw,
    "classifier": _classifier,
}
