"""Fixtures of the integration tier: the synthesized template, and the inference function's moto pipeline."""

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber
from moto import mock_aws

from customlabels.results.schema_check import schema_problems
from customlabels_runtime.inference.logic import REKOGNITION_RETRIES
from support.aws import REGION, notify_queue
from support.cloudformation import synth_template
from support.inference import BUCKET, Pipeline


@pytest.fixture(scope="session")
def default_template(tmp_path_factory):
    return synth_template(tmp_path_factory.mktemp("default"))


@pytest.fixture
def pipeline():
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        # Prefix only (no suffix filter), so that the handler's own guard against non-images is exercised.
        queue_url, queue_arn = notify_queue(s3, sqs, BUCKET)
        # The function's own retry configuration: throttles reach its throughput control, not botocore's backoff.
        rekognition = boto3.client("rekognition", region_name=REGION, config=Config(retries=dict(REKOGNITION_RETRIES)))
        with Stubber(rekognition) as stub:
            pipeline = Pipeline(s3, sqs, queue_url, queue_arn, rekognition, stub)
            yield pipeline
            stub.assert_no_pending_responses()
            # Every result a handler test wrote is one the published schema accepts (issue 31).
            broken = {key: schema_problems(result) for key, result in pipeline.written_results().items()}
            assert {key: problems for key, problems in broken.items() if problems} == {}
