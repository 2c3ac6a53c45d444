"""One image rule (`contract.is_input_image`) for every reader of keys: the inference function, the model manager,
and the tool's `results` listing, whatever the prefixes (a results location inside the input prefix included)."""

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from customlabels.operations import transfer
from customlabels_runtime.contract import is_input_image
from customlabels_runtime.inference.logic import Settings, is_processable
from customlabels_runtime.model_manager.messages import message_kind
from support.aws import MODEL_ARN
from support.events import s3_event

pytestmark = pytest.mark.integration

BUCKET = "pipeline-bucket"
PREFIXES = [("test_images/", "test_images/"), ("test_images/", "test_images/out/"), ("in/", "out/")]
FOLDERS = st.lists(st.sampled_from(["test_images/", "out/", "in/", "a/"]), max_size=4).map("".join)
NAMES = st.tuples(st.sampled_from(["bee", ""]), st.sampled_from([".jpg", ".PNG", ".Jpg", ".json", ""])).map("".join)
KEYS = st.tuples(FOLDERS, NAMES).map("".join).filter(bool)


@given(keys=st.lists(KEYS, max_size=12, unique=True), prefixes=st.sampled_from(PREFIXES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_function_the_manager_and_results_take_the_same_keys_for_images(keys, prefixes):
    upload_prefix, results_prefix = prefixes
    images = {key for key in keys if is_input_image(key, upload_prefix, results_prefix)}
    function = Settings(MODEL_ARN, None, upload_prefix, results_prefix)
    assert {key for key in keys if is_processable(key, function)} == images
    announced = {key for key in keys if message_kind(s3_event(key), upload_prefix, results_prefix) == "image"}
    assert announced == images
    location = transfer.Location(BUCKET, upload_prefix, results_prefix)
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        for key in keys:
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
        assert set(transfer.image_keys(s3, location, upload_prefix)) == images
    # a result (of a key under the input prefix) names its image only where the function could have written it
    under_input = [key for key in keys if key.startswith(upload_prefix)]
    assert {key for key in under_input if location.image_key(location.result_key(key)) == key} == images
