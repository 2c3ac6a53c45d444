"""The DIY detector (customlabels.diy): the fit finds an obvious object in images it never saw, and the ONNX graph,
run by the real onnxruntime, computes what scikit-learn's fitted models predict."""

from __future__ import annotations

import json
import random

import numpy as np
import onnxruntime
import pytest
from PIL import Image, ImageDraw

from customlabels.datasets.manifest import Box, ManifestEntry
from customlabels.diy import fit, graph
from customlabels.diy.grid import GridShape, letterbox

pytestmark = pytest.mark.unit

GRID = GridShape(size=64, cell=8, context=3)
SETTINGS = fit.FitSettings(grid=GRID, colours=4, pixels_for_colours=4000)
SIDE = 14


def picture(rng: random.Random, shapes: dict[str, str], width: int = 96, height: int = 64):
    """A green field with one red square ("square") and, if asked, one blue disc ("disc"), and their boxes."""
    image = Image.new("RGB", (width, height), (40, 150, 60))
    draw = ImageDraw.Draw(image)
    boxes = []
    for label in shapes:
        left, top = rng.randint(0, width - SIDE), rng.randint(0, height - SIDE)
        corners = (left, top, left + SIDE - 1, top + SIDE - 1)
        (draw.rectangle if label == "square" else draw.ellipse)(corners, fill=shapes[label])
        boxes.append(Box(label, left, top, SIDE, SIDE))
    return image, boxes


def examples(count: int, shapes: dict[str, str], seed: int) -> list[fit.Example]:
    rng = random.Random(seed)
    return [fit.example(*picture(rng, shapes), GRID.size) for _ in range(count)]


def session(detector, tmp_path):
    model, _ = graph.write(detector, tmp_path / "diy.onnx")
    return onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])


TWO = {"square": (220, 30, 30), "disc": (30, 60, 230)}


@pytest.fixture(scope="module")
def fitted() -> fit.Fitted:
    return fit.fit(examples(12, TWO, seed=1), ["disc", "square"], SETTINGS)


def test_the_fit_finds_each_object_of_an_unseen_image_where_it_is(fitted, tmp_path):
    """In new images, each label's best cell is at its object, scored high, with a box around the object."""
    run = session(fitted.detector(), tmp_path)
    for item in examples(5, TWO, seed=99):
        output = run.run(None, {graph.INPUT: item.input.pixels[None]})[0][0]
        for index, label in enumerate(fitted.labels):
            _, cx, cy, width, height = next(box for box in item.boxes if box[0] == label)
            best = int(output[4 + index].argmax())
            assert output[4 + index, best] > 0.5
            x, y, w, h = output[:4, best]
            assert abs(x - cx) < width / 2 and abs(y - cy) < height / 2, (label, x, y, cx, cy)
            assert 0.5 < w / width < 2 and 0.5 < h / height < 2
            far = np.hypot(*(GRID.centres()[0] - cx, GRID.centres()[1] - cy)) > 2 * max(width, height)
            assert output[4 + index, far].max() < 0.5  # the green field is not the object


def test_the_onnx_graph_computes_what_scikit_learn_predicts(fitted, tmp_path):
    """Scores: the logistic regression's predict_proba; boxes: the ridge regression's predict turned into pixels;
    on images the fit never saw, through the standardization folded into the convolutions."""
    run = session(fitted.detector(), tmp_path)
    x, y = GRID.centres()
    for item in examples(3, TWO, seed=7):
        output = run.run(None, {graph.INPUT: item.input.pixels[None]})[0][0]
        described = fitted.describe(item.input.pixels)
        probabilities = fitted.classifier.predict_proba(described)
        assert list(fitted.classifier.classes_) == [0, 1, 2]  # background, disc, square
        np.testing.assert_allclose(output[4:].T, probabilities[:, 1:], atol=1e-4)
        boxes = fitted.boxes.predict(described)
        np.testing.assert_allclose(output[0], x + boxes[:, 0] * GRID.cell, atol=1e-3)
        np.testing.assert_allclose(output[1], y + boxes[:, 1] * GRID.cell, atol=1e-3)
        np.testing.assert_allclose(output[2], np.exp(boxes[:, 2]) * GRID.cell, rtol=1e-4)
        np.testing.assert_allclose(output[3], np.exp(boxes[:, 3]) * GRID.cell, rtol=1e-4)
        np.testing.assert_allclose(output, fitted.detector().raw_output(item.input.pixels), rtol=1e-4, atol=1e-3)


def test_one_label_keeps_scikit_learns_binary_probability(tmp_path):
    """With one label scikit-learn keeps a single row of coefficients; the graph's score is still predict_proba."""
    fitted = fit.fit(examples(10, {"square": TWO["square"]}, seed=3), ["square"], SETTINGS)
    run = session(fitted.detector(), tmp_path)
    item = examples(1, {"square": TWO["square"]}, seed=4)[0]
    output = run.run(None, {graph.INPUT: item.input.pixels[None]})[0][0]
    expected = fitted.classifier.predict_proba(fitted.describe(item.input.pixels))[:, 1]
    assert output.shape == (5, GRID.cells_per_side**2)
    np.testing.assert_allclose(output[4], expected, atol=1e-4)


def test_the_spec_is_the_issues_fields_for_the_graphs_input_and_output(fitted, tmp_path):
    model, spec_path = graph.write(fitted.detector(), tmp_path / "bees.onnx", {"customlabels.training_images": "12"})
    assert spec_path.name == "bees.onnx.json"
    spec = json.loads(spec_path.read_text())
    assert set(spec) == {"format", "labels", "input", "activation", "nms_iou", "max_detections"}
    assert set(spec["input"]) == {"width", "height", "layout", "dtype", "channels", "scale", "mean", "std", "resize"}
    assert (spec["format"], spec["labels"], spec["input"]["resize"]) == ("yolo-raw", ["disc", "square"], "letterbox")
    run = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    (given,), (answer,) = run.get_inputs(), run.get_outputs()
    assert given.shape == [1, 3, spec["input"]["height"], spec["input"]["width"]] and given.type == "tensor(float)"
    assert answer.shape == [1, 4 + len(spec["labels"]), GRID.cells_per_side**2]
    assert run.get_modelmeta().custom_metadata_map == {"customlabels.training_images": "12"}


def test_letterbox_maps_a_box_into_the_input_as_the_boxes_are_trained():
    """A 200 x 100 image in a 64 px input: scale 0.32, 16 px of grey above and below; a box's centre moves so."""
    image = Image.new("RGB", (200, 100), (255, 0, 0))
    item = fit.example(image, [Box("square", 50, 25, 100, 50)], 64)
    assert (item.input.scale, item.input.left, item.input.top) == (0.32, 0, 16)
    assert item.boxes == (("square", 32.0, 32.0, 32.0, 16.0),)
    assert np.allclose(item.input.pixels[:, 0, 0], 114 / 255) and np.allclose(item.input.pixels[:, 32, 32], [1, 0, 0])
    assert letterbox(image, 64).pixels.shape == (3, 64, 64)


def test_cells_at_an_objects_centre_are_its_own_the_rest_of_its_box_is_left_out():
    item = fit.Example(letterbox(Image.new("RGB", (64, 64)), 64), (("square", 20.0, 20.0, 16.0, 16.0),))
    classes, targets = fit.cell_targets(item, ["square"], GRID, centre_share=0.25)
    grid = classes.reshape(8, 8)
    assert grid[2, 2] == 1 and (grid == 1).sum() == 1  # the cell centred at (20, 20), reach 4 px
    assert (grid[1:3, 1:3] != fit.BACKGROUND).all() and grid[1, 1] == fit.IGNORED  # the rest of the box
    assert (grid[4:, :] == fit.BACKGROUND).all()
    np.testing.assert_allclose(targets[2 * 8 + 2], [0, 0, np.log(2), np.log(2)])


def test_a_manifest_without_boxes_or_without_its_images_is_refused_with_the_fix(tmp_path):
    with pytest.raises(fit.DiyFitError, match="object-detection manifest"):
        fit.labels_of([ManifestEntry(1, "s3://b/a.jpg", labels=("bee",))])
    Image.new("RGB", (64, 64)).save(tmp_path / "here.jpg")
    entries = [ManifestEntry(1, "s3://b/x/here.jpg"), ManifestEntry(2, "s3://b/x/gone.jpg")]
    with pytest.raises(fit.DiyFitError, match=r"1 image\(s\).*'x/gone.jpg'.*--images"):
        fit.manifest_examples(entries, tmp_path, 64)


def test_split_images_are_linked_at_their_relative_paths_and_a_missing_one_is_refused_first(tmp_path):
    from customlabels.datasets.local_images import MissingImagesError, link_images

    images = tmp_path / "images"
    (images / "meadow").mkdir(parents=True)
    for name in ("meadow/a.jpg", "b.png", "c.jpg"):
        Image.new("RGB", (8, 8)).save(images / name)
    entries = [ManifestEntry(1, "s3://b/test_images/meadow/a.jpg"), ManifestEntry(2, "s3://b/test_images/b.png")]
    assert link_images(entries, images, tmp_path / "test") == 2
    linked = sorted(p.relative_to(tmp_path / "test").as_posix() for p in (tmp_path / "test").rglob("*.*"))
    assert linked == ["b.png", "meadow/a.jpg"]
    assert (tmp_path / "test" / "b.png").read_bytes() == (images / "b.png").read_bytes()
    assert link_images(entries, images, tmp_path / "test") == 2, "a second run replaces its own links"
    with pytest.raises(MissingImagesError, match=r"'test_images/gone\.jpg'"):
        link_images([*entries, ManifestEntry(3, "s3://b/test_images/gone.jpg")], images, tmp_path / "other")
    assert not (tmp_path / "other").exists()


@pytest.mark.parametrize("size", [(200, 100), (100, 200), (333, 257), (64, 64)])
def test_the_fit_sees_each_image_as_the_onnx_backend_prepares_it(size, fitted, tmp_path):
    """No skew between training and serving: the fit's letterbox is the backend's pre-processing under the spec
    the model is written with (same scale, same padding, same pixels)."""
    from customlabels_runtime.onnx_model.preprocess import prepare
    from customlabels_runtime.onnx_model.spec import parse_spec

    rng = np.random.default_rng(sum(size))
    image = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    spec = parse_spec(graph.spec(fitted.detector()), "the DIY spec")
    tensor, placement = prepare(image, spec.input)
    ours = letterbox(image, GRID.size)
    np.testing.assert_allclose(tensor[0], ours.pixels, atol=1e-6)
    assert (placement.left, placement.top) == (ours.left, ours.top)


def test_the_standardization_is_scikit_learns():
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(5)
    described = np.hstack([rng.normal(3, 2, (500, 4)), np.full((500, 1), 7.0)]).astype(np.float32)
    mean, scale = fit.standardization(described)
    reference = StandardScaler().fit(described)
    np.testing.assert_allclose(mean, reference.mean_, rtol=1e-5)
    np.testing.assert_allclose(scale, reference.scale_, rtol=1e-5)  # 1 for the constant column, as scikit-learn
