"""Each format of the own model, through the real onnxruntime, on tiny graphs whose right answers are worked out by
hand in each test: the box order, 1-based classes, letterbox on landscape and portrait images, NMS keeping the right
box, softmax and sigmoid, uint8 NHWC and float NCHW inputs."""

import math

import numpy as np
import pytest
from PIL import Image

from customlabels_runtime.onnx_model.model import DEFAULT_CONFIDENCE, OwnModel
from support.onnx_models import UINT8, channel_mean_model, constant_model, image_input, save

pytestmark = pytest.mark.unit

LABELS = ["bee", "flower"]


def no_thresholds(_name):
    return None


def everything(_name):
    return 0.0


def run(tmp_path, model, spec, image, threshold_for=no_thresholds):
    path = save(model, tmp_path / "model.onnx", spec)
    return OwnModel.from_file(path).custom_labels(image, threshold_for)


def box(label):
    return pytest.approx(label["Geometry"]["BoundingBox"], abs=1e-6)  # float32 outputs


E2E = {"format": "yolo-e2e", "labels": LABELS}


def test_yolo_e2e_maps_a_letterboxed_landscape_box_back_to_the_original_image(tmp_path):
    # 1280x640 into 640x640: scale 0.5, 640x320 placed 160 px down. Input box (100, 200)-(300, 400) is, in the
    # original, x 100/0.5 = 200 to 600 and y (200-160)/0.5 = 80 to (400-160)/0.5 = 480.
    model = constant_model({"output0": [[[100, 200, 300, 400, 0.9, 1]]]})
    [label] = run(tmp_path, model, E2E, Image.new("RGB", (1280, 640)))
    assert label["Name"] == "flower" and label["Confidence"] == pytest.approx(90.0)  # class 1, 0-based
    assert box(label) == {"Left": 200 / 1280, "Top": 80 / 640, "Width": 400 / 1280, "Height": 400 / 640}


def test_yolo_e2e_maps_a_letterboxed_portrait_box_back_and_clips_it_to_the_image(tmp_path):
    # 640x1280: scale 0.5, 320x640 placed 160 px right. x (100-160)/0.5 = -120 (clipped to 0) to (300-160)/0.5 =
    # 280; y 200/0.5 = 400 to 800.
    model = constant_model({"output0": [[[100, 200, 300, 400, 0.9, 0]]]})
    [label] = run(tmp_path, model, E2E, Image.new("RGB", (640, 1280)))
    assert label["Name"] == "bee"
    assert box(label) == {"Left": 0.0, "Top": 400 / 1280, "Width": 280 / 640, "Height": 400 / 1280}


def test_yolo_e2e_stretched_boxes_are_ratios_of_the_input_whatever_the_image(tmp_path):
    spec = {**E2E, "input": {"resize": "stretch"}}
    model = constant_model({"output0": [[[64, 128, 320, 512, 0.75, 0]]]})
    for size in ((300, 900), (2000, 100), (640, 640)):
        [label] = run(tmp_path, model, spec, Image.new("RGB", size))
        assert box(label) == {"Left": 0.1, "Top": 0.2, "Width": 0.4, "Height": 0.6}


def test_below_the_default_threshold_nothing_is_kept_unless_a_threshold_says_so(tmp_path):
    model = constant_model({"output0": [[[0, 0, 64, 64, 0.4, 0], [0, 0, 64, 64, 0.6, 1]]]})
    image = Image.new("RGB", (640, 640))
    assert DEFAULT_CONFIDENCE == 50.0
    assert [label["Name"] for label in run(tmp_path, model, E2E, image)] == ["flower"]
    assert [label["Name"] for label in run(tmp_path, model, E2E, image, everything)] == ["flower", "bee"]
    assert run(tmp_path, model, E2E, image, lambda name: 70.0) == []


TF_OD_API = {"format": "tf-od-api", "labels": LABELS, "input": {"width": 320, "height": 320}}


def tf_od_api_model(num_detections):
    return constant_model(
        {
            "detection_boxes": [[[0.1, 0.2, 0.5, 0.6], [0.0, 0.0, 1.0, 1.0]]],  # ymin, xmin, ymax, xmax
            "detection_scores": [[0.9, 0.95]],
            "detection_classes": [[2.0, 1.0]],  # 1-based
            "num_detections": [num_detections],
        },
        graph_input=image_input("NHWC", UINT8, 320, 320, name="input_tensor"),
    )


def test_tf_od_api_reads_ymin_xmin_ymax_xmax_and_1_based_classes(tmp_path):
    # Only the first num_detections rows are real: the second (a higher score, class 1 = bee) is padding.
    [label] = run(tmp_path, tf_od_api_model(1.0), TF_OD_API, Image.new("RGB", (1000, 500)))
    assert label["Name"] == "flower" and label["Confidence"] == pytest.approx(90.0)
    assert box(label) == {"Left": 0.2, "Top": 0.1, "Width": 0.4, "Height": 0.4}


def test_tf_od_api_keeps_every_row_num_detections_counts(tmp_path):
    labels = run(tmp_path, tf_od_api_model(2.0), TF_OD_API, Image.new("RGB", (1000, 500)))
    assert [label["Name"] for label in labels] == ["bee", "flower"]  # best first
    assert box(labels[0]) == {"Left": 0.0, "Top": 0.0, "Width": 1.0, "Height": 1.0}


def yolo_raw_model(rows):
    """[1, 4 + 2, N] from one (cx, cy, w, h, bee score, flower score) tuple per anchor."""
    return constant_model({"output0": np.array(rows, np.float32).T[np.newaxis]})


RAW = {"format": "yolo-raw", "labels": LABELS, "input": {"resize": "stretch"}}


def test_yolo_raw_nms_keeps_the_best_box_of_each_class(tmp_path):
    # A and B overlap (IoU 45/55 = 0.82 > 0.45): B, the weaker bee, goes. C is the same place as B but a flower:
    # NMS is per class, so it stays. D is a lone bee far away (kept). E scores under the threshold everywhere.
    rows = [
        (100, 100, 50, 50, 0.9, 0.1),  # A: bee
        (105, 100, 50, 50, 0.8, 0.1),  # B: bee, overlapping A
        (105, 100, 50, 50, 0.1, 0.7),  # C: flower
        (400, 400, 20, 40, 0.6, 0.2),  # D: bee
        (300, 300, 10, 10, 0.3, 0.2),  # E: nothing
    ]
    labels = run(tmp_path, yolo_raw_model(rows), RAW, Image.new("RGB", (640, 640)))
    assert [(label["Name"], label["Confidence"]) for label in labels] == [
        ("bee", pytest.approx(90.0)),
        ("flower", pytest.approx(70.0)),
        ("bee", pytest.approx(60.0)),
    ]
    assert box(labels[0]) == {"Left": 75 / 640, "Top": 75 / 640, "Width": 50 / 640, "Height": 50 / 640}
    assert labels[1]["Geometry"]["BoundingBox"]["Left"] == pytest.approx(80 / 640)  # C's box, not A's
    assert box(labels[2]) == {"Left": 390 / 640, "Top": 380 / 640, "Width": 20 / 640, "Height": 40 / 640}


def test_yolo_raw_nms_iou_decides_what_overlaps(tmp_path):
    rows = [(100, 100, 50, 50, 0.9, 0.0), (105, 100, 50, 50, 0.8, 0.0)]  # IoU 0.82
    loose = {**RAW, "nms_iou": 0.9}
    assert len(run(tmp_path, yolo_raw_model(rows), loose, Image.new("RGB", (640, 640)))) == 2
    assert len(run(tmp_path, yolo_raw_model(rows), RAW, Image.new("RGB", (640, 640)))) == 1


def test_yolo_raw_sigmoid_turns_logits_into_scores(tmp_path):
    rows = [(100, 100, 50, 50, 2.0, -3.0)]
    [label] = run(tmp_path, yolo_raw_model(rows), {**RAW, "activation": "sigmoid"}, Image.new("RGB", (640, 640)))
    assert label["Name"] == "bee" and label["Confidence"] == pytest.approx(100 / (1 + math.exp(-2.0)), abs=1e-3)


def classifier(activation, logits=(2.0, 1.0, 0.1)):
    model = constant_model({"scores": [list(logits)]}, graph_input=image_input(width=224, height=224))
    spec = {"format": "classifier", "labels": ["bee", "flower", "wasp"], "activation": activation}
    spec["input"] = {"width": 224, "height": 224}
    return model, spec


def test_classifier_softmax_gives_image_level_labels_without_geometry(tmp_path):
    # e^2 : e^1 : e^0.1 = 7.389 : 2.718 : 1.105 (sum 11.212): 65.90%, 24.24%, 9.86%.
    model, spec = classifier("softmax")
    labels = run(tmp_path, model, spec, Image.new("RGB", (300, 200)), everything)
    assert [(label["Name"], round(label["Confidence"], 2)) for label in labels] == [
        ("bee", 65.9),
        ("flower", 24.24),
        ("wasp", 9.86),
    ]
    assert all("Geometry" not in label for label in labels)
    assert [label["Name"] for label in run(tmp_path, model, spec, Image.new("RGB", (300, 200)))] == ["bee"]


def test_classifier_sigmoid_scores_each_label_on_its_own(tmp_path):
    # 1 / (1 + e^-x): 88.08%, 73.11%, 52.50%: all three reach the default 50%.
    model, spec = classifier("sigmoid")
    labels = run(tmp_path, model, spec, Image.new("RGB", (300, 200)))
    assert [(label["Name"], round(label["Confidence"], 2)) for label in labels] == [
        ("bee", 88.08),
        ("flower", 73.11),
        ("wasp", 52.5),
    ]


def test_classifier_none_takes_the_graphs_own_probabilities(tmp_path):
    model, spec = classifier("none", logits=(0.25, 0.7, 0.05))
    labels = run(tmp_path, model, spec, Image.new("RGB", (300, 200)))
    assert [(label["Name"], label["Confidence"]) for label in labels] == [("flower", pytest.approx(70.0))]


SOLID = (200, 100, 50)


def channel_means(tmp_path, layout, dtype, input_spec, size=(64, 64), colour=SOLID):
    model = channel_mean_model(layout, dtype)
    spec = {"format": "classifier", "labels": ["first", "second", "third"], "input": input_spec}
    labels = run(tmp_path, model, spec, Image.new("RGB", size, colour), everything)
    return {label["Name"]: label["Confidence"] / 100 for label in labels}


def test_float_nchw_input_is_value_times_scale_minus_mean_over_std_per_channel(tmp_path):
    # R 200 -> (200/255 - 0.5) / 0.5 = 0.5686; G 100 -> 100/255 = 0.3922; B 50 -> (50/255 - 0.1) / 0.5 = 0.1922.
    input_spec = {"width": 64, "height": 64, "mean": [0.5, 0, 0.1], "std": [0.5, 1, 0.5], "resize": "stretch"}
    means = channel_means(tmp_path, "NCHW", 1, input_spec)
    assert means == {
        "first": pytest.approx((200 / 255 - 0.5) / 0.5, abs=1e-5),
        "second": pytest.approx(100 / 255, abs=1e-5),
        "third": pytest.approx((50 / 255 - 0.1) / 0.5, abs=1e-5),
    }


def test_bgr_channels_reverse_the_order_the_model_sees(tmp_path):
    input_spec = {"width": 64, "height": 64, "channels": "BGR", "resize": "stretch"}
    means = channel_means(tmp_path, "NCHW", 1, input_spec)
    assert means == {
        "first": pytest.approx(50 / 255, abs=1e-5),
        "second": pytest.approx(100 / 255, abs=1e-5),
        "third": pytest.approx(200 / 255, abs=1e-5),
    }


def test_uint8_nhwc_input_gets_the_pixels_as_they_are(tmp_path):
    # A score over 1 counts as 100%: the raw means 200, 100 and 50 all reach it.
    input_spec = {"width": 64, "height": 64, "layout": "NHWC", "dtype": "uint8", "resize": "stretch"}
    means = channel_means(tmp_path, "NHWC", UINT8, input_spec, colour=(0, 1, 0))
    assert means == {"first": 0.0, "second": 1.0, "third": 0.0}


def test_letterbox_pads_with_grey_114_where_the_image_is_not(tmp_path):
    # A 128x64 image in a 64x64 input fills half of it: the mean of each channel is (colour + 114) / 2.
    input_spec = {"width": 64, "height": 64, "scale": 1.0}
    means = channel_means(tmp_path, "NCHW", 1, input_spec, size=(128, 64))
    assert means == {
        "first": pytest.approx(1.0),  # (200 + 114) / 2 = 157: over 1, counted as 100%
        "second": pytest.approx(1.0),
        "third": pytest.approx(1.0),
    }
    assert channel_means(tmp_path, "NCHW", 1, {**input_spec, "scale": 1 / 255}, size=(64, 128)) == {
        "first": pytest.approx((200 + 114) / 2 / 255, abs=1e-5),
        "second": pytest.approx((100 + 114) / 2 / 255, abs=1e-5),
        "third": pytest.approx((50 + 114) / 2 / 255, abs=1e-5),
    }
