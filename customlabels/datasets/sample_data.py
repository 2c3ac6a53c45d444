"""A small labeled data set drawn with Pillow: bees and flowers on meadows, with its Ground Truth manifest.

Nothing is downloaded. The boxes in the manifest are exactly where the shapes were drawn, so the
emulated model answers with true detections and evaluation has a real ground truth.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from customlabels.datasets.manifest import Box, object_detection_line

CLASSES = ["bee", "flower"]
SAMPLE_BUCKET = "customlabels-sample"


@dataclass(frozen=True)
class SampleDataSet:
    images: Path
    manifest: Path
    count: int


def _draw_flower(draw: ImageDraw.ImageDraw, rng: random.Random, cx: int, cy: int, radius: int) -> Box:
    petal = rng.choice([(238, 130, 238), (255, 255, 255), (255, 99, 71), (135, 206, 250)])
    for dx, dy in [(1, 0), (0.5, 0.87), (-0.5, 0.87), (-1, 0), (-0.5, -0.87), (0.5, -0.87)]:  # six petals
        px, py = cx + dx * radius * 0.6, cy + dy * radius * 0.6
        draw.ellipse((px - radius * 0.4, py - radius * 0.4, px + radius * 0.4, py + radius * 0.4), fill=petal)
    draw.ellipse((cx - radius * 0.35, cy - radius * 0.35, cx + radius * 0.35, cy + radius * 0.35), fill=(255, 200, 0))
    return Box("flower", cx - radius, cy - radius, 2 * radius, 2 * radius)


def _draw_bee(draw: ImageDraw.ImageDraw, rng: random.Random, cx: int, cy: int, size: int) -> Box:
    width, height = size, int(size * 0.6)
    for wing_left, wing_right in ((-0.3, 0.1), (-0.05, 0.35)):
        draw.ellipse(
            (cx + width * wing_left, cy - height, cx + width * wing_right, cy - height * 0.2),
            fill=(220, 235, 255),
            outline=(90, 90, 90),
        )
    left, top = cx - width / 2, cy - height / 2
    draw.ellipse((left, top, left + width, top + height), fill=(250, 200, 30), outline=(40, 30, 0), width=2)
    for stripe in (0.35, 0.55, 0.75):
        x = left + width * stripe
        draw.line((x, top + 3, x, top + height - 3), fill=(20, 20, 20), width=max(3, width // 12))
    return Box("bee", left, cy - height, width, height * 1.5)


def generate(out_dir: str | Path, count: int = 12, seed: int = 7) -> SampleDataSet:
    """Write `count` images under `out_dir/images` (JPEG and PNG, some in sub-folders, one name with a space)
    and `out_dir/manifest.jsonl`, whose `source-ref`s point at `s3://customlabels-sample/test_images/...`."""
    out = Path(out_dir)
    images = out / "images"
    rng = random.Random(seed)
    lines = []
    for index in range(count):
        width, height = rng.choice([(640, 480), (800, 600), (480, 640)])
        picture = Image.new("RGB", (width, height))
        draw = ImageDraw.Draw(picture)
        for y in range(height):  # sky to meadow
            t = y / height
            draw.line((0, y, width, y), fill=(int(120 + 40 * t), int(180 + 20 * t), int(235 - 180 * t)))
        boxes = []
        for _ in range(rng.randint(1, 3)):
            boxes.append(
                _draw_flower(
                    draw, rng, rng.randint(60, width - 60), rng.randint(height // 2, height - 60), rng.randint(30, 55)
                )
            )
        for _ in range(rng.randint(0 if index % 4 == 3 else 1, 2)):
            boxes.append(
                _draw_bee(draw, rng, rng.randint(80, width - 80), rng.randint(80, height - 80), rng.randint(50, 90))
            )
        folder = "" if index % 3 else "meadow/"
        name = f"{folder}{'sample bee' if index == 1 else 'sample'}-{index:02d}.{'png' if index % 5 == 4 else 'jpg'}"
        path = images / name
        path.parent.mkdir(parents=True, exist_ok=True)
        picture.save(path, quality=90) if path.suffix == ".jpg" else picture.save(path)
        lines.append(object_detection_line(f"s3://{SAMPLE_BUCKET}/test_images/{name}", width, height, boxes, CLASSES))
    manifest = out / "manifest.jsonl"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return SampleDataSet(images, manifest, count)
