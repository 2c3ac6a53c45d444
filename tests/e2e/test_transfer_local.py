"""`customlabels upload` and `customlabels results` against the local pipeline with the real handler."""

import json

import pytest

from customlabels.operations import transfer

pytestmark = pytest.mark.e2e


def test_upload_then_results_through_the_local_pipeline(tmp_path):
    """The real handler and emulated model: what `upload` sends, `results --wait` gets back, one per image."""
    from customlabels.datasets.sample_data import generate
    from customlabels.local.emulator.backends import ManifestBackend
    from customlabels.local.pipeline import LocalPipeline, load_config

    data = generate(tmp_path / "sample", count=4, seed=3)
    (data.images / "notes.jpg").write_text("skipped by upload, never sent")

    with LocalPipeline(load_config(), ManifestBackend.from_file(data.manifest), log_path=tmp_path / "log") as pipeline:
        location = transfer.Location(
            pipeline.resources.bucket,
            pipeline.config.input_prefix,
            pipeline.config.effective_results_prefix,
            pipeline.resources.dead_letter_queue_url,
        )
        uploads, skipped = transfer.plan_upload(data.images, location.upload_prefix)
        assert transfer.upload(pipeline.s3, location.bucket, uploads) == {}
        keys = transfer.image_keys(pipeline.s3, location, location.upload_prefix)
        statuses = transfer.follow(pipeline.s3, location, keys, sqs=pipeline.sqs, wait=True, timeout=300, poll=0.5)
    assert [s.path.name for s in skipped] == ["notes.jpg"]
    assert sorted(keys) == sorted(u.key for u in uploads) and len(keys) == 4
    assert {s.status for s in statuses} == {"labels"}
    manifest_boxes = {
        line["source-ref"].split("test_images/")[1]: len(line["bounding-box"]["annotations"])
        for line in map(json.loads, data.manifest.read_text().splitlines())
    }
    assert {s.key.removeprefix("test_images/"): len(s.result["CustomLabels"]) for s in statuses} == manifest_boxes
