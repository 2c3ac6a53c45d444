"""The model's graph as onnxruntime sees it (inputs, outputs, metadata), the spec checked against it before any
image, and the spec a graph suggests (`customlabels model inspect --write-spec`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from customlabels_runtime.onnx_model.spec import ModelSpec, metadata_document

ONNX_TYPES = {"float32": "tensor(float)", "uint8": "tensor(uint8)"}
TF_OD_API_OUTPUTS = ("detection_boxes", "detection_scores", "detection_classes")


@dataclass(frozen=True)
class Tensor:
    """One input or output: its name, its shape (a whole number per fixed dimension, None or a name otherwise)
    and its onnxruntime type (`tensor(float)`)."""

    name: str
    shape: tuple[int | str | None, ...]
    type: str

    def fixed(self, axis: int) -> int | None:
        size = self.shape[axis] if -len(self.shape) <= axis < len(self.shape) else None
        return size if isinstance(size, int) and size > 0 else None

    def dims(self) -> str:
        """`[1, 3, ?, ?]`: its shape, `?` for each dimension that is not fixed."""
        sizes = ("?" if self.fixed(axis) is None else str(size) for axis, size in enumerate(self.shape))
        return "[" + ", ".join(sizes) + "]"

    def element_type(self) -> str:
        return self.type.removeprefix("tensor(").removesuffix(")")

    def describe(self) -> str:
        return f"{self.name} {self.dims()} {self.element_type()}"


@dataclass(frozen=True)
class Graph:
    inputs: tuple[Tensor, ...]
    outputs: tuple[Tensor, ...]
    metadata: Mapping[str, str]

    def output(self, name: str) -> Tensor | None:
        return next((tensor for tensor in self.outputs if tensor.name == name), None)


def describe(session: Any) -> Graph:
    """The graph of an `onnxruntime.InferenceSession`."""

    def tensors(args: list[Any]) -> tuple[Tensor, ...]:
        return tuple(Tensor(arg.name, tuple(arg.shape), arg.type) for arg in args)

    metadata = dict(session.get_modelmeta().custom_metadata_map)
    return Graph(tensors(session.get_inputs()), tensors(session.get_outputs()), metadata)


def mismatches(spec: ModelSpec, graph: Graph) -> list[str]:
    """Where the spec does not fit the graph, one line each naming the field and the fix; [] when it fits."""
    if len(graph.inputs) != 1:
        names = ", ".join(tensor.name for tensor in graph.inputs)
        return [
            f"the model has {len(graph.inputs)} inputs ({names}); the pipeline feeds one image tensor. Fix: "
            "export the model with a single image input"
        ]
    return _input_mismatches(spec, graph.inputs[0]) + _output_mismatches(spec, graph)


def _input_mismatches(spec: ModelSpec, tensor: Tensor) -> list[str]:
    wanted = spec.input
    if len(tensor.shape) != 4:
        return [
            f"the input {tensor.describe()} has rank {len(tensor.shape)}; an image input has rank 4 "
            "([1, 3, H, W] or [1, H, W, 3]). Fix: export the model with a batch of images as its input"
        ]
    problems = []
    if tensor.type != ONNX_TYPES[wanted.dtype]:
        actual = next((dtype for dtype, onnx in ONNX_TYPES.items() if onnx == tensor.type), None)
        fix = f'"input": {{"dtype": "{actual}"}}' if actual else "export the model with a float32 or uint8 input"
        problems.append(f"input.dtype is {wanted.dtype} but the input {tensor.describe()} is not. Fix: {fix}")
    channel_axis, height_axis, width_axis = (1, 2, 3) if wanted.layout == "NCHW" else (3, 1, 2)
    if tensor.fixed(channel_axis) not in (None, 3):
        other = "NHWC" if wanted.layout == "NCHW" else "NCHW"
        problems.append(
            f"input.layout is {wanted.layout} but the input {tensor.describe()} has no 3 channels "
            f'there. Fix: "input": {{"layout": "{other}"}}'
        )
        return problems
    for field, axis, value in (("height", height_axis, wanted.height), ("width", width_axis, wanted.width)):
        size = tensor.fixed(axis)
        if size is not None and size != value:
            problems.append(
                f"input.{field} is {value} but the input {tensor.describe()} takes {size}. Fix: "
                f'"input": {{"{field}": {size}}}'
            )
    if tensor.fixed(0) not in (None, 1):
        problems.append(
            f"the input {tensor.describe()} takes a batch of {tensor.fixed(0)}; the pipeline sends one "
            "image at a time. Fix: export with batch size 1 or a dynamic batch"
        )
    return problems


def _output_mismatches(spec: ModelSpec, graph: Graph) -> list[str]:
    labels = len(spec.labels)
    if spec.format == "tf-od-api":
        missing = [name for name in TF_OD_API_OUTPUTS if graph.output(name) is None]
        if missing:
            return [
                f"format is tf-od-api but the model has no output {', '.join(missing)} (it has "
                f"{_names(graph)}). Fix: export with exporter_main_v2.py and tf2onnx, or pick the format "
                "its outputs are"
            ]
        boxes = graph.output("detection_boxes")
        if len(boxes.shape) != 3 or boxes.fixed(2) not in (None, 4):
            return [
                f"format is tf-od-api but {boxes.describe()} is not [1, N, 4]. Fix: pick the format its outputs are"
            ]
        return []
    output = graph.outputs[0]
    if spec.format == "classifier":
        if len(output.shape) != 2:
            return [
                f"format is classifier but the first output {output.describe()} is not [1, C]. Fix: pick the "
                "format its outputs are (yolo-raw, yolo-e2e, tf-od-api)"
            ]
        if output.fixed(1) not in (None, labels):
            return [
                f"labels has {labels} names but the output {output.describe()} scores {output.fixed(1)} "
                "classes. Fix: one name per class, in the model's class order"
            ]
        return []
    if len(output.shape) != 3:
        return [
            f"format is {spec.format} but the first output {output.describe()} has rank {len(output.shape)}, "
            "not 3. Fix: pick the format its outputs are"
        ]
    if spec.format == "yolo-e2e" and output.fixed(2) not in (None, 6):
        return [
            f"format is yolo-e2e but the output {output.describe()} is not [1, N, 6] (x1, y1, x2, y2, score, "
            'class). Fix: "format": "yolo-raw" for [1, 4+C, N] outputs'
        ]
    if spec.format == "yolo-raw" and output.fixed(1) not in (None, 4 + labels):
        fix = _yolo_raw_labels_fix(output.fixed(1) - 4)
        return [
            f"format is yolo-raw with {labels} label{'s' if labels != 1 else ''}, so the output should be "
            f"[1, {4 + labels}, N], but it is {output.describe()}. Fix: {fix}"
        ]
    return []


def _names(graph: Graph) -> str:
    return ", ".join(tensor.name for tensor in graph.outputs) or "none"


def suggested_document(graph: Graph) -> dict[str, Any]:
    """A spec document the graph suggests: the format its outputs look like, the input size, layout and dtype it
    declares, labels from its metadata (else `class_0`... to rename). A start, to check and edit."""
    tensor = graph.inputs[0] if graph.inputs else Tensor("input", (1, 3, 640, 640), "tensor(float)")
    layout = "NHWC" if tensor.fixed(3) == 3 and tensor.fixed(1) != 3 else "NCHW"
    height, width = (tensor.fixed(1), tensor.fixed(2)) if layout == "NHWC" else (tensor.fixed(2), tensor.fixed(3))
    spec_format, classes = guessed_format(graph)
    dtype = "uint8" if tensor.type == ONNX_TYPES["uint8"] else "float32"
    document: dict[str, Any] = {"format": spec_format, "labels": [f"class_{i}" for i in range(max(classes, 1))]}
    document["input"] = {"width": width or 640, "height": height or 640, "layout": layout, "dtype": dtype}
    if dtype == "uint8":
        document["input"]["scale"] = 1.0
    if spec_format == "tf-od-api":
        document["labels"] = [f"class_{i}" for i in range(1, max(classes, 1) + 1)]
        document["input"]["resize"] = "stretch"
    return document


def metadata_spec(graph: Graph) -> dict[str, Any]:
    """What the model's metadata says of its spec (`spec.metadata_document`), with the format its outputs look like
    when the metadata names the labels but not the format (an Ultralytics detector)."""
    document = metadata_document(graph.metadata)
    if "labels" in document and "format" not in document:
        document["format"] = guessed_format(graph)[0]
    return document


def guessed_format(graph: Graph) -> tuple[str, int]:
    """The format the outputs look like, and how many classes they show (0 when they do not say)."""
    if graph.output("detection_boxes") is not None:
        return "tf-od-api", 0
    output = graph.outputs[0] if graph.outputs else Tensor("output", (1, 1), "tensor(float)")
    if len(output.shape) == 2:
        return "classifier", output.fixed(1) or 0
    if len(output.shape) == 3 and output.fixed(2) == 6:
        return "yolo-e2e", 0
    return "yolo-raw", max((output.fixed(1) or 5) - 4, 1)


def _yolo_raw_labels_fix(classes: int) -> str:
    """How to mend a yolo-raw spec whose labels do not fit an output of 4 + `classes` rows."""
    if classes < 1:
        return 'pick the format its outputs are ("yolo-e2e" for [1, N, 6])'
    return f"give {classes} label{'s' if classes != 1 else ''}, one per class in the model's class order"
