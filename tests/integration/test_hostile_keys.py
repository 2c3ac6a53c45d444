"""Keys an uploader may choose (the uploader policy allows any `test_images/*.jpg`) against the commands that write
files from them: `results --out`, and the readers of what it wrote (issue 27, items 1-3)."""

import json
import os
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from customlabels.cli import main
from customlabels.results.reading import folder_result_documents, load_results
from customlabels.visualize import result_images
from support.images import write_image
from support.results import result_document

pytestmark = pytest.mark.integration

BUCKET = "pipeline-bucket"
CASES = {
    "climbs out of --out": ["test_images/../../../escape1.jpg", "test_images/..\\..\\windows.jpg"],
    "`//` and `/./` collapse": [
        "test_images//double.jpg",
        "test_images/double.jpg",
        "test_images/./dot.jpg",
        "test_images/dot.jpg",
    ],
    "names over 255 bytes": [
        "test_images/" + "n" * 300 + ".jpg",
        "test_images/" + "蜂" * 95 + ".jpg",  # 285 bytes of CJK
        "test_images/zz-ordinary.jpg",  # listed after the long names: saved too
    ],
    "control characters": ["test_images/new\nline.jpg", "test_images/tab\there.jpg"],
}
HOSTILE = [key for keys in CASES.values() for key in keys]


def result(key):
    return result_document(key, [{"Name": "bee", "Confidence": 90.0}], bucket=BUCKET)


def put_with_results(s3, keys):
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    for key in keys:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
        s3.put_object(Bucket=BUCKET, Key=key + ".json", Body=json.dumps(result(key)))


@pytest.fixture
def bucket():
    with mock_aws():
        s3 = boto3.client("s3")
        put_with_results(s3, HOSTILE)
        yield s3


@pytest.mark.parametrize("keys", CASES.values(), ids=CASES.keys())
def test_results_out_writes_every_key_inside_the_folder_one_file_each(keys, tmp_path, capsys):
    sandbox = tmp_path / "sandbox"
    out = sandbox / "deep" / "results"
    with mock_aws():
        put_with_results(boto3.client("s3"), keys)
        assert main(["results", "--bucket", BUCKET, "--out", str(out)]) == 0
    assert os.listdir(sandbox) == ["deep"] and os.listdir(sandbox / "deep") == ["results"], "nothing outside --out"
    files = [os.path.join(d, n) for d, _, names in os.walk(out) for n in names]
    assert len(files) == len(keys), "one file per result: none overwritten by another key's"
    assert sorted(json.loads(Path(f).read_bytes())["Image"]["Key"] for f in files) == sorted(keys)
    said = " ".join(capsys.readouterr().err.split())
    assert f"{len(keys)} image(s): {len(keys)} with labels; result JSONs in {out}/" in said


def test_the_escaped_paths_read_as_docs_results_and_gallery_says(bucket, tmp_path):
    assert main(["results", "--bucket", BUCKET, "--out", str(tmp_path)]) == 0
    assert (tmp_path / "test_images" / "zz-ordinary.jpg.json").is_file(), "ordinary keys keep their readable path"
    assert (tmp_path / "test_images" / ".%2E" / ".%2E" / ".%2E" / "escape1.jpg.json").is_file()
    assert (tmp_path / "test_images" / "%" / "double.jpg.json").is_file()
    assert (tmp_path / "test_images" / "%2E" / "dot.jpg.json").is_file()
    assert (tmp_path / "test_images" / "new%0Aline.jpg.json").is_file()


def test_what_results_out_wrote_is_read_back_whole_by_visualize_evaluate_and_review(bucket, tmp_path):
    out, images = tmp_path / "results", tmp_path / "images"
    assert main(["results", "--bucket", BUCKET, "--out", str(out)]) == 0
    local = ["..\\..\\windows.jpg", "zz-ordinary.jpg", "new\nline.jpg"]
    for name in local:
        write_image(images / name)
    assert sorted(document["Image"]["Key"] for _, document in folder_result_documents(out)) == sorted(HOSTILE)
    assert len(load_results(str(out))) == len(HOSTILE)
    items = result_images.collect(out, images)
    assert len(items) == len(HOSTILE) and len({item.name for item in items}) == len(HOSTILE)
    assert {item.name for item in items if item.image_path} == set(local)


def test_a_key_the_file_system_cannot_hold_is_one_line_and_every_other_result_is_saved(tmp_path, capsys):
    """S3 holds `x.jpg.json` (a result) and `x.jpg.json/y.jpg` (an image in a folder of that name); no file system
    holds a file and a folder of one name. The one that cannot be written is said, the others are all saved."""
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        for key in ("test_images/x.jpg", "test_images/x.jpg.json/y.jpg", "test_images/z.jpg"):
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
            s3.put_object(Bucket=BUCKET, Key=key + ".json", Body=json.dumps(result(key)))
        assert main(["results", "--bucket", BUCKET, "--out", str(tmp_path)]) == 1
    said = capsys.readouterr().err
    assert "not saved: 'test_images/x.jpg.json/y.jpg.json'" in said and "Traceback" not in said
    assert sorted(d["Image"]["Key"] for _, d in folder_result_documents(tmp_path)) == [
        "test_images/x.jpg",
        "test_images/z.jpg",
    ]
