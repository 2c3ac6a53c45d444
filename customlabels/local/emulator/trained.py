"""What an emulated training finds and leaves: the checks its datasets must pass (the terminal errors of Rekognition's
"Debugging a failed model training", with their documented messages), the split of a TRAIN dataset into TEST, and
the trained version: a manifest model of its TRAIN dataset (`ManifestBackend`, with the service's noise and seed),
evaluated over its TEST dataset by the project's own scoring (`customlabels.evaluation`), never by set numbers.

Where AWS documents no rule the emulator assumes one, named here. The emulator cannot learn: it stands for a model
that learned its TRAIN dataset and generalizes, so an image is seen as its TRAIN line says (matched by key, as
`ManifestBackend` matches) and an image TRAIN does not hold as its TEST line says (else nothing); the noise makes it
imperfect, and the evaluation measures that. Each label's assumed threshold is computed from the TEST dataset (as AWS
says, by a rule it does not publish): `assumed_threshold`, from the label's best F1 there; the overall precision,
recall and F1 are the micro averages (the counts summed over the labels).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from customlabels.datasets.manifest import ManifestEntry
from customlabels.evaluation.evaluate import evaluate
from customlabels.local.emulator.backends import ManifestBackend, Noise
from customlabels.local.emulator.models import DEFAULT_ASSUMED_THRESHOLD
from customlabels.results.model import ImageResult, Prediction

TEST_SHARE = 0.2
"""DistributeDatasetEntries "moves 20% of the training dataset images to the test dataset" (API reference)."""
MIN_LABELS = {"OBJECT_LOCALIZATION": 1, "IMAGE_LEVEL_LABELS": 2, "NOT_DETERMINED": 1}
"""Guidelines and quotas: at least 2 unique labels to classify, 1 to locate objects."""
EMPTY_MANIFEST = ("ERROR_EMPTY_MANIFEST", "The manifest file is empty.")
TOO_FEW_LABELS = ("ERROR_MANIFEST_TOO_FEW_LABELS", "The manifest file has too few labels.")
AUTOSPLIT = (
    "ERROR_INSUFFICIENT_IMAGES_PER_LABEL_FOR_AUTOSPLIT",
    "The manifest file contains insufficient labeled images per label to perform auto-split.",
)
SERVICE_ISSUE = "Amazon Rekognition experienced a service issue. Retry training."
"""What the console shows for a terminal service error (the planned failure of a rehearsal)."""
UNKNOWN_SIZE = 1000
"""The image size assumed for a line without `image_size` (boxes are then in pixels of an unknown image)."""


def use_case(entries: list[ManifestEntry]) -> str:
    """The manifest summary's `use_case`: object localization when any line has boxes."""
    if any(entry.boxes for entry in entries):
        return "OBJECT_LOCALIZATION"
    return "IMAGE_LEVEL_LABELS" if any(entry.labels for entry in entries) else "NOT_DETERMINED"


def labels_of(entries: list[ManifestEntry]) -> list[str]:
    return sorted({label for entry in entries for label in entry.all_labels})


def training_problem(train: list[ManifestEntry], test: list[ManifestEntry]) -> tuple[str, str, str] | None:
    """(dataset, code, message) of the first terminal error the datasets give, in the order training meets them."""
    for kind, entries in (("training", train), ("testing", test)):
        if not entries:
            return (kind, *EMPTY_MANIFEST)
    for kind, entries in (("training", train), ("testing", test)):
        if len(labels_of(entries)) < MIN_LABELS[use_case(entries)]:
            return (kind, *TOO_FEW_LABELS)
    return None


def split_for_test(entries: list[ManifestEntry], seed: str) -> list[str] | None:
    """The source-refs of the share of `entries` that moves to the test dataset, or None when a label has too few
    images to be in both (fewer than 2: a label needs 1 training image, and a test image to be evaluated). The
    choice is deterministic per `seed` and covers every label in the test dataset where it can (an assumption: AWS
    does not say which images it moves)."""
    counts = {label: sum(label in e.all_labels for e in entries) for label in labels_of(entries)}
    if any(count < 2 for count in counts.values()):
        return None
    wanted = max(1, round(len(entries) * TEST_SHARE))
    order = sorted(entries, key=lambda e: e.source_ref)
    random.Random(seed).shuffle(order)
    left, chosen, covered = dict(counts), [], set()
    for only_new in (True, False):
        for entry in order:
            if len(chosen) == wanted or entry.source_ref in chosen:
                continue
            if any(left[label] < 2 for label in entry.all_labels) or (only_new and entry.all_labels <= covered):
                continue
            chosen.append(entry.source_ref)
            covered |= entry.all_labels
            for label in entry.all_labels:
                left[label] -= 1
    return chosen


@dataclass
class TrainedModel:
    """A trained version: what it sees, its assumed thresholds and its evaluation over the TEST dataset."""

    backend: ManifestBackend
    assumed_thresholds: dict[str, float]
    per_label: dict[str, dict[str, float | None]]
    """label -> {"precision", "recall", "f1"} at its assumed threshold (None where undefined: 0/0)."""
    overall: dict[str, float | None]
    testing_images: dict[str, int] = field(default_factory=dict)
    """label -> test images that have it."""


def train(
    train_entries: list[ManifestEntry], test_entries: list[ManifestEntry], noise: Noise, seed: int
) -> TrainedModel:
    """The manifest model of the TRAIN dataset (TEST lines for the images TRAIN does not hold), and its scores over the
    TEST dataset at each label's assumed threshold."""
    trained_on = {entry.source_ref for entry in train_entries}
    backend = ManifestBackend(
        [*train_entries, *(entry for entry in test_entries if entry.source_ref not in trained_on)],
        confidence=noise.confidence,
        jitter=noise.jitter,
        miss_rate=noise.miss,
        spurious_rate=noise.spurious,
        seed=seed,
    )
    answers = [
        ImageResult(entry.key, tuple(_predictions(backend, entry))) for entry in test_entries
    ]  # every label the model sees, before any threshold
    unthresholded = evaluate(test_entries, answers)
    thresholds = {
        label: assumed_threshold(unthresholded.curves.get(label), unthresholded.tuning["per_label"].get(label))
        for label in sorted(set(backend.label_names) | set(labels_of(test_entries)))
    }
    kept = [ImageResult(a.key, tuple(p for p in a.predictions if p.confidence >= thresholds[p.label])) for a in answers]
    labels = labels_of(test_entries)
    per_label, overall = _scores(evaluate(test_entries, kept), labels)
    return TrainedModel(
        backend,
        thresholds,
        per_label,
        overall,
        {label: sum(label in entry.all_labels for entry in test_entries) for label in labels},
    )


def assumed_threshold(curve: Any, tuned: dict[str, Any] | None) -> float:
    """Midway between the confidence of the label's best F1 over TEST and the next lower confidence the model gave
    it there (0 when none): the middle of the gap between what it keeps and what it drops, so an image seen a little
    less surely than the test images is still answered. Without evidence, the emulator's default."""
    if curve is None or tuned is None or tuned["best_f1"] is None:
        return DEFAULT_ASSUMED_THRESHOLD
    best = tuned["best_f1"]["threshold"]
    lower = [point["threshold"] for point in curve.points() if point["threshold"] < best]
    return (best + max(lower, default=0.0)) / 2


def _scores(scored: Any, labels: list[str]) -> tuple[dict[str, dict[str, float | None]], dict[str, float | None]]:
    """Per label and overall precision, recall and F1 of an evaluation: of the detections when it has boxes, else of
    the image-level labels (scikit-learn's classification report, its micro average)."""
    if scored.detection is not None:
        per_label = {
            label: {name: scored.detection["per_label"][label][name] for name in ("precision", "recall", "f1")}
            for label in labels
        }
        return per_label, {name: scored.detection["micro"][name] for name in ("precision", "recall", "f1")}
    report = scored.image_level["classification_report"]
    per_label = {
        label: {
            "precision": report[label]["precision"],
            "recall": report[label]["recall"],
            "f1": report[label]["f1-score"],
        }
        for label in labels
    }
    return per_label, dict(scored.image_level["micro"])


def _predictions(backend: ManifestBackend, entry: ManifestEntry) -> list[Prediction]:
    width, height = entry.image_width or UNKNOWN_SIZE, entry.image_height or UNKNOWN_SIZE
    found = []
    for label in backend.detect(entry.key, width, height):
        box = (label.get("Geometry") or {}).get("BoundingBox")
        found.append(
            Prediction(
                label["Name"],
                label["Confidence"],
                None if box is None else (box["Left"], box["Top"], box["Width"], box["Height"]),
            )
        )
    return found


def evaluation_summary(
    model: TrainedModel, version_arn: str, end: str, training_images: int, testing_images: int
) -> dict[str, Any]:
    """The summary file in the layout of "Reference: Training results summary file": overall metrics in
    `AggregatedEvaluationResults.Metrics`, per label (sorted by F1, as documented) `Metrics.Threshold` as 0-1."""
    labels = sorted(model.per_label, key=lambda label: (-(model.per_label[label]["f1"] or 0.0), label))
    return {
        "Version": 1,
        "EvaluationDetails": {
            "ProjectVersionArn": version_arn,
            "EvaluationEndTimestamp": end,
            "Labels": sorted(model.per_label),
            "NumberOfTrainingImages": training_images,
            "NumberOfTestingImages": testing_images,
        },
        "AggregatedEvaluationResults": {"Metrics": _metrics(model.overall)},
        "LabelEvaluationResults": [
            {
                "Label": label,
                "NumberOfTestingImages": model.testing_images[label],
                "Metrics": {**_metrics(model.per_label[label]), "Threshold": model.assumed_thresholds[label] / 100},
            }
            for label in labels
        ],
    }


def _metrics(values: dict[str, float | None]) -> dict[str, float]:
    """Precision, Recall, F1Score; an undefined one (0/0) as 0, since the file's fields are numbers."""
    return {
        "Precision": values["precision"] or 0.0,
        "Recall": values["recall"] or 0.0,
        "F1Score": values["f1"] or 0.0,
    }


def manifest_summary(
    train: list[ManifestEntry], test: list[ManifestEntry], problem: tuple[str, str, str] | None
) -> dict[str, Any]:
    """manifest_summary.json ("Understanding the manifest summary"): the emulator keeps no invalid line (a dataset
    refuses one when it is given), so every line is valid and only a terminal error is reported."""

    def statistics(kind: str, entries: list[ManifestEntry]) -> dict[str, Any]:
        return {
            "use_case": use_case(entries),
            "total_json_lines": len(entries),
            "valid_json_lines": sum(1 for entry in entries if entry.all_labels),
            "invalid_json_lines": 0,
            "ignored_json_lines": sum(1 for entry in entries if not entry.all_labels),
            "error_json_line_indices": [],
            "errors": [{"code": problem[1], "message": problem[2]}] if problem and problem[0] == kind else [],
        }

    return {
        "statistics": {"training": statistics("training", train), "testing": statistics("testing", test)},
        "errors": [],
    }
