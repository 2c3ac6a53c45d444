"""The images of a run, as the gallery shows them: each with its result JSON (or none yet) and its local file (or
none found), paired by the end of the result's `Image.Key`, and what its result says (predictions, status, error),
a malformed result included. Drawing one is customlabels.visualize.pictures'.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from customlabels.config import image_name_problem, is_miscased_image_name
from customlabels.datasets.manifest import KeyMatcher
from customlabels.outputs import input_files
from customlabels.results.model import MALFORMED, MalformedResultError, Prediction, result_from_document
from customlabels.results.reading import Skipper, folder_result_documents
from customlabels_runtime.contract import IMAGE_SUFFIXES, result_status


@dataclass(frozen=True)
class ResultImage:
    """One image of a run: its result JSON (None while it has none) and its local file (None if not found)."""

    name: str
    """Relative path the pictures are written under (the image's path below --images when found)."""
    image_path: Path | None
    document: dict[str, Any] | None

    @cached_property
    def _read(self) -> tuple[tuple[Prediction, ...], str | None]:
        """The predictions, or none and why the result breaks the contract (a NaN confidence, say)."""
        if self.document is None:
            return (), None
        try:
            return result_from_document(self.document).predictions, None
        except MalformedResultError as error:
            return (), str(error).removeprefix(MALFORMED)

    @property
    def predictions(self) -> tuple[Prediction, ...]:
        return self._read[0]

    @property
    def never_processed(self) -> str | None:
        """Why an image without a result never will have one: its name is not one the pipeline picks up (a suffix
        that mixes cases, `bee.Jpg`: S3's suffix filters are case-sensitive), or None."""
        name = self.name.rsplit("/", 1)[-1]
        return image_name_problem(name) if self.document is None and is_miscased_image_name(name) else None

    @property
    def status(self) -> str:
        """result_status's, `error` for a malformed result too, and `not-picked-up` for an image the pipeline never
        processes (as `local run` says it)."""
        if self.never_processed:
            return "not-picked-up"
        return "error" if self._read[1] else result_status(self.document)

    @property
    def error(self) -> dict[str, str] | None:
        """The result's Error; for a malformed result, the problems named as one (`MalformedResult`)."""
        if self._read[1]:
            return {"Code": "MalformedResult", "Message": self._read[1]}
        if self.never_processed:
            return {"Code": "NeverProcessed", "Message": self.never_processed}
        return None if self.document is None else self.document.get("Error")


def collect(results_dir: Path, images_dir: Path, on_skipped: Skipper | None = None) -> list[ResultImage]:
    """Pairs every result JSON under `results_dir` with its image under `images_dir` (by the longest common
    trailing path of `Image.Key`), and lists the images that have no result yet. Each item's name is its image's
    path under `images_dir`, or, for a result without an image or one of several results of one image (the same
    folder uploaded under two prefixes), its `Image.Key`: no two items share a name, so none shares a picture.
    The pictures customlabels drew (a gallery inside `--images`) are not images here. A malformed result is kept
    (its card says what is wrong); a file that names no image (not JSON, say) goes to `on_skipped` (None: raises
    ResultsError naming it)."""
    files = input_files(images_dir)[0]
    matcher = KeyMatcher(files, key=lambda path: path.relative_to(images_dir).as_posix())
    paired = [
        (document, matcher.match(document["Image"]["Key"]))
        for _, document in folder_result_documents(results_dir, on_skipped)
    ]
    shared = {path for path, count in Counter(path for _, path in paired if path).items() if count > 1}
    items = [
        ResultImage(
            image_path.relative_to(images_dir).as_posix()
            if image_path is not None and image_path not in shared
            else str(document["Image"]["Key"]),
            image_path,
            document,
        )
        for document, image_path in paired
    ]
    matched = {image_path for _, image_path in paired}
    items += [
        ResultImage(path.relative_to(images_dir).as_posix(), path, None)
        for path in files
        if path not in matched and path.name.lower().endswith(IMAGE_SUFFIXES)
    ]
    return sorted(items, key=lambda item: item.name)
