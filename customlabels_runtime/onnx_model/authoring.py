"""Writing a model's spec file: the API `customlabels model inspect --write-spec` and the benchmarks call.

    from customlabels_runtime.onnx_model.authoring import write_spec
    from customlabels_runtime.onnx_model.spec import ModelSpec, InputSpec
    write_spec("bees.onnx", ModelSpec("yolo-raw", ("bee", "flower"), InputSpec(width=320, height=320)))

`write_spec(path)` without a spec writes what the graph and its metadata suggest, to edit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import onnxruntime

from customlabels_runtime.onnx_model.graph import Graph, describe, metadata_spec, mismatches, suggested_document
from customlabels_runtime.onnx_model.spec import ModelSpec, SpecError, parse_spec, spec_path


def read_graph(model_path: str | Path) -> Graph:
    """The graph of a model file as onnxruntime loads it."""
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return describe(onnxruntime.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"]))


def suggested_spec(graph: Graph) -> dict[str, Any]:
    """A spec document for the graph: its metadata's labels and size over what its tensors suggest."""
    document, derived = suggested_document(graph), metadata_spec(graph)
    document["input"].update(derived.pop("input", {}))
    return {**document, **derived}


def write_spec(model_path: str | Path, spec: ModelSpec | dict[str, Any] | None = None) -> Path:
    """Write `<model file>.json` beside the model: `spec` (a ModelSpec or its document), else the suggested one.
    A given spec must fit the graph (SpecError otherwise); a suggested one is written as it is, to edit. Returns the
    spec file's path."""
    graph = read_graph(model_path)
    if spec is None:
        document = suggested_spec(graph)
    else:
        checked = spec if isinstance(spec, ModelSpec) else parse_spec(spec)
        problems = mismatches(checked, graph)
        if problems:
            raise SpecError(problems)
        document = checked.to_document()
    path = spec_path(model_path)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path
