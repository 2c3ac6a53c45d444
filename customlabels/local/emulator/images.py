"""What DetectCustomLabels accepts as an image, judged from the content as Rekognition judges it.

JPEG or PNG by the bytes, not the name (a JPEG carrying a second embedded image, which Pillow names MPO and
phones write, is a JPEG); decodable; 64-4096 px per side; at most 20:1. The size is read from the header before
anything is decoded, so a small file declaring a huge picture is refused for its size, not decompressed.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError

from customlabels.limits import MAX_ASPECT_RATIO, MAX_SIDE, MIN_SIDE
from customlabels.local.emulator.errors import ServiceError

FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG"}
"""Pillow's format name -> the format Rekognition sees."""


def check_image(data: bytes) -> tuple[int, int]:
    """(width, height) of an image DetectCustomLabels accepts, or ServiceError naming why not."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as picture:
                if picture.format not in FORMATS:
                    raise ServiceError("InvalidImageFormatException", "Request has unsupported image format")
                width, height = picture.size
                check_dimensions(width, height)
                picture.load()
        except Image.DecompressionBombError:
            raise ServiceError(
                "InvalidParameterException", f"Image dimensions exceed the {MAX_SIDE} x {MAX_SIDE} px limit"
            ) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
            raise ServiceError("InvalidImageFormatException", "Request has invalid image format") from None
    return width, height


def check_dimensions(width: int, height: int) -> None:
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise ServiceError(
            "InvalidParameterException",
            f"Image dimensions {width}x{height} are outside {MIN_SIDE}-{MAX_SIDE} px per side",
        )
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise ServiceError(
            "InvalidParameterException",
            f"Image aspect ratio {width}x{height} exceeds the maximum of {MAX_ASPECT_RATIO}:1",
        )
