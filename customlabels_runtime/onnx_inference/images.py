"""The image the own model sees, read by the function itself (Rekognition reads it for Custom Labels), with
Rekognition's limits and its error codes, so that a result's `Error` means the same with either backend
(docs/result-contract.md): JPEG or PNG by content, at most 15 MB, 64-4096 px per side, at most 20:1.

EXIF orientation is applied, as Rekognition does for JPEGs: boxes are ratios of the image as a viewer shows it
upright. The limits are judged on the stored image, before it is turned."""

from __future__ import annotations

import io
import warnings
from typing import Any

from botocore.exceptions import ClientError
from PIL import Image, ImageOps, UnidentifiedImageError

from customlabels_runtime.contract import ObjectCreated

MAX_S3_IMAGE_BYTES = 15 * 1024 * 1024
MIN_SIDE, MAX_SIDE = 64, 4096
MAX_ASPECT_RATIO = 20
"""Rekognition's limits for an image in S3 (the Custom Labels limits page, Detection), as `customlabels.limits`
holds them for `upload` (tests/integration/test_onnx_handler.py keeps the two equal); the emulator applies
`check_image` itself."""
FORMATS = ("JPEG", "MPO", "PNG")
"""Pillow's names of what Rekognition takes: a JPEG with a second embedded image (MPO, as phones write) is a JPEG."""


class ImageRejectedError(ClientError):
    """An image no retry can cure, with the code DetectCustomLabels would answer (a permanent error of
    `logic.PERMANENT_ERROR_CODES`: the image gets a result with this `Error`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__({"Error": {"Code": code, "Message": message}}, "ReadImage")
        self.code, self.message = code, message


def read_image(image: ObjectCreated, s3: Any) -> bytes:
    """The object's bytes, that version (transient S3 errors propagate, so SQS retries the image)."""
    request = {
        "Bucket": image.bucket,
        "Key": image.key,
        **({"VersionId": image.version_id} if image.version_id else {}),
    }
    response = s3.get_object(**request)
    if response.get("ContentLength", 0) > MAX_S3_IMAGE_BYTES:
        response["Body"].close()
        raise ImageRejectedError("ImageTooLargeException", "Image size is too large; the S3 object limit is 15 MB")
    return response["Body"].read()


def open_image(data: bytes) -> Image.Image:
    """The decoded image, upright, or ImageRejectedError naming why Rekognition would refuse it."""
    if len(data) > MAX_S3_IMAGE_BYTES:
        raise ImageRejectedError("ImageTooLargeException", "Image size is too large; the S3 object limit is 15 MB")
    return ImageOps.exif_transpose(check_image(data))


def check_image(data: bytes) -> Image.Image:
    """The decoded image as stored, if DetectCustomLabels accepts it (the Rekognition emulator applies this same
    rule), else ImageRejectedError. The size is read from the header before anything is decoded, so a small file
    declaring a huge picture is refused for its size, not decompressed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            picture = Image.open(io.BytesIO(data))
            if picture.format not in FORMATS:
                raise ImageRejectedError("InvalidImageFormatException", "Request has unsupported image format")
            check_dimensions(*picture.size)
            picture.load()
            return picture
        except Image.DecompressionBombError:
            raise ImageRejectedError(
                "InvalidParameterException", f"Image dimensions exceed the {MAX_SIDE} x {MAX_SIDE} px limit"
            ) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
            raise ImageRejectedError("InvalidImageFormatException", "Request has invalid image format") from None


def check_dimensions(width: int, height: int) -> None:
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise ImageRejectedError(
            "InvalidParameterException",
            f"Image dimensions {width}x{height} are outside {MIN_SIDE}-{MAX_SIDE} px per side",
        )
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise ImageRejectedError(
            "InvalidParameterException",
            f"Image aspect ratio {width}x{height} exceeds the maximum of {MAX_ASPECT_RATIO}:1",
        )
