"""Result JSONs as the inference function writes them (`<key>.json`), and the gallery tests' set of them."""


def result_document(key: str, labels=(), error: dict | None = None, bucket: str = "b") -> dict:
    """The result of image `key`: its labels, and the `Error` of an image that can never succeed."""
    document = {"Image": {"Bucket": bucket, "Key": key}, "CustomLabels": list(labels)}
    if error:
        document["Error"] = error
    return document


def box(left, top, width, height):
    return {"BoundingBox": {"Left": left, "Top": top, "Width": width, "Height": height}}


ERROR = {"Code": "InvalidImageFormatException", "Message": "Request has unsupported image format"}


GALLERY_RESULTS = {
    "meadow/bee #1.jpg": [
        {"Name": "bee", "Confidence": 95.0, "Geometry": box(0.1, 0.1, 0.3, 0.3)},
        {"Name": "flower", "Confidence": 60.0, "Geometry": box(0.5, 0.5, 0.3, 0.3)},
    ],
    "flowers.png": [
        {"Name": "flower", "Confidence": 85.0, "Geometry": box(0.2, 0.2, 0.4, 0.4)},
        {"Name": "sunny", "Confidence": 70.0},
    ],
    "empty.jpg": [],
}
