"""`customlabels results --check` on moto S3: results the function writes pass the published schema, a document
that breaks it is named with what is wrong and where, and the exit code says so."""

import json
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from customlabels.cli import main
from customlabels_runtime.contract import ObjectCreated
from customlabels_runtime.inference.logic import Settings, result_document
from customlabels_runtime.inference.thresholds import Thresholds

pytestmark = pytest.mark.integration

BUCKET = "images"
SETTINGS = Settings(
    "arn:aws:rekognition:eu-west-1:123456789012:project/p/version/v/1", None, "test_images/", "test_images/"
)


def written(key, labels=(), error=None):
    """A result as the inference function writes it (its own `result_document`)."""
    image = ObjectCreated(BUCKET, key, "v1", "e1")
    return result_document(image, SETTINGS, Thresholds(80.0), list(labels), datetime(2026, 11, 22, tzinfo=UTC), error)


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield client


def put(s3, key, document):
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    s3.put_object(Bucket=BUCKET, Key=key + ".json", Body=json.dumps(document))


def test_results_the_function_writes_pass_the_check(s3, capsys):
    put(s3, "test_images/a.jpg", written("test_images/a.jpg", [{"Name": "bee", "Confidence": 97.5}]))
    put(s3, "test_images/b.jpg", written("test_images/b.jpg", error={"Code": "ImageTooLargeException", "Message": "m"}))
    put(s3, "test_images/c.jpg", written("test_images/c.jpg"))

    assert main(["results", "--bucket", BUCKET, "--check"]) == 0
    assert "Schema check: 3 result(s) against result.schema.json (docs/result-contract.md): all valid" in " ".join(
        capsys.readouterr().err.split()
    )


def test_a_result_that_breaks_the_schema_is_named_with_what_is_wrong(s3, capsys):
    put(s3, "test_images/good.jpg", written("test_images/good.jpg"))
    broken = written("test_images/bad.jpg", [{"Name": "bee", "Confidence": 120}])
    del broken["ProcessedAt"]
    put(s3, "test_images/bad.jpg", broken)

    assert main(["results", "--bucket", BUCKET, "--check"]) == 1
    err = capsys.readouterr().err
    assert "test_images/bad.jpg.json breaks the result schema:" in err
    assert "(the document): 'ProcessedAt' is a required property" in err
    assert "CustomLabels[0].Confidence: 120 is greater than the maximum of 100" in err
    assert "good.jpg.json" not in err
    assert "2 result(s) against result.schema.json (docs/result-contract.md): 1 break it" in " ".join(err.split())
    assert main(["results", "--bucket", BUCKET]) == 0  # without --check, the listing alone


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"Image": tru', "not JSON (Expecting value"),
        (b"[1,2,3]", "not a JSON object (a list)"),
        (b"\xff", "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deep to read"),
    ],
)
def test_a_result_file_that_is_not_a_json_object_is_named_and_the_others_still_read(s3, capsys, body, problem):
    put(s3, "test_images/good.jpg", written("test_images/good.jpg", [{"Name": "bee", "Confidence": 97.5}]))
    s3.put_object(Bucket=BUCKET, Key="test_images/bad.jpg", Body=b"x")
    s3.put_object(Bucket=BUCKET, Key="test_images/bad.jpg.json", Body=body)

    assert main(["results", "--bucket", BUCKET, "--check"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert f"test_images/bad.jpg.json: {problem}" in err
    assert "2 result(s) against result.schema.json (docs/result-contract.md): 1 break it" in err
    assert "1 with labels, 1 with a result file that is not a JSON object" in err

    assert main(["results", "--bucket", BUCKET, "--format", "json"]) == 0  # without --check, listed with why
    listed = {item["image"]: item for item in json.loads(capsys.readouterr().out)}
    assert listed["test_images/good.jpg"]["status"] == "labels"
    assert listed["test_images/bad.jpg"]["status"] == "unreadable"
    assert listed["test_images/bad.jpg"]["problem"].startswith(problem)
    assert main(["results", "--bucket", BUCKET]) == 0
    assert "unreadable" in capsys.readouterr().out


def test_a_long_value_is_abbreviated_not_printed_whole(s3, capsys):
    labels = [{"Name": "bee", "Confidence": 97.5, "Geometry": {"BoundingBox": {"Left": 0.1}}}] * 4
    put(
        s3,
        "test_images/both.jpg",
        {**written("test_images/both.jpg", error={"Code": "X", "Message": "m"}), "CustomLabels": labels},
    )
    put(s3, "test_images/long.jpg", {**written("test_images/long.jpg"), "ProcessedAt": "9" * 500})

    assert main(["results", "--bucket", BUCKET, "--check"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "CustomLabels: 4 item(s), expected none with Error" in err
    assert f"ProcessedAt: '{'9' * 40}'... (500 characters) does not match" in err
    assert "'Name'" not in err and "9" * 41 not in err
