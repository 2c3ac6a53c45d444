"""The DIY detector as an ONNX graph (onnx.helper) with its `<model>.onnx.json` spec: `yolo-raw` output
[1, 4 + C, cells] (cx, cy, w, h in input pixels, then each label's score), letterboxed float32 NCHW RGB input in
[0, 1]. The graph computes what `DiyDetector.raw_output` computes, operator by operator:

    colour memberships  Relu(Conv1x1([x, x²]))       (||x - c||² expanded, so one Conv per colour)
    edges               Abs(Conv3x3(x))              (grey and Sobel in one kernel)
    cell averages       AveragePool(cell, stride cell)
    scores              Softmax(Conv context x context)   the logistic regression, standardization folded in
    boxes               Conv context x context, + cell centres, Exp for the sizes, x cell
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from customlabels.diy.grid import GREY, SOBEL, DiyDetector

INPUT, OUTPUT = "images", "output0"
OPSET = 17
NMS_IOU = 0.45
MAX_DETECTIONS = 100


def spec(detector: DiyDetector) -> dict[str, Any]:
    """The model spec the onnx backend reads (docs/own-model.md)."""
    size = detector.grid.size
    return {
        "format": "yolo-raw",
        "labels": list(detector.labels),
        "input": {
            "width": size,
            "height": size,
            "layout": "NCHW",
            "dtype": "float32",
            "channels": "RGB",
            "scale": 1 / 255,
            "mean": [0, 0, 0],
            "std": [1, 1, 1],
            "resize": "letterbox",
        },
        "activation": "none",
        "nms_iou": NMS_IOU,
        "max_detections": MAX_DETECTIONS,
    }


def folded(coef: np.ndarray, intercept: np.ndarray, detector: DiyDetector) -> tuple[np.ndarray, np.ndarray]:
    """A regression on standardized descriptions as a Conv kernel [outputs, F, context, context] and bias over the
    cell averages: w / scale, and b - sum(w * mean / scale)."""
    context = detector.grid.context
    weights = coef / detector.scale
    bias = intercept - (coef * detector.mean / detector.scale).sum(axis=1)
    return weights.reshape(len(coef), -1, context, context).astype(np.float32), bias.astype(np.float32)


def _initializers(detector: DiyDetector) -> dict[str, np.ndarray]:
    colours, radius_squared = detector.colours.astype(np.float64), detector.radius**2
    membership_weights = np.concatenate([2 * colours, -np.ones_like(colours)], axis=1) / radius_squared
    membership_bias = 1 - (colours**2).sum(axis=1) / radius_squared
    scores_weights, scores_bias = folded(detector.class_coef, detector.class_intercept, detector)
    box_weights, box_bias = folded(detector.box_coef, detector.box_intercept, detector)
    x, y = detector.grid.centres()
    side = detector.grid.cells_per_side
    centres = np.stack([x, y]).reshape(1, 2, side, side) / detector.grid.cell
    return {
        "membership_w": membership_weights.reshape(len(colours), 6, 1, 1).astype(np.float32),
        "membership_b": membership_bias.astype(np.float32),
        "edge_w": (SOBEL[:, None] * GREY[None, :, None, None]).astype(np.float32),
        "scores_w": scores_weights,
        "scores_b": scores_bias,
        "box_w": box_weights,
        "box_b": box_bias,
        "centres": centres.astype(np.float32),
        "cell": np.array(detector.grid.cell, dtype=np.float32),
        "output_shape": np.array([1, 4 + len(detector.labels), side * side], dtype=np.int64),
        **{name: np.array(value, dtype=np.int64) for name, value in _slices(len(detector.labels)).items()},
    }


def _slices(labels: int) -> dict[str, list[int]]:
    return {"axis1": [1], "at0": [0], "at1": [1], "at2": [2], "at4": [4], "end": [1 + labels]}


def _nodes(detector: DiyDetector) -> list:
    from onnx import helper

    context, cell = detector.grid.context, detector.grid.cell
    reach = context // 2

    def node(op: str, inputs: list[str], output: str, **attributes):
        return helper.make_node(op, inputs, [output], name=output, **attributes)

    return [
        node("Mul", [INPUT, INPUT], "squares"),
        node("Concat", [INPUT, "squares"], "with_squares", axis=1),
        node("Conv", ["with_squares", "membership_w", "membership_b"], "membership_linear"),
        node("Relu", ["membership_linear"], "memberships"),
        node("Conv", [INPUT, "edge_w"], "edges_signed", pads=[1, 1, 1, 1]),
        node("Abs", ["edges_signed"], "edges"),
        node("Concat", ["memberships", "edges"], "features", axis=1),
        node("AveragePool", ["features"], "cells", kernel_shape=[cell, cell], strides=[cell, cell]),
        node("Conv", ["cells", "scores_w", "scores_b"], "logits", pads=[reach] * 4),
        node("Softmax", ["logits"], "probabilities", axis=1),
        node("Slice", ["probabilities", "at1", "end", "axis1"], "scores"),
        node("Conv", ["cells", "box_w", "box_b"], "box_terms", pads=[reach] * 4),
        node("Slice", ["box_terms", "at0", "at2", "axis1"], "offsets"),
        node("Add", ["offsets", "centres"], "centres_in_cells"),
        node("Mul", ["centres_in_cells", "cell"], "xy"),
        node("Slice", ["box_terms", "at2", "at4", "axis1"], "log_sizes"),
        node("Exp", ["log_sizes"], "sizes_in_cells"),
        node("Mul", ["sizes_in_cells", "cell"], "wh"),
        node("Concat", ["xy", "wh", "scores"], "grid_output", axis=1),
        node("Reshape", ["grid_output", "output_shape"], OUTPUT),
    ]


def model_proto(detector: DiyDetector, metadata: dict[str, str] | None = None):
    """The ONNX model; `metadata` (training facts: the manifest, images, settings) goes into its metadata_props."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    size, labels = detector.grid.size, len(detector.labels)
    graph = helper.make_graph(
        _nodes(detector),
        "customlabels-diy",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [1, 4 + labels, detector.grid.cells_per_side**2])],
        initializer=[numpy_helper.from_array(value, name) for name, value in _initializers(detector).items()],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="customlabels model fit-diy"
    )
    model.ir_version = 8  # readable by onnxruntime releases back to 1.10
    helper.set_model_props(model, metadata or {})
    onnx.checker.check_model(model)
    return model


def write(detector: DiyDetector, path: Path, metadata: dict[str, str] | None = None) -> tuple[Path, Path]:
    """MODEL.onnx and MODEL.onnx.json beside it."""
    import onnx

    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model_proto(detector, metadata), path)
    spec_path = path.with_name(path.name + ".json")
    spec_path.write_text(json.dumps(spec(detector), indent=2) + "\n", encoding="utf-8")
    return path, spec_path
