"""What DetectCustomLabels does with one image once the model admitted the call: read it (inline bytes or an S3
object, each with its own size limit), and answer the labels the model sees over their thresholds.

`MinConfidence` given applies to every label; omitted, each label's assumed threshold applies. The labels come
most confident first, at most `MaxResults` of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from customlabels.limits import MAX_INLINE_IMAGE_BYTES, MAX_S3_IMAGE_BYTES
from customlabels.local.emulator.errors import ServiceError
from customlabels.local.emulator.models import EmulatedModel
from customlabels.local.emulator.validation import blob_bytes

ReadS3Object = Callable[[str, str, str | None], bytes]
"""(bucket, key, version or None) -> the object's bytes: how the emulator reads S3."""


def requested_image(request: dict[str, Any]) -> dict[str, Any]:
    """The request's `Image`, which must hold exactly one of Bytes or S3Object (a JSON null is an absent member)."""
    image = {name: value for name, value in request["Image"].items() if value is not None}
    if ("Bytes" in image) == ("S3Object" in image):
        raise ServiceError(
            "InvalidParameterException",
            "Image must have exactly one of Bytes or S3Object (both or neither were given)",
        )
    return image


def image_key(image: dict[str, Any]) -> str:
    """The S3 key of the image a request names ("" for inline bytes)."""
    return (image.get("S3Object") or {}).get("Name", "")


def read_image(image: dict[str, Any], read_s3_object: ReadS3Object | None) -> tuple[str, bytes]:
    """The image's key ("" for inline bytes) and its bytes, within Rekognition's limit for where they come from."""
    if "Bytes" in image:
        data = blob_bytes(image["Bytes"])
        if len(data) > MAX_INLINE_IMAGE_BYTES:
            raise ServiceError("ImageTooLargeException", "Image bytes exceed the 4 MB limit")
        return "", data
    s3_object = image["S3Object"]
    if not s3_object.get("Bucket") or not s3_object.get("Name"):
        raise ServiceError("InvalidParameterException", "S3Object must name a Bucket and a Name")
    if read_s3_object is None:
        raise ServiceError("InvalidS3ObjectException", "The emulator has no S3 to read from")
    try:
        data = read_s3_object(s3_object["Bucket"], s3_object["Name"], s3_object.get("Version"))
    except Exception as error:  # any failure to read is what Rekognition reports as this code
        raise ServiceError(
            "InvalidS3ObjectException",
            f"Unable to get object metadata from S3. Check object key, region and/or access permissions. ({error})",
        ) from None
    if len(data) > MAX_S3_IMAGE_BYTES:
        raise ServiceError("ImageTooLargeException", "Image size is too large; the S3 object limit is 15 MB")
    return s3_object["Name"], data


def answered_labels(
    model: EmulatedModel, key: str, size: tuple[int, int], request: dict[str, Any]
) -> list[dict[str, Any]]:
    """The labels the model sees in the image of `key` and `size`, over `MinConfidence` or else each label's assumed
    threshold, most confident first, at most `MaxResults`."""
    min_confidence = request.get("MinConfidence")
    labels = [
        label
        for label in model.backend.detect(key, *size)
        if label["Confidence"] >= (min_confidence if min_confidence is not None else model.threshold(label["Name"]))
    ]
    labels.sort(key=lambda label: label["Confidence"], reverse=True)
    if request.get("MaxResults") is not None:
        labels = labels[: request["MaxResults"]]
    return labels
