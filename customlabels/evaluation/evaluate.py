"""Score the pipeline's results against a Ground Truth manifest: image-level and detection metrics,
diagnostics and threshold tuning (docs/evaluation.md).

Image-level metrics come from scikit-learn. Detection metrics are computed here, because scikit-learn has
no box matching: per label, predictions are matched greedily in order of confidence to the unmatched
ground-truth box of the same label with the highest IoU, if that IoU reaches `iou`. Greedy matching in
confidence order means the matches of the predictions above any threshold do not depend on those below
it, so one pass gives exact counts at every threshold (what the PR curve and tuning need).
"""

from __future__ import annotations

import json
import math
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from customlabels.datasets.manifest import KeyMatcher, ManifestEntry
from customlabels.escaping import finite
from customlabels.outputs import result_files

NO_LABEL = "(none)"
"""The predicted class of an image for which the model returned nothing."""


IOU_TOLERANCE = 1e-9
"""IoUs this close are equal: boxes given as ratios carry float rounding, and an IoU of exactly 0.5 computed
as 0.49999999999999994 must still match at --iou 0.5."""


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    """0-100."""
    box: tuple[float, float, float, float] | None = None
    """Left, top, width, height as ratios of the image; None for an image-level label."""


@dataclass(frozen=True)
class ImageResult:
    key: str
    predictions: tuple[Prediction, ...] = ()
    error: str | None = None
    model: str | None = None
    """The model version that made the result (its ProjectVersionArn), when the result says."""


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
            f1 = _defined_f1(point["precision"], point["recall"])
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


def _ratio(numerator: float, denominator: float) -> float | None:
    """None for 0/0: the precision of a label never predicted, the recall of a label never true (shown n/a)."""
    return numerator / denominator if denominator else None


def _defined_f1(precision: float | None, recall: float | None) -> float | None:
    return None if precision is None or recall is None else _f1(precision, recall)


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (left, top, width, height) boxes."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    intersection = width * height
    return intersection / (a[2] * a[3] + b[2] * b[3] - intersection)


class ResultsError(ValueError):
    """Results that cannot be read; the message names the file or object."""


class NoMatchingResultsError(ResultsError):
    """Results of other images than the manifest's: evaluating them would print a table of zeros."""


MALFORMED = "malformed result: "


class MalformedResultError(ResultsError):
    """A result-shaped JSON that breaks the contract (docs/result-contract.md); the message names every field that
    is wrong."""


# --- reading ------------------------------------------------------------------------------------------


def _number_problem(value: Any, low: float | None = None, high: float | None = None) -> str | None:
    """Why `value` is not a finite number (in low-high), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{value!r} is not a number"
    if not math.isfinite(value):
        return f"{finite(value)} is not a finite number"
    if low is not None and high is not None and not low <= value <= high:
        return f"{value:g} is outside {low:g}-{high:g}"
    return None


def result_problems(document: Mapping[str, Any]) -> list[str]:
    """Every way a result-shaped document breaks the contract: `Image.Key` a string; each of `CustomLabels` an
    object with a `Name` string, a finite `Confidence` 0-100 and, if boxed, four finite numbers; `Error` an object."""
    problems = []
    image = document.get("Image")
    if not isinstance(image, dict) or not isinstance(image.get("Key"), str):
        problems.append("no Image.Key string (the image it answers)")
    labels = document.get("CustomLabels")
    if not isinstance(labels, list):
        problems.append(f"CustomLabels is {labels!r}, not a list")
        labels = []
    for index, label in enumerate(labels):
        where = f"CustomLabels[{index}]"
        if not isinstance(label, dict):
            problems.append(f"{where} is {label!r}, not an object")
            continue
        if not isinstance(label.get("Name"), str):
            problems.append(f"{where}.Name is {label.get('Name')!r}, not a string")
        if problem := _number_problem(label.get("Confidence"), 0, 100):
            problems.append(f"{where}.Confidence: {problem} from 0 to 100")
        geometry = label.get("Geometry")
        box = geometry.get("BoundingBox") if isinstance(geometry, dict) else None
        if geometry is not None and not isinstance(geometry, dict):
            problems.append(f"{where}.Geometry is {geometry!r}, not an object")
        elif box is not None and not isinstance(box, dict):
            problems.append(f"{where}.Geometry.BoundingBox is {box!r}, not an object")
        elif box is not None:
            problems += [
                f"{where}.Geometry.BoundingBox.{side}: {problem}"
                for side in ("Left", "Top", "Width", "Height")
                if (problem := _number_problem(box.get(side)))
            ]
    if document.get("Error") is not None and not isinstance(document["Error"], dict):
        problems.append(f"Error is {document['Error']!r}, not an object")
    return problems


def result_from_document(document: Mapping[str, Any]) -> ImageResult:
    """An ImageResult from a result JSON of the product's contract (docs/result-contract.md); one that breaks the
    contract raises MalformedResultError naming every problem."""
    if problems := result_problems(document):
        raise MalformedResultError(MALFORMED + "; ".join(problems))
    predictions = []
    for label in document["CustomLabels"]:
        box = (label.get("Geometry") or {}).get("BoundingBox")
        predictions.append(
            Prediction(
                label["Name"],
                float(label["Confidence"]),
                None if box is None else (box["Left"], box["Top"], box["Width"], box["Height"]),
            )
        )
    error = (document.get("Error") or {}).get("Code")
    return ImageResult(document["Image"]["Key"], tuple(predictions), error, document.get("ProjectVersionArn"))


def is_result_document(document: Any) -> bool:
    """Shaped like a result (an `Image` object and `CustomLabels`), well formed or not; other JSON, such as
    `local run`'s summary.json, is not a result."""
    return isinstance(document, dict) and isinstance(document.get("Image"), dict) and "CustomLabels" in document


def results_from_snapshot_line(document: Mapping[str, Any]) -> ImageResult:
    """The predictions of one line of Rekognition's evaluation manifest snapshot: the label attributes
    whose metadata is not human-annotated (the `rekognition-custom-labels-evaluation*` ones); confidences
    there are 0-1 and boxes are pixels of `image_size`."""
    from customlabels.datasets.manifest import CLASSIFICATION, MULTILABEL, OBJECT_DETECTION

    key = document["source-ref"].split("://", 1)[-1].split("/", 1)[-1]
    predictions: list[Prediction] = []
    for attribute, value in document.items():
        metadata = document.get(f"{attribute}-metadata")
        if attribute.endswith("-metadata") or not isinstance(metadata, dict):
            continue
        if metadata.get("human-annotated") == "yes" or "evaluation" not in attribute + metadata.get("job-name", ""):
            continue
        kind = metadata.get("type")
        if kind == OBJECT_DETECTION:
            size = (value.get("image_size") or [{}])[0]
            width, height = float(size.get("width", 1)), float(size.get("height", 1))
            objects = metadata.get("objects") or [{} for _ in value["annotations"]]
            for annotation, detail in zip(value["annotations"], objects, strict=False):
                predictions.append(
                    Prediction(
                        metadata["class-map"][str(annotation["class_id"])],
                        float(detail.get("confidence", 1)) * 100,
                        (
                            annotation["left"] / width,
                            annotation["top"] / height,
                            annotation["width"] / width,
                            annotation["height"] / height,
                        ),
                    )
                )
        elif kind == CLASSIFICATION:
            predictions.append(Prediction(metadata["class-name"], float(metadata.get("confidence", 1)) * 100))
        elif kind == MULTILABEL:
            confidences = metadata.get("confidence-map") or {}
            for class_id in value:
                predictions.append(
                    Prediction(
                        metadata["class-map"][str(class_id)],
                        float(confidences.get(str(class_id), metadata.get("confidence", 1))) * 100,
                    )
                )
    for prediction in predictions:  # a NaN would sort and score as no number does
        if not all(math.isfinite(number) for number in (prediction.confidence, *(prediction.box or ()))):
            raise ValueError(f"{prediction.label}: a confidence or box that is not a finite number")
    return ImageResult(key, tuple(predictions))


def apply_thresholds(results: Iterable[ImageResult], thresholds: Any) -> list[ImageResult]:
    """What the results would hold under other thresholds (only ever fewer predictions: the results
    cannot hold what their own thresholds already removed)."""
    return [
        ImageResult(
            r.key, tuple(p for p in r.predictions if thresholds.passes(p.label, p.confidence)), r.error, r.model
        )
        for r in results
    ]


# --- scoring ------------------------------------------------------------------------------------------


def _image_labels(entry: ManifestEntry) -> set[str]:
    return set(entry.labels) | {box.label for box in entry.boxes}


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
    """The ProjectVersionArns the results name."""
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


def evaluate(
    entries: list[ManifestEntry],
    results: list[ImageResult],
    *,
    iou_threshold: float = 0.5,
    target_precision: float | None = None,
) -> Evaluation:
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
    missing = [entry.key for entry in entries if entry.line not in by_entry]
    errors = {result.key: result.error for result in by_entry.values() if result.error}
    # An image without a result, or with an error, predicted nothing: it counts, it is not dropped.
    pairs = [(entry, by_entry.get(entry.line, ImageResult(entry.key))) for entry in entries]
    # Boxes on either side make it detection: a data set whose images are all empty is scored by its boxes too.
    detection_task = any(entry.boxes for entry in entries) or any(
        p.box is not None for _, result in pairs for p in result.predictions
    )
    labels = sorted(
        {label for entry in entries for label in _image_labels(entry)}
        | {p.label for _, result in pairs for p in result.predictions}
    )

    image_level = image_level_metrics(pairs, labels)
    if detection_task:
        curves, detection, diagnostics = detection_metrics(pairs, labels, iou_threshold)
    else:
        curves, detection, diagnostics = classification_curves(pairs, labels), None, classification_diagnostics(pairs)
    tuning = {
        "target_precision": target_precision,
        "per_label": {label: curve.tune(target_precision) for label, curve in curves.items() if curve.predictions},
    }
    model_versions = sorted({result.model for result in by_entry.values() if result.model})
    return Evaluation(
        len(entries),
        len(by_entry),
        missing,
        errors,
        unmatched,
        labels,
        image_level,
        detection,
        curves,
        tuning,
        diagnostics,
        iou_threshold,
        model_versions,
        pairs,
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


def image_level_metrics(pairs: list[tuple[ManifestEntry, ImageResult]], labels: list[str]) -> dict[str, Any]:
    """Single-label when every image has at most one ground-truth label (an image with none is of the class
    NO_LABEL, as a detection data set's images without objects are); multi-label otherwise."""
    with warnings.catch_warnings():
        # A class predicted but never true, or a label in every image, is a fact of the data set, not a fault.
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true", category=UserWarning)
        warnings.filterwarnings("ignore", message="A single label was found", category=UserWarning)
        warnings.filterwarnings("ignore", message=".*is ill-defined", category=UserWarning)
        truths = [_image_labels(entry) for entry, _ in pairs]
        if all(len(truth) <= 1 for truth in truths):
            return _single_label_metrics(pairs, truths)
        return _multi_label_metrics(pairs, truths, labels)


def _single_label_metrics(pairs: list[tuple[ManifestEntry, ImageResult]], truths: list[set[str]]) -> dict[str, Any]:
    """scikit-learn over the classes and NO_LABEL; the precision/recall/F1 averages and the macro Jaccard over
    the real labels only, since NO_LABEL is the absence of a label, not a class a user asked for."""
    from sklearn import metrics

    y_true = [next(iter(truth)) if truth else NO_LABEL for truth in truths]
    y_pred = [
        max(result.predictions, key=lambda p: p.confidence).label if result.predictions else NO_LABEL
        for _, result in pairs
    ]
    classes = sorted(set(y_true) | set(y_pred), key=lambda c: (c == NO_LABEL, c))
    real = [c for c in classes if c != NO_LABEL]
    averages = _averages(y_true, y_pred, real)
    report = metrics.classification_report(y_true, y_pred, labels=classes, output_dict=True, zero_division=0)
    real_support = sum(truth in real for truth in y_true)
    for average, values in averages.items():  # scikit-learn's own averages there include NO_LABEL
        report[f"{average} avg"] = {
            "precision": values["precision"],
            "recall": values["recall"],
            "f1-score": values["f1"],
            "support": real_support,
        }
    return {
        "kind": "single-label",
        "classes": classes,
        "confusion_matrix": metrics.confusion_matrix(y_true, y_pred, labels=classes).tolist(),
        "classification_report": report,
        **averages,
        "accuracy": metrics.accuracy_score(y_true, y_pred),
        "balanced_accuracy": metrics.balanced_accuracy_score(y_true, y_pred),
        "hamming_loss": metrics.hamming_loss(y_true, y_pred),
        "jaccard": {
            average: metrics.jaccard_score(y_true, y_pred, labels=real, average=average, zero_division=0)
            if real
            else None
            for average in ("micro", "macro", "weighted")
        },
        "mcc": metrics.matthews_corrcoef(y_true, y_pred) if mcc_defined(y_true, y_pred) else None,
    }


def mcc_defined(y_true: Any, y_pred: Any) -> bool:
    """MCC divides by the spread of the truth and of the prediction: with one class in either it is 0/0, which
    scikit-learn reports as 0 (a perfect model on a label in every image would score 0); we report None."""
    return len(set(list(y_true))) > 1 and len(set(list(y_pred))) > 1


def _multi_label_metrics(
    pairs: list[tuple[ManifestEntry, ImageResult]], truths: list[set[str]], labels: list[str]
) -> dict[str, Any]:
    from sklearn import metrics
    from sklearn.preprocessing import MultiLabelBinarizer

    binarizer = MultiLabelBinarizer(classes=labels)
    y_true = binarizer.fit_transform(truths)
    y_pred = binarizer.transform([{p.label for p in result.predictions} for _, result in pairs])
    per_label_mcc = {
        label: metrics.matthews_corrcoef(y_true[:, i], y_pred[:, i])
        if mcc_defined(y_true[:, i], y_pred[:, i])
        else None
        for i, label in enumerate(labels)
    }
    per_label_balanced = {
        label: metrics.balanced_accuracy_score(y_true[:, i], y_pred[:, i]) if len(set(y_true[:, i])) > 1 else None
        for i, label in enumerate(labels)
    }
    return {
        "kind": "multi-label",
        "classes": labels,
        "confusion_matrix": _cooccurrence(pairs, labels),
        "confusion_matrix_kind": "co-occurrence: rows true labels, columns predicted labels and (none), "
        "cell the images having both",
        "per_label_confusion": {
            label: matrix.tolist()
            for label, matrix in zip(labels, metrics.multilabel_confusion_matrix(y_true, y_pred), strict=True)
        },
        "classification_report": metrics.classification_report(
            y_true, y_pred, target_names=labels, output_dict=True, zero_division=0
        ),
        **_averages(y_true, y_pred, None),
        "accuracy": metrics.accuracy_score(y_true, y_pred),
        "balanced_accuracy": _mean_defined(per_label_balanced.values()),
        "balanced_accuracy_per_label": per_label_balanced,
        "hamming_loss": metrics.hamming_loss(y_true, y_pred),
        "jaccard": {
            average: metrics.jaccard_score(y_true, y_pred, average=average, zero_division=0)
            for average in ("micro", "macro", "weighted", "samples")
        },
        "mcc": _mean_defined(per_label_mcc.values()),
        "mcc_per_label": per_label_mcc,
    }


def _mean_defined(values: Iterable[float | None]) -> float | None:
    """The mean of the defined values; None (shown n/a) when none is."""
    defined = [value for value in values if value is not None]
    return sum(defined) / len(defined) if defined else None


def _averages(y_true: Any, y_pred: Any, classes: list[str] | None) -> dict[str, Any]:
    from sklearn.metrics import precision_recall_fscore_support

    averages = {}
    for average in ("micro", "macro", "weighted"):
        if classes == []:
            averages[average] = {"precision": None, "recall": None, "f1": None}
            continue
        precision, recall, f1, _ = precision_recall_fscore_support(
            y_true, y_pred, labels=classes, average=average, zero_division=0
        )
        averages[average] = {"precision": precision, "recall": recall, "f1": f1}
    return averages


def _cooccurrence(pairs: list[tuple[ManifestEntry, ImageResult]], labels: list[str]) -> list[list[int]]:
    """Rows: ground-truth labels; columns: predicted labels and NO_LABEL; cell: images having both."""
    columns = [*labels, NO_LABEL]
    matrix = [[0] * len(columns) for _ in labels]
    for entry, result in pairs:
        predicted = {p.label for p in result.predictions} or {NO_LABEL}
        for truth in _image_labels(entry):
            for label in predicted:
                matrix[labels.index(truth)][columns.index(label)] += 1
    return matrix


def classification_curves(pairs: list[tuple[ManifestEntry, ImageResult]], labels: list[str]) -> dict[str, LabelCurve]:
    curves = {label: LabelCurve(label, sum(label in _image_labels(entry) for entry, _ in pairs)) for label in labels}
    for entry, result in pairs:
        best: dict[str, float] = {}
        for prediction in result.predictions:
            best[prediction.label] = max(best.get(prediction.label, 0.0), prediction.confidence)
        truth = _image_labels(entry)
        for label, confidence in best.items():
            curves[label].predictions.append(ScoredPrediction(entry.key, label, confidence, label in truth))
    return curves


def classification_diagnostics(pairs: list[tuple[ManifestEntry, ImageResult]]) -> dict[str, Any]:
    confused: Counter[tuple[str, str]] = Counter()
    false_positives: dict[str, list[str]] = defaultdict(list)
    false_negatives: dict[str, list[str]] = defaultdict(list)
    per_image = {}
    for entry, result in pairs:
        truth, predicted = _image_labels(entry), {p.label for p in result.predictions}
        for label in sorted(predicted - truth):
            false_positives[label].append(entry.key)
            confused.update((actual, label) for actual in truth - predicted)
        for label in sorted(truth - predicted):
            false_negatives[label].append(entry.key)
        per_image[entry.key] = _image_counts(
            result, len(truth & predicted), len(predicted - truth), len(truth - predicted)
        )
    return _diagnostics(confused, false_positives, false_negatives, per_image)


def _image_counts(
    result: ImageResult,
    true_positives: int,
    false_positives: int,
    false_negatives: int,
) -> dict[str, Any]:
    """One image's verdict; `result_key` is the key the pipeline read (what the gallery is keyed by)."""
    return {
        "result_key": result.key,
        "true_positives": true_positives,
        "false_positives": false_positives,
        "false_negatives": false_negatives,
    }


def _diagnostics(
    confused: Counter,
    false_positives: Mapping[str, list[str]],
    false_negatives: Mapping[str, list[str]],
    per_image: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    return {
        "most_confused": [
            {"actual": actual, "predicted": predicted, "count": count}
            for (actual, predicted), count in confused.most_common(10)
        ],
        "false_positive_images": {label: sorted(set(keys)) for label, keys in sorted(false_positives.items())},
        "false_negative_images": {label: sorted(set(keys)) for label, keys in sorted(false_negatives.items())},
        "per_image": per_image,
    }


def detection_metrics(
    pairs: list[tuple[ManifestEntry, ImageResult]],
    labels: list[str],
    iou_threshold: float,
) -> tuple[dict[str, LabelCurve], dict[str, Any], dict[str, Any]]:
    curves = {
        label: LabelCurve(label, sum(box.label == label for entry, _ in pairs for box in entry.boxes))
        for label in labels
    }
    confused: Counter[tuple[str, str]] = Counter()
    false_positives: dict[str, list[str]] = defaultdict(list)
    false_negatives: dict[str, list[str]] = defaultdict(list)
    per_image = {}
    for entry, result in pairs:
        verdicts, missed = match_detections(entry, result.predictions, iou_threshold)
        true_positive_count = sum(verdict for _, verdict, _ in verdicts)
        per_image[entry.key] = _image_counts(
            result, true_positive_count, len(verdicts) - true_positive_count, len(missed)
        )
        for prediction, true_positive, confused_with in verdicts:
            curves[prediction.label].predictions.append(
                ScoredPrediction(entry.key, prediction.label, prediction.confidence, true_positive)
            )
            if not true_positive:
                false_positives[prediction.label].append(entry.key)
                if confused_with:
                    confused[(confused_with, prediction.label)] += 1
        for box in missed:
            false_negatives[box.label].append(entry.key)
    per_label = {}
    for label, curve in curves.items():
        true_positives = sum(p.true_positive for p in curve.predictions)
        false_positive_count = len(curve.predictions) - true_positives
        precision = _ratio(true_positives, len(curve.predictions))
        recall = _ratio(true_positives, curve.ground_truth)
        per_label[label] = {
            "ground_truth": curve.ground_truth,
            "true_positives": true_positives,
            "false_positives": false_positive_count,
            "false_negatives": curve.ground_truth - true_positives,
            "precision": precision,
            "recall": recall,
            "f1": _defined_f1(precision, recall),
            "average_precision": curve.average_precision(),
        }
    scored = [value["average_precision"] for value in per_label.values() if value["average_precision"] is not None]
    totals = {
        name: sum(value[name] for value in per_label.values())
        for name in ("true_positives", "false_positives", "false_negatives")
    }
    micro_precision = _ratio(totals["true_positives"], totals["true_positives"] + totals["false_positives"])
    micro_recall = _ratio(totals["true_positives"], totals["true_positives"] + totals["false_negatives"])
    detection = {
        "iou_threshold": iou_threshold,
        "ap_interpolation": "all-point (PASCAL VOC 2010+): area under the precision envelope",
        "per_label": per_label,
        "mean_average_precision": sum(scored) / len(scored) if scored else None,
        "micro": {
            **totals,
            "precision": micro_precision,
            "recall": micro_recall,
            "f1": _defined_f1(micro_precision, micro_recall),
        },
    }
    return curves, detection, _diagnostics(confused, false_positives, false_negatives, per_image)


def to_json_text(evaluation: Evaluation) -> str:
    return json.dumps(evaluation.to_json(), indent=2, default=float)


Skipper = Callable[[str], None]
"""Told of each result file left out and why (one line naming it); None: such a file raises ResultsError."""


def _skip(on_skipped: Skipper | None, note: str) -> None:
    if on_skipped is None:
        raise ResultsError(note)
    on_skipped(note)


def load_results(
    source: str, s3: Any = None, on_progress: Any = None, on_skipped: Skipper | None = None
) -> list[ImageResult]:
    """Result JSONs from a folder (recursively) or `s3://bucket/prefix`, or the predictions of a
    Rekognition evaluation manifest snapshot (a `.manifest`/`.jsonl` file). Files that are not result JSONs
    (such as `local run`'s summary.json) are ignored; a result file that cannot be read or breaks the contract is
    named to `on_skipped` and left out, and every other result is read."""
    if source.startswith("s3://"):
        bucket, _, prefix = source[5:].partition("/")
        keys = [
            item["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])
            if item["Key"].endswith(".json")
        ]
        documents = []
        for key in keys:
            documents.append((f"s3://{bucket}/{key}", s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
            if on_progress:
                on_progress(len(documents), len(keys))
        return [result for _, result in well_formed(result_documents(documents, on_skipped), on_skipped)]
    path = Path(source)
    if path.is_file():
        results = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    results.append(results_from_snapshot_line(json.loads(line)))
                except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
                    raise ResultsError(
                        f"{path}:{number}: not an evaluation manifest snapshot line ({type(error).__name__}: {error})"
                    ) from None
        return results
    if not path.is_dir():
        raise ResultsError(
            f"--results {source}: no such folder or file (give a folder of result JSONs, "
            "s3://bucket/prefix, or an evaluation manifest snapshot)"
        )
    return [result for _, result in well_formed(folder_result_documents(path, on_skipped), on_skipped)]


def result_documents(
    bodies: Iterable[tuple[str, bytes]], on_skipped: Skipper | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """(name, document) of each body shaped like a result JSON, well formed or not (`well_formed` tells); other
    JSON (such as `local run`'s summary.json) is ignored. A body that is not JSON, is nested too deep to read, or
    names no image (no `Image.Key` string) goes to `on_skipped` with its name and why."""
    documents = []
    for name, body in bodies:
        try:
            document = json.loads(body)
        except ValueError as error:
            _skip(on_skipped, f"{name}: not JSON ({error})")
            continue
        except RecursionError:
            _skip(on_skipped, f"{name}: JSON nested too deep to read (not a result)")
            continue
        if not is_result_document(document):
            continue
        if not isinstance(document["Image"].get("Key"), str):
            _skip(on_skipped, f"{name}: a result without an Image.Key string (the image it answers)")
            continue
        documents.append((name, document))
    return documents


def well_formed(
    documents: Iterable[tuple[Any, dict[str, Any]]], on_skipped: Skipper | None = None
) -> list[tuple[Any, ImageResult]]:
    """(name, ImageResult) of each document that keeps the contract; each that breaks it goes to `on_skipped`
    naming its file and every problem."""
    results = []
    for name, document in documents:
        try:
            results.append((name, result_from_document(document)))
        except MalformedResultError as error:
            _skip(on_skipped, f"{name}: {error}")
    return results


def folder_result_documents(folder: Path, on_skipped: Skipper | None = None) -> list[tuple[Path, dict[str, Any]]]:
    """The result JSONs under `folder`, recursively, in path order: every file `results --out` or `local run
    --out` wrote for a result key, escaped or shortened names included (customlabels.outputs.result_files); see
    `result_documents` for what is skipped."""
    bodies = ((str(file), file.read_bytes()) for file in result_files(folder))
    return [(Path(name), document) for name, document in result_documents(bodies, on_skipped)]
