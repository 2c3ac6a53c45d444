"""Two models side by side (customlabels.evaluation.versus): each metric's difference with the better model marked,
worked by hand on two images, and F1 against threshold, checked against scikit-learn's metrics."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from sklearn.metrics import f1_score, precision_score, recall_score

from customlabels.datasets.manifest import Box, ManifestEntry
from customlabels.evaluation.compare import comparison_document, headline
from customlabels.evaluation.curves import LabelCurve, ScoredPrediction
from customlabels.evaluation.evaluate import evaluate
from customlabels.evaluation.report import ReportContext, write_report
from customlabels.evaluation.versus import compared, f1_by_threshold, metric_differences
from customlabels.results.model import ImageResult, Prediction

pytestmark = pytest.mark.unit

BEE, WRONG_PLACE = (0.1, 0.1, 0.2, 0.2), (0.6, 0.6, 0.2, 0.2)
ENTRIES = [
    ManifestEntry(1, "s3://b/test_images/one.jpg", (Box("bee", 10, 10, 20, 20),), (), 100, 100),
    ManifestEntry(
        2, "s3://b/test_images/two.jpg", (Box("bee", 10, 10, 20, 20), Box("flower", 60, 60, 20, 20)), (), 100, 100
    ),
]
A = [  # both bees (90, 60) and a bee where there is none (80); no flower
    ImageResult("test_images/one.jpg", (Prediction("bee", 90, BEE),)),
    ImageResult("test_images/two.jpg", (Prediction("bee", 60, BEE), Prediction("bee", 80, WRONG_PLACE))),
]
B = [  # the first bee only (70), and the flower (50)
    ImageResult("test_images/one.jpg", (Prediction("bee", 70, BEE),)),
    ImageResult("test_images/two.jpg", (Prediction("flower", 50, WRONG_PLACE),)),
]


def models():
    return {"a": evaluate(ENTRIES, A), "b": evaluate(ENTRIES, B)}


def test_each_metric_is_compared_with_the_first_model_and_the_better_one_marked():
    """By hand: a's bees are 2 TP, 1 FP (precision 2/3, recall 1, F1 0.8), b's 1 TP (precision 1, recall 1/2, F1
    2/3); a predicts no flower (precision n/a, recall 0), b finds it (1, 1)."""
    evaluations = models()
    found = metric_differences(evaluations, {name: headline(e) for name, e in evaluations.items()})
    assert found["reference"] == "a"
    bee = found["per_label"]["bee"]
    assert bee["precision"]["values"] == pytest.approx({"a": 2 / 3, "b": 1.0})
    assert bee["precision"]["difference"] == pytest.approx({"b": 1 / 3})
    assert bee["precision"]["better"] == "b"
    assert (bee["recall"]["difference"]["b"], bee["recall"]["better"]) == (-0.5, "a")
    assert bee["f1"]["values"] == pytest.approx({"a": 0.8, "b": 2 / 3}) and bee["f1"]["better"] == "a"
    # best F1: a at threshold 90 (1 TP of 2: 2/3) or at 60 (0.8); b at 70 (2/3)
    assert bee["best_f1"]["values"] == pytest.approx({"a": 0.8, "b": 2 / 3})
    flower = found["per_label"]["flower"]
    assert flower["precision"] == {"values": {"a": None, "b": 1.0}, "difference": {"b": None}, "better": None}
    assert flower["recall"]["better"] == "b"
    assert found["summary"]["recall"]["values"] == pytest.approx({"a": 2 / 3, "b": 2 / 3})
    assert found["summary"]["recall"]["better"] is None, "a tie marks no model"


def test_a_tie_or_a_missing_value_marks_no_model_and_differences_keep_their_sign():
    assert compared({"x": 0.5, "y": 0.5, "z": 0.25}, "z") == {
        "values": {"x": 0.5, "y": 0.5, "z": 0.25},
        "difference": {"x": 0.25, "y": 0.25},
        "better": None,
    }
    assert compared({"x": 0.75, "y": None}, "x")["better"] is None
    assert compared({"x": 0.25, "y": 0.75}, "x") == {
        "values": {"x": 0.25, "y": 0.75},
        "difference": {"y": 0.5},
        "better": "y",
    }


predictions = st.lists(st.tuples(st.integers(1, 100), st.booleans()), min_size=1, max_size=30)


@given(predictions, st.integers(0, 5))
def test_f1_at_each_threshold_is_scikit_learns_f1_of_the_predictions_kept(scored, missed):
    """Each object the model never predicted is a positive scikit-learn sees predicted negative; whole-number
    confidences make ties, which count together."""
    curve = LabelCurve(
        "bee",
        ground_truth=sum(tp for _, tp in scored) + missed,
        predictions=[ScoredPrediction(f"i{n}", "bee", c, tp) for n, (c, tp) in enumerate(scored)],
    )
    truth = [tp for _, tp in scored] + [True] * missed
    points = f1_by_threshold(curve)
    assert [p["threshold"] for p in points] == sorted({c for c, _ in scored}, reverse=True)
    for point in points:
        kept = [c >= point["threshold"] for c, _ in scored] + [False] * missed
        if not any(truth):
            assert point["recall"] is None and point["f1"] is None  # no ground truth: no recall, no F1
            continue
        assert point["f1"] == pytest.approx(f1_score(truth, kept, zero_division=0))
        assert point["precision"] == pytest.approx(precision_score(truth, kept))
        assert point["recall"] == pytest.approx(recall_score(truth, kept))


def test_the_report_marks_the_better_model_and_draws_f1_against_threshold(tmp_path):
    context = ReportContext("gt.manifest", {"a": "ra", "b": "rb"}, 0.5, "2026-12-02 01:00 UTC")
    index = write_report(models(), tmp_path, context)
    page = index.read_text()
    section = page[page.index("<h2>Which model is better</h2>") :].split("</section>", 1)[0]
    bee_precision = section.split("<td>bee</td><td>precision</td>", 1)[1].split("</tr>", 1)[0]
    assert bee_precision == "<td>0.667</td><td><b>▲ 1.000</b></td><td>+0.333</td><td>b</td>"
    assert "<td>flower</td><td>precision</td><td>n/a</td><td>1.000</td><td>n/a</td><td>tie or n/a</td>" in section
    for label in ("bee", "flower"):
        assert f'<img src="f1-{label}.png"' in page
        with Image.open(tmp_path / f"f1-{label}.png") as chart:
            assert chart.size == (540, 360)
    document = json.loads((tmp_path / "comparison.json").read_text())
    assert document["metric_differences"] == json.loads(json.dumps(comparison_document(models())["metric_differences"]))
    assert [p["threshold"] for p in document["f1_by_threshold"]["a"]["bee"]] == [90, 80, 60]
    assert [round(p["f1"], 3) for p in document["f1_by_threshold"]["a"]["bee"]] == [0.667, 0.5, 0.8]
