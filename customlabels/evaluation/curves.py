"""Precision and recall at every threshold: each prediction of a label with its verdict (`ScoredPrediction`), and
the label's curve (`LabelCurve`) with its average precision and the thresholds tuning chooses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ScoredPrediction:
    """One prediction with its verdict, the unit of PR curves and tuning."""

    image: str
    label: str
    confidence: float
    true_positive: bool


@dataclass
class LabelCurve:
    """Every prediction of one label, best first, and how many ground-truth instances there are."""

    label: str
    ground_truth: int
    predictions: list[ScoredPrediction] = field(default_factory=list)

    def points(self) -> list[dict[str, float]]:
        """Precision and recall after each prediction, keeping only the last of equal confidences."""
        ordered = sorted(self.predictions, key=lambda p: -p.confidence)
        points, true_positives = [], 0
        for index, prediction in enumerate(ordered):
            true_positives += prediction.true_positive
            if index + 1 < len(ordered) and ordered[index + 1].confidence == prediction.confidence:
                continue
            kept = index + 1
            points.append(
                {
                    "threshold": prediction.confidence,
                    "precision": true_positives / kept,
                    "recall": true_positives / self.ground_truth if self.ground_truth else None,
                    "true_positives": true_positives,
                    "false_positives": kept - true_positives,
                }
            )
        return points

    def average_precision(self) -> float | None:
        """All-point interpolated AP (PASCAL VOC 2010 onwards): the area under the precision-recall curve
        after replacing each precision by the highest precision at any equal or higher recall."""
        if not self.ground_truth:
            return None
        points = self.points()
        recalls = [0.0] + [p["recall"] for p in points]
        precisions = [0.0] + [p["precision"] for p in points]
        for index in range(len(precisions) - 2, -1, -1):
            precisions[index] = max(precisions[index], precisions[index + 1])
        return sum((recalls[i] - recalls[i - 1]) * precisions[i] for i in range(1, len(recalls)))

    def tune(self, target_precision: float | None) -> dict[str, Any]:
        """The threshold of the best F1, and among the thresholds whose precision reaches the target the one with the
        most recall: the highest such threshold, so that it lets through no false positive that buys no recall."""
        best, reaching = None, None
        for point in self.points():  # from the highest threshold down: recall never falls
            f1 = defined_f1(point["precision"], point["recall"])
            if best is None or (f1 or 0.0) > (best["f1"] or 0.0):
                best = {**point, "f1": f1}
            if (
                target_precision is not None
                and point["precision"] >= target_precision
                and (reaching is None or (point["recall"] or 0.0) > (reaching["recall"] or 0.0))
            ):
                reaching = {**point, "f1": f1}
        return {"best_f1": best, "target_precision": target_precision, "reaching_target": reaching}


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def ratio(numerator: float, denominator: float) -> float | None:
    """None for 0/0: the precision of a label never predicted, the recall of a label never true (shown n/a)."""
    return numerator / denominator if denominator else None


def defined_f1(precision: float | None, recall: float | None) -> float | None:
    return None if precision is None or recall is None else _f1(precision, recall)
