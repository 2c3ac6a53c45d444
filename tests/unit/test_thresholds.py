"""Runtime thresholds: the document's rules and precedence, the cache, rejections, the model's assumed thresholds."""

import json

import pytest
from aws_lambda_powertools import Logger, Metrics

from customlabels_runtime.inference.metrics import PipelineMetrics
from customlabels_runtime.inference.thresholds import Thresholds, ThresholdsError, ThresholdSource, parse_thresholds
from support.inference import LABELS, PARAMETER, Rejections

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", r"not JSON.*Fix: write"),
        ("[]", r"must be a JSON object"),
        ('{"min_confidence": 101}', r"min_confidence=101 is out of range.*0 to 100"),
        ('{"min_confidence": 0.8, "labels": {"bee": -1}}', r"labels.bee=-1 is out of range"),
        ('{"min_confidence": "high"}', r"min_confidence is 'high', not a number"),
        ('{"min_confidence": true}', r"not a number"),
        ('{"labels": ["bee"]}', r"\"labels\" is \['bee'\]. Fix: an object"),
        ('{"labels": {" ": 50}}', r"empty label name"),
        ('{"threshold": 50}', r"unknown key\(s\) threshold"),
    ],
)
def test_bad_documents_are_rejected_naming_the_problem_and_the_fix(document, message):
    with pytest.raises(ThresholdsError, match=message):
        parse_thresholds(document)


def test_a_document_reads_back_as_written():
    thresholds = parse_thresholds('{"min_confidence": 80, "labels": {"bee": 72.5}}')
    assert thresholds == Thresholds(80.0, {"bee": 72.5})
    assert parse_thresholds(thresholds.to_document()) == thresholds
    assert parse_thresholds("{}") == Thresholds(None, {})


@pytest.mark.parametrize(
    ("thresholds", "sent", "kept"),
    [
        # per-label, then global: ask for the lowest, keep each label at its own
        (Thresholds(90.0, {"flower": 80.0}), 80.0, ["bee", "flower"]),
        (Thresholds(98.0, {"flower": 80.0}), 80.0, ["flower"]),
        (Thresholds(80.0, {"bee": 99.0}), 80.0, ["flower"]),
        # no global: the model's assumed thresholds (no MinConfidence), per-label filters on top
        (Thresholds(None, {"bee": 99.0}), None, ["flower"]),
        (Thresholds(None, {}), None, ["bee", "flower"]),
    ],
)
def test_precedence_is_per_label_then_global_then_the_models_assumed_threshold(thresholds, sent, kept):
    assert thresholds.request_min_confidence() == sent
    assert [label["Name"] for label in thresholds.keep(LABELS)] == kept


def test_the_cache_is_at_most_a_minute():
    calls = []

    def get(name, max_age):
        calls.append((name, max_age))
        return "{}"

    ThresholdSource(PARAMETER, get, Thresholds(None), Rejections()).current()
    assert calls == [(PARAMETER, 60)]


def test_a_rejected_parameter_is_logged_and_counted(capsys, caplog):
    metrics = PipelineMetrics(Metrics(namespace="CustomLabelsPipelineTest"))
    logger = Logger(service="customlabels-inference-test")

    def rejected(problem, reason):
        logger.error("Thresholds parameter rejected", extra={"problem": problem})
        metrics.thresholds_rejected(reason)

    source_ = ThresholdSource(PARAMETER, lambda name, max_age: '{"labels": 5}', Thresholds(50.0), rejected)
    assert source_.current() == Thresholds(50.0)
    assert any(record.levelname == "ERROR" and '"labels" is 5' in record.problem for record in caplog.records)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    counted = [line for line in lines if "ThresholdsRejected" in line]
    assert counted and counted[0]["Reason"] == "ThresholdsInvalid"


EXAMPLE_SUMMARY = {  # Rekognition's example summary file, shortened
    "Version": 1,
    "AggregatedEvaluationResults": {"F1Score": 0.97, "Precision": 0.97, "Recall": 0.97},
    "EvaluationDetails": {"Labels": ["CAP", "WATCH"], "NumberOfTestingImages": 624},
    "LabelEvaluationResults": [
        {
            "Label": "CAP",
            "Metrics": {"F1Score": 0.979, "Precision": 0.98, "Recall": 0.977, "Threshold": 0.9879502058029175},
            "NumberOfTestingImages": 390,
        },
        {"Label": "WATCH", "Metrics": {"F1Score": 0.966, "Threshold": 0.5}, "NumberOfTestingImages": 234},
    ],
}


REFERENCE_SUMMARY = {  # the reference's spelling: labelEvaluationResults, LabelName, Threshold beside Metrics
    "Version": "1",
    "labelEvaluationResults": [
        {"LabelName": "CAP", "Threshold": 0.9879502058029175, "Metrics": {"F1Score": 0.9}},
        {"LabelName": "WATCH", "Threshold": 0.5, "Metrics": {}},
    ],
}


@pytest.mark.parametrize("summary", [EXAMPLE_SUMMARY, REFERENCE_SUMMARY])
def test_assumed_thresholds_are_read_from_both_summary_layouts_as_percent(summary):
    from customlabels.operations.runtime_thresholds import assumed_thresholds

    assert assumed_thresholds(summary) == {"CAP": 98.795, "WATCH": 50.0}


@pytest.mark.parametrize(
    ("summary", "message"),
    [
        ({"Version": 1}, r"no LabelEvaluationResults"),
        ({"LabelEvaluationResults": [{"Label": "CAP", "Metrics": {"Threshold": 98.8}}]}, r"item 1 has no Label and"),
        ({"LabelEvaluationResults": [{"Metrics": {"Threshold": 0.5}}]}, r"item 1"),
    ],
)
def test_a_summary_without_thresholds_says_what_is_missing(summary, message):
    from customlabels.operations.runtime_thresholds import assumed_thresholds

    with pytest.raises(ThresholdsError, match=message):
        assumed_thresholds(summary)
