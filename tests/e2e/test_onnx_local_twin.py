"""`customlabels local run --model onnx:MODEL.onnx`: the own model runs in the onnx function's handler, in the
emulated Lambda environments, with onnxruntime (no emulator in between): the same outcomes, results, summary and
exit codes as with Custom Labels."""

import io
import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from support.onnx_models import constant_model, save
from support.project import ROOT

pytestmark = pytest.mark.e2e

SPEC = {"format": "yolo-e2e", "labels": ["bee", "flower"], "input": {"resize": "stretch"}}


def local_run(images, out, *options):
    return subprocess.run(
        [sys.executable, "-m", "customlabels", "local", "run", "--images", str(images), "--out", str(out), *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )


def jpeg(size):
    buffer = io.BytesIO()
    Image.new("RGB", size, (90, 160, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_the_local_twin_runs_an_onnx_model_end_to_end(tmp_path):
    model = save(constant_model({"output0": [[[0, 0, 320, 160, 0.8, 1]]]}), tmp_path / "bees.onnx", SPEC)
    images = tmp_path / "images"
    (images / "hive").mkdir(parents=True)
    (images / "hive" / "wide.jpg").write_bytes(jpeg((1200, 300)))
    (images / "tall.jpg").write_bytes(jpeg((100, 1000)))
    (images / "broken.png").write_bytes(b"\x89PNG not really")
    out = tmp_path / "out"

    run = local_run(images, out, "--model", f"onnx:{model}")

    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"] == {"labels": 2, "error:InvalidImageFormatException": 1}
    assert summary["interrupted"] is False
    for key in ("hive/wide.jpg", "tall.jpg"):
        result = json.loads((out / "test_images" / f"{key}.json").read_text())
        assert result["Model"]["Uri"] == "bees.onnx" and "ProjectVersionArn" not in result
        assert result["CustomLabels"] == [
            {
                "Name": "flower",
                "Confidence": 80.0,
                "Geometry": {"BoundingBox": {"Width": 0.5, "Height": 0.25, "Left": 0.0, "Top": 0.0}},
            }
        ]
    broken = json.loads((out / "test_images" / "broken.png.json").read_text())
    assert broken["Error"]["Code"] == "InvalidImageFormatException" and broken["CustomLabels"] == []
    log = (out / "lambda.log").read_text()
    assert '"message":"Model loaded"' in log and "customlabels_runtime" not in run.stderr


def test_a_model_whose_spec_does_not_fit_is_refused_before_anything_starts(tmp_path):
    model = save(constant_model({"output0": [[[0, 0, 1, 1, 0.8, 1]]]}), tmp_path / "bees.onnx", {**SPEC, "labels": 3})
    images = tmp_path / "images"
    images.mkdir()
    (images / "a.jpg").write_bytes(jpeg((200, 200)))
    run = local_run(images, tmp_path / "out", "--model", f"onnx:{model}")
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "labels must be a list of label names" in " ".join(run.stderr.split())
