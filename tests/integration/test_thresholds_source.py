"""Runtime thresholds read from SSM (moto), and the handler applying them."""

import json

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import SSMProvider
from moto import mock_aws

from customlabels_runtime.inference.logic import handle_event
from customlabels_runtime.inference.thresholds import Thresholds, ThresholdSource
from support.aws import REGION
from support.inference import LABELS, PARAMETER, Rejections, deps_for

pytestmark = pytest.mark.integration


def source(ssm, on_invalid, fallback=None):
    return ThresholdSource(
        PARAMETER, SSMProvider(boto3_client=ssm).get, fallback or Thresholds(None), on_invalid, max_age=0
    )


@mock_aws
def test_the_source_follows_the_parameter_and_keeps_the_last_valid_value():
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name=PARAMETER, Type="String", Value='{"min_confidence": 70}')
    rejected = Rejections()
    thresholds = source(ssm, rejected)
    assert thresholds.current() == Thresholds(70.0, {})

    ssm.put_parameter(
        Name=PARAMETER, Type="String", Overwrite=True, Value='{"min_confidence": 75, "labels": {"bee": 90}}'
    )
    assert thresholds.current() == Thresholds(75.0, {"bee": 90.0})  # no redeploy: the next read sees it

    ssm.put_parameter(Name=PARAMETER, Type="String", Overwrite=True, Value='{"min_confidence": 750}')
    assert thresholds.current() == Thresholds(75.0, {"bee": 90.0})
    assert thresholds.current() == Thresholds(75.0, {"bee": 90.0})
    assert len(rejected.seen) == 1  # reported once, not on every read
    assert "min_confidence=750 is out of range" in rejected.seen[0][0]
    assert rejected.seen[0][1] == "ThresholdsInvalid"


@mock_aws
def test_a_missing_parameter_keeps_the_deploy_time_threshold():
    ssm = boto3.client("ssm", region_name=REGION)
    rejected = Rejections()
    thresholds = source(ssm, rejected, fallback=Thresholds(85.0))
    assert thresholds.current() == Thresholds(85.0)
    assert rejected.seen and rejected.seen[0][1] == "ThresholdsUnreadable"


def test_the_handler_asks_for_the_lowest_threshold_filters_per_label_and_records_them(pipeline):
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name=PARAMETER, Type="String", Value=json.dumps({"min_confidence": 90, "labels": {"flower": 80}}))
    deps = deps_for(pipeline, thresholds_parameter=PARAMETER)
    deps.thresholds = source(ssm, Rejections())
    pipeline.upload("test_images/bee.jpg")
    pipeline.expect_detect(
        "test_images/bee.jpg", labels=[*LABELS, {"Name": "bee", "Confidence": 85.0}], min_confidence=80.0
    )

    assert handle_event(pipeline.receive(2), None, deps)["batchItemFailures"] == []

    result = pipeline.result("test_images/bee.jpg.json")
    assert result["MinConfidence"] == 80.0
    assert result["Thresholds"] == {"min_confidence": 90.0, "labels": {"flower": 80.0}}
    assert result["CustomLabels"] == LABELS  # the bee at 85 is under the global 90
