"""`customlabels thresholds` as a command: import the assumed ones, set a file, and the local pipeline applies it."""

import json

import pytest

from support.cli import thresholds_cli
from support.images import image_bytes

pytestmark = pytest.mark.e2e


def test_thresholds_cli_imports_the_assumed_ones_sets_a_file_and_the_pipeline_applies_it(tmp_path):
    """Local stack: the model detects a bee at 90 and a flower at 60 in every image; assumed thresholds 85/55."""
    from customlabels.datasets.manifest import Box, object_detection_line
    from customlabels.local.emulator.backends import ManifestBackend
    from customlabels.local.emulator.options import ModelOptions
    from customlabels.local.pipeline import LocalPipeline, load_config

    manifest = tmp_path / "gt.manifest"
    manifest.write_text(
        object_detection_line(
            "s3://gt/test_images/a.jpg",
            320,
            240,
            [Box("bee", 0, 0, 100, 100), Box("flower", 150, 100, 100, 100)],
            ["bee", "flower"],
        )
        + "\n"
    )
    backend = ManifestBackend.from_file(manifest, confidence=90.0, jitter=0, label_confidence={"flower": 60.0})
    config = load_config(model_lifecycle="manual")
    model = ModelOptions(running=True, assumed_thresholds={"bee": 85.0, "flower": 55.0})
    with LocalPipeline(config, backend, model=model, visibility_timeout=15, thresholds_max_age=0) as stack:
        shown = thresholds_cli(stack, "show")
        assert shown.returncode == 0, shown.stderr
        assert "model's assumed threshold" in shown.stdout  # cdk.json: min_confidence null

        from customlabels.local.aws import client

        client("ssm", stack.resources.endpoint, stack.config.region).put_parameter(
            Name=stack.resources.thresholds_parameter, Value="{not json", Type="String", Overwrite=True
        )
        imported = thresholds_cli(stack, "import-assumed", "--model-arn", config.model_arn)
        assert imported.returncode == 0, imported.stderr  # it replaces an invalid document, never reads it
        assert json.loads(imported.stdout.strip().splitlines()[-1]) == {
            "min_confidence": None,
            "labels": {"bee": 85.0, "flower": 55.0},
        }

        bad = tmp_path / "bad.json"
        bad.write_text('{"min_confidence": 80, "labels": {"flower": 650}}')
        refused = thresholds_cli(stack, "set", str(bad))
        assert refused.returncode != 0 and "labels.flower=650 is out of range" in refused.stderr

        tuned = tmp_path / "tuned.json"
        tuned.write_text('{"min_confidence": 95, "labels": {"flower": 50}}')
        assert thresholds_cli(stack, "set", str(tuned)).returncode == 0
        stack.upload("test_images/a.jpg", image_bytes())
        assert stack.wait(["test_images/a.jpg"], timeout=300) == {"test_images/a.jpg": "labels"}
        result = json.loads(
            stack.s3.get_object(Bucket=stack.resources.bucket, Key="test_images/a.jpg.json")["Body"].read()
        )
    assert result["MinConfidence"] == 50.0
    assert result["Thresholds"] == {"min_confidence": 95.0, "labels": {"flower": 50.0}}
    assert [label["Name"] for label in result["CustomLabels"]] == ["flower"]  # the bee at 90 is under 95
