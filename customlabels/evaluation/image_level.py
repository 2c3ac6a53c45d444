"""Image-level metrics, from scikit-learn: each image's labels against the labels predicted for it, single-label
(each image of one class, NO_LABEL for none) or multi-label (a yes/no decision per label and image)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

from customlabels.datasets.manifest import ManifestEntry
from customlabels.results.model import ImageResult

NO_LABEL = "(none)"
"""The predicted class of an image for which the model returned nothing."""


def image_level_metrics(pairs: list[tuple[ManifestEntry, ImageResult]], labels: list[str]) -> dict[str, Any]:
    """Single-label when every image has at most one ground-truth label (an image with none is of the class
    NO_LABEL, as a detection data set's images without objects are); multi-label otherwise."""
    with warnings.catch_warnings():
        # A class predicted but never true, or a label in every image, is a fact of the data set, not a fault.
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true", category=UserWarning)
        warnings.filterwarnings("ignore", message="A single label was found", category=UserWarning)
        warnings.filterwarnings("ignore", message=".*is ill-defined", category=UserWarning)
        truths = [entry.all_labels for entry, _ in pairs]
        if all(len(truth) <= 1 for truth in truths):
            return _single_label_metrics(pairs, truths)
        return _multi_label_metrics(pairs, truths, labels)


def _single_label_metrics(
    pairs: list[tuple[ManifestEntry, ImageResult]], truths: list[frozenset[str]]
) -> dict[str, Any]:
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
    pairs: list[tuple[ManifestEntry, ImageResult]], truths: list[frozenset[str]], labels: list[str]
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
        for truth in entry.all_labels:
            for label in predicted:
                matrix[labels.index(truth)][columns.index(label)] += 1
    return matrix
