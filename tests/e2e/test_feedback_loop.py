"""The feedback loop as a user runs it: the pipeline's results of the training images -> `review export` ->
`manifest merge` into the training manifest -> `manifest validate`. The review names the pipeline's bucket, the
training manifest its own bucket and prefix; the merged manifest must replace the reviewed images' lines and keep
one bucket (issue 27: it said "0 replaced, 6 added" and failed validate with ERROR_IMAGES_IN_MULTIPLE_S3_BUCKETS)."""

import json

import pytest

from support.cli import customlabels

pytestmark = pytest.mark.e2e


def cli(*args):
    run = customlabels(*args, env={"COLUMNS": "300"})
    assert run.returncode == 0, run.stdout + run.stderr
    return " ".join(run.stdout.split())


def test_review_export_then_merge_into_the_training_manifest_validates(tmp_path):
    sample, train = tmp_path / "sample", tmp_path / "train.manifest"
    cli("sample-data", sample, "--count", "5")
    cli("manifest", "rewrite", sample / "manifest.jsonl", train, "--from", "s3://customlabels-sample/test_images/",
        "--to", "s3://training-data/photos/")  # fmt: skip
    cli("local", "run", "--images", sample / "images", "--model", f"manifest:{train}", "--noise", "confidence=70",
        "--seed", "1", "--start-delay", "0", "--out", tmp_path / "results")  # fmt: skip
    cli("review", "export", "--results", tmp_path / "results", "--images", sample / "images",
        "--out", tmp_path / "review.manifest", "--low", "1", "--high", "100")  # fmt: skip
    reviewed = [json.loads(line) for line in (tmp_path / "review.manifest").read_text().splitlines()]
    assert len(reviewed) == 5 and all(line["source-ref"].startswith("s3://customlabels-local/") for line in reviewed)

    merged = cli("manifest", "merge", train, tmp_path / "review.manifest", "--out", tmp_path / "train-v2.manifest")
    assert "5 line(s): 5 replaced, 0 added, 0 kept" in merged, merged
    assert "s3://customlabels-local/test_images/ were read as BASE's in s3://training-data/photos/" in merged
    lines = [json.loads(line) for line in (tmp_path / "train-v2.manifest").read_text().splitlines()]
    assert [line["source-ref"] for line in lines] == [
        json.loads(line)["source-ref"] for line in train.read_text().splitlines()
    ], "BASE's images, in BASE's order"
    assert all(line["review-metadata"]["human-annotated"] == "no" for line in lines), "the reviewed lines"
    assert "no problems" in cli("manifest", "validate", tmp_path / "train-v2.manifest")
