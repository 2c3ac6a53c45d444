"""The inference function reading the version in service: each image's DetectCustomLabels call goes to the version
read for it, and its result names exactly that version (moto S3 and SSM, Rekognition stubbed on the request)."""

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import SSMProvider
from moto import mock_aws

from customlabels.local.emulator.clock import ManualClock
from customlabels_runtime.inference.logic import handle_event
from customlabels_runtime.inference.model_version_source import ModelVersionSource
from customlabels_runtime.model_version import initial_document
from support.aws import MODEL_ARN, REGION
from support.inference import Rejections, deps_for, failed_ids
from support.versions import SECOND_ARN, VERSION_PARAMETER, CachedParameters, promoted

pytestmark = pytest.mark.integration


def test_each_result_names_the_version_that_answered_and_the_switch_waits_for_the_cache(pipeline):
    clock = ManualClock(0.0)
    parameters = CachedParameters(clock, {VERSION_PARAMETER: initial_document(MODEL_ARN)})
    deps = deps_for(pipeline)
    deps.model_version = ModelVersionSource(VERSION_PARAMETER, parameters.get, MODEL_ARN, Rejections(), max_age=60)

    def process(key, expected_arn):
        pipeline.upload(key)
        pipeline.expect_detect(key, model_arn=expected_arn)  # the stub checks the request's ProjectVersionArn
        response = handle_event(pipeline.receive(1), None, deps)
        assert failed_ids(response) == set()
        return pipeline.result(key + ".json")["ProjectVersionArn"]

    pipeline.receive(1)  # moto's s3:TestEvent
    assert process("test_images/before.jpg", MODEL_ARN) == MODEL_ARN
    parameters.store[VERSION_PARAMETER] = promoted()
    clock.advance(30)
    assert process("test_images/cached.jpg", MODEL_ARN) == MODEL_ARN  # the environment's cache still holds the old
    clock.advance(30)
    assert process("test_images/after.jpg", SECOND_ARN) == SECOND_ARN
    pipeline.stub.assert_no_pending_responses()
    assert deps.throughput_for(SECOND_ARN) is not deps.throughput  # the new version's capacity is learned afresh
    assert deps.throughput_for(MODEL_ARN) is deps.throughput


@mock_aws
def test_a_document_written_to_ssm_switches_the_next_read():
    """Powertools' real SSMProvider over moto's Parameter Store, without a cache: the write is the next read."""
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name=VERSION_PARAMETER, Type="String", Value=initial_document(MODEL_ARN))
    rejected = Rejections()
    versions = ModelVersionSource(VERSION_PARAMETER, SSMProvider(boto3_client=ssm).get, MODEL_ARN, rejected, max_age=0)
    assert versions.current() == MODEL_ARN
    ssm.put_parameter(Name=VERSION_PARAMETER, Type="String", Overwrite=True, Value=promoted())
    assert versions.current() == SECOND_ARN
    ssm.delete_parameter(Name=VERSION_PARAMETER)
    assert versions.current() == SECOND_ARN  # unreadable: the last good version keeps answering
    assert [reason for _, reason in rejected.seen] == ["ModelVersionUnreadable"]
