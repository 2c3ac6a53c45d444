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
from customlabels.visualize import pictures, truth

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


def _save_scaled(image: Image.Image, side: int, path: Path) -> None:
    scaled = image.convert("RGB")
    scaled.thumbnail((side, side))
    path.parent.mkdir(parents=True, exist_ok=True)
    scaled.save(path, "JPEG", quality=85)


def _picture_name(name: str, fmt: str) -> str:
    """The image's own name when it fits the format, else with the format's suffix added (`x.jpg.png`)."""
    suffixes = (".jpg", ".jpeg") if fmt == "JPEG" else (".png",)
    return name if name.lower().endswith(suffixes) else name + suffixes[0]


def _url(path: Path, root: Path) -> str:
    """A relative URL that survives spaces, '#', '%' and unicode in file names."""
    return quote(path.relative_to(root).as_posix())


def _hex(colour: pictures.Colour) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


def image_key(item: pictures.ResultImage) -> str:
    """The key an image is known by outside the gallery: its result's `Image.Key`, else its path under --images."""
    return item.document["Image"]["Key"] if item.document is not None else item.name


def _summary(
    items: list[pictures.ResultImage], min_confidence: float, manifest: str | None, iou_threshold: float
) -> dict[str, Any]:
    """What the header says: how many images of each status, the models and thresholds the results name."""
    documents = [item.document for item in items if item.document is not None]
    thresholds = {json.dumps(d["Thresholds"], sort_keys=True) for d in documents if d.get("Thresholds") is not None}
    return {
        "statuses": {status: sum(item.status == status for item in items) for status in STATUS_TEXT},
        "detections": sum(len(item.predictions) for item in items),
        "models": sorted({d["ProjectVersionArn"] for d in documents if isinstance(d.get("ProjectVersionArn"), str)}),
        "thresholds": [json.loads(text) for text in sorted(thresholds)],
        "min_confidence": min_confidence,
        "manifest": manifest,
        "iou_threshold": iou_threshold if manifest else None,
    }


def write_gallery(
    items: list[pictures.ResultImage],
    out_dir: Path,
    min_confidence: float = 0.0,
    on_progress: Callable[[pictures.ResultImage], None] | None = None,
    entries: list[ManifestEntry] | None = None,
    iou_threshold: float = 0.5,
    manifest_name: str | None = None,
) -> Path:
    """Draws every picture, writes thumbnails and the page; returns the path of index.html. With the manifest's
    `entries`, each image found in it gets its ground truth and each detection its verdict (truth.compare)."""
    labels = sorted(
        {p.label for item in items for p in item.predictions}
        | {label for entry in entries or [] for label in (*entry.labels, *(b.label for b in entry.boxes))}
    )
    colours = pictures.label_colours(labels)
    matcher = KeyMatcher(entries) if entries is not None else None
    cards = []
    for item in items:
        entry = matcher.match(image_key(item)) if matcher is not None else None
        comparison = truth.compare(entry, item.predictions, iou_threshold) if entry is not None else None
        rendered = pictures.render(item, colours, min_confidence, comparison)
        picture_path = out_dir / "pictures" / _picture_name(item.name, rendered.format)
        picture_path.parent.mkdir(parents=True, exist_ok=True)
        rendered.picture.save(picture_path, rendered.format, **({"quality": 90} if rendered.format == "JPEG" else {}))
        thumbnail, view = (out_dir / folder / f"{item.name}.jpg" for folder in ("thumbnails", "views"))
        _save_scaled(rendered.plain, THUMBNAIL_SIDE, thumbnail)
        _save_scaled(rendered.plain, VIEW_SIDE, view)
        verdicts = comparison.verdicts if comparison else {}
        cards.append(
            {
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
                "in_manifest": entry is not None,
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
        )
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
