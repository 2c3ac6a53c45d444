"""What DetectCustomLabels accepts as an image, judged from the content as Rekognition judges it: JPEG or PNG by the
bytes, not the name (a JPEG carrying a second embedded image, which Pillow names MPO and phones write, is a JPEG);
decodable; 64-4096 px per side; at most 20:1.

The rule is written once, in the onnx backend's function, which reads images itself
(`customlabels_runtime.onnx_inference.images`): the emulator answers with it, so both backends refuse the same
images with the same codes.
"""

from __future__ import annotations

from customlabels.local.emulator.errors import ServiceError
from customlabels_runtime.onnx_inference.images import ImageRejectedError
from customlabels_runtime.onnx_inference.images import check_image as accepted_image


def check_image(data: bytes) -> tuple[int, int]:
    """(width, height) of an image DetectCustomLabels accepts, or ServiceError naming why not."""
    try:
        return accepted_image(data).size
    except ImageRejectedError as rejected:
        raise ServiceError(rejected.code, rejected.message) from None
