"""`customlabels evaluate` reads results from moto S3 as from a folder."""

import json

import boto3
import pytest
from moto import mock_aws

from customlabels.results.model import ImageResult, Prediction
from customlabels.results.reading import load_results

pytestmark = pytest.mark.integration


@mock_aws
def test_results_are_read_from_s3_and_a_folder_alike(tmp_path):
    document = {
        "Image": {"Bucket": "b", "Key": "test_images/a.jpg"},
        "MinConfidence": None,
        "CustomLabels": [
            {
                "Name": "bee",
                "Confidence": 91.0,
                "Geometry": {"BoundingBox": {"Left": 0.1, "Top": 0.2, "Width": 0.3, "Height": 0.4}},
            }
        ],
    }
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="results-bucket")
    s3.put_object(Bucket="results-bucket", Key="test_images/a.jpg.json", Body=json.dumps(document))
    s3.put_object(Bucket="results-bucket", Key="test_images/a.jpg", Body=b"not a result")
    (tmp_path / "test_images").mkdir()
    (tmp_path / "test_images" / "a.jpg.json").write_text(json.dumps(document))
    (tmp_path / "summary.json").write_text('{"images": 1}')  # `local run` writes it beside the results
    expected = [ImageResult("test_images/a.jpg", (Prediction("bee", 91.0, (0.1, 0.2, 0.3, 0.4)),))]
    assert load_results("s3://results-bucket/test_images/", s3) == expected
    assert load_results(str(tmp_path)) == expected
