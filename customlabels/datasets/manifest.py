"""SageMaker Ground Truth manifests, as Rekognition Custom Labels reads them.

One JSON object per line: `source-ref` (the image's S3 URI) and one or more label attributes, each with
a `<attribute>-metadata` object whose `type` says what it holds:

- `groundtruth/object-detection`: `{"annotations": [{"class_id", "left", "top", "width", "height"}],
  "image_size": [{"width", "height", "depth"}]}` (pixels) with `class-map` in the metadata;
- `groundtruth/image-classification`: a class id, with `class-name` in the metadata;
- `groundtruth/image-classification-multilabel`: a list of class ids, with `class-map`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any, Generic, TypeVar

OBJECT_DETECTION = "groundtruth/object-detection"
CLASSIFICATION = "groundtruth/image-classification"
MULTILABEL = "groundtruth/image-classification-multilabel"
T = TypeVar("T")


class ManifestError(ValueError):
    """A manifest line that cannot be read; the message names the file and line and what is wrong, and `problems`
    each problem of the line on its own (with the Custom Labels error code where the service has one)."""

    def __init__(self, message: str, problems: Sequence[LineProblem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


@dataclass(frozen=True)
class LineProblem:
    rule: str
    """Custom Labels' validation error code (upper case), or a lower-case name of our own."""
    message: str


INVALID_FORMAT = "ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT"
INVALID_METADATA = "ERROR_INVALID_LABEL_ATTRIBUTE_METADATA_FORMAT"
MISSING_CLASS = "ERROR_MISSING_CLASS_MAP_ID"
INVALID_BOX = "ERROR_INVALID_BOUNDING_BOX"
"""The codes Custom Labels' "Non-terminal JSON line validation errors" give these problems."""
BOX_SIDES = ("left", "top", "width", "height")


@dataclass(frozen=True)
class Box:
    """A labeled box in pixels."""

    label: str
    left: float
    top: float
    width: float
    height: float
    annotation: int | None = field(default=None, compare=False)
    """Its place (1-based) in the line's `annotations`, to name it in a problem."""


def source_ref_key(source_ref: str) -> str:
    """The object key of a manifest line's `source-ref` (`s3://bucket/a/b.jpg` -> `a/b.jpg`)."""
    return source_ref.split("://", 1)[-1].split("/", 1)[-1]


@dataclass(frozen=True)
class ManifestEntry:
    line: int
    source_ref: str
    boxes: tuple[Box, ...] = ()
    labels: tuple[str, ...] = ()
    image_width: int | None = None
    image_height: int | None = None

    @property
    def key(self) -> str:
        """The object key of `source-ref` (without `s3://bucket/`)."""
        return source_ref_key(self.source_ref)

    @property
    def all_labels(self) -> frozenset[str]:
        """Every label the line gives its image: the image-level labels and the labels of its boxes."""
        return frozenset((*self.labels, *(box.label for box in self.boxes)))


class KeyMatcher(Generic[T]):
    """Finds the item (a manifest entry, a local file) of an image key by the longest common trailing path
    (the manifest's `source-ref` bucket and prefix, or a local folder, usually differ from the pipeline's)."""

    def __init__(self, items: Iterable[T], key: Callable[[T], str] = attrgetter("key")) -> None:
        self._by_suffix: dict[str, T] = {}
        for item in items:
            parts = key(item).split("/")
            for start in range(len(parts)):
                self._by_suffix.setdefault("/".join(parts[start:]), item)

    def match(self, key: str) -> T | None:
        parts = key.split("/")
        for start in range(len(parts)):
            entry = self._by_suffix.get("/".join(parts[start:]))
            if entry is not None:
                return entry
        return None


def read_text(path: str | Path) -> str:
    """A manifest's text; a file that is missing, a folder or not text raises ManifestError naming it."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ManifestError(
            f"{path}: not a text file. Fix: give the Ground Truth manifest (JSON lines) itself"
        ) from None
    except OSError as error:
        raise ManifestError(f"{path}: {error.strerror}. Fix: give the path of a Ground Truth manifest file") from None


def read_manifest(path: str | Path) -> list[ManifestEntry]:
    return [
        parse_line(line, number, str(path))
        for number, line in enumerate(read_text(path).splitlines(), start=1)
        if line.strip()
    ]


def parse_line(line: str, number: int, source: str = "manifest") -> ManifestEntry:
    try:
        document = json.loads(line)
    except json.JSONDecodeError as error:
        raise ManifestError(f"{source}:{number}: not a JSON object ({error.msg})") from None
    return parse_document(document, number, source)


def parse_document(document: Any, number: int, source: str = "manifest") -> ManifestEntry:
    """The entry of one manifest line already decoded from JSON; a line with problems raises ManifestError naming
    every one of them."""
    entry, problems = check_document(document, number, source)
    if problems:
        raise ManifestError(f"{source}:{number}: " + "; ".join(p.message for p in problems), problems)
    return entry


def _number(value: Any) -> float | str:
    """`value` as a finite float, or why it is not one."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return f"{json.dumps(value)} is not a number"
    try:
        number = float(value)
    except ValueError:
        return f"{json.dumps(value)} is not a number"
    return (
        number
        if math.isfinite(number)
        else f"{json.dumps(value)} is not a finite number (NaN and Infinity are not JSON)"
    )


def check_document(document: Any, number: int, source: str = "manifest") -> tuple[ManifestEntry, list[LineProblem]]:
    """The entry of one manifest line (from the parts that can be read) and every problem of the line: each box
    with a class_id missing from the class-map, a side that is missing, not a number or not finite, and so on."""
    where = f"{source}:{number}"
    if not isinstance(document, dict) or not isinstance(document.get("source-ref"), str):
        raise ManifestError(f'{where}: every line needs a "source-ref" with the image\'s s3:// URI')
    boxes: list[Box] = []
    labels: list[str] = []
    size: dict[str, Any] = {}
    problems: list[LineProblem] = []
    for attribute, value in document.items():
        if attribute == "source-ref" or attribute.endswith("-metadata"):
            continue
        metadata = document.get(f"{attribute}-metadata")
        if not isinstance(metadata, dict) or "type" not in metadata:
            problems.append(
                LineProblem(
                    "label-attribute", f'label attribute "{attribute}" has no "{attribute}-metadata" with a type'
                )
            )
            continue
        kind = metadata["type"]
        found: list[tuple[str, str]] = []
        if kind == OBJECT_DETECTION:
            attribute_boxes, size = _boxes(value, metadata, found)
            boxes += attribute_boxes
        elif kind == CLASSIFICATION:
            if isinstance(metadata.get("class-name"), str):
                labels.append(metadata["class-name"])
            else:
                found.append((INVALID_METADATA, f'"{attribute}-metadata" has no "class-name" string'))
        elif kind == MULTILABEL:
            labels += _class_names(value, metadata, found)
        else:
            problems.append(LineProblem("label-attribute", f'unsupported label type {kind!r} of "{attribute}"'))
        problems += [LineProblem(rule, f'malformed "{attribute}": {message}') for rule, message in found]
    entry = ManifestEntry(
        number, document["source-ref"], tuple(boxes), tuple(labels), size.get("width"), size.get("height")
    )
    return entry, problems


def _class_map(metadata: dict[str, Any], found: list[tuple[str, str]]) -> dict[str, Any] | None:
    class_map = metadata.get("class-map")
    if not isinstance(class_map, dict):
        found.append((INVALID_METADATA, 'its metadata has no "class-map" object'))
        return None
    return class_map


def _boxes(value: Any, metadata: dict[str, Any], found: list[tuple[str, str]]) -> tuple[list[Box], dict[str, Any]]:
    """The readable boxes of an object-detection attribute and its image size; each problem added to `found`."""
    class_map = _class_map(metadata, found)
    if not isinstance(value, dict):
        found.append((INVALID_FORMAT, f"{json.dumps(value)} is not an object with annotations and image_size"))
        return [], {}
    size = _image_size(value.get("image_size"), found)
    annotations = value.get("annotations")
    if not isinstance(annotations, list):
        found.append((INVALID_FORMAT, 'no "annotations" list'))
        return [], size
    boxes = []
    for index, annotation in enumerate(annotations, start=1):
        if not isinstance(annotation, dict):
            found.append((INVALID_FORMAT, f"annotation {index} is {json.dumps(annotation)}, not an object"))
            continue
        box = _box(index, annotation, class_map, found)
        if box is not None:
            boxes.append(box)
    return boxes, size


def _image_size(sizes: Any, found: list[tuple[str, str]]) -> dict[str, Any]:
    """The width and height of `image_size` that are numbers above 0; each problem added to `found`."""
    size: dict[str, Any] = {}
    if sizes is None:
        return size
    first = sizes[0] if isinstance(sizes, list) and sizes and isinstance(sizes[0], dict) else None
    if first is None:
        found.append((INVALID_FORMAT, "image_size is not a list holding the image's width and height"))
        return size
    for side in ("width", "height"):
        if side not in first:
            continue
        number = _number(first[side])
        if isinstance(number, str) or number <= 0:
            problem = number if isinstance(number, str) else f"{first[side]} is not above 0"
            found.append((INVALID_FORMAT, f"image_size {side}: {problem}"))
        else:
            size[side] = first[side]
    return size


def _box(
    index: int, annotation: dict[str, Any], class_map: dict[str, Any] | None, found: list[tuple[str, str]]
) -> Box | None:
    """The annotation's box, or None when its class or a side cannot be read; each problem added to `found`."""
    box_problems = []
    label = None
    if "class_id" not in annotation:
        box_problems.append((INVALID_FORMAT, f"annotation {index} has no class_id"))
    elif class_map is not None:
        label = class_map.get(str(annotation["class_id"]))
        if label is None:
            known = ", ".join(class_map) or "empty"
            box_problems.append(
                (
                    MISSING_CLASS,
                    f"annotation {index}: class_id {annotation['class_id']} is not in the class-map ({known})",
                )
            )
    sides = {}
    for side in BOX_SIDES:
        if side not in annotation:
            box_problems.append((INVALID_FORMAT, f"annotation {index} has no {side}"))
            continue
        number = _number(annotation[side])
        if isinstance(number, str):
            rule = INVALID_BOX if "finite" in number else INVALID_FORMAT
            box_problems.append((rule, f"annotation {index}: {side} {number}"))
        else:
            sides[side] = number
    found += box_problems
    if box_problems or not isinstance(label, str):
        return None
    return Box(label, *(sides[side] for side in BOX_SIDES), annotation=index)


def _class_names(value: Any, metadata: dict[str, Any], found: list[tuple[str, str]]) -> list[str]:
    class_map = _class_map(metadata, found)
    if not isinstance(value, list):
        found.append((INVALID_FORMAT, f"{json.dumps(value)} is not a list of class ids"))
        return []
    names = []
    for class_id in value:
        name = class_map.get(str(class_id)) if class_map is not None else None
        if isinstance(name, str):
            names.append(name)
        elif class_map is not None:
            found.append(
                (MISSING_CLASS, f"class id {json.dumps(class_id)} is not in the class-map ({', '.join(class_map)})")
            )
    return names


def object_detection_line(
    source_ref: str, width: int, height: int, boxes: list[Box], classes: list[str], attribute: str = "bounding-box"
) -> str:
    """A Ground Truth object-detection manifest line (what `read_manifest` reads back)."""
    return json.dumps(
        {
            "source-ref": source_ref,
            attribute: {
                "image_size": [{"width": width, "height": height, "depth": 3}],
                "annotations": [
                    {
                        "class_id": classes.index(b.label),
                        "left": round(b.left),
                        "top": round(b.top),
                        "width": round(b.width),
                        "height": round(b.height),
                    }
                    for b in boxes
                ],
            },
            f"{attribute}-metadata": {
                "objects": [{"confidence": 1} for _ in boxes],
                "class-map": {str(i): name for i, name in enumerate(classes)},
                "type": OBJECT_DETECTION,
                "human-annotated": "yes",
                "creation-date": "2026-11-22T00:00:00",
                "job-name": "customlabels-sample",
            },
        },
        ensure_ascii=False,
    )
