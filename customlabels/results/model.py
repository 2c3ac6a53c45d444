"""The pipeline's results as the tool reads them: one `ImageResult` per image with its `Prediction`s, made from a
result JSON of the product's contract (docs/result-contract.md), and every way a document breaks that contract.

Pure data and rules, no file or S3 access (that is `customlabels.results.reading`): evaluation scores these,
visualize draws them, review picks from them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from customlabels.escaping import finite
from customlabels_runtime.result_events import model_name


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    """0-100."""
    box: tuple[float, float, float, float] | None = None
    """Left, top, width, height as ratios of the image; None for an image-level label."""


@dataclass(frozen=True)
class ImageResult:
    key: str
    predictions: tuple[Prediction, ...] = ()
    error: str | None = None
    model: str | None = None
    """The model that made the result (`result_events.model_name`), when the result says."""


class ResultsError(ValueError):
    """Results that cannot be read; the message names the file or object."""


MALFORMED = "malformed result: "


class MalformedResultError(ResultsError):
    """A result-shaped JSON that breaks the contract (docs/result-contract.md); the message names every field that
    is wrong."""


def _number_problem(value: Any, low: float | None = None, high: float | None = None) -> str | None:
    """Why `value` is not a finite number (in low-high), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{value!r} is not a number"
    if not math.isfinite(value):
        return f"{finite(value)} is not a finite number"
    if low is not None and high is not None and not low <= value <= high:
        return f"{value:g} is outside {low:g}-{high:g}"
    return None


def result_problems(document: Mapping[str, Any]) -> list[str]:
    """Every way a result-shaped document breaks the contract: `Image.Key` a string; each of `CustomLabels` an
    object with a `Name` string, a finite `Confidence` 0-100 and, if boxed, four finite numbers; `Error` an object."""
    problems = []
    image = document.get("Image")
    if not isinstance(image, dict) or not isinstance(image.get("Key"), str):
        problems.append("no Image.Key string (the image it answers)")
    labels = document.get("CustomLabels")
    if not isinstance(labels, list):
        problems.append(f"CustomLabels is {labels!r}, not a list")
        labels = []
    for index, label in enumerate(labels):
        where = f"CustomLabels[{index}]"
        if not isinstance(label, dict):
            problems.append(f"{where} is {label!r}, not an object")
            continue
        if not isinstance(label.get("Name"), str):
            problems.append(f"{where}.Name is {label.get('Name')!r}, not a string")
        if problem := _number_problem(label.get("Confidence"), 0, 100):
            problems.append(f"{where}.Confidence: {problem} from 0 to 100")
        geometry = label.get("Geometry")
        box = geometry.get("BoundingBox") if isinstance(geometry, dict) else None
        if geometry is not None and not isinstance(geometry, dict):
            problems.append(f"{where}.Geometry is {geometry!r}, not an object")
        elif box is not None and not isinstance(box, dict):
            problems.append(f"{where}.Geometry.BoundingBox is {box!r}, not an object")
        elif box is not None:
            problems += [
                f"{where}.Geometry.BoundingBox.{side}: {problem}"
                for side in ("Left", "Top", "Width", "Height")
                if (problem := _number_problem(box.get(side)))
            ]
    if document.get("Error") is not None and not isinstance(document["Error"], dict):
        problems.append(f"Error is {document['Error']!r}, not an object")
    return problems


def result_from_document(document: Mapping[str, Any]) -> ImageResult:
    """An ImageResult from a result JSON of the product's contract (docs/result-contract.md); one that breaks the
    contract raises MalformedResultError naming every problem."""
    if problems := result_problems(document):
        raise MalformedResultError(MALFORMED + "; ".join(problems))
    predictions = []
    for label in document["CustomLabels"]:
        box = (label.get("Geometry") or {}).get("BoundingBox")
        predictions.append(
            Prediction(
                label["Name"],
                float(label["Confidence"]),
                None if box is None else (box["Left"], box["Top"], box["Width"], box["Height"]),
            )
        )
    error = (document.get("Error") or {}).get("Code")
    return ImageResult(document["Image"]["Key"], tuple(predictions), error, model_name(document))


def is_result_document(document: Any) -> bool:
    """Shaped like a result (an `Image` object and `CustomLabels`), well formed or not; other JSON, such as
    `local run`'s summary.json, is not a result."""
    return isinstance(document, dict) and isinstance(document.get("Image"), dict) and "CustomLabels" in document


def apply_thresholds(results: Iterable[ImageResult], thresholds: Any) -> list[ImageResult]:
    """What the results would hold under other thresholds (only ever fewer predictions: the results
    cannot hold what their own thresholds already removed)."""
    return [
        ImageResult(
            r.key, tuple(p for p in r.predictions if thresholds.passes(p.label, p.confidence)), r.error, r.model
        )
        for r in results
    ]
