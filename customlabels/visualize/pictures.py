"""Detections drawn on their images: each box in its label's colour with the label and confidence, image-level
labels as a caption under the image, an error as a red banner (on a placeholder when the image cannot be read).

The font is DejaVu Sans from matplotlib's own data, never a system path, so pictures look the same on every
machine.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from customlabels.results.model import Prediction
from customlabels.visualize.result_images import ResultImage

FONT_PATH = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
ERROR_RED = (200, 30, 30)
NOTICE_AMBER = (230, 140, 0)
CAPTION_BACKGROUND = (255, 255, 255)
PLACEHOLDER_BACKGROUND = (96, 96, 96)
PLACEHOLDER_SIZE = (640, 400)
MIN_CAPTION_WIDTH = 320
"""Captions and banners are at least this wide, even under a tiny image."""
GREY_TAB = (120, 120, 120)

Colour = tuple[int, int, int]


def label_colours(labels: Iterable[str]) -> dict[str, Colour]:
    """Distinct colours, assigned to the labels in sorted order along matplotlib's tab10 and tab20b palettes."""
    palette = [
        tuple(round(channel * 255) for channel in rgb)
        for rgb in (*matplotlib.colormaps["tab10"].colors, *matplotlib.colormaps["tab20b"].colors)
    ]
    return {label: palette[index % len(palette)] for index, label in enumerate(sorted(set(labels)))}


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_PATH), size)


def _text_colour(background: Colour) -> Colour:
    red, green, blue = background
    return (0, 0, 0) if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else (255, 255, 255)


halo_colour = _text_colour
"""The halo around a box or tab: black around a light colour, white around a dark one, so that one of the two
stands out on any photo (a dark-blue box alone vanishes on a dark photo)."""


Rect = tuple[float, float, float, float]
"""x0, y0, x1, y1 in pixels."""


def _overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_tabs(
    boxes: Sequence[Rect],
    sizes: Sequence[tuple[float, float]],
    bounds: tuple[float, float],
) -> list[tuple[float, float] | None]:
    """The top-left corner of each box's tab (width, height in `sizes`), such that no two tabs overlap and every
    tab lies inside `bounds`; None for a tab with no free place left (the caller lists it under the picture).
    Tabs are placed in the order given (most confident first), each at the first free place of: above its box,
    inside its top edge, below it, inside its bottom edge, then row by row down the picture."""
    width, height = bounds
    placed: list[Rect] = []
    corners: list[tuple[float, float] | None] = []
    for (x0, y0, _x1, y1), (tab_width, tab_height) in zip(boxes, sizes, strict=True):
        corner = None
        if tab_width <= width and tab_height <= height:
            x = min(max(x0, 0.0), width - tab_width)
            step_x, step_y = max(1.0, tab_width / 4), max(1.0, tab_height / 2)
            rows = [y0 - tab_height, y0, y1, y1 - tab_height]
            rows += [index * step_y for index in range(int((height - tab_height) / step_y) + 1)] + [height - tab_height]
            columns = [x] + [index * step_x for index in range(int((width - tab_width) / step_x) + 1)]
            candidates = [(x, y) for y in rows[:4]] + [(cx, y) for y in rows[4:] for cx in columns]
            for cx, cy in candidates:
                rect = (cx, cy, cx + tab_width, cy + tab_height)
                if 0 <= cy <= height - tab_height and not any(_overlaps(rect, other) for other in placed):
                    corner = (cx, cy)
                    placed.append(rect)
                    break
        corners.append(corner)
    return corners


def _tab(
    draw: ImageDraw.ImageDraw,
    x: float,
    y: float,
    text: str,
    colour: Colour,
    typeface,
    edged: bool = True,
) -> Rect:
    """A filled label tab with its text, its top-left corner at (x, y), edged with the colour's halo (over a
    photo; `edged=False` on a caption row of its own colour)."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=typeface)
    pad = max(2, typeface.size // 5)
    rect = (x, y, x + right - left + 2 * pad, y + bottom - top + 2 * pad)
    draw.rectangle(rect, fill=colour, outline=halo_colour(colour) if edged else colour, width=1)
    draw.text((x + pad - left, y + pad - top), text, font=typeface, fill=_text_colour(colour))
    return rect


def tab_size(text: str, typeface) -> tuple[float, float]:
    left, top, right, bottom = ImageDraw.Draw(Image.new("RGB", (1, 1))).textbbox((0, 0), text, font=typeface)
    pad = max(2, typeface.size // 5)
    return right - left + 2 * pad, bottom - top + 2 * pad


def _haloed_rectangle(canvas: ImageDraw.ImageDraw, rect: Rect, colour: Colour, line: int) -> None:
    """The outline in `colour`, `line` pixels wide inside `rect`, with a halo of its contrasting colour one pixel
    (or line/2) wide on both sides of it."""
    halo = max(1, line // 2)
    x0, y0, x1, y1 = rect
    canvas.rectangle((x0 - halo, y0 - halo, x1 + halo, y1 + halo), outline=halo_colour(colour), width=line + 2 * halo)
    canvas.rectangle(rect, outline=colour, width=line)


def _dashed_rectangle(canvas: ImageDraw.ImageDraw, rect: Rect, line: int, dash: int) -> None:
    """A ground-truth box: dashes alternating black and white, visible on any photo and unlike a detection's."""
    x0, y0, x1, y1 = rect
    edges = [((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))]
    for (ax, ay), (bx, by) in edges:
        length = max(abs(bx - ax), abs(by - ay))
        for index, start in enumerate(range(0, max(1, round(length)), dash)):
            end = min(start + dash, length)
            fraction_a, fraction_b = start / length if length else 0, end / length if length else 0
            canvas.line(
                (
                    ax + (bx - ax) * fraction_a,
                    ay + (by - ay) * fraction_a,
                    ax + (bx - ax) * fraction_b,
                    ay + (by - ay) * fraction_b,
                ),
                fill=(0, 0, 0) if index % 2 else (255, 255, 255),
                width=line,
            )


@dataclass(frozen=True)
class TruthBox:
    """A ground-truth box of the manifest, as ratios of the image, and the confidence of the detection matched to
    it (None: no detection matched it, it is missed at every threshold)."""

    label: str
    box: tuple[float, float, float, float]
    matched_confidence: float | None = None

    def missed(self, min_confidence: float) -> bool:
        return self.matched_confidence is None or self.matched_confidence < min_confidence


VERDICT_MARK = {True: "\u2713", False: "\u2717"}
"""A tick on a true positive's tab, a cross on a false positive's."""


def _tab_text(prediction: Prediction, true_positive: bool | None) -> str:
    mark = "" if true_positive is None else VERDICT_MARK[true_positive] + " "
    return f"{mark}{prediction.label} {prediction.confidence:.1f}%"


def draw(
    image: Image.Image,
    predictions: Sequence[Prediction],
    colours: dict[str, Colour],
    min_confidence: float = 0.0,
    banner: tuple[Colour, str] | None = None,
    truth: Sequence[TruthBox] = (),
    verdicts: dict[int, bool] | None = None,
    truth_labels: dict[str, float | None] | None = None,
) -> Image.Image:
    """A copy of `image` with the boxes at or above `min_confidence` (a halo around each), their tabs where
    they hide no other tab, a caption strip with the image-level labels and the tabs that found no place, and,
    if given, a banner (colour, text) such as the result's error. With `truth` the ground-truth boxes are drawn
    dashed, the missed ones with a tab, and `verdicts` (index in `predictions` -> true positive) marks each tab;
    `truth_labels` (image-level label -> the confidence it is found at, None: never) adds a chip per missed one."""
    picture = image.convert("RGB")
    width, height = picture.size
    typeface = font(max(12, round(min(width, height) / 32)))
    line = max(2, round(min(width, height) / 160))
    shown = sorted(
        (index for index, p in enumerate(predictions) if p.confidence >= min_confidence),
        key=lambda index: -predictions[index].confidence,
    )
    canvas = ImageDraw.Draw(picture)
    missed = _draw_truth(canvas, picture.size, truth, colours, min_confidence, line)
    boxed = [index for index in shown if predictions[index].box is not None]
    for index in reversed(boxed):  # the most confident drawn last, on top
        _haloed_rectangle(
            canvas, _pixels(predictions[index].box, picture.size), colours[predictions[index].label], line
        )
    tabs = [
        (
            _pixels(predictions[index].box, picture.size),
            _tab_text(predictions[index], (verdicts or {}).get(index)),
            colours[predictions[index].label],
        )
        for index in boxed
    ] + missed
    chips = _draw_tabs(canvas, picture.size, tabs, typeface)  # the tabs that found no place go to the caption
    chips += _image_level_chips(predictions, shown, verdicts, colours, truth_labels, min_confidence)
    rows = _caption_rows(chips, banner, max(width, MIN_CAPTION_WIDTH), typeface)
    return _with_rows(picture, rows, typeface) if rows else picture


Tab = tuple[Rect, str, Colour]
"""A tab to place: the box it names (pixels), its text and its colour."""
Chip = tuple[str, Colour]


def _pixels(box: tuple[float, float, float, float], size: tuple[int, int]) -> Rect:
    """A (left, top, width, height) box of ratios as x0, y0, x1, y1 in pixels of an image of `size`."""
    width, height = size
    left, top, box_width, box_height = box
    return left * width, top * height, (left + box_width) * width, (top + box_height) * height


def _draw_truth(
    canvas: ImageDraw.ImageDraw,
    size: tuple[int, int],
    truth: Sequence[TruthBox],
    colours: dict[str, Colour],
    min_confidence: float,
    line: int,
) -> list[Tab]:
    """The ground-truth boxes drawn dashed; a tab for each one missed at `min_confidence`."""
    missed = []
    for truth_box in truth:
        _dashed_rectangle(canvas, _pixels(truth_box.box, size), max(1, line // 2 + 1), max(4, line * 3))
        if truth_box.missed(min_confidence):
            missed.append(
                (_pixels(truth_box.box, size), f"missed {truth_box.label}", colours.get(truth_box.label, GREY_TAB))
            )
    return missed


def _image_level_chips(
    predictions: Sequence[Prediction],
    shown: list[int],
    verdicts: dict[int, bool] | None,
    colours: dict[str, Colour],
    truth_labels: dict[str, float | None] | None,
    min_confidence: float,
) -> list[Chip]:
    """A chip per image-level label shown (marked by its verdict), then per true label missed at `min_confidence`."""
    return [
        (_tab_text(predictions[i], (verdicts or {}).get(i)), colours[predictions[i].label])
        for i in shown
        if predictions[i].box is None
    ] + [
        (f"missed {label}", colours.get(label, GREY_TAB))
        for label, found in (truth_labels or {}).items()
        if found is None or found < min_confidence
    ]


def _draw_tabs(canvas: ImageDraw.ImageDraw, size: tuple[int, int], tabs: list[Tab], typeface) -> list[Chip]:
    """Each tab drawn where `place_tabs` finds it a free place; those left over, as chips for the caption."""
    corners = place_tabs([rect for rect, _, _ in tabs], [tab_size(text, typeface) for _, text, _ in tabs], size)
    leftover = []
    for (_, text, colour), corner in zip(tabs, corners, strict=True):
        if corner is None:
            leftover.append((text, colour))
        else:
            _tab(canvas, *corner, text, colour, typeface)
    return leftover


def _caption_rows(
    chips: list[Chip], banner: tuple[Colour, str] | None, row_width: float, typeface
) -> list[tuple[Colour, list[Chip]]]:
    """The rows under the picture: the chips on white, then the banner's text wrapped on its colour."""
    rows: list[tuple[Colour, list[Chip]]] = [
        (CAPTION_BACKGROUND, row) for row in _chip_rows(chips, row_width, typeface)
    ]
    if banner:
        colour, text = banner
        characters_per_row = max(8, int(row_width / (typeface.size * 0.62)))
        rows += [
            (colour, [(part, colour)])
            for part in textwrap.wrap(text, characters_per_row, break_long_words=False, break_on_hyphens=False)
        ]
    return rows


def _chip_rows(chips: list[tuple[str, Colour]], width: float, typeface) -> list[list[tuple[str, Colour]]]:
    """The chips in rows that fit `width`, in order (a chip wider than a row gets a row of its own)."""
    rows: list[list[tuple[str, Colour]]] = []
    used = width
    for text, colour in chips:
        chip_width = tab_size(text, typeface)[0] + typeface.size
        if used + chip_width > width and (not rows or rows[-1]):
            rows.append([])
            used = typeface.size * 0.5
        rows[-1].append((text, colour))
        used += chip_width
    return rows


def _with_rows(picture: Image.Image, rows: list[tuple[Colour, list[tuple[str, Colour]]]], typeface) -> Image.Image:
    """The picture with text rows below it, each a background and the chips (text, colour) on it; at least
    MIN_CAPTION_WIDTH wide, so that the text of a tiny image reads in words, not letter by letter."""
    width, height = picture.size
    row_height = round(typeface.size * 1.8)
    framed = Image.new("RGB", (max(width, MIN_CAPTION_WIDTH), height + row_height * len(rows)), CAPTION_BACKGROUND)
    framed.paste(picture, (0, 0))
    canvas = ImageDraw.Draw(framed)
    for index, (background, chips) in enumerate(rows):
        top = height + index * row_height
        canvas.rectangle((0, top, framed.width, top + row_height), fill=background)
        x = typeface.size * 0.5
        for text, colour in chips:
            tab_height = tab_size(text, typeface)[1]
            x = (
                _tab(
                    canvas, x, top + (row_height - tab_height) / 2, text, colour, typeface, edged=colour != background
                )[2]
                + typeface.size
            )
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
    """The image upright (its EXIF orientation applied, as the results' boxes are: Rekognition and the onnx backend
    both answer for the image as a viewer shows it) and its format (JPEG or PNG by content), or None and why it
    cannot be shown."""
    if item.image_path is None:
        return None, f"{item.name}: not found under --images"
    try:
        with Image.open(item.image_path) as image:
            image.load()
            return ImageOps.exif_transpose(image), image.format or "PNG"
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
        return None, f"{item.name}: cannot be read as an image (not one Pillow can open, or corrupt)"


def banner_for(item: ResultImage) -> tuple[Colour, str] | None:
    """The result's error, or why there is no result (never processed, or not yet)."""
    if item.never_processed:
        return NOTICE_AMBER, f"Never processed: {item.never_processed}, and upload it again"
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


def render(
    item: ResultImage, colours: dict[str, Colour], min_confidence: float = 0.0, comparison: Any = None
) -> Rendered:
    """One image read once: as it is, and drawn (with the ground truth and verdicts of a truth.Comparison)."""
    image, format_or_reason = open_image(item)
    plain = image if image is not None else placeholder(format_or_reason)
    picture = draw(
        plain,
        item.predictions,
        colours,
        min_confidence,
        banner_for(item),
        truth=comparison.boxes if comparison else (),
        verdicts=comparison.verdicts if comparison else None,
        truth_labels={label: comparison.image_level_found.get(label) for label in comparison.labels}
        if comparison
        else None,
    )
    return Rendered(plain, picture, "JPEG" if image is not None and format_or_reason == "JPEG" else "PNG")
