"""A loaded model: its onnxruntime session, the spec it runs with (checked against its graph before any image),
and what it says of an image in the result contract's terms (`Name`, `Confidence` 0-100, `Geometry.BoundingBox`
as ratios of the original image; a classifier's labels have no Geometry)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnxruntime
from PIL import Image

from customlabels_runtime.onnx_model.decode import Candidate, decode
from customlabels_runtime.onnx_model.graph import Graph, describe, metadata_spec, mismatches
from customlabels_runtime.onnx_model.preprocess import prepare
from customlabels_runtime.onnx_model.spec import ModelSpec, SpecError, parse_spec, spec_path

DEFAULT_CONFIDENCE = 50.0
"""The threshold of a label that has none (no `min_confidence`, no threshold of its own): an own model has no
assumed per-label threshold as a Custom Labels model has, so the pipeline keeps scores of 50% and above."""


@dataclass(frozen=True)
class ModelIdentity:
    """How results name the model (`Model` in docs/result-contract.md): where it came from and its SHA-256."""

    uri: str
    sha256: str

    def to_document(self) -> dict[str, str]:
        return {"Uri": self.uri, "Sha256": self.sha256}


def spec_document_of(model_path: Path) -> Any | None:
    """The JSON of the spec file beside a local model, None when there is none."""
    path = spec_path(model_path)
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise SpecError(
            [
                f"{path.name} is not valid JSON ({error}). Fix: correct it, or delete it and run "
                f"`customlabels model inspect {model_path} --write-spec`"
            ]
        ) from None


def resolve_spec(graph: Graph, document: Any | None, where: str) -> ModelSpec:
    """The spec a model runs with: the spec file's fields over what the model's metadata says (labels and input
    size, as Ultralytics exports hold them; the format then as the outputs look); checked against the graph."""
    derived = metadata_spec(graph)
    if document is None and "labels" not in derived:
        raise SpecError(
            [
                f"{where} has no spec: no .json file beside it and no `names` in its metadata. Fix: "
                f"`customlabels model inspect {where} --write-spec`, then edit the labels and format"
            ]
        )
    if isinstance(document, Mapping):
        merged_input = {**derived.get("input", {}), **(document.get("input") or {})}
        document = {**derived, **document, **({"input": merged_input} if merged_input else {})}
    spec = parse_spec(derived if document is None else document, f"the spec of {where}")
    problems = mismatches(spec, graph)
    if problems:
        raise SpecError([f"the spec of {where} does not fit the model: {problem}" for problem in problems])
    return spec


class OwnModel:
    """One model in one execution environment: the session is built once and reused by every image."""

    def __init__(self, session: Any, spec: ModelSpec, identity: ModelIdentity) -> None:
        self.session, self.spec, self.identity = session, spec, identity
        self._input = session.get_inputs()[0].name
        self._outputs = [output.name for output in session.get_outputs()]

    @classmethod
    def load(cls, model: bytes, uri: str, spec_document: Any | None) -> OwnModel:
        """The model from its bytes, with the spec file's document (None: its metadata's); SpecError when they
        do not fit."""
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only: the function's logs are JSON lines
        session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        spec = resolve_spec(describe(session), spec_document, uri)
        return cls(session, spec, ModelIdentity(uri, hashlib.sha256(model).hexdigest()))

    @classmethod
    def from_file(cls, path: str | Path, uri: str | None = None) -> OwnModel:
        path = Path(path)
        return cls.load(path.read_bytes(), uri or path.name, spec_document_of(path))

    def _decode(self, tensor: Any, min_score: float) -> list[Candidate]:
        values = self.session.run(self._outputs, {self._input: tensor})
        return decode(self.spec, dict(zip(self._outputs, values, strict=True)), values[0], min_score)

    def custom_labels(self, image: Image.Image, threshold_for: Callable[[str], float | None]) -> list[dict]:
        """The labels of `image` that reach their threshold (`threshold_for(name)`, 0-100, None: DEFAULT_CONFIDENCE)
        in the result contract's shape, best first. A score over 1 (a graph's raw logits with `activation` none)
        counts as 100%."""
        thresholds = {name: threshold_for(name) for name in self.spec.labels}
        floors = {name: DEFAULT_CONFIDENCE if value is None else value for name, value in thresholds.items()}
        tensor, where = prepare(image, self.spec.input)
        labels = []
        for candidate in self._decode(tensor, min(floors.values()) / 100):
            name = self.spec.labels[candidate.label]
            confidence = candidate.score * 100
            if confidence < floors[name]:
                continue
            label: dict[str, Any] = {"Name": name, "Confidence": round(min(confidence, 100.0), 3)}
            if candidate.box is not None:
                label["Geometry"] = {"BoundingBox": where.box_ratios(*candidate.box)}
            labels.append(label)
        return labels
