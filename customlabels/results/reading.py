"""Reading results: from a folder of result JSONs (what `results --out` and `local run --out` write), from
`s3://bucket/prefix`, or from Rekognition's evaluation manifest snapshot, into `customlabels.results.model`'s
ImageResults. A file that cannot be read or breaks the contract is named to the caller's `on_skipped` and left out,
and every other result is read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from customlabels.datasets.manifest import CLASSIFICATION, MULTILABEL, OBJECT_DETECTION, source_ref_key
from customlabels.results.model import (
    ImageResult,
    MalformedResultError,
    Prediction,
    ResultsError,
    is_result_document,
    result_from_document,
)

Skipper = Callable[[str], None]
"""Told of each result file left out and why (one line naming it); None: such a file raises ResultsError."""


def _skip(on_skipped: Skipper | None, note: str) -> None:
    if on_skipped is None:
        raise ResultsError(note)
    on_skipped(note)


def load_results(
    source: str, s3: Any = None, on_progress: Any = None, on_skipped: Skipper | None = None
) -> list[ImageResult]:
    """Result JSONs from a folder (recursively) or `s3://bucket/prefix`, or the predictions of a
    Rekognition evaluation manifest snapshot (a `.manifest`/`.jsonl` file). Files that are not result JSONs
    (such as `local run`'s summary.json) are ignored; a result file that cannot be read or breaks the contract is
    named to `on_skipped` and left out, and every other result is read."""
    if source.startswith("s3://"):
        return s3_results(s3, source, on_progress, on_skipped)
    path = Path(source)
    if path.is_file():
        return snapshot_results(path)
    if not path.is_dir():
        raise ResultsError(
            f"--results {source}: no such folder or file (give a folder of result JSONs, "
            "s3://bucket/prefix, or an evaluation manifest snapshot)"
        )
    return [result for _, result in well_formed(folder_result_documents(path, on_skipped), on_skipped)]


def s3_results(
    s3: Any, uri: str, on_progress: Callable[[int, int], None] | None = None, on_skipped: Skipper | None = None
) -> list[ImageResult]:
    """The results under `s3://bucket/prefix`: every `.json` object read (`on_progress(done, total)` after each),
    skipped as a folder's files are."""
    bucket, _, prefix = uri[5:].partition("/")
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
        if item["Key"].endswith(".json")
    ]
    documents = []
    for key in keys:
        documents.append((f"s3://{bucket}/{key}", s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
        if on_progress:
            on_progress(len(documents), len(keys))
    return [result for _, result in well_formed(result_documents(documents, on_skipped), on_skipped)]


def snapshot_results(path: Path) -> list[ImageResult]:
    """The predictions of every line of an evaluation manifest snapshot; a line that is not one raises ResultsError
    naming it and its line number."""
    results = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                results.append(results_from_snapshot_line(json.loads(line)))
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
                raise ResultsError(
                    f"{path}:{number}: not an evaluation manifest snapshot line ({type(error).__name__}: {error})"
                ) from None
    return results


def result_documents(
    bodies: Iterable[tuple[str, bytes]], on_skipped: Skipper | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """(name, document) of each body shaped like a result JSON, well formed or not (`well_formed` tells); other
    JSON (such as `local run`'s summary.json) is ignored. A body that is not JSON, is nested too deep to read, or
    names no image (no `Image.Key` string) goes to `on_skipped` with its name and why."""
    documents = []
    for name, body in bodies:
        try:
            document = json.loads(body)
        except ValueError as error:
            _skip(on_skipped, f"{name}: not JSON ({error})")
            continue
        except RecursionError:
            _skip(on_skipped, f"{name}: JSON nested too deep to read (not a result)")
            continue
        if not is_result_document(document):
            continue
        if not isinstance(document["Image"].get("Key"), str):
            _skip(on_skipped, f"{name}: a result without an Image.Key string (the image it answers)")
            continue
        documents.append((name, document))
    return documents


def well_formed(
    documents: Iterable[tuple[Any, dict[str, Any]]], on_skipped: Skipper | None = None
) -> list[tuple[Any, ImageResult]]:
    """(name, ImageResult) of each document that keeps the contract; each that breaks it goes to `on_skipped`
    naming its file and every problem."""
    results = []
    for name, document in documents:
        try:
            results.append((name, result_from_document(document)))
        except MalformedResultError as error:
            _skip(on_skipped, f"{name}: {error}")
    return results


def result_files(folder: Path) -> list[Path]:
    """The files under `folder` that can hold a result JSON, recursively and in path order: what
    `customlabels.outputs.KeyFolder` wrote for result keys keeps their `.json`, however its name was escaped or
    shortened. The one reader of results folders (`results --out`, `local run --out`) for visualize, evaluate and
    review."""
    return sorted(path for path in folder.rglob("*.json") if path.is_file())


def folder_result_documents(folder: Path, on_skipped: Skipper | None = None) -> list[tuple[Path, dict[str, Any]]]:
    """The result JSONs under `folder`, recursively, in path order: every file `results --out` or `local run
    --out` wrote for a result key, escaped or shortened names included (`result_files`); see
    `result_documents` for what is skipped."""
    bodies = ((str(file), file.read_bytes()) for file in result_files(folder))
    return [(Path(name), document) for name, document in result_documents(bodies, on_skipped)]


def results_from_snapshot_line(document: Mapping[str, Any]) -> ImageResult:
    """The predictions of one line of Rekognition's evaluation manifest snapshot: the label attributes
    whose metadata is not human-annotated (the `rekognition-custom-labels-evaluation*` ones); confidences
    there are 0-1 and boxes are pixels of `image_size`."""
    key = source_ref_key(document["source-ref"])
    predictions: list[Prediction] = []
    for attribute, value in document.items():
        metadata = document.get(f"{attribute}-metadata")
        if attribute.endswith("-metadata") or not isinstance(metadata, dict):
            continue
        if metadata.get("human-annotated") == "yes" or "evaluation" not in attribute + metadata.get("job-name", ""):
            continue
        kind = metadata.get("type")
        if kind == OBJECT_DETECTION:
            size = (value.get("image_size") or [{}])[0]
            width, height = float(size.get("width", 1)), float(size.get("height", 1))
            objects = metadata.get("objects") or [{} for _ in value["annotations"]]
            for annotation, detail in zip(value["annotations"], objects, strict=False):
                predictions.append(
                    Prediction(
                        metadata["class-map"][str(annotation["class_id"])],
                        float(detail.get("confidence", 1)) * 100,
                        (
                            annotation["left"] / width,
                            annotation["top"] / height,
                            annotation["width"] / width,
                            annotation["height"] / height,
                        ),
                    )
                )
        elif kind == CLASSIFICATION:
            predictions.append(Prediction(metadata["class-name"], float(metadata.get("confidence", 1)) * 100))
        elif kind == MULTILABEL:
            confidences = metadata.get("confidence-map") or {}
            for class_id in value:
                predictions.append(
                    Prediction(
                        metadata["class-map"][str(class_id)],
                        float(confidences.get(str(class_id), metadata.get("confidence", 1))) * 100,
                    )
                )
    for prediction in predictions:  # a NaN would sort and score as no number does
        if not all(math.isfinite(number) for number in (prediction.confidence, *(prediction.box or ()))):
            raise ValueError(f"{prediction.label}: a confidence or box that is not a finite number")
    return ImageResult(key, tuple(predictions))
