"""A tiny ONNX detector and its spec, to try the onnx backend without a model of your own (`customlabels model
example`, README "Your own model"): a yolo-e2e model that answers one fixed box ("bee", 90%, the middle of its
640 x 640 input) whatever the image. It shows the plumbing, not a model: docs/own-model.md says how to export yours.
Built with `onnx.helper` (the `onnx` package, which only this needs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BOX = [[[160.0, 160.0, 480.0, 480.0, 0.9, 0.0]]]
"""x1, y1, x2, y2 in input pixels, score, class (0-based): one detection of class 0."""
SPEC = {"format": "yolo-e2e", "labels": ["bee", "flower"], "input": {"width": 640, "height": 640}}


def example_model() -> Any:
    """The model (an `onnx.ModelProto`): the box, plus 0 x the image's sum, so that the output depends on the input
    as a real model's does."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    image = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 640, 640])
    output = helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 1, 6])
    nodes = [
        helper.make_node("ReduceSum", ["images"], ["total"], keepdims=0),
        helper.make_node("Mul", ["total", "zero"], ["nothing"]),
        helper.make_node("Add", ["box", "nothing"], ["output0"]),
    ]
    constants = [
        numpy_helper.from_array(np.array(0, np.float32), "zero"),
        numpy_helper.from_array(np.array(BOX, np.float32), "box"),
    ]
    model = helper.make_model(
        helper.make_graph(nodes, "example", [image], [output], constants), opset_imports=[helper.make_opsetid("", 18)]
    )
    model.ir_version = 9
    onnx.checker.check_model(model)
    return model


def write_example_model(path: Path) -> tuple[Path, Path]:
    """Write the model at `path` and its spec beside it (`<path>.json`); both paths."""
    import onnx

    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(example_model(), str(path))
    spec = path.with_name(path.name + ".json")
    spec.write_text(json.dumps(SPEC, indent=2) + "\n", encoding="utf-8")
    return path, spec
