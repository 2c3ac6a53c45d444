"""Score the pipeline's results against a Ground Truth manifest: image-level and detection metrics,
diagnostics and threshold tuning (docs/evaluation.md).

Each result is paired with its manifest line (by the end of its key), then scored in named parts: image-level
metrics from scikit-learn (`image_level`), detections by the one box matching (`matching`), precision and recall at
every threshold and the tuning (`curves`). The results come already read (`customlabels.results`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from customlabels.datasets.manifest import KeyMatcher, ManifestEntry
from customlabels.evaluation.curves import LabelCurve, ScoredPrediction, defined_f1, ratio
from customlabels.evaluation.image_level import image_level_metrics
from customlabels.evaluation.matching import match_detections
from customlabels.results.model import ImageResult, ResultsError


class NoMatchingResultsError(ResultsError):
    """Results of other images than the manifest's: evaluating them would print a table of zeros."""


@dataclass
class Evaluation:
    """Everything `evaluate` computes; `to_json()` is the documented schema (docs/evaluation.md)."""

    images: int
    matched: int
    missing: list[str]
    errors: dict[str, str]
    unmatched_results: list[str]
    labels: list[str]
    image_level: dict[str, Any]
    detection: dict[str, Any] | None
    curves: dict[str, LabelCurve]
    tuning: dict[str, Any]
    diagnostics: dict[str, Any]
    iou_threshold: float
    model_versions: list[str] = field(default_factory=list)
    """The models the results name (`result_events.model_name`: a ProjectVersionArn, or an own model's)."""
    pairs: list[tuple[ManifestEntry, ImageResult]] = field(default_factory=list, repr=False)
    """Each manifest line with its result (an empty one where there is none), for the report's pictures."""

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "customlabels-evaluation/1",
            "images": {
                "in_manifest": self.images,
                "with_result": self.matched,
                "missing_result": self.missing,
                "error_result": self.errors,
                "results_not_in_manifest": self.unmatched_results,
            },
            "model_versions": self.model_versions,
            "labels": self.labels,
            "image_level": self.image_level,
            "detection": self.detection,
            "tuning": self.tuning,
            "diagnostics": self.diagnostics,
        }

    def tuned_thresholds(self, goal: str = "f1") -> dict[str, Any]:
        """A thresholds document (`customlabels thresholds set`) from the tuning: per label, the best-F1
        threshold, or with goal "precision" the one reaching the target precision with the most recall (the best-F1 one
        where no threshold reaches it). `min_confidence` is the lowest of them, for labels with no evidence.
        Thresholds keep every digit of the chosen confidence: rounded, one could pass above the detection it
        was chosen to keep, and a rerun would no longer reproduce the tuning."""
        labels = {}
        for label, tuned in self.tuning["per_label"].items():
            choice = tuned["reaching_target"] if goal == "precision" and tuned["reaching_target"] else tuned["best_f1"]
            if choice is not None:
                labels[label] = choice["threshold"]
        return {"min_confidence": min(labels.values()) if labels else None, "labels": labels}


Pairs = list[tuple[ManifestEntry, ImageResult]]
"""Each manifest line with its result (an empty one where there is none)."""


def evaluate(
    entries: list[ManifestEntry],
    results: list[ImageResult],
    *,
    iou_threshold: float = 0.5,
    target_precision: float | None = None,
) -> Evaluation:
    """Every number of the results against the manifest: detection metrics when either side has boxes, else
    classification; an image without a result, or with an error, counts as predicting nothing."""
    by_entry, unmatched = _pair(entries, results)
    pairs = [(entry, by_entry.get(entry.line, ImageResult(entry.key))) for entry in entries]
    labels = sorted(
        {label for entry in entries for label in entry.all_labels}
        | {p.label for _, result in pairs for p in result.predictions}
    )
    if _is_detection(pairs):
        curves, detection, diagnostics = detection_metrics(pairs, labels, iou_threshold)
    else:
        curves, detection, diagnostics = classification_curves(pairs, labels), None, classification_diagnostics(pairs)
    return Evaluation(
        images=len(entries),
        matched=len(by_entry),
        missing=[entry.key for entry in entries if entry.line not in by_entry],
        errors={result.key: result.error for result in by_entry.values() if result.error},
        unmatched_results=unmatched,
        labels=labels,
        image_level=image_level_metrics(pairs, labels),
        detection=detection,
        curves=curves,
        tuning={
            "target_precision": target_precision,
            "per_label": {label: curve.tune(target_precision) for label, curve in curves.items() if curve.predictions},
        },
        diagnostics=diagnostics,
        iou_threshold=iou_threshold,
        model_versions=sorted({result.model for result in by_entry.values() if result.model}),
        pairs=pairs,
    )


def _pair(entries: list[ManifestEntry], results: list[ImageResult]) -> tuple[dict[int, ImageResult], list[str]]:
    """Each result on its manifest line (by the end of its key), and the keys of those on none; none matched at
    all is NoMatchingResultsError, which would otherwise score as a table of zeros."""
    matcher = KeyMatcher(entries)
    by_entry: dict[int, ImageResult] = {}
    unmatched = []
    for result in results:
        entry = matcher.match(result.key)
        if entry is None:
            unmatched.append(result.key)
        else:
            by_entry[entry.line] = result
    if not by_entry:
        raise NoMatchingResultsError(_no_match_message(entries, results))
    return by_entry, unmatched


def _is_detection(pairs: Pairs) -> bool:
    """Boxes on either side make it detection: a data set whose images are all empty is scored by its boxes too."""
    return any(entry.boxes for entry, _ in pairs) or any(
        p.box is not None for _, result in pairs for p in result.predictions
    )


def _no_match_message(entries: list[ManifestEntry], results: list[ImageResult]) -> str:
    if not results:
        return (
            "--results holds no result JSON: give the folder or s3://bucket/prefix the pipeline wrote its "
            "results to (customlabels results --out DIR), or an evaluation manifest snapshot"
        )
    return (
        f"none of the {len(results)} results matches one of the {len(entries)} manifest lines (result "
        f"{results[0].key!r}, manifest {entries[0].source_ref!r}): results are matched to `source-ref` by "
        "the end of their key, so the file names or the folders below the prefix differ. Check that "
        "--results and --manifest are of the same images, and the prefix or bucket you passed"
    )


def classification_curves(pairs: Pairs, labels: list[str]) -> dict[str, LabelCurve]:
    curves = {label: LabelCurve(label, sum(label in entry.all_labels for entry, _ in pairs)) for label in labels}
    for entry, result in pairs:
        best: dict[str, float] = {}
        for prediction in result.predictions:
            best[prediction.label] = max(best.get(prediction.label, 0.0), prediction.confidence)
        truth = entry.all_labels
        for label, confidence in best.items():
            curves[label].predictions.append(ScoredPrediction(entry.key, label, confidence, label in truth))
    return curves


def classification_diagnostics(pairs: Pairs) -> dict[str, Any]:
    found = _Diagnostics()
    for entry, result in pairs:
        truth, predicted = entry.all_labels, {p.label for p in result.predictions}
        for label in sorted(predicted - truth):
            found.false_positives[label].append(entry.key)
            found.confused.update((actual, label) for actual in truth - predicted)
        for label in sorted(truth - predicted):
            found.false_negatives[label].append(entry.key)
        found.image(entry.key, result, len(truth & predicted), len(predicted - truth), len(truth - predicted))
    return found.to_json()


@dataclass
class _Diagnostics:
    """What went wrong, gathered image by image: the most confused pairs (actual, predicted), the images of each
    label's false positives and negatives, and each image's counts."""

    confused: Counter[tuple[str, str]] = field(default_factory=Counter)
    false_positives: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    false_negatives: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    per_image: dict[str, dict[str, Any]] = field(default_factory=dict)

    def image(self, key: str, result: ImageResult, true_positives: int, false_positives: int, misses: int) -> None:
        """One image's verdict; `result_key` is the key the pipeline read (what the gallery is keyed by)."""
        self.per_image[key] = {
            "result_key": result.key,
            "true_positives": true_positives,
            "false_positives": false_positives,
            "false_negatives": misses,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "most_confused": [
                {"actual": actual, "predicted": predicted, "count": count}
                for (actual, predicted), count in self.confused.most_common(10)
            ],
            "false_positive_images": {label: sorted(set(keys)) for label, keys in sorted(self.false_positives.items())},
            "false_negative_images": {label: sorted(set(keys)) for label, keys in sorted(self.false_negatives.items())},
            "per_image": self.per_image,
        }


def detection_metrics(
    pairs: Pairs,
    labels: list[str],
    iou_threshold: float,
) -> tuple[dict[str, LabelCurve], dict[str, Any], dict[str, Any]]:
    """Every detection matched (`matching`): each label's curve, the counts per label and in all, and the
    diagnostics."""
    curves, found = _match_all(pairs, labels, iou_threshold)
    per_label = {label: _label_counts(curve) for label, curve in curves.items()}
    scored = [value["average_precision"] for value in per_label.values() if value["average_precision"] is not None]
    detection = {
        "iou_threshold": iou_threshold,
        "ap_interpolation": "all-point (PASCAL VOC 2010+): area under the precision envelope",
        "per_label": per_label,
        "mean_average_precision": sum(scored) / len(scored) if scored else None,
        "micro": _micro(per_label),
    }
    return curves, detection, found.to_json()


def _match_all(pairs: Pairs, labels: list[str], iou_threshold: float) -> tuple[dict[str, LabelCurve], _Diagnostics]:
    curves = {
        label: LabelCurve(label, sum(box.label == label for entry, _ in pairs for box in entry.boxes))
        for label in labels
    }
    found = _Diagnostics()
    for entry, result in pairs:
        verdicts, missed = match_detections(entry, result.predictions, iou_threshold)
        true_positive_count = sum(verdict for _, verdict, _ in verdicts)
        found.image(entry.key, result, true_positive_count, len(verdicts) - true_positive_count, len(missed))
        for prediction, true_positive, confused_with in verdicts:
            curves[prediction.label].predictions.append(
                ScoredPrediction(entry.key, prediction.label, prediction.confidence, true_positive)
            )
            if not true_positive:
                found.false_positives[prediction.label].append(entry.key)
                if confused_with:
                    found.confused[(confused_with, prediction.label)] += 1
        for box in missed:
            found.false_negatives[box.label].append(entry.key)
    return curves, found


def _label_counts(curve: LabelCurve) -> dict[str, Any]:
    true_positives = sum(p.true_positive for p in curve.predictions)
    precision = ratio(true_positives, len(curve.predictions))
    recall = ratio(true_positives, curve.ground_truth)
    return {
        "ground_truth": curve.ground_truth,
        "true_positives": true_positives,
        "false_positives": len(curve.predictions) - true_positives,
        "false_negatives": curve.ground_truth - true_positives,
        "precision": precision,
        "recall": recall,
        "f1": defined_f1(precision, recall),
        "average_precision": curve.average_precision(),
    }


def _micro(per_label: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The counts summed over the labels, and the precision, recall and F1 of the sums."""
    totals = {
        name: sum(value[name] for value in per_label.values())
        for name in ("true_positives", "false_positives", "false_negatives")
    }
    precision = ratio(totals["true_positives"], totals["true_positives"] + totals["false_positives"])
    recall = ratio(totals["true_positives"], totals["true_positives"] + totals["false_negatives"])
    return {**totals, "precision": precision, "recall": recall, "f1": defined_f1(precision, recall)}
