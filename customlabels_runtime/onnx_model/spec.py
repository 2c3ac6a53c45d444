"""The model spec: what a model's input wants and what its outputs mean (docs/own-model.md, "The spec").

A JSON file beside the model, `<model file>.json` (`bees.onnx` -> `bees.onnx.json`), or, when there is none, what
the model's own metadata holds (`names` and `imgsz`, as Ultralytics exports write them). Every field but `format`
and `labels` has a default; the defaults of `tf-od-api` are those of its exports (uint8 NHWC pixels, stretched).
"""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FORMATS = ("tf-od-api", "yolo-e2e", "yolo-raw", "classifier")
LAYOUTS = ("NCHW", "NHWC")
DTYPES = ("float32", "uint8")
CHANNELS = ("RGB", "BGR")
RESIZES = ("letterbox", "stretch")
ACTIVATIONS = ("none", "softmax", "sigmoid")
SPEC_SUFFIX = ".json"


class SpecError(ValueError):
    """A spec that cannot describe this model: one line per problem, each naming the field and the fix."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class InputSpec:
    """How an image becomes the model's input tensor: resized to width x height (`letterbox` keeps the aspect
    ratio and pads equally on both sides, `stretch` does not), in `channels` order, laid out as `layout`, and for
    float32 inputs each value is (pixel * scale - mean) / std per channel; uint8 inputs get the pixels as they are."""

    width: int = 640
    height: int = 640
    layout: str = "NCHW"
    dtype: str = "float32"
    channels: str = "RGB"
    scale: float = 1 / 255
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    resize: str = "letterbox"


TF_OD_API_INPUT = InputSpec(layout="NHWC", dtype="uint8", resize="stretch", scale=1.0)
"""The input defaults of a TF2 Object Detection API export: uint8 pixels [1, H, W, 3]."""


@dataclass(frozen=True)
class ModelSpec:
    """What the outputs mean: `format` (one of FORMATS), `labels` by class index (0-based, the output's order; a
    tf-od-api class 1 is labels[0]), the classifier's `activation`, yolo-raw's per-class NMS IoU, and at most
    `max_detections` labels per image."""

    format: str
    labels: tuple[str, ...]
    input: InputSpec = field(default_factory=InputSpec)
    activation: str = "none"
    nms_iou: float = 0.45
    max_detections: int = 100

    def to_document(self) -> dict[str, Any]:
        """The spec as its JSON file holds it."""
        document = asdict(self)
        document["labels"] = list(self.labels)
        document["input"]["mean"], document["input"]["std"] = list(self.input.mean), list(self.input.std)
        return document


def spec_path(model_path: str | Path) -> Path:
    """Where a model's spec file is: `bees.onnx` -> `bees.onnx.json`."""
    path = Path(model_path)
    return path.with_name(path.name + SPEC_SUFFIX)


def parse_spec(document: Any, where: str = "the spec") -> ModelSpec:
    """A ModelSpec from its JSON document, defaults filled in; SpecError with every problem otherwise."""
    if not isinstance(document, Mapping):
        raise SpecError([f'{where} is not a JSON object. Fix: write {{"format": "yolo-e2e", "labels": [...]}}'])
    problems = _unknown(document, {"format", "labels", "input", "activation", "nms_iou", "max_detections"}, "")
    spec_format = document.get("format")
    if spec_format not in FORMATS:
        problems.append(f'format={spec_format!r} is not one of {", ".join(FORMATS)}. Fix: "format": "yolo-e2e"')
    labels = document.get("labels")
    if not isinstance(labels, list) or not labels or not all(isinstance(name, str) and name for name in labels):
        problems.append('labels must be a list of label names, one per class. Fix: "labels": ["bee", "flower"]')
    defaults = TF_OD_API_INPUT if spec_format == "tf-od-api" else InputSpec()
    input_spec, input_problems = _input(document.get("input", {}), defaults)
    problems += input_problems
    activation = document.get("activation", "none")
    if activation not in ACTIVATIONS:
        problems.append(f'activation={activation!r} is not one of {", ".join(ACTIVATIONS)}. Fix: "activation": "none"')
    elif activation != "none" and spec_format not in ("classifier", "yolo-raw"):
        problems.append(f"activation applies to classifier and yolo-raw scores, not {spec_format}. Fix: drop it")
    nms_iou = document.get("nms_iou", 0.45)
    if not _number(nms_iou) or not 0 < nms_iou <= 1:
        problems.append(f'nms_iou={nms_iou!r} must be a number in (0, 1]. Fix: "nms_iou": 0.45')
    max_detections = document.get("max_detections", 100)
    if not _whole(max_detections) or not 1 <= max_detections <= 1000:
        problems.append(f'max_detections={max_detections!r} must be a whole number 1-1000. Fix: "max_detections": 100')
    if problems:
        raise SpecError([f"{where}: {problem}" for problem in problems])
    return ModelSpec(spec_format, tuple(labels), input_spec, activation, float(nms_iou), int(max_detections))


def _input(document: Any, defaults: InputSpec) -> tuple[InputSpec, list[str]]:
    if not isinstance(document, Mapping):
        return defaults, ['input must be an object. Fix: "input": {"width": 640, "height": 640}']
    problems = _unknown(document, {f for f in asdict(defaults)}, "input.")
    values = {**asdict(defaults), **document}
    for name in ("width", "height"):
        if not _whole(values[name]) or not 1 <= values[name] <= 4096:
            problems.append(
                f"input.{name}={values[name]!r} must be a whole number of pixels 1-4096. Fix: the "
                "size the model was exported at, like 640"
            )
    for name, allowed in (("layout", LAYOUTS), ("dtype", DTYPES), ("channels", CHANNELS), ("resize", RESIZES)):
        if values[name] not in allowed:
            problems.append(
                f'input.{name}={values[name]!r} is not one of {", ".join(allowed)}. Fix: "{name}": "{allowed[0]}"'
            )
    if not _number(values["scale"]) or values["scale"] <= 0:
        problems.append(f"input.scale={values['scale']!r} must be a positive number. Fix: 0.00392156862745098 (1/255)")
    for name in ("mean", "std"):
        value = values[name]
        if not isinstance(value, list | tuple) or len(value) != 3 or not all(_number(v) for v in value):
            problems.append(f"input.{name}={value!r} must be three numbers, one per channel. Fix: [0, 0, 0]")
        elif name == "std" and not all(v > 0 for v in value):
            problems.append(f"input.std={value!r} must be positive. Fix: [1, 1, 1]")
    if problems:
        return defaults, problems
    values["mean"], values["std"] = tuple(map(float, values["mean"])), tuple(map(float, values["std"]))
    values["scale"] = float(values["scale"])
    return InputSpec(**values), []


def _unknown(document: Mapping, known: set[str], prefix: str) -> list[str]:
    return [
        f"{prefix}{name} is not a field of the spec. Fix: use {', '.join(sorted(known))}"
        for name in sorted(set(map(str, document)) - known)
    ]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def metadata_document(metadata: Mapping[str, str]) -> dict[str, Any]:
    """What a model's metadata (`metadata_props`) says of its spec: `names` (a dict by class index or a list, as
    Python or JSON text) as the labels, `imgsz` ([height, width] or one size) as the input size, `task`
    `classify` as the classifier format. Empty when it says nothing."""
    document: dict[str, Any] = {}
    names = _literal(metadata.get("names"))
    if isinstance(names, Mapping) and names:
        document["labels"] = [str(names[index]) for index in sorted(names, key=int)]
    elif isinstance(names, list) and names:
        document["labels"] = [str(name) for name in names]
    size = _literal(metadata.get("imgsz"))
    if isinstance(size, int) and not isinstance(size, bool):
        size = [size, size]
    if isinstance(size, list) and len(size) == 2 and all(_whole(side) for side in size):
        document["input"] = {"height": size[0], "width": size[1]}
    if metadata.get("task") == "classify":
        document["format"] = "classifier"
    return document


def _literal(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
