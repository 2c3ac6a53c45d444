"""Tiny ONNX models built with onnx.helper, whose right answers the tests work out by hand: constant outputs (for
the decoding and the box mapping) and per-channel means of the input (for the image's preparation)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT, UINT8 = TensorProto.FLOAT, TensorProto.UINT8


def image_input(layout: str = "NCHW", dtype: int = FLOAT, width: int = 640, height: int = 640, name: str = "images"):
    shape = [1, 3, height, width] if layout == "NCHW" else [1, height, width, 3]
    return helper.make_tensor_value_info(name, dtype, shape)


def constant_model(outputs: dict[str, np.ndarray], graph_input=None, metadata: dict[str, str] | None = None):
    """A model that answers `outputs` (name -> array) whatever its image input: the input is read (a sum times
    zero is added to the first output), so onnxruntime cannot leave it out."""
    graph_input = graph_input or image_input()
    nodes, initializers, value_infos = [], [], []
    first = next(iter(outputs))
    nodes.append(helper.make_node("Cast", [graph_input.name], ["as_float"], to=FLOAT))
    nodes.append(helper.make_node("ReduceSum", ["as_float"], ["total"], keepdims=0))
    nodes.append(helper.make_node("Mul", ["total", "zero"], ["nothing"]))
    initializers.append(numpy_helper.from_array(np.array(0, np.float32), "zero"))
    for name, value in outputs.items():
        value = np.asarray(value, np.float32)
        initializers.append(numpy_helper.from_array(value, f"{name}_value"))
        if name == first:
            nodes.append(helper.make_node("Add", [f"{name}_value", "nothing"], [name]))
        else:
            nodes.append(helper.make_node("Identity", [f"{name}_value"], [name]))
        value_infos.append(helper.make_tensor_value_info(name, FLOAT, list(value.shape)))
    graph = helper.make_graph(nodes, "constant", [graph_input], value_infos, initializers)
    return finish(graph, metadata)


def channel_mean_model(layout: str = "NCHW", dtype: int = FLOAT, width: int = 64, height: int = 64):
    """A classifier whose three scores are the mean of each channel of its input tensor (as the model sees them):
    what the image's preparation (resize, channels, layout, normalization) made of the picture."""
    graph_input = image_input(layout, dtype, width, height)
    axes = [2, 3] if layout == "NCHW" else [1, 2]
    nodes = [
        helper.make_node("Cast", [graph_input.name], ["as_float"], to=FLOAT),
        helper.make_node("ReduceMean", ["as_float", "axes"], ["scores"], keepdims=0),
    ]
    initializers = [numpy_helper.from_array(np.array(axes, np.int64), "axes")]
    output = helper.make_tensor_value_info("scores", FLOAT, [1, 3])
    return finish(helper.make_graph(nodes, "channel_mean", [graph_input], [output], initializers), None)


def finish(graph, metadata: dict[str, str] | None):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    return model


def save(model, path: Path, spec: dict | None = None) -> Path:
    """Write the model (and its spec file beside it) and return the model's path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    if spec is not None:
        path.with_name(path.name + ".json").write_text(json.dumps(spec))
    return path
