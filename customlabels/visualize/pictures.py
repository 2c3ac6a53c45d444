"""Detections drawn on their images: each box in its label's colour with the label and confidence, image-level
labels as a caption under the image, an error as a red banner (on a placeholder when the image cannot be read).

The font is DejaVu Sans from matplotlib's own data, never a system path, so pictures look the same on every
machine.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import matplotlib
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from customlabels.config import IMAGE_SUFFIXES
from customlabels.datasets.manifest import KeyMatcher
from customlabels.evaluation.evaluate import Prediction, folder_result_documents, result_from_document
from customlabels_runtime.contract import result_status

FONT_PATH = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
ERROR_RED = (200, 30, 30)
NOTICE_AMBER = (230, 140, 0)
CAPTION_BACKGROUND = (255, 255, 255)
PLACEHOLDER_BACKGROUND = (96, 96, 96)
PLACEHOLDER_SIZE = (640, 400)

Colour = tuple[int, int, int]


@dataclass(frozen=True)
class ResultImage:
    """One image of a run: its result JSON (None while it has none) and its local file (None if not found)."""

    name: str
    """Relative path the pictures are written under (the image's path below --images when found)."""
    image_path: Path | None
    document: dict[str, Any] | None

    @cached_property
    def predictions(self) -> tuple[Prediction, ...]:
        return () if self.document is None else result_from_document(self.document).predictions

    @property
    def status(self) -> str:
        return result_status(self.document)

    @property
    def error(self) -> dict[str, str] | None:
        return None if self.document is None else self.document.get("Error")


def collect(results_dir: Path, images_dir: Path) -> list[ResultImage]:
    """Pairs every result JSON under `results_dir` with its image under `images_dir` (by the longest common
    trailing path of `Image.Key`), and lists the images that have no result yet. A file under `results_dir` that
    is not JSON raises evaluate.ResultsError naming it."""
    files = sorted(path for path in images_dir.rglob("*") if path.is_file())
    matcher = KeyMatcher(files, key=lambda path: path.relative_to(images_dir).as_posix())
    items, matched = [], set()
    for result_file, document in folder_result_documents(results_dir):
        image_path = matcher.match(document["Image"]["Key"])
        if image_path is not None:
            matched.add(image_path)
            name = image_path.relative_to(images_dir).as_posix()
        else:
            name = result_file.relative_to(results_dir).as_posix().removesuffix(".json")
        items.append(ResultImage(name, image_path, document))
    items += [ResultImage(path.relative_to(images_dir).as_posix(), path, None) for path in files
              if path not in matched and path.name.lower().endswith(IMAGE_SUFFIXES)]
    return sorted(items, key=lambda item: item.name)


def label_colours(labels: Iterable[str]) -> dict[str, Colour]:
    """Distinct colours, assigned to the labels in sorted order along matplotlib's tab10 and tab20b palettes."""
    palette = [tuple(round(channel * 255) for channel in rgb)
               for rgb in (*matplotlib.colormaps["tab10"].colors, *matplotlib.colormaps["tab20b"].colors)]
    return {label: palette[index % len(palette)] for index, label in enumerate(sorted(set(labels)))}


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_PATH), size)


def _text_colour(background: Colour) -> Colour:
    red, green, blue = background
    return (0, 0, 0) if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else (255, 255, 255)


def _chip(draw: ImageDraw.ImageDraw, x: float, y: float, text: str, colour: Colour, typeface) -> float:
    """A filled label tab with its text at (x, y); returns its right edge."""
    left, top, right, bottom = draw.textbbox((x, y), text, font=typeface)
    pad = max(2, typeface.size // 5)
    draw.rectangle((left - pad, top - pad, right + pad, bottom + pad), fill=colour)
    draw.text((x, y), text, font=typeface, fill=_text_colour(colour))
    return right + pad


def draw(image: Image.Image, predictions: Sequence[Prediction], colours: dict[str, Colour],
         min_confidence: float = 0.0, banner: tuple[Colour, str] | None = None) -> Image.Image:
    """A copy of `image` with the boxes at or above `min_confidence`, a caption strip with the image-level
    labels and, if given, a banner (colour, text) such as the result's error."""
    picture = image.convert("RGB")
    width, height = picture.size
    typeface = font(max(12, round(min(width, height) / 32)))
    line = max(2, round(min(width, height) / 160))
    shown = sorted((p for p in predictions if p.confidence >= min_confidence), key=lambda p: p.confidence)
    canvas = ImageDraw.Draw(picture)
    for prediction in (p for p in shown if p.box is not None):
        left, top, box_width, box_height = prediction.box
        x0, y0 = left * width, top * height
        x1, y1 = x0 + box_width * width, y0 + box_height * height
        colour = colours[prediction.label]
        canvas.rectangle((x0, y0, x1, y1), outline=colour, width=line)
        text = f"{prediction.label} {prediction.confidence:.1f}%"
        text_height = canvas.textbbox((0, 0), text, font=typeface)[3]
        above = y0 - text_height - 2 * line
        _chip(canvas, x0 + line, above if above >= 0 else y0 + 2 * line, text, colour, typeface)
    rows: list[tuple[Colour, list[tuple[str, Colour]]]] = []
    image_level = [p for p in reversed(shown) if p.box is None]
    if image_level:
        rows.append((CAPTION_BACKGROUND, [(f"{p.label} {p.confidence:.1f}%", colours[p.label]) for p in image_level]))
    if banner:
        colour, text = banner
        characters_per_row = max(8, int(width / (typeface.size * 0.6)))
        rows += [(colour, [(part, colour)]) for part in textwrap.wrap(text, characters_per_row)]
    return _with_rows(picture, rows, typeface) if rows else picture


def _with_rows(picture: Image.Image, rows: list[tuple[Colour, list[tuple[str, Colour]]]], typeface) -> Image.Image:
    """The picture with text rows below it: each a background and the chips (text, colour) on it."""
    width, height = picture.size
    row_height = round(typeface.size * 1.8)
    framed = Image.new("RGB", (width, height + row_height * len(rows)), CAPTION_BACKGROUND)
    framed.paste(picture, (0, 0))
    canvas = ImageDraw.Draw(framed)
    for index, (background, chips) in enumerate(rows):
        top = height + index * row_height
        canvas.rectangle((0, top, width, top + row_height), fill=background)
        x = typeface.size * 0.5
        for text, colour in chips:
            x = _chip(canvas, x, top + (row_height - typeface.size) / 2, text, colour, typeface) + typeface.size
    return framed


def placeholder(text: str, size: tuple[int, int] = PLACEHOLDER_SIZE) -> Image.Image:
    """A grey picture saying why there is no image to show."""
    picture = Image.new("RGB", size, PLACEHOLDER_BACKGROUND)
    canvas = ImageDraw.Draw(picture)
    typeface = font(20)
    for row, line in enumerate(textwrap.wrap(text, 48)[:8]):
        canvas.text((24, 24 + row * 30), line, font=typeface, fill=(255, 255, 255))
    return picture


def open_image(item: ResultImage) -> tuple[Image.Image | None, str]:
    """The image and its format (JPEG or PNG by content), or None and why it cannot be shown."""
    if item.image_path is None:
        return None, f"{item.name}: not found under --images"
    try:
        with Image.open(item.image_path) as image:
            image.load()
            return image.copy(), image.format or "PNG"
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
        return None, f"{item.name}: cannot be read as an image (not one Pillow can open, or corrupt)"


def banner_for(item: ResultImage) -> tuple[Colour, str] | None:
    """The result's error, or that there is no result yet."""
    if item.document is None:
        return NOTICE_AMBER, "No result yet: still in the queue, or in the dead-letter queue (customlabels dlq list)"
    if item.error:
        return ERROR_RED, f"{item.error.get('Code', 'Error')}: {item.error.get('Message', '')}"
    return None


@dataclass(frozen=True)
class Rendered:
    plain: Image.Image
    """The image as it is (or the placeholder saying why there is none), for thumbnails."""
    picture: Image.Image
    """With the detections, caption and banner drawn."""
    format: str
    """JPEG for JPEG images, PNG otherwise."""


def render(item: ResultImage, colours: dict[str, Colour], min_confidence: float = 0.0) -> Rendered:
    """One image read once: as it is, and drawn."""
    image, format_or_reason = open_image(item)
    plain = image if image is not None else placeholder(format_or_reason)
    picture = draw(plain, item.predictions, colours, min_confidence, banner_for(item))
    return Rendered(plain, picture, "JPEG" if image is not None and format_or_reason == "JPEG" else "PNG")
