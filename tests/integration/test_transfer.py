"""`customlabels upload` and `customlabels results` against moto S3/SQS/CloudFormation."""

import csv
import io
import json
import re

import boto3
import pytest
from moto import mock_aws

from customlabels.cli import main
from customlabels.operations import transfer
from support.aws import notify_queue
from support.cli import refused
from support.events import s3_event
from support.results import result_document

pytestmark = pytest.mark.integration


BUCKET = "pipeline-bucket"


def test_upload_command_sends_the_good_images_and_lists_the_rest(folder, capsys):
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        notify_queue(s3, boto3.client("sqs"), BUCKET)
        assert main(["upload", str(folder), "--bucket", BUCKET, "--workers", "3"]) == 0
        keys = {
            key: s3.head_object(Bucket=BUCKET, Key=key)["ContentType"] for key in transfer.list_keys(s3, BUCKET, "")
        }
    assert keys == {
        "test_images/bee.jpg": "image/jpeg",
        "test_images/disguised.jpg": "image/png",
        "test_images/meadow/flower 1.png": "image/png",
    }
    printed = capsys.readouterr().out
    assert "Skipped 7 file(s)" in printed and "Uploaded 3 image(s) to s3://pipeline-bucket/test_images/" in printed
    assert "customlabels results --bucket pipeline-bucket --prefix test_images/ --wait" in printed


def test_upload_with_a_stack_keeps_to_its_upload_prefix(folder, capsys):
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        create_stack(boto3.client("cloudformation"), boto3.client("sqs"))
        said = refused(capsys, ["upload", str(folder), "--prefix", "elsewhere/"])
        assert re.search("the pipeline only processes images under test_images/", said), said
        assert main(["upload", str(folder), "--stack", "CustomLabelsPipeline", "--prefix", "test_images/b1"]) == 0
        keys = transfer.list_keys(s3, BUCKET, "")
    assert sorted(keys) == [
        "test_images/b1/bee.jpg",
        "test_images/b1/disguised.jpg",
        "test_images/b1/meadow/flower 1.png",
    ]
    printed = capsys.readouterr().out
    assert "customlabels results --stack CustomLabelsPipeline --prefix test_images/b1/ --wait" in printed


def create_stack(cloudformation, sqs):
    dead_letters = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    cloudformation.create_stack(
        StackName="CustomLabelsPipeline",
        TemplateBody=json.dumps(
            {
                "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
                "Outputs": {
                    "BucketName": {"Value": BUCKET},
                    "UploadPrefix": {"Value": "test_images/"},
                    "ResultsPrefix": {"Value": "results/"},
                    "DeadLetterQueueUrl": {"Value": dead_letters},
                },
            }
        ),
    )
    return dead_letters


def result(key, labels=(), error=None):
    return result_document(key, labels, error, bucket=BUCKET)


BEE = {
    "Name": "bee",
    "Confidence": 97.5,
    "Geometry": {"BoundingBox": {"Left": 0.1, "Top": 0.2, "Width": 0.3, "Height": 0.4}},
}


SUNNY = {"Name": "sunny", "Confidence": 81.0}


BAD_FORMAT = {"Code": "InvalidImageFormatException", "Message": "Request has unsupported image format"}


@pytest.fixture
def deployed():
    """A stack whose results go under results/: a labelled image, an error, a nothing, one in the DLQ, one
    pending, and a result of another image the listing must not mix in."""
    with mock_aws():
        s3, sqs = boto3.client("s3"), boto3.client("sqs")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        dead_letters = create_stack(boto3.client("cloudformation"), sqs)
        for name in ("a.jpg", "b.png", "c.jpg", "dead.jpg", "later.jpg"):
            s3.put_object(Bucket=BUCKET, Key=f"test_images/{name}", Body=b"x")
        s3.put_object(Bucket=BUCKET, Key="test_images/readme.txt", Body=b"x")
        for name, document in (
            ("a.jpg", result("test_images/a.jpg", [BEE, SUNNY])),
            ("b.png", result("test_images/b.png", error=BAD_FORMAT)),
            ("c.jpg", result("test_images/c.jpg")),
        ):
            s3.put_object(Bucket=BUCKET, Key=f"results/{name}.json", Body=json.dumps(document))
        sqs.send_message(QueueUrl=dead_letters, MessageBody=s3_event("test_images/dead.jpg", bucket=BUCKET))
        yield s3, sqs


def test_results_table_and_exit_codes(deployed, capsys):
    assert main(["results"]) == 0, "without --wait, pending images are no failure"
    printed = capsys.readouterr()
    assert (
        "5 image(s): 1 with labels, 1 with nothing detected, 1 with an Error result, 1 pending, "
        "1 in the dead-letter queue"
    ) in printed.err
    assert "customlabels dlq list" in printed.err
    for text in ("test_images/a.jpg", "bee (97.5), sunny (81.0)", "InvalidImageFormatException", "dead-letter"):
        assert text in printed.out
    assert main(["results", "--wait", "--timeout", "0"]) == 1, "--wait fails when some never finished"


def test_results_lists_an_image_deleted_before_processing_by_its_result(deployed, capsys):
    s3, _ = deployed
    gone = {"Code": "ImageDeletedBeforeProcessing", "Message": "The image was deleted before it could be processed"}
    s3.put_object(
        Bucket=BUCKET, Key="results/gone.jpg.json", Body=json.dumps(result("test_images/gone.jpg", error=gone))
    )
    s3.put_object(Bucket=BUCKET, Key="results/notes.txt.json", Body=b"{}")  # not a result of an image
    assert main(["results", "--format", "json"]) == 0
    listed = {item["image"]: item["status"] for item in json.loads(capsys.readouterr().out)}
    assert listed == {
        "test_images/a.jpg": "labels",
        "test_images/b.png": "error",
        "test_images/c.jpg": "nothing",
        "test_images/dead.jpg": "dead-letter",
        "test_images/gone.jpg": "error",
        "test_images/later.jpg": "pending",
    }


def test_results_json_csv_and_out(deployed, tmp_path, capsys):
    assert main(["results", "--stack", "CustomLabelsPipeline", "--format", "json", "--out", str(tmp_path)]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(item["image"], item["status"]) for item in listed] == [
        ("test_images/a.jpg", "labels"),
        ("test_images/b.png", "error"),
        ("test_images/c.jpg", "nothing"),
        ("test_images/dead.jpg", "dead-letter"),
        ("test_images/later.jpg", "pending"),
    ]
    assert listed[0]["result"] == result("test_images/a.jpg", [BEE, SUNNY])
    assert json.loads((tmp_path / "results" / "a.jpg.json").read_text()) == listed[0]["result"]
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["a.jpg.json", "b.png.json", "c.jpg.json"]

    assert main(["results", "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == transfer.CSV_COLUMNS
    assert rows[1:] == [
        ["test_images/a.jpg", "labels", "bee", "97.5", "0.1", "0.2", "0.3", "0.4", "", ""],
        ["test_images/a.jpg", "labels", "sunny", "81.0", "", "", "", "", "", ""],
        [
            "test_images/b.png",
            "error",
            "",
            "",
            "",
            "",
            "",
            "",
            "InvalidImageFormatException",
            "Request has unsupported image format",
        ],
        ["test_images/c.jpg", "nothing", "", "", "", "", "", "", "", ""],
        ["test_images/dead.jpg", "dead-letter", "", "", "", "", "", "", "", ""],
        ["test_images/later.jpg", "pending", "", "", "", "", "", "", "", ""],
    ]


def test_wait_follows_until_the_last_result_arrives(deployed):
    """The last result is written after the first progress report, so the wait must poll again to see it."""
    s3, sqs = deployed
    location = transfer.Location(BUCKET, "test_images/", "results/", sqs.get_queue_url(QueueName="dlq")["QueueUrl"])
    keys = transfer.image_keys(s3, location, "test_images/")
    seen = []

    def progress(done, total):
        seen.append((done, total))
        if len(seen) == 1:
            s3.put_object(Bucket=BUCKET, Key="results/later.jpg.json", Body=json.dumps(result("test_images/later.jpg")))

    statuses = transfer.follow(s3, location, keys, sqs=sqs, wait=True, timeout=30, poll=0.1, on_progress=progress)
    assert [s.status for s in statuses] == ["labels", "error", "nothing", "dead-letter", "nothing"]
    assert seen[0] == (4, 5) and seen[-1] == (5, 5)


def test_results_with_a_stack_keeps_to_its_upload_prefix(deployed, capsys):
    said = refused(capsys, ["results", "--prefix", "elsewhere/"])
    assert re.search("the pipeline only processes images under test_images/", said), said


def test_a_missing_stack_names_the_fix(capsys):
    with mock_aws():
        said = refused(capsys, ["results", "--stack", "Nope"])
        assert re.search("Fix: pass the name `cdk deploy` printed", said), said
