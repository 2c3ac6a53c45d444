"""The report's pictures: thumbnails of the images drawn with their verdicts, written once per model and image
beside the page, each linked to the image's place in its model's gallery. The drawing is the caller's (`Drawer`), so
that the evaluation package needs no drawing code of the gallery's."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from customlabels.datasets.anchors import gallery_anchor
from customlabels.datasets.manifest import ManifestEntry
from customlabels.evaluation.evaluate import Evaluation
from customlabels.outputs import KeyFolder, NotSaved, local_name
from customlabels.results.model import ImageResult

Drawer = Callable[[ManifestEntry, ImageResult], Any]
"""(manifest line, result) -> a PIL image with the ground truth and the predictions drawn, or None without one."""

THUMBNAIL_WIDTH = 360
PICTURES_PER_SECTION = 24
"""Past this many, a section lists the rest as links: the report stays quick to open on a large test set."""


class Thumbnails:
    """Thumbnails of images drawn with their verdicts, written once per model and image, each linked to the
    image's place in its model's gallery (its anchor, customlabels.datasets.anchors)."""

    def __init__(
        self,
        folder: Path,
        draw: Drawer | None,
        galleries: dict[str, str],
        on_not_saved: Callable[[NotSaved], None] | None = None,
    ) -> None:
        self.folder, self.draw, self.galleries = folder, draw, galleries
        self.written: dict[tuple[str, str], str | None] = {}
        self.on_not_saved = on_not_saved
        self.folders: dict[str, KeyFolder] = {}

    def grid(self, model: str, evaluation: Evaluation, keys: Sequence[str]) -> str:
        shown, rest = keys[:PICTURES_PER_SECTION], keys[PICTURES_PER_SECTION:]
        more = (
            "<p>and " + ", ".join(self._link(model, evaluation, key, html.escape(key)) for key in rest) + "</p>"
            if rest
            else ""
        )
        return '<div class="grid">' + "".join(self.figure(model, evaluation, key) for key in shown) + "</div>" + more

    def figure(self, model: str, evaluation: Evaluation, key: str, with_counts: bool = True) -> str:
        source = self._thumbnail(model, evaluation, key)
        picture = (
            f'<img src="{html.escape(source)}" alt="{html.escape(key)}">'
            if source
            else '<span class="no-picture">no picture (pass --images)</span>'
        )
        counts = evaluation.diagnostics["per_image"].get(key) if with_counts else None
        return (
            f'<figure class="thumb">{self._link(model, evaluation, key, picture)}<figcaption>'
            f"{self._link(model, evaluation, key, html.escape(key))}<br>{counts_html(counts) if counts else ''}"
            "</figcaption></figure>"
        )

    def _link(self, model: str, evaluation: Evaluation, key: str, content: str) -> str:
        gallery = self.galleries.get(model)
        if not gallery:
            return content
        result_key = evaluation.diagnostics["per_image"].get(key, {}).get("result_key", key)
        return f'<a href="{html.escape(gallery)}#{gallery_anchor(result_key)}">{content}</a>'

    def _thumbnail(self, model: str, evaluation: Evaluation, key: str) -> str | None:
        if (model, key) in self.written:
            return self.written[(model, key)]
        source = None
        pair = next(((entry, result) for entry, result in evaluation.pairs if entry.key == key), None)
        picture = self.draw(*pair) if self.draw and pair else None
        if picture is not None:
            picture = picture.convert("RGB")
            picture.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_WIDTH * 3))
            if model not in self.folders:  # a model's name is one folder name, whatever it holds
                self.folders[model] = KeyFolder(self.folder / "pictures" / local_name(model), self.on_not_saved)
            path = self.folders[model].save_picture(f"{key}.jpg", picture, "JPEG", quality=85)
            source = quote(path.relative_to(self.folder).as_posix()) if path else None
        self.written[(model, key)] = source
        return source


def counts_html(counts: dict[str, Any]) -> str:
    return (
        f'<span class="counts">{counts["true_positives"]} right, {counts["false_positives"]} false '
        f"positive(s), {counts['false_negatives']} missed</span>"
    )
