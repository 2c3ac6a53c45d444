"""The gallery's ground truth (visualize.truth) against evaluate's own matching, and the anchors other pages link to."""

import hashlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from customlabels.datasets.anchors import gallery_anchor
from customlabels.datasets.manifest import Box, ManifestEntry
from customlabels.evaluation.matching import match_detections
from customlabels.results.model import Prediction
from customlabels.visualize import truth

pytestmark = pytest.mark.unit


def entry(*boxes, labels=()):
    return ManifestEntry(1, "s3://b/k.jpg", tuple(boxes), tuple(labels), 100, 100)


def test_verdicts_and_the_confidence_each_box_is_found_at():
    image = entry(Box("bee", 10, 10, 30, 30), Box("bee", 60, 60, 30, 30), Box("flower", 0, 60, 20, 20))
    predictions = (
        Prediction("bee", 90.0, (0.1, 0.1, 0.3, 0.3)),
        Prediction("bee", 80.0, (0.11, 0.11, 0.3, 0.3)),
        Prediction("bee", 70.0, (0.6, 0.6, 0.3, 0.3)),
        Prediction("flower", 50.0, (0.6, 0.0, 0.2, 0.2)),
    )
    comparison = truth.compare(image, predictions, 0.5)
    assert comparison.verdicts == {0: True, 1: False, 2: True, 3: False}, "the 80% duplicate is a false positive"
    assert [(b.label, b.matched_confidence) for b in comparison.boxes] == [
        ("bee", 90.0),
        ("bee", 70.0),
        ("flower", None),
    ]
    assert comparison.boxes[0].box == (0.1, 0.1, 0.3, 0.3)
    assert [b.missed(75) for b in comparison.boxes] == [False, True, True]


def test_image_level_labels_are_right_when_the_image_has_them():
    comparison = truth.compare(entry(labels=("bee",)), (Prediction("bee", 60.0), Prediction("flower", 90.0)), 0.5)
    assert comparison.verdicts == {0: True, 1: False}
    assert comparison.labels == ("bee",) and comparison.image_level_found == {"bee": 60.0}


ratios = st.floats(0, 0.7).flatmap(lambda start: st.tuples(st.just(start), st.floats(0.05, 0.3)))
boxes = st.tuples(st.sampled_from(["bee", "flower"]), ratios, ratios)
confidences = st.sampled_from([50.0, 60.0, 70.0, 80.0, 90.0, 99.0])


@settings(max_examples=80)
@given(st.lists(boxes, max_size=6), st.lists(st.tuples(boxes, confidences), max_size=8), confidences)
def test_a_box_is_missed_at_a_threshold_exactly_when_evaluate_leaves_it_unmatched_there(truths, found, threshold):
    image = entry(*[Box(label, x[0] * 100, y[0] * 100, x[1] * 100, y[1] * 100) for label, x, y in truths])
    predictions = tuple(Prediction(label, confidence, (x[0], y[0], x[1], y[1])) for (label, x, y), confidence in found)
    comparison = truth.compare(image, predictions, 0.5)
    _, unmatched = match_detections(image, [p for p in predictions if p.confidence >= threshold], 0.5)
    assert [b.missed(threshold) for b in comparison.boxes] == [any(box is u for u in unmatched) for box in image.boxes]
    verdicts, _ = match_detections(image, predictions, 0.5)
    assert sorted(comparison.verdicts.values()) == sorted(v for _, v, _ in verdicts)


def test_the_anchor_rule_as_documented():
    key = "test_images/meadow/bee #1.jpg"
    assert gallery_anchor(key) == "img-bee-1-jpg-" + hashlib.sha256(key.encode()).hexdigest()[:10]
    assert gallery_anchor(key) == "img-bee-1-jpg-dd960c0723"
    assert gallery_anchor("test_images/a b.jpg") != gallery_anchor("test_images/a-b.jpg")
    assert gallery_anchor("x/---") == "img-" + hashlib.sha256(b"x/---").hexdigest()[:10]


@given(st.text(min_size=1, max_size=200))
def test_every_key_gets_an_anchor_that_needs_no_escaping(key):
    anchor = gallery_anchor(key)
    assert re.fullmatch(r"img-([a-z0-9][a-z0-9-]{0,38}[a-z0-9]-|[a-z0-9]-)?[0-9a-f]{10}", anchor), anchor
    assert anchor == gallery_anchor(key)
