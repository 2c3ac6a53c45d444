"""Runtime thresholds: the document's rules, precedence, and the handler reading them from SSM (moto)."""

import json

import boto3
import pytest
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.parameters import SSMProvider
from moto import mock_aws
from test_handler import LABELS, REGION, deps_for, pipeline  # noqa: F401 (the fixture)

from customlabels_runtime.inference.logic import PipelineMetrics, handle_event
from customlabels_runtime.inference.thresholds import Thresholds, ThresholdsError, ThresholdSource, parse_thresholds

PARAMETER = "/customlabels/test/thresholds"


@pytest.mark.parametrize(("document", "message"), [
    ("not json", r"not JSON.*Fix: write"),
    ("[]", r"must be a JSON object"),
    ('{"min_confidence": 101}', r"min_confidence=101 is out of range.*0 to 100"),
    ('{"min_confidence": 0.8, "labels": {"bee": -1}}', r"labels.bee=-1 is out of range"),
    ('{"min_confidence": "high"}', r"min_confidence is 'high', not a number"),
    ('{"min_confidence": true}', r"not a number"),
    ('{"labels": ["bee"]}', r"\"labels\" is \['bee'\]. Fix: an object"),
    ('{"labels": {" ": 50}}', r"empty label name"),
    ('{"threshold": 50}', r"unknown key\(s\) threshold"),
])
@pytest.mark.unit
def test_bad_documents_are_rejected_naming_the_problem_and_the_fix(document, message):
    with pytest.raises(ThresholdsError, match=message):
        parse_thresholds(document)


@pytest.mark.unit
def test_a_document_reads_back_as_written():
    thresholds = parse_thresholds('{"min_confidence": 80, "labels": {"bee": 72.5}}')
    assert thresholds == Thresholds(80.0, {"bee": 72.5})
    assert parse_thresholds(thresholds.to_document()) == thresholds
    assert parse_thresholds("{}") == Thresholds(None, {})


@pytest.mark.parametrize(("thresholds", "sent", "kept"), [
    # per-label, then global: ask for the lowest, keep each label at its own
    (Thresholds(90.0, {"flower": 80.0}), 80.0, ["bee", "flower"]),
    (Thresholds(98.0, {"flower": 80.0}), 80.0, ["flower"]),
    (Thresholds(80.0, {"bee": 99.0}), 80.0, ["flower"]),
    # no global: the model's assumed thresholds (no MinConfidence), per-label filters on top
    (Thresholds(None, {"bee": 99.0}), None, ["flower"]),
    (Thresholds(None, {}), None, ["bee", "flower"]),
])
@pytest.mark.unit
def test_precedence_is_per_label_then_global_then_the_models_assumed_threshold(thresholds, sent, kept):
    assert thresholds.request_min_confidence() == sent
    assert [label["Name"] for label in thresholds.keep(LABELS)] == kept


class Rejections:
    def __init__(self):
        self.seen = []

    def __call__(self, problem, reason):
        self.seen.append((problem, reason))


def source(ssm, on_invalid, fallback=None):
    return ThresholdSource(PARAMETER, SSMProvider(boto3_client=ssm).get, fallback or Thresholds(None), on_invalid,
                           max_age=0)


@pytest.mark.integration
@mock_aws
def test_the_source_follows_the_parameter_and_keeps_the_last_valid_value():
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name=PARAMETER, Type="String", Value='{"min_confidence": 70}')
    rejected = Rejections()
    thresholds = source(ssm, rejected)
    assert thresholds.current() == Thresholds(70.0, {})

    ssm.put_parameter(Name=PARAMETER, Type="String", Overwrite=True,
                      Value='{"min_confidence": 75, "labels": {"bee": 90}}')
    assert thresholds.current() == Thresholds(75.0, {"bee": 90.0})  # no redeploy: the next read sees it

    ssm.put_parameter(Name=PARAMETER, Type="String", Overwrite=True, Value='{"min_confidence": 750}')
    assert thresholds.current() == Thresholds(75.0, {"bee": 90.0})
    assert thresholds.current() == Thresholds(75.0, {"bee": 90.0})
    assert len(rejected.seen) == 1  # reported once, not on every read
    assert "min_confidence=750 is out of range" in rejected.seen[0][0]
    assert rejected.seen[0][1] == "ThresholdsInvalid"


@pytest.mark.integration
@mock_aws
def test_a_missing_parameter_keeps_the_deploy_time_threshold():
    ssm = boto3.client("ssm", region_name=REGION)
    rejected = Rejections()
    thresholds = source(ssm, rejected, fallback=Thresholds(85.0))
    assert thresholds.current() == Thresholds(85.0)
    assert rejected.seen and rejected.seen[0][1] == "ThresholdsUnreadable"


@pytest.mark.unit
def test_the_cache_is_at_most_a_minute():
    calls = []

    def get(name, max_age):
        calls.append((name, max_age))
        return "{}"

    ThresholdSource(PARAMETER, get, Thresholds(None), Rejections()).current()
    assert calls == [(PARAMETER, 60)]


@pytest.mark.integration
def test_the_handler_asks_for_the_lowest_threshold_filters_per_label_and_records_them(pipeline):  # noqa: F811
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name=PARAMETER, Type="String", Value=json.dumps({"min_confidence": 90, "labels": {"flower": 80}}))
    deps = deps_for(pipeline, thresholds_parameter=PARAMETER)
    deps.thresholds = source(ssm, Rejections())
    pipeline.upload("test_images/bee.jpg")
    pipeline.expect_detect("test_images/bee.jpg", labels=[*LABELS, {"Name": "bee", "Confidence": 85.0}],
                           min_confidence=80.0)

    assert handle_event(pipeline.receive(2), None, deps)["batchItemFailures"] == []

    result = pipeline.result("test_images/bee.jpg.json")
    assert result["MinConfidence"] == 80.0
    assert result["Thresholds"] == {"min_confidence": 90.0, "labels": {"flower": 80.0}}
    assert result["CustomLabels"] == LABELS  # the bee at 85 is under the global 90


@pytest.mark.unit
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


def thresholds_cli(stack, *args):
    import os
    import subprocess
    import sys

    from conftest import ROOT

    endpoint = stack.resources.endpoint
    env = {**os.environ, "AWS_ENDPOINT_URL_SSM": endpoint, "AWS_ENDPOINT_URL_S3": endpoint, "COLUMNS": "200",
           "AWS_ENDPOINT_URL_REKOGNITION": stack.rekognition_endpoint, "AWS_DEFAULT_REGION": stack.config.region,
           "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
    return subprocess.run([sys.executable, "-m", "customlabels", "thresholds", *args, "--parameter",
                           stack.resources.thresholds_parameter], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.e2e
def test_thresholds_cli_imports_the_assumed_ones_sets_a_file_and_the_pipeline_applies_it(tmp_path):
    """Local stack: the model detects a bee at 90 and a flower at 60 in every image; assumed thresholds 85/55."""
    from test_local_pipeline import picture

    from customlabels.emulator.backends import ManifestBackend
    from customlabels.local.pipeline import LocalPipeline, ModelOptions, load_config
    from customlabels.manifest import Box, object_detection_line

    manifest = tmp_path / "gt.manifest"
    manifest.write_text(object_detection_line("s3://gt/test_images/a.jpg", 320, 240,
                                              [Box("bee", 0, 0, 100, 100), Box("flower", 150, 100, 100, 100)],
                                              ["bee", "flower"]) + "\n")
    backend = ManifestBackend.from_file(manifest, confidence=90.0, jitter=0, label_confidence={"flower": 60.0})
    config = load_config(model_lifecycle="manual")
    model = ModelOptions(running=True, assumed_thresholds={"bee": 85.0, "flower": 55.0})
    with LocalPipeline(config, backend, model=model, visibility_timeout=15, thresholds_max_age=0) as stack:
        shown = thresholds_cli(stack, "show")
        assert shown.returncode == 0, shown.stderr
        assert "model's assumed threshold" in shown.stdout  # cdk.json: min_confidence null

        from customlabels.local.aws import client

        client("ssm", stack.resources.endpoint, stack.config.region).put_parameter(
            Name=stack.resources.thresholds_parameter, Value="{not json", Type="String", Overwrite=True)
        imported = thresholds_cli(stack, "import-assumed", "--model-arn", config.model_arn)
        assert imported.returncode == 0, imported.stderr  # it replaces an invalid document, never reads it
        assert json.loads(imported.stdout.strip().splitlines()[-1]) == {
            "min_confidence": None, "labels": {"bee": 85.0, "flower": 55.0}}

        bad = tmp_path / "bad.json"
        bad.write_text('{"min_confidence": 80, "labels": {"flower": 650}}')
        refused = thresholds_cli(stack, "set", str(bad))
        assert refused.returncode != 0 and "labels.flower=650 is out of range" in refused.stderr

        tuned = tmp_path / "tuned.json"
        tuned.write_text('{"min_confidence": 95, "labels": {"flower": 50}}')
        assert thresholds_cli(stack, "set", str(tuned)).returncode == 0
        stack.upload("test_images/a.jpg", picture())
        assert stack.wait(["test_images/a.jpg"], timeout=300) == {"test_images/a.jpg": "labels"}
        result = json.loads(stack.s3.get_object(Bucket=stack.resources.bucket,
                                                   Key="test_images/a.jpg.json")["Body"].read())
    assert result["MinConfidence"] == 50.0
    assert result["Thresholds"] == {"min_confidence": 95.0, "labels": {"flower": 50.0}}
    assert [label["Name"] for label in result["CustomLabels"]] == ["flower"]  # the bee at 90 is under 95


EXAMPLE_SUMMARY = {  # Rekognition's example summary file, shortened
    "Version": 1,
    "AggregatedEvaluationResults": {"F1Score": 0.97, "Precision": 0.97, "Recall": 0.97},
    "EvaluationDetails": {"Labels": ["CAP", "WATCH"], "NumberOfTestingImages": 624},
    "LabelEvaluationResults": [
        {"Label": "CAP", "Metrics": {"F1Score": 0.979, "Precision": 0.98, "Recall": 0.977,
                                     "Threshold": 0.9879502058029175}, "NumberOfTestingImages": 390},
        {"Label": "WATCH", "Metrics": {"F1Score": 0.966, "Threshold": 0.5}, "NumberOfTestingImages": 234},
    ],
}
REFERENCE_SUMMARY = {  # the reference's spelling: labelEvaluationResults, LabelName, Threshold beside Metrics
    "Version": "1",
    "labelEvaluationResults": [{"LabelName": "CAP", "Threshold": 0.9879502058029175, "Metrics": {"F1Score": 0.9}},
                               {"LabelName": "WATCH", "Threshold": 0.5, "Metrics": {}}],
}


@pytest.mark.unit
@pytest.mark.parametrize("summary", [EXAMPLE_SUMMARY, REFERENCE_SUMMARY])
def test_assumed_thresholds_are_read_from_both_summary_layouts_as_percent(summary):
    from customlabels.runtime_thresholds import assumed_thresholds

    assert assumed_thresholds(summary) == {"CAP": 98.795, "WATCH": 50.0}


@pytest.mark.parametrize(("summary", "message"), [
    ({"Version": 1}, r"no LabelEvaluationResults"),
    ({"LabelEvaluationResults": [{"Label": "CAP", "Metrics": {"Threshold": 98.8}}]}, r"item 1 has no Label and"),
    ({"LabelEvaluationResults": [{"Metrics": {"Threshold": 0.5}}]}, r"item 1"),
])
@pytest.mark.unit
def test_a_summary_without_thresholds_says_what_is_missing(summary, message):
    from customlabels.runtime_thresholds import assumed_thresholds

    with pytest.raises(ThresholdsError, match=message):
        assumed_thresholds(summary)
