"""A static HTML gallery of a run's results, opened straight from the file system (no server, no network).

`out/index.html` embeds every result; the boxes are drawn by the page over plain thumbnails so that its
confidence slider and label filter can hide them. `out/pictures/` holds the drawn pictures (pictures.py) to
share or download.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from PIL import Image

from customlabels.datasets.anchors import gallery_anchor
from customlabels.datasets.manifest import KeyMatcher, ManifestEntry
from customlabels.escaping import json_for_html
from customlabels.outputs import KeyFolder, NotSaved
from customlabels.visualize import pictures, truth
from customlabels.visualize.result_images import ResultImage
from customlabels_runtime.result_events import model_name

THUMBNAIL_SIDE = 360
VIEW_SIDE = 1280
DATA_MARKER = "__GALLERY_DATA__"


STATUS_TEXT = {
    "labels": "with labels",
    "nothing": "nothing detected",
    "error": "with an error",
    "pending": "without a result yet",
    "not-picked-up": "never processed (a name the pipeline does not pick up)",
}


def _scaled(image: Image.Image, side: int) -> Image.Image:
    scaled = image.convert("RGB")
    scaled.thumbnail((side, side))
    return scaled


def _picture(name: str, fmt: str) -> tuple[str, str]:
    """The drawn picture's name and format: the image's own name, in the format it says (`.jpg`, `.jpeg`: JPEG;
    `.png`: PNG), so that a PNG named `x.jpg` and one named `x.jpg.png` keep one picture each, as they are two
    images; a name without an image suffix (a result file not named after its key) gets the image's format's."""
    lower = name.lower()
    if lower.endswith((".jpg", ".jpeg")):
        return name, "JPEG"
    if lower.endswith(".png"):
        return name, "PNG"
    return name + (".jpg" if fmt == "JPEG" else ".png"), fmt


def _url(path: Path, root: Path) -> str:
    """A relative URL that survives spaces, '#', '%' and unicode in file names."""
    return quote(path.relative_to(root).as_posix())


def _hex(colour: pictures.Colour) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


def image_key(item: ResultImage) -> str:
    """The key an image is known by outside the gallery: its result's `Image.Key`, else its path under --images."""
    return item.document["Image"]["Key"] if item.document is not None else item.name


def _summary(
    items: list[ResultImage], min_confidence: float, manifest: str | None, iou_threshold: float
) -> dict[str, Any]:
    """What the header says: how many images of each status, the models and thresholds the results name."""
    documents = [item.document for item in items if item.document is not None]
    thresholds = {json.dumps(d["Thresholds"], sort_keys=True) for d in documents if d.get("Thresholds") is not None}
    return {
        "statuses": {status: sum(item.status == status for item in items) for status in STATUS_TEXT},
        "detections": sum(len(item.predictions) for item in items),
        "models": sorted({name for d in documents if isinstance(name := model_name(d), str)}),
        "thresholds": [json.loads(text) for text in sorted(thresholds)],
        "min_confidence": min_confidence,
        "manifest": manifest,
        "iou_threshold": iou_threshold if manifest else None,
    }


def write_gallery(
    items: list[ResultImage],
    out_dir: Path,
    min_confidence: float = 0.0,
    on_progress: Callable[[ResultImage], None] | None = None,
    entries: list[ManifestEntry] | None = None,
    iou_threshold: float = 0.5,
    manifest_name: str | None = None,
    on_not_saved: Callable[[NotSaved], None] | None = None,
) -> Path:
    """Draws every picture, writes thumbnails and the page; returns the path of index.html. With the manifest's
    `entries`, each image found in it gets its ground truth and each detection its verdict (truth.compare).
    Pictures go under their image's name mapped as a key (customlabels.outputs), tagged as the tool's own; one
    the file system cannot hold goes to `on_not_saved` (by default: raised) and the others are all written."""
    labels = sorted(
        {p.label for item in items for p in item.predictions}
        | {label for entry in entries or [] for label in entry.all_labels}
    )
    colours = pictures.label_colours(labels)
    matcher = KeyMatcher(entries) if entries is not None else None
    folders = _Folders(out_dir, on_not_saved)
    cards = []
    for item in items:
        entry = matcher.match(image_key(item)) if matcher is not None else None
        comparison = truth.compare(entry, item.predictions, iou_threshold) if entry is not None else None
        rendered = pictures.render(item, colours, min_confidence, comparison)
        cards.append(_card(item, entry is not None, comparison, folders.save(item, rendered), out_dir))
        if on_progress:
            on_progress(item)
    data = {
        "min_confidence": min_confidence,
        "summary": _summary(items, min_confidence, manifest_name if entries is not None else None, iou_threshold),
        "labels": [
            {"name": label, "colour": _hex(colours[label]), "contrast": _hex(pictures.halo_colour(colours[label]))}
            for label in labels
        ],
        "items": cards,
    }
    template = resources.files(__package__).joinpath("templates/gallery.html").read_text(encoding="utf-8")
    embedded = json_for_html(data)  # no key, label or number can end the <script> element or break JSON.parse
    index = out_dir / "index.html"
    index.write_text(template.replace(DATA_MARKER, embedded), encoding="utf-8")
    return index


class _Folders:
    """The gallery's three folders of pictures: drawn (pictures/, in the image's format), and plain thumbnails and
    views (JPEG) that the page draws the boxes over."""

    def __init__(self, out_dir: Path, on_not_saved: Callable[[NotSaved], None] | None) -> None:
        self.drawn, self.thumbnails, self.views = (
            KeyFolder(out_dir / name, on_not_saved) for name in ("pictures", "thumbnails", "views")
        )

    def save(self, item: ResultImage, rendered: pictures.Rendered) -> tuple[Path, Path, Path]:
        """The item's pictures written; their paths (drawn, thumbnail, view), whether saved or not."""
        (picture_key, fmt), scaled_key = _picture(item.name, rendered.format), f"{item.name}.jpg"
        self.drawn.save_picture(picture_key, rendered.picture, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
        for folder, side in ((self.thumbnails, THUMBNAIL_SIDE), (self.views, VIEW_SIDE)):
            folder.save_picture(scaled_key, _scaled(rendered.plain, side), "JPEG", quality=85)
        return self.drawn.path(picture_key), self.thumbnails.path(scaled_key), self.views.path(scaled_key)


def _card(
    item: ResultImage,
    in_manifest: bool,
    comparison: truth.Comparison | None,
    paths: tuple[Path, Path, Path],
    out_dir: Path,
) -> dict[str, Any]:
    """What the page knows of one image: its names, status, pictures, detections with their verdicts, ground
    truth, error and result JSON."""
    picture_path, thumbnail, view = paths
    verdicts = comparison.verdicts if comparison else {}
    return {
        "name": item.name,
        "key": image_key(item),
        "anchor": gallery_anchor(image_key(item)),
        "status": item.status,
        "thumbnail": _url(thumbnail, out_dir),
        "view": _url(view, out_dir),
        "picture": _url(picture_path, out_dir),
        "detections": [
            {
                "label": p.label,
                "confidence": p.confidence,
                "box": p.box,
                "verdict": None if index not in verdicts else ("tp" if verdicts[index] else "fp"),
            }
            for index, p in enumerate(item.predictions)
        ],
        "in_manifest": in_manifest,
        "truth": []
        if comparison is None
        else [{"label": b.label, "box": b.box, "found": b.matched_confidence} for b in comparison.boxes]
        + [
            {"label": label, "box": None, "found": comparison.image_level_found.get(label)}
            for label in comparison.labels
        ],
        "error": item.error,
        "result": item.document,
    }
