#!/usr/bin/env python3
"""Write a tiny ONNX detector and its spec, to try the onnx backend without a model of your own (README, "Your own
model"): a yolo-e2e model that answers one fixed box ("bee", 90%, the middle of a 640 x 640 input) whatever the
image. It shows the plumbing, not a model: export your own as docs/own-model.md says.

    .venv/bin/python scripts/tiny_onnx_model.py demo-output/tiny.onnx
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

BOX = [[[160.0, 160.0, 480.0, 480.0, 0.9, 0.0]]]
"""x1, y1, x2, y2 in input pixels, score, class (0-based): one detection of class 0."""
SPEC = {"format": "yolo-e2e", "labels": ["bee", "flower"], "input": {"width": 640, "height": 640}}


def tiny_model() -> onnx.ModelProto:
    image = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 640, 640])
    output = helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 1, 6])
    nodes = [  # the box, plus 0 x the image's sum: the output depends on the input as a real model's does
        helper.make_node("ReduceSum", ["images"], ["total"], keepdims=0),
        helper.make_node("Mul", ["total", "zero"], ["nothing"]),
        helper.make_node("Add", ["box", "nothing"], ["output0"]),
    ]
    constants = [
        numpy_helper.from_array(np.array(0, np.float32), "zero"),
        numpy_helper.from_array(np.array(BOX, np.float32), "box"),
    ]
    graph = helper.make_graph(nodes, "tiny", [image], [output], constants)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    return model


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: tiny_onnx_model.py OUT.onnx (writes OUT.onnx and its spec OUT.onnx.json)")
    path = Path(sys.argv[1])
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(tiny_model(), str(path))
    path.with_name(path.name + ".json").write_text(json.dumps(SPEC, indent=2) + "\n")
    print(f"Wrote {path} and {path.name}.json")


if __name__ == "__main__":
    main()
