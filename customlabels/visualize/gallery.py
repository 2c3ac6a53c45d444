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
from urllib.parse import quote

from PIL import Image

from customlabels.visualize import pictures

THUMBNAIL_SIDE = 360
VIEW_SIDE = 1280
DATA_MARKER = "__GALLERY_DATA__"


STATUS_TEXT = {"labels": "with labels", "nothing": "nothing detected", "error": "with an error",
               "pending": "without a result yet"}


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


def write_gallery(items: list[pictures.ResultImage], out_dir: Path, min_confidence: float = 0.0,
                  on_progress: Callable[[pictures.ResultImage], None] | None = None) -> Path:
    """Draws every picture, writes thumbnails and the page; returns the path of index.html."""
    labels = sorted({p.label for item in items for p in item.predictions})
    colours = pictures.label_colours(labels)
    entries = []
    for item in items:
        rendered = pictures.render(item, colours, min_confidence)
        picture_path = out_dir / "pictures" / _picture_name(item.name, rendered.format)
        picture_path.parent.mkdir(parents=True, exist_ok=True)
        rendered.picture.save(picture_path, rendered.format, **({"quality": 90} if rendered.format == "JPEG" else {}))
        thumbnail, view = (out_dir / folder / f"{item.name}.jpg" for folder in ("thumbnails", "views"))
        _save_scaled(rendered.plain, THUMBNAIL_SIDE, thumbnail)
        _save_scaled(rendered.plain, VIEW_SIDE, view)
        entries.append({
            "name": item.name,
            "status": item.status,
            "thumbnail": _url(thumbnail, out_dir),
            "view": _url(view, out_dir),
            "picture": _url(picture_path, out_dir),
            "detections": [{"label": p.label, "confidence": p.confidence, "box": p.box} for p in item.predictions],
            "error": item.error,
            "result": item.document,
        })
        if on_progress:
            on_progress(item)
    data = {"min_confidence": min_confidence,
            "labels": [{"name": label, "colour": "#{:02x}{:02x}{:02x}".format(*colours[label])} for label in labels],
            "items": entries}
    template = resources.files(__package__).joinpath("templates/gallery.html").read_text(encoding="utf-8")
    embedded = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")  # cannot end the <script> element
    index = out_dir / "index.html"
    index.write_text(template.replace(DATA_MARKER, embedded), encoding="utf-8")
    return index
