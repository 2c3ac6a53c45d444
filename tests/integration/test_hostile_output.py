"""Keys, labels and messages chosen by an uploader reach the operator's terminal escaped (`results`, `dlq list`),
never as cursor moves, erased lines or rich markup; the JSON and CSV formats still carry them exactly."""

import csv
import io
import json

import boto3
import pytest
from moto import mock_aws

from customlabels.cli import main
from support.events import s3_event

pytestmark = pytest.mark.integration

BUCKET = "pipeline-bucket"
ERASING = "test_images/x\x1b[1A\x1b[2Kbee.jpg"
"""Moves the cursor up a line and erases it: on a raw terminal it would hide the row above it."""
MARKUP = "test_images/[red]x[/red][link=https://example.com]y[/link].jpg"
BIDI = "test_images/invoice\u202egpj.exe.jpg"
"""Reads as `invoiceexe.jpg` reversed on a terminal that applies the override."""
LABEL = "bee\x1b]8;;https://example.com\x07[bold]"


@pytest.fixture
def hostile(monkeypatch):
    from customlabels.cli import common

    for name in ("console", "error_console"):  # wide: no cell folded over two lines
        if hasattr(common, name):
            monkeypatch.setattr(getattr(common, name), "width", 300)
    with mock_aws():
        s3, sqs = boto3.client("s3"), boto3.client("sqs")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        for key in (ERASING, MARKUP, BIDI):
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
        labels = [{"Name": LABEL, "Confidence": 91.0}]
        s3.put_object(
            Bucket=BUCKET,
            Key=f"{ERASING}.json",
            Body=json.dumps({"Image": {"Bucket": BUCKET, "Key": ERASING}, "CustomLabels": labels}),
        )
        error = {"Code": "Invalid\x1b[2J", "Message": "[blink]gone[/blink]\r"}
        s3.put_object(
            Bucket=BUCKET,
            Key=f"{MARKUP}.json",
            Body=json.dumps({"Image": {"Bucket": BUCKET, "Key": MARKUP}, "CustomLabels": [], "Error": error}),
        )
        dead_letters = sqs.create_queue(QueueName="dlq")["QueueUrl"]
        sqs.send_message(QueueUrl=dead_letters, MessageBody=s3_event(BIDI, bucket=BUCKET))
        yield dead_letters


def test_results_table_escapes_keys_labels_and_errors(hostile, capsys):
    assert main(["results", "--bucket", BUCKET, "--dead-letter-queue-url", hostile]) == 0
    printed = capsys.readouterr()
    out = printed.out + printed.err
    assert not any(character in out for character in "\x1b\x07\r\u202e"), "no control character reaches the terminal"
    flat = "".join(out.split())
    for text in (
        "test_images/x\\x1b[1A\\x1b[2Kbee.jpg",
        "test_images/[red]x[/red][link=https://example.com]y[/link].jpg",
        "invoice\\u202egpj.exe.jpg",
        "bee\\x1b]8;;https://example.com\\x07[bold](91.0)",
        "Invalid\\x1b[2J:[blink]gone[/blink]\\x0d",
    ):
        assert text in flat, (text, out)


def test_dlq_list_escapes_the_keys_of_its_messages(hostile, capsys):
    assert main(["dlq", "list", "--dead-letter-queue-url", hostile]) == 0
    out = capsys.readouterr().out
    assert "\u202e" not in out and "\x1b" not in out
    assert "test_images/invoice\\u202egpj.exe.jpg" in "".join(out.split())


def test_json_and_csv_still_carry_the_keys_exactly(hostile, capsys):
    """The data formats have their own escaping: JSON's `\\u001b`, CSV's quoting. Both read back to the keys."""
    assert main(["results", "--bucket", BUCKET, "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sorted(item["image"] for item in listed) == sorted([ERASING, MARKUP, BIDI])
    assert main(["results", "--bucket", BUCKET, "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert sorted({row[0] for row in rows[1:]}) == sorted([ERASING, MARKUP, BIDI])
    assert [row[2] for row in rows[1:] if row[0] == ERASING] == [LABEL]
    assert [row[9] for row in rows[1:] if row[0] == MARKUP] == ["[blink]gone[/blink]\r"]
