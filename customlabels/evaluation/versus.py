"""What a data scientist asks first of two models side by side: per metric, how far apart they are and which is
better, and per label how F1 moves with the threshold (docs/evaluation.md, "Comparing models")."""

from __future__ import annotations

from typing import Any

from customlabels.evaluation.curves import LabelCurve, defined_f1
from customlabels.evaluation.evaluate import Evaluation

PER_LABEL_METRICS = (("precision", "precision"), ("recall", "recall"), ("F1", "f1"), ("AP", "average_precision"))
BEST_F1 = ("best F1", "best_f1")
"""F1 at the label's best-F1 threshold (the tuning's): the models compared each at its own best threshold."""
SUMMARY_METRICS = (("mAP", "mean_average_precision"), ("precision", "precision"), ("recall", "recall"), ("F1", "f1"))


def compared(values: dict[str, float | None], reference: str) -> dict[str, Any]:
    """Each model's value, its difference from the reference model's, and the better model: the one with the
    highest value (every metric here is better higher), None when the best value is shared or a value is n/a."""
    known = {name: value for name, value in values.items() if value is not None}
    top = max(known.values(), default=None)
    leaders = [name for name, value in known.items() if value == top]
    base = values.get(reference)
    return {
        "values": values,
        "difference": {
            name: None if value is None or base is None else value - base
            for name, value in values.items()
            if name != reference
        },
        "better": leaders[0] if len(leaders) == 1 and len(known) == len(values) else None,
    }


def metric_differences(evaluations: dict[str, Evaluation], headlines: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per label and for the summary, every headline metric (`compare.headline` of each model) and each label's
    best F1 compared across the models, differences taken from the first model (the reference)."""
    reference = next(iter(evaluations))
    labels = sorted({label for value in headlines.values() for label in value["per_label"]})
    per_label = {}
    for label in labels:
        rows = {
            key: compared({name: h["per_label"].get(label, {}).get(key) for name, h in headlines.items()}, reference)
            for _, key in PER_LABEL_METRICS
        }
        rows[BEST_F1[1]] = compared({name: _best_f1(e, label) for name, e in evaluations.items()}, reference)
        per_label[label] = rows
    summary = {
        key: compared({name: h["summary"].get(key) for name, h in headlines.items()}, reference)
        for _, key in SUMMARY_METRICS
    }
    return {"reference": reference, "per_label": per_label, "summary": summary}


def _best_f1(evaluation: Evaluation, label: str) -> float | None:
    best = evaluation.tuning["per_label"].get(label, {}).get("best_f1")
    return best["f1"] if best else None


def f1_by_threshold(curve: LabelCurve) -> list[dict[str, float | None]]:
    """F1, precision and recall of the predictions at or above each threshold a prediction has, highest first: the
    F1 a threshold between two of them gives is the next lower one's."""
    return [
        {
            "threshold": point["threshold"],
            "f1": defined_f1(point["precision"], point["recall"]),
            "precision": point["precision"],
            "recall": point["recall"],
        }
        for point in curve.points()
    ]


def f1_curves(evaluations: dict[str, Evaluation]) -> dict[str, dict[str, list[dict[str, float | None]]]]:
    """Per model and label with ground truth, F1 against the threshold."""
    return {
        name: {label: f1_by_threshold(curve) for label, curve in evaluation.curves.items() if curve.ground_truth}
        for name, evaluation in evaluations.items()
    }
