"""An image as the model's input tensor, and where the input's pixels are in the original image.

`letterbox` scales the image to fit width x height keeping its aspect ratio and pads the rest equally on both
sides with grey 114 (as Ultralytics does: the padding's odd pixel goes to the bottom and right); `stretch` scales
each axis on its own. `Placement` maps a point of the input back to the original image, so that a box means the
same thing whatever the image's shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from customlabels_runtime.onnx_model.spec import InputSpec

LETTERBOX_PAD = 114


@dataclass(frozen=True)
class Placement:
    """The original image inside the input: scaled by (scale_x, scale_y), then shifted by (left, top) pixels."""

    image_width: int
    image_height: int
    scale_x: float
    scale_y: float
    left: int = 0
    top: int = 0

    def box_ratios(self, x1: float, y1: float, x2: float, y2: float) -> dict[str, float]:
        """A box in input pixels as the result contract's BoundingBox: ratios of the original image, clipped to it."""

        def ratio(value: float, offset: int, scale: float, size: int) -> float:
            return float(min(max((value - offset) / scale / size, 0.0), 1.0))

        left = ratio(min(x1, x2), self.left, self.scale_x, self.image_width)
        right = ratio(max(x1, x2), self.left, self.scale_x, self.image_width)
        top = ratio(min(y1, y2), self.top, self.scale_y, self.image_height)
        bottom = ratio(max(y1, y2), self.top, self.scale_y, self.image_height)
        return {"Width": right - left, "Height": bottom - top, "Left": left, "Top": top}


def placement(width: int, height: int, spec: InputSpec) -> Placement:
    """Where an image of width x height goes in the input: the scaled size is rounded to whole pixels, and the
    scale each axis really got is what maps boxes back."""
    if spec.resize == "stretch":
        return Placement(width, height, spec.width / width, spec.height / height)
    ratio = min(spec.width / width, spec.height / height)
    scaled_width, scaled_height = max(1, round(width * ratio)), max(1, round(height * ratio))
    left, top = (spec.width - scaled_width) // 2, (spec.height - scaled_height) // 2
    return Placement(width, height, scaled_width / width, scaled_height / height, left, top)


def prepare(image: Image.Image, spec: InputSpec) -> tuple[np.ndarray, Placement]:
    """The input tensor of `image` (batch of one) and its placement."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    where = placement(rgb.width, rgb.height, spec)
    scaled_size = (round(rgb.width * where.scale_x), round(rgb.height * where.scale_y))
    scaled = rgb.resize(scaled_size, Image.Resampling.BILINEAR)
    if spec.resize == "letterbox":
        canvas = Image.new("RGB", (spec.width, spec.height), (LETTERBOX_PAD,) * 3)
        canvas.paste(scaled, (where.left, where.top))
        scaled = canvas
    pixels = np.asarray(scaled, dtype=np.uint8)
    if spec.channels == "BGR":
        pixels = pixels[..., ::-1]
    if spec.layout == "NCHW":
        pixels = pixels.transpose(2, 0, 1)
    if spec.dtype != "float32":
        return np.ascontiguousarray(pixels[np.newaxis]), where
    # (value * scale - mean) / std as one multiply and one subtract written into the batch tensor, the layout
    # changed on the bytes before: six times faster than converting, then transposing a copy (bench/onnx.py)
    per_channel = (3, 1, 1) if spec.layout == "NCHW" else (3,)
    mean = np.asarray(spec.mean, np.float32).reshape(per_channel)
    std = np.asarray(spec.std, np.float32).reshape(per_channel)
    tensor = np.empty((1, *pixels.shape), np.float32)
    np.multiply(pixels, np.float32(spec.scale) / std, out=tensor[0])
    tensor[0] -= mean / std
    return tensor, where
