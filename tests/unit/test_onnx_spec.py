"""The model spec: its defaults, its refusals (each naming the field and the fix), what a model's metadata tells
(Ultralytics' `names` and `imgsz`), the check against the graph before any image, `write_spec` (the API the
benchmarks call) and `customlabels model inspect`."""

import json

import numpy as np
import pytest

from customlabels.cli import main
from customlabels_runtime.onnx_model.authoring import read_graph, write_spec
from customlabels_runtime.onnx_model.model import OwnModel
from customlabels_runtime.onnx_model.spec import InputSpec, ModelSpec, SpecError, metadata_document, parse_spec
from support.onnx_models import UINT8, constant_model, image_input, save

pytestmark = pytest.mark.unit


def test_only_format_and_labels_are_needed_and_the_defaults_are_the_documented_ones():
    spec = parse_spec({"format": "yolo-e2e", "labels": ["bee"]})
    assert spec == ModelSpec("yolo-e2e", ("bee",))
    assert spec.to_document() == {
        "format": "yolo-e2e",
        "labels": ["bee"],
        "input": {
            "width": 640,
            "height": 640,
            "layout": "NCHW",
            "dtype": "float32",
            "channels": "RGB",
            "scale": 1 / 255,
            "mean": [0.0, 0.0, 0.0],
            "std": [1.0, 1.0, 1.0],
            "resize": "letterbox",
        },
        "activation": "none",
        "nms_iou": 0.45,
        "max_detections": 100,
    }


def test_tf_od_api_defaults_to_its_exports_uint8_nhwc_stretched_input():
    spec = parse_spec({"format": "tf-od-api", "labels": ["bee"]})
    assert (spec.input.layout, spec.input.dtype, spec.input.resize) == ("NHWC", "uint8", "stretch")


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ({"labels": ["bee"]}, "format=None is not one of tf-od-api, yolo-e2e, yolo-raw, classifier"),
        ({"format": "yolo-e2e"}, 'labels must be a list of label names, one per class. Fix: "labels": ["bee"'),
        ({"format": "yolo-e2e", "labels": ["bee"], "input": {"layout": "CHW"}}, "input.layout='CHW' is not one of"),
        ({"format": "yolo-e2e", "labels": ["bee"], "input": {"widht": 3}}, "input.widht is not a field of the spec"),
        ({"format": "yolo-e2e", "labels": ["bee"], "input": {"std": [1, 0, 1]}}, "input.std=[1, 0, 1] must be"),
        ({"format": "yolo-e2e", "labels": ["bee"], "input": {"mean": [0, 0]}}, "must be three numbers"),
        ({"format": "yolo-e2e", "labels": ["bee"], "nms_iou": 0}, "nms_iou=0 must be a number in (0, 1]"),
        ({"format": "yolo-e2e", "labels": ["bee"], "activation": "sigmoid"}, "activation applies to classifier"),
        ({"format": "classifier", "labels": ["bee"], "activation": "relu"}, "activation='relu' is not one of"),
        ({"format": "yolo-e2e", "labels": ["bee"], "max_detections": 0}, "max_detections=0 must be a whole"),
        ("yolo", "is not a JSON object"),
    ],
)
def test_a_bad_spec_is_refused_with_one_line_naming_the_field_and_the_fix(document, says):
    with pytest.raises(SpecError) as refused:
        parse_spec(document, "bees.onnx.json")
    [problem] = refused.value.problems
    assert problem.startswith("bees.onnx.json") and says in problem and "Fix:" in problem


def test_ultralytics_metadata_gives_the_labels_and_the_input_size():
    # As Ultralytics writes metadata_props: Python literals, names by class index, imgsz as [height, width].
    metadata = {"names": "{0: 'bee', 1: 'flower'}", "imgsz": "[480, 640]", "task": "detect", "stride": "32"}
    assert metadata_document(metadata) == {"labels": ["bee", "flower"], "input": {"height": 480, "width": 640}}
    assert metadata_document({"names": '["a", "b"]', "imgsz": "320", "task": "classify"}) == {
        "labels": ["a", "b"],
        "input": {"height": 320, "width": 320},
        "format": "classifier",
    }
    assert metadata_document({"names": "not a literal {"}) == {}


def test_a_model_whose_metadata_describes_it_runs_without_a_spec_file(tmp_path):
    raw = np.zeros((1, 4 + 2, 8), np.float32)
    metadata = {"names": "{0: 'bee', 1: 'flower'}", "imgsz": "[320, 320]"}
    model = constant_model({"output0": raw}, image_input(width=320, height=320), metadata)
    loaded = OwnModel.from_file(save(model, tmp_path / "yolo.onnx"))
    assert (loaded.spec.format, loaded.spec.labels, loaded.spec.input.width) == ("yolo-raw", ("bee", "flower"), 320)


def test_a_spec_file_wins_over_the_metadata(tmp_path):
    metadata = {"names": "{0: 'bee', 1: 'flower'}"}
    model = constant_model({"output0": np.zeros((1, 3, 6), np.float32)}, metadata=metadata)
    path = save(model, tmp_path / "yolo.onnx", {"format": "yolo-e2e", "labels": ["wasp", "bee"]})
    assert OwnModel.from_file(path).spec.labels == ("wasp", "bee")


def test_labels_that_do_not_match_the_outputs_classes_are_refused_before_any_image(tmp_path):
    model = constant_model({"output0": np.zeros((1, 4 + 3, 8), np.float32)})
    path = save(model, tmp_path / "yolo.onnx", {"format": "yolo-raw", "labels": ["bee", "flower"]})
    with pytest.raises(SpecError) as refused:
        OwnModel.from_file(path)
    assert refused.value.problems == [
        "the spec of yolo.onnx does not fit the model: format is yolo-raw with 2 labels, so the output should be "
        "[1, 6, N], but it is output0 [1, 7, 8] float. Fix: give 3 labels, one per class in the model's class order"
    ]


def test_a_tf_od_api_spec_on_a_model_without_its_outputs_names_them(tmp_path):
    model = constant_model({"boxes": np.zeros((1, 5, 4), np.float32)}, image_input("NHWC", UINT8))
    path = save(model, tmp_path / "od.onnx", {"format": "tf-od-api", "labels": ["bee"], "input": {"width": 640}})
    with pytest.raises(SpecError) as refused:
        OwnModel.from_file(path)
    assert "no output detection_boxes, detection_scores, detection_classes (it has boxes)" in str(refused.value)


def test_write_spec_writes_a_given_spec_once_it_fits_and_a_suggested_one_otherwise(tmp_path):
    path = save(
        constant_model({"output0": np.zeros((1, 4 + 2, 8), np.float32)}, image_input(width=320, height=320)),
        tmp_path / "yolo.onnx",
    )
    suggested = json.loads(write_spec(path).read_text())
    assert suggested == {
        "format": "yolo-raw",
        "labels": ["class_0", "class_1"],
        "input": {"width": 320, "height": 320, "layout": "NCHW", "dtype": "float32"},
    }
    given = ModelSpec("yolo-raw", ("bee", "flower"), InputSpec(width=320, height=320))
    assert json.loads(write_spec(path, given).read_text()) == given.to_document()
    assert OwnModel.from_file(path).spec == given
    with pytest.raises(SpecError):
        write_spec(path, {"format": "classifier", "labels": ["bee"]})
    assert [tensor.name for tensor in read_graph(path).outputs] == ["output0"]


def test_model_inspect_shows_the_graph_the_spec_and_what_does_not_fit(tmp_path, capsys):
    # A path longer than any terminal line: the console must print it whole, never folded inside it.
    folder = tmp_path / ("a-folder-with-a-long-name-" * 5)
    path = save(constant_model({"output0": np.zeros((1, 5, 6), np.float32)}), folder / "e2e.onnx")
    assert main(["model", "inspect", str(path)]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "images │ [1, 3, 640, 640] │ float" in out and "output0 │ [1, 5, 6] │ float" in out
    assert "e2e.onnx has no spec" in out and "--write-spec" in out
    assert main(["model", "inspect", str(path), "--write-spec"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"Wrote {path}.json" in out and "The spec fits the graph" in out
    assert json.loads(path.with_name("e2e.onnx.json").read_text())["format"] == "yolo-e2e"
    assert main(["model", "inspect", str(path), "--write-spec"]) == 1  # never overwritten
    assert "exists already" in capsys.readouterr().err


def test_model_inspect_shows_the_users_own_spec_when_it_does_not_fit(tmp_path, capsys):
    path = save(constant_model({"output0": np.zeros((1, 5, 6), np.float32)}), tmp_path / "mine.onnx")
    mine = {"format": "yolo-raw", "labels": ["bee", "flower", "wasp"], "input": {"width": 512, "height": 512}}
    path.with_name("mine.onnx.json").write_text(json.dumps(mine))
    assert main(["model", "inspect", str(path)]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "from mine.onnx.json, as written" in out and '"wasp"' in out, (
        "the spec the user is to mend, as they wrote it"
    )
    assert out.index("as written") < out.index("what the graph suggests") < out.index("Does not fit")


def test_model_inspect_refuses_what_is_not_a_model(tmp_path, capsys):
    (tmp_path / "notes.onnx").write_text("not a model")
    assert main(["model", "inspect", str(tmp_path / "notes.onnx")]) == 1
    assert "onnxruntime cannot load it" in capsys.readouterr().err
    assert main(["model", "inspect", str(tmp_path / "missing.onnx")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_model_example_never_overwrites_a_model_or_its_spec(tmp_path, capsys):
    mine = tmp_path / "bees.onnx"
    mine.write_bytes(b"my fitted model")
    assert main(["model", "example", str(mine)]) == 1
    assert "exists already" in capsys.readouterr().err and mine.read_bytes() == b"my fitted model"
    (tmp_path / "other.onnx.json").write_text("{}")
    assert main(["model", "example", str(tmp_path / "other.onnx")]) == 1
    assert not (tmp_path / "other.onnx").exists()
    assert main(["model", "example", str(tmp_path / "fresh.onnx")]) == 0
    assert (tmp_path / "fresh.onnx").stat().st_size > 0 and (tmp_path / "fresh.onnx.json").exists()
