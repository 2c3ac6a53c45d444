"""Two or more models evaluated on the same manifest, side by side: the headline numbers per label and the
images one model gets right and another wrong (docs/evaluation.md, "Comparing models")."""

from __future__ import annotations

from typing import Any

from customlabels.evaluation.evaluate import Evaluation
from customlabels.evaluation.versus import f1_curves, metric_differences


def headline(evaluation: Evaluation) -> dict[str, Any]:
    """Per label: precision, recall, F1 and AP at the results' thresholds (boxes for detection, image labels
    otherwise), and the summary a reader compares first: mAP and micro precision/recall/F1 for detection, the
    macro averages over the real labels for image labels."""
    if evaluation.detection:
        detection = evaluation.detection
        per_label = {
            label: {name: values[name] for name in ("precision", "recall", "f1", "average_precision")}
            for label, values in detection["per_label"].items()
        }
        summary = {"mean_average_precision": detection["mean_average_precision"], **detection["micro"]}
        return {"level": "detection", "per_label": per_label, "summary": summary}
    report = evaluation.image_level["classification_report"]
    per_label = {}
    for label, curve in evaluation.curves.items():
        values = report.get(label, {})
        per_label[label] = {
            "precision": values.get("precision"),
            "recall": values.get("recall"),
            "f1": values.get("f1-score"),
            "average_precision": curve.average_precision(),
        }
    aps = [values["average_precision"] for values in per_label.values() if values["average_precision"] is not None]
    summary = {"mean_average_precision": sum(aps) / len(aps) if aps else None, **evaluation.image_level["macro"]}
    return {"level": "image", "per_label": per_label, "summary": summary}


def image_verdict(counts: dict[str, Any]) -> bool:
    """An image is right when it has neither a false positive nor a false negative."""
    return not counts["false_positives"] and not counts["false_negatives"]


def differences(evaluations: dict[str, Evaluation]) -> list[dict[str, Any]]:
    """The images some models get right and others wrong, in manifest order, with each model's counts."""
    first = next(iter(evaluations.values()))
    found = []
    for key in first.diagnostics["per_image"]:
        per_model = {name: evaluation.diagnostics["per_image"][key] for name, evaluation in evaluations.items()}
        right = [name for name, counts in per_model.items() if image_verdict(counts)]
        if right and len(right) < len(per_model):
            found.append(
                {
                    "image": key,
                    "right": right,
                    "wrong": [name for name in per_model if name not in right],
                    "per_model": per_model,
                }
            )
    return found


def comparison_document(evaluations: dict[str, Evaluation]) -> dict[str, Any]:
    """The `customlabels-comparison/1` document: each model's full evaluation, the headlines, the images they
    disagree on, each metric's difference from the first model with the better model, and F1 against threshold."""
    headlines = {name: headline(evaluation) for name, evaluation in evaluations.items()}
    return {
        "schema": "customlabels-comparison/1",
        "models": {name: evaluation.to_json() for name, evaluation in evaluations.items()},
        "headline": headlines,
        "differences": differences(evaluations),
        "metric_differences": metric_differences(evaluations, headlines),
        "f1_by_threshold": f1_curves(evaluations),
    }
