"""`evaluate` on data sets of every shape, drawn by Hypothesis: single and multi label, detection and classification,
one label or several, images without objects, all images empty, labels predicted that the ground truth never has,
results missing. Every image-level number is held against scikit-learn, called here on labels this test derives
from the drawn data itself; detection counts against a brute-force matcher that measures IoU exactly by counting
pixels of a 10 x 10 image."""

from dataclasses import dataclass
from fractions import Fraction

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics
from sklearn.preprocessing import MultiLabelBinarizer

from customlabels.datasets.manifest import Box, ManifestEntry
from customlabels.evaluation.evaluate import NoMatchingResultsError, evaluate
from customlabels.evaluation.image_level import NO_LABEL
from customlabels.results.model import ImageResult, Prediction

pytestmark = [pytest.mark.unit, pytest.mark.filterwarnings("ignore::UserWarning")]

SIDE = 10
"""Images are 10 x 10 pixels and every box lies on whole pixels, so the oracle's IoU is an exact fraction."""
TRUE_LABELS = ["bee", "fly", "wasp"]
STRANGER = "moth"
"""A label only ever predicted, never in the ground truth."""
IOUS = ["0.1", "0.25", "0.5", "0.75", "1"]


@dataclass
class Image:
    boxes: list[tuple[str, tuple[int, int, int, int]]]
    labels: list[str]
    predictions: list[tuple[str, int, tuple[int, int, int, int] | None]]
    """(label, confidence, pixel box or None); confidences distinct within an image."""
    has_result: bool


@st.composite
def pixel_boxes(draw):
    left, top = draw(st.integers(0, SIDE - 1)), draw(st.integers(0, SIDE - 1))
    return left, top, draw(st.integers(1, SIDE - left)), draw(st.integers(1, SIDE - top))


@st.composite
def data_sets(draw):
    kind = draw(st.sampled_from(["detection", "classification", "multi-label"]))
    pool = draw(st.lists(st.sampled_from(TRUE_LABELS), min_size=1, max_size=3, unique=True))
    predicted_pool = pool + ([STRANGER] if draw(st.booleans()) else [])
    all_empty = draw(st.booleans()) and draw(st.booleans())
    images = []
    for _ in range(draw(st.integers(1, 7))):
        boxes, labels = [], []
        if not all_empty and kind == "detection":
            boxes = draw(st.lists(st.tuples(st.sampled_from(pool), pixel_boxes()), max_size=3))
        elif not all_empty and kind == "classification":
            labels = draw(st.lists(st.sampled_from(pool), max_size=1))
        elif not all_empty:
            labels = draw(st.lists(st.sampled_from(pool), max_size=3, unique=True))
        count = draw(st.integers(0, 4))
        confidences = draw(st.lists(st.integers(1, 100), min_size=count, max_size=count, unique=True))
        predictions = [
            (draw(st.sampled_from(predicted_pool)), confidence, draw(pixel_boxes()) if kind == "detection" else None)
            for confidence in confidences
        ]
        images.append(Image(boxes, labels, predictions, draw(st.booleans())))
    if not any(image.has_result for image in images):
        images[draw(st.integers(0, len(images) - 1))].has_result = True
    return images, draw(st.sampled_from(IOUS))


def as_inputs(images: list[Image]) -> tuple[list[ManifestEntry], list[ImageResult]]:
    entries = [
        ManifestEntry(
            index + 1,
            f"s3://ground-truth/set/{index}.jpg",
            tuple(Box(label, *box) for label, box in image.boxes),
            tuple(image.labels),
            SIDE,
            SIDE,
        )
        for index, image in enumerate(images)
    ]
    results = [
        ImageResult(
            f"test_images/{index}.jpg",
            tuple(
                Prediction(label, float(confidence), None if box is None else tuple(value / SIDE for value in box))
                for label, confidence, box in image.predictions
            ),
        )
        for index, image in enumerate(images)
        if image.has_result
    ]
    return entries, results


def truth_of(image: Image) -> set[str]:
    return set(image.labels) | {label for label, _ in image.boxes}


def predicted_by(image: Image) -> list[tuple[str, int, tuple[int, int, int, int] | None]]:
    """An image without a result predicted nothing."""
    return image.predictions if image.has_result else []


def pixels(box: tuple[int, int, int, int]) -> set[tuple[int, int]]:
    left, top, width, height = box
    return {(x, y) for x in range(left, left + width) for y in range(top, top + height)}


def exact_iou(a, b) -> Fraction:
    first, second = pixels(a), pixels(b)
    return Fraction(len(first & second), len(first | second))


def brute_force_counts(images: list[Image], threshold: Fraction) -> dict[str, dict[str, int]]:
    """Per label, the predictions by falling confidence, each taking the free ground-truth box of its label with
    the highest exact IoU at or above the threshold (the first listed of equals)."""
    counts: dict[str, dict[str, int]] = {}
    for image in images:
        taken: set[int] = set()
        for label, _, box in sorted(predicted_by(image), key=lambda p: -p[1]):
            candidates = [
                (exact_iou(box, truth), -index)
                for index, (truth_label, truth) in enumerate(image.boxes)
                if truth_label == label and index not in taken and exact_iou(box, truth) >= threshold
            ]
            tally = counts.setdefault(label, {"true_positives": 0, "false_positives": 0, "ground_truth": 0})
            if candidates:
                taken.add(-max(candidates)[1])
                tally["true_positives"] += 1
            else:
                tally["false_positives"] += 1
        for label, _ in image.boxes:
            counts.setdefault(label, {"true_positives": 0, "false_positives": 0, "ground_truth": 0})
            counts[label]["ground_truth"] += 1
    return counts


def mcc_or_none(y_true, y_pred, labels) -> float | None:
    """None where MCC is 0/0: from the confusion matrix, the truth or the prediction has no spread."""
    matrix = metrics.confusion_matrix(y_true, y_pred, labels=labels)
    total, true_sums, predicted_sums = matrix.sum(), matrix.sum(axis=1), matrix.sum(axis=0)
    if (total**2 - (true_sums**2).sum()) * (total**2 - (predicted_sums**2).sum()) == 0:
        return None
    return metrics.matthews_corrcoef(y_true, y_pred)


def approx(value):
    return None if value is None else pytest.approx(value)


def check_single_label(image_level, images):
    y_true = [next(iter(truth_of(image)), NO_LABEL) for image in images]
    y_pred = [max(predicted_by(image), key=lambda p: p[1])[0] if predicted_by(image) else NO_LABEL for image in images]
    seen = set(y_true) | set(y_pred)
    classes = sorted(seen - {NO_LABEL}) + ([NO_LABEL] if NO_LABEL in seen else [])
    real = [c for c in classes if c != NO_LABEL]
    assert image_level["kind"] == "single-label" and image_level["classes"] == classes
    assert image_level["confusion_matrix"] == metrics.confusion_matrix(y_true, y_pred, labels=classes).tolist()
    assert image_level["accuracy"] == approx(metrics.accuracy_score(y_true, y_pred))
    assert image_level["balanced_accuracy"] == approx(metrics.balanced_accuracy_score(y_true, y_pred))
    assert image_level["hamming_loss"] == approx(metrics.hamming_loss(y_true, y_pred))
    assert image_level["mcc"] == approx(mcc_or_none(y_true, y_pred, classes))
    for average in ("micro", "macro", "weighted"):
        if not real:
            assert image_level[average] == {"precision": None, "recall": None, "f1": None}
            continue
        precision, recall, f1, _ = metrics.precision_recall_fscore_support(
            y_true, y_pred, labels=real, average=average, zero_division=0
        )
        assert image_level[average] == {"precision": approx(precision), "recall": approx(recall), "f1": approx(f1)}
        assert image_level["jaccard"][average] == approx(
            metrics.jaccard_score(y_true, y_pred, labels=real, average=average, zero_division=0)
        )
    report = metrics.classification_report(y_true, y_pred, labels=classes, output_dict=True, zero_division=0)
    for label in classes:
        assert image_level["classification_report"][label] == approx(report[label])
    if real:
        real_report = metrics.classification_report(y_true, y_pred, labels=real, output_dict=True, zero_division=0)
        for average in ("macro avg", "weighted avg"):
            assert image_level["classification_report"][average] == approx(real_report[average])


def check_multi_label(image_level, images):
    truths = [truth_of(image) for image in images]
    predictions = [{label for label, _, _ in predicted_by(image)} for image in images]
    labels = sorted(set().union(*truths, *predictions))
    binarizer = MultiLabelBinarizer(classes=labels)
    y_true, y_pred = binarizer.fit_transform(truths), binarizer.transform(predictions)
    assert image_level["kind"] == "multi-label" and image_level["classes"] == labels
    assert image_level["accuracy"] == approx(metrics.accuracy_score(y_true, y_pred))
    assert image_level["hamming_loss"] == approx(metrics.hamming_loss(y_true, y_pred))
    for average in ("micro", "macro", "weighted", "samples"):
        assert image_level["jaccard"][average] == approx(
            metrics.jaccard_score(y_true, y_pred, average=average, zero_division=0)
        )
    for average in ("micro", "macro", "weighted"):
        precision, recall, f1, _ = metrics.precision_recall_fscore_support(
            y_true, y_pred, average=average, zero_division=0
        )
        assert image_level[average] == {"precision": approx(precision), "recall": approx(recall), "f1": approx(f1)}
    per_label_mcc = {label: mcc_or_none(y_true[:, i], y_pred[:, i], [0, 1]) for i, label in enumerate(labels)}
    assert image_level["mcc_per_label"] == {label: approx(value) for label, value in per_label_mcc.items()}
    defined = [value for value in per_label_mcc.values() if value is not None]
    assert image_level["mcc"] == (approx(numpy.mean(defined)) if defined else None)
    for i, label in enumerate(labels):
        assert (
            image_level["per_label_confusion"][label] == metrics.multilabel_confusion_matrix(y_true, y_pred)[i].tolist()
        )
        spread = len(set(y_true[:, i])) > 1
        assert image_level["balanced_accuracy_per_label"][label] == (
            approx(metrics.balanced_accuracy_score(y_true[:, i], y_pred[:, i])) if spread else None
        )
    report = metrics.classification_report(y_true, y_pred, target_names=labels, output_dict=True, zero_division=0)
    assert image_level["classification_report"].keys() == report.keys()
    for row, values in report.items():
        assert image_level["classification_report"][row] == approx(values), row
    columns = [*labels, NO_LABEL]
    assert image_level["confusion_matrix"] == [
        [
            sum(
                row in truth and (column in predicted or (column == NO_LABEL and not predicted))
                for truth, predicted in zip(truths, predictions, strict=True)
            )
            for column in columns
        ]
        for row in labels
    ]


@settings(max_examples=120)
@given(data_sets())
def test_every_number_agrees_with_scikit_learn_and_a_brute_force_matcher(drawn):
    images, iou_text = drawn
    entries, results = as_inputs(images)
    evaluation = evaluate(entries, results, iou_threshold=float(iou_text))

    assert evaluation.missing == [f"set/{i}.jpg" for i, image in enumerate(images) if not image.has_result]
    if all(len(truth_of(image)) <= 1 for image in images):
        check_single_label(evaluation.image_level, images)
    else:
        check_multi_label(evaluation.image_level, images)

    boxed = any(image.boxes for image in images) or any(box for image in images for *_, box in predicted_by(image))
    if not boxed:
        assert evaluation.detection is None
        return
    expected = brute_force_counts(images, Fraction(iou_text))
    per_label = evaluation.detection["per_label"]
    for label, tally in expected.items():
        got = per_label[label]
        assert (got["true_positives"], got["false_positives"], got["ground_truth"]) == (
            tally["true_positives"],
            tally["false_positives"],
            tally["ground_truth"],
        ), label
        assert got["false_negatives"] == tally["ground_truth"] - tally["true_positives"]
        assert (got["average_precision"] is None) == (tally["ground_truth"] == 0)
        predicted = tally["true_positives"] + tally["false_positives"]
        assert got["precision"] == (approx(tally["true_positives"] / predicted) if predicted else None)
        assert got["recall"] == (
            approx(tally["true_positives"] / tally["ground_truth"]) if tally["ground_truth"] else None
        ), "0/0 is n/a, not 0"
    assert {
        label
        for label, value in per_label.items()
        if value["ground_truth"] or value["true_positives"] or value["false_positives"]
    } == set(expected)
    defined = [value["average_precision"] for value in per_label.values() if value["average_precision"] is not None]
    assert evaluation.detection["mean_average_precision"] == (approx(numpy.mean(defined)) if defined else None)


def test_results_matching_no_manifest_line_name_the_likely_cause():
    entries, _ = as_inputs([Image([], ["bee"], [], True)])
    with pytest.raises(NoMatchingResultsError, match="prefix or bucket you passed"):
        evaluate(entries, [ImageResult("elsewhere/other.jpg", (Prediction("bee", 90.0),))])
    with pytest.raises(NoMatchingResultsError, match="holds no result JSON"):
        evaluate(entries, [])


def test_a_perfect_single_label_detector_with_empty_images_scores_one_everywhere():
    """The bee data set's shape: one label, some images without objects; it used to crash, then to average
    in the (none) class and a 0 for an undefined MCC."""
    bee = ("bee", (1, 1, 4, 4))
    images = [
        Image([bee], [], [("bee", 99, bee[1])], True),
        Image([], [], [], True),
        Image([bee, ("bee", (6, 6, 3, 3))], [], [("bee", 95, bee[1]), ("bee", 90, (6, 6, 3, 3))], True),
    ]
    evaluation = evaluate(*as_inputs(images))
    image_level = evaluation.image_level
    assert image_level["kind"] == "single-label" and image_level["classes"] == ["bee", NO_LABEL]
    assert image_level["macro"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert image_level["mcc"] == 1.0 and image_level["accuracy"] == 1.0
    assert evaluation.detection["per_label"]["bee"]["true_positives"] == 3
    every_image_a_bee = evaluate(*as_inputs([images[0], images[2]])).image_level
    assert every_image_a_bee["mcc"] is None, "one class in truth and prediction: MCC is 0/0, shown n/a"


@pytest.mark.parametrize(
    ("truth", "predicted", "threshold"),
    [((2, 2, 7, 7), (2, 3, 7, 7), "0.75"), ((8, 0, 2, 3), (8, 0, 2, 3), "1"), ((2, 6, 5, 1), (1, 3, 4, 7), "0.1")],
)
def test_an_iou_exactly_at_the_threshold_matches_despite_float_rounding(truth, predicted, threshold):
    """Found by comparing float IoUs of ratio boxes with exact pixel counts: 3/4 computes as 0.7499999999999997."""
    assert exact_iou(truth, predicted) == Fraction(threshold)
    images = [Image([("bee", truth)], [], [("bee", 90, predicted)], True)]
    counts = evaluate(*as_inputs(images), iou_threshold=float(threshold)).detection["per_label"]["bee"]
    assert counts["true_positives"] == 1
