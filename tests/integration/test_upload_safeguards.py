"""`upload` (and `results --wait`) against the careless cases of issue 27: keys S3 cannot store, the tool's own
pictures among the photos, a prefix the pipeline never hears of, Ctrl-C, and a progress bar that counts what was
really sent. moto S3 and SQS; the Ctrl-C is a real SIGINT, sent by a botocore hook at a planned upload."""

import json
import os
import re
import signal

import boto3
import pytest
from moto import mock_aws

from customlabels.cli import main
from customlabels.operations import transfer
from customlabels.visualize import result_images
from support.aws import notify_queue
from support.cli import refused
from support.images import write_image

pytestmark = pytest.mark.integration

BUCKET = "pipeline-bucket"


@pytest.fixture
def bucket():
    """The pipeline's bucket as deployed: it notifies the work queue of new objects under test_images/."""
    with mock_aws():
        s3, sqs = boto3.client("s3"), boto3.client("sqs")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        notify_queue(s3, sqs, BUCKET)
        yield s3


def sent(s3) -> list[str]:
    return sorted(transfer.list_keys(s3, BUCKET, ""))


def nested(total_bytes: int) -> str:
    """A relative path of `total_bytes` (ASCII) whose every name is at most 201 bytes, as a file system holds it."""
    folders, rest = divmod(total_bytes - len("f.jpg"), 201)
    return "".join("d" * 200 + "/" for _ in range(folders)) + "f" * rest + "f.jpg"


def test_upload_refuses_an_image_whose_key_or_result_key_s3_cannot_store(bucket, tmp_path, capsys):
    """S3 keys are at most 1,024 bytes (contract.MAX_KEY_BYTES). A 1,024-byte image key is stored, but its result key
    (`.json` added) is not: the image would retry into the DLQ on AWS. A 1,100-byte key is refused by S3 itself."""
    images, prefix = tmp_path / "images", len("test_images/")
    fits, no_result, no_key = nested(1019 - prefix), nested(1020 - prefix), nested(1100)
    for path in (fits, no_result, no_key, "bee.jpg"):
        write_image(images / path)
    assert main(["upload", str(images), "--bucket", BUCKET]) == 0
    assert sent(bucket) == ["test_images/bee.jpg", "test_images/" + fits], "a 1,024-byte result key is S3's most"
    assert "Skipped 2 file(s): not sent" in capsys.readouterr().out
    _, skipped = transfer.plan_upload(images, "test_images/")
    assert sorted(item.reason for item in skipped) == [
        "its key would be 1112 bytes, over S3's 1024-byte limit for a key, so S3 would refuse it: shorten its path "
        "(or --prefix) by 88 bytes or more",
        "its result key would be 1025 bytes, over S3's 1024-byte limit for a key, so no result could ever be "
        "written: shorten its path (or --prefix) by 1 bytes or more",
    ]


def test_upload_leaves_out_the_pictures_visualize_drew_inside_the_images_folder(bucket, gallery_run, capsys):
    images, results, _ = gallery_run
    assert main(["visualize", "--results", str(results), "--images", str(images), "--out", str(images / "g")]) == 0
    assert main(["visualize", "--results", str(results), "--images", str(images), "--out", str(images / "g")]) == 0
    assert "5 pictures (" in capsys.readouterr().out.split("Gallery:")[-2], "its own pictures are no images to draw"
    drawn = [p for p in (images / "g").rglob("*") if p.suffix in (".jpg", ".png")]
    assert len(drawn) == 15

    assert main(["upload", str(images), "--bucket", BUCKET]) == 0
    photos = ["test_images/empty.jpg", "test_images/flowers.png", "test_images/meadow/bee #1.jpg"]
    assert sent(bucket) == [*photos, "test_images/waiting.jpg"]
    printed = " ".join(capsys.readouterr().out.split())
    assert "Left out 15 picture(s) that customlabels drew" in printed and "--include-outputs sends them" in printed

    assert main(["upload", str(images), "--bucket", BUCKET, "--include-outputs"]) == 0
    assert len(sent(bucket)) == 4 + 15


def test_upload_and_wait_refuse_a_prefix_the_bucket_never_tells_the_pipeline_of(bucket, tmp_path, capsys):
    write_image(tmp_path / "images" / "bee.jpg")
    said = refused(capsys, ["upload", str(tmp_path / "images"), "--bucket", BUCKET, "--prefix", "outside/"])
    assert re.search(
        r"s3://pipeline-bucket sends the pipeline only the new images under test_images/, so images under outside/ "
        r"would never get a result\. Fix: a --prefix under it, such as --prefix test_images/batch-1/",
        said,
    ), said
    assert sent(bucket) == []
    bucket.put_object(Bucket=BUCKET, Key="outside/bee.jpg", Body=b"x")  # sent by some other tool
    said = refused(capsys, ["results", "--bucket", BUCKET, "--prefix", "outside/", "--wait", "--timeout", "2"])
    assert said.startswith("customlabels results: --wait would wait for results that never come: --prefix"), said


def test_upload_to_a_bucket_that_notifies_nothing_does_not_promise_results(tmp_path, capsys):
    write_image(tmp_path / "images" / "bee.jpg")
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="plain", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        assert main(["upload", str(tmp_path / "images"), "--bucket", "plain"]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "s3://plain notifies nothing when an object is created, so no result will come" in printed
    assert "--wait" not in printed


def test_ctrl_c_says_what_was_sent_and_what_was_not_and_exits_130(bucket, tmp_path, capsys):
    images = tmp_path / "images"
    names = [f"{letter}.jpg" for letter in "abcdefgh"]
    for name in names:
        write_image(images / name)

    def ctrl_c_at_the_fourth(params, **_):  # the plan: the operator presses Ctrl-C while d.jpg is being sent
        if params.get("Key") == "test_images/d.jpg":
            os.kill(os.getpid(), signal.SIGINT)

    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("before-parameter-build.s3.PutObject", ctrl_c_at_the_fourth)
    try:
        assert main(["upload", str(images), "--bucket", BUCKET, "--workers", "1"]) == 130
    finally:
        boto3.DEFAULT_SESSION = None
    out = capsys.readouterr().out
    in_s3 = [key.removeprefix("test_images/") for key in sent(bucket)]
    assert {"a.jpg", "b.jpg", "c.jpg"} <= set(in_s3) and "h.jpg" not in in_s3
    said = re.search(
        r"Interrupted: sent (\d+) of 8 image\(s\) to s3://pipeline-bucket/test_images/; not sent \((\d+)\)", out
    )
    assert said and int(said.group(1)) == len(in_s3) and int(said.group(2)) == 8 - len(in_s3), out
    listed = re.findall(r"^  (\S+\.jpg)$", out, re.MULTILINE)
    assert listed == [name for name in names if name not in in_s3], out


def test_the_progress_bar_counts_only_what_was_sent(tmp_path, capsys):
    """No bucket: every upload fails. The bar says 0/3, and the one error is said once."""
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        write_image(tmp_path / "images" / name)
    with mock_aws():
        assert main(["upload", str(tmp_path / "images"), "--bucket", "no-such-bucket"]) == 1
    printed = capsys.readouterr()
    assert printed.err.count("The specified bucket does not exist") == 1, printed.err
    assert re.findall(r"Uploading\W+(\d+)/3", printed.out) == ["0"], printed.out


def test_uploads_sent_are_counted_as_they_are_accepted(bucket, tmp_path):
    for name in ("a.jpg", "b.jpg"):
        write_image(tmp_path / name)
    uploads, _ = transfer.plan_upload(tmp_path, "test_images/")
    counted = []
    failures = transfer.upload(bucket, "no-such-bucket", uploads, on_sent=counted.append)
    assert counted == [] and len(failures) == 2
    assert transfer.upload(bucket, BUCKET, uploads, on_sent=counted.append) == {} and len(counted) == 2


def test_a_gallery_inside_the_images_is_never_taken_for_the_images(gallery_run, tmp_path):
    """`a-gallery/pictures/flowers.png` sorts before `flowers.png` and ends the same: visualize drew on it again
    and review export sized its boxes by it (its caption strip makes it taller than the photo)."""
    images, results, _ = gallery_run
    assert (
        main(["visualize", "--results", str(results), "--images", str(images), "--out", str(images / "a-gallery")]) == 0
    )
    items = result_images.collect(results, images)
    assert all(images / "a-gallery" not in item.image_path.parents for item in items if item.image_path)
    manifest = tmp_path / "review.manifest"
    assert main(["review", "export", "--results", str(results), "--images", str(images), "--out", str(manifest)]) == 0
    sizes = {
        line["source-ref"].rsplit("/", 1)[-1]: line["review"]["image_size"][0]
        for line in map(json.loads, manifest.read_text().splitlines())
    }
    assert sizes["flowers.png"] == {"width": 300, "height": 400, "depth": 3}
