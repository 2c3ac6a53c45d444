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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Any, Generic, TypeVar

OBJECT_DETECTION = "groundtruth/object-detection"
CLASSIFICATION = "groundtruth/image-classification"
MULTILABEL = "groundtruth/image-classification-multilabel"
T = TypeVar("T")


class ManifestError(ValueError):
    """A manifest line that cannot be read; the message names the file and line and what is wrong."""


@dataclass(frozen=True)
class Box:
    """A labeled box in pixels."""

    label: str
    left: float
    top: float
    width: float
    height: float


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
        return self.source_ref.split("://", 1)[-1].split("/", 1)[-1]


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
    """The entry of one manifest line already decoded from JSON."""
    where = f"{source}:{number}"
    if not isinstance(document, dict) or not isinstance(document.get("source-ref"), str):
        raise ManifestError(f'{where}: every line needs a "source-ref" with the image\'s s3:// URI')
    boxes: list[Box] = []
    labels: list[str] = []
    size: dict[str, Any] = {}
    for attribute, value in document.items():
        if attribute == "source-ref" or attribute.endswith("-metadata"):
            continue
        metadata = document.get(f"{attribute}-metadata")
        if not isinstance(metadata, dict) or "type" not in metadata:
            raise ManifestError(f'{where}: label attribute "{attribute}" has no "{attribute}-metadata" with a type')
        try:
            kind = metadata["type"]
            if kind == OBJECT_DETECTION:
                class_map = metadata["class-map"]
                size = (value.get("image_size") or [{}])[0]
                boxes += [
                    Box(
                        class_map[str(a["class_id"])],
                        float(a["left"]),
                        float(a["top"]),
                        float(a["width"]),
                        float(a["height"]),
                    )
                    for a in value["annotations"]
                ]
            elif kind == CLASSIFICATION:
                labels.append(metadata["class-name"])
            elif kind == MULTILABEL:
                labels += [metadata["class-map"][str(class_id)] for class_id in value]
            else:
                raise ManifestError(f'{where}: unsupported label type {kind!r} of "{attribute}"')
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            if isinstance(error, ManifestError):
                raise
            raise ManifestError(f'{where}: malformed "{attribute}" ({type(error).__name__}: {error})') from None
    return ManifestEntry(
        number, document["source-ref"], tuple(boxes), tuple(labels), size.get("width"), size.get("height")
    )


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
