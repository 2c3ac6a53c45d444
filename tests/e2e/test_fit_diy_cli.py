"""`customlabels fit-diy` in a process of its own, on the demo's kind of data: the split's images linked apart, the
model and its spec written, the spec accepted by the onnx backend against the graph, and the model's best bee in a
test image it never saw where the manifest has one; wrong inputs refused in one line with the fix."""

import pytest
from PIL import Image

from customlabels.datasets.manifest import read_manifest
from customlabels_runtime.onnx_model.model import OwnModel
from support.cli import customlabels as run_cli

pytestmark = pytest.mark.e2e


def test_fit_diy_writes_a_model_the_onnx_backend_runs_and_finds_the_test_images_bees(tmp_path):
    assert run_cli("sample-data", "sample", "--count", "24", cwd=tmp_path).returncode == 0
    split = run_cli(
        "manifest", "split", "sample/manifest.jsonl", "--test", "0.25", "--images", "sample/images", cwd=tmp_path
    )
    assert split.returncode == 0, split.stderr
    assert "6 test images in sample/manifest.test-images/" in split.stdout
    fitted = run_cli(
        "fit-diy",
        *("--manifest", "sample/manifest.train.jsonl", "--images", "sample/manifest.train-images"),
        *("--out", "diy/bees.onnx"),
        cwd=tmp_path,
    )
    assert fitted.returncode == 0, fitted.stderr
    assert "Fitted on 18 images" in fitted.stdout and "diy/bees.onnx.json" in fitted.stdout
    model = OwnModel.from_file(tmp_path / "diy" / "bees.onnx")  # the backend checks the spec against the graph
    assert (model.spec.format, model.spec.labels) == ("yolo-raw", ("bee", "flower"))
    found = 0
    tests = [entry for entry in read_manifest(tmp_path / "sample" / "manifest.test.jsonl") if entry.boxes]
    for entry in tests:
        with Image.open(tmp_path / "sample" / "manifest.test-images" / entry.key.removeprefix("test_images/")) as image:
            labels = model.custom_labels(image, lambda _: 50.0)
        bees = [label for label in labels if label["Name"] == "bee"]
        truth = [box for box in entry.boxes if box.label == "bee"]
        if bees and truth:
            box = bees[0]["Geometry"]["BoundingBox"]
            x, y = (
                (box["Left"] + box["Width"] / 2) * entry.image_width,
                (box["Top"] + box["Height"] / 2) * entry.image_height,
            )
            found += any(
                abs(x - (t.left + t.width / 2)) < t.width / 2 and abs(y - (t.top + t.height / 2)) < t.height / 2
                for t in truth
            )
    images_with_bees = sum(any(box.label == "bee" for box in entry.boxes) for entry in tests)
    assert found >= images_with_bees - 1, (found, images_with_bees)


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (("--out", "bees.model"), "--out bees.model: name the model MODEL.onnx"),
        (("--out", "b.onnx", "--size", "100"), "--size 100: not a multiple of 8 (the grid's cell). Fix: --size 96"),
        (("--out", "b.onnx", "--images", "nowhere"), "--images nowhere: not a folder"),
    ],
)
def test_wrong_inputs_are_refused_in_one_line_with_the_fix(tmp_path, extra, says):
    assert run_cli("sample-data", "s", "--count", "2", cwd=tmp_path).returncode == 0
    options = {"--manifest": "s/manifest.jsonl", "--images": "s/images"}
    for name, value in zip(extra[::2], extra[1::2], strict=True):
        options[name] = value
    run = run_cli("fit-diy", *(part for pair in options.items() for part in pair), cwd=tmp_path)
    assert run.returncode == 1 and says in run.stderr and "Traceback" not in run.stderr, run.stderr
