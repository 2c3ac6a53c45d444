"""Boxes mean the same thing whatever the image's shape: swept with Hypothesis over image and input shapes, the
part of the input tensor that `prepare` really filled with the image (found in the tensor, not computed) maps back
to the whole image, and letterbox keeps the aspect ratio to the pixel."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from customlabels_runtime.onnx_model.preprocess import LETTERBOX_PAD, prepare
from customlabels_runtime.onnx_model.spec import InputSpec

pytestmark = pytest.mark.unit

COLOUR = 230  # not the padding's 114


@st.composite
def shapes(draw):
    """An image Rekognition would take (64-4096 px per side, at most 20:1, kept small enough to be quick) and a
    model input size."""
    width = draw(st.integers(64, 1600))
    height = draw(st.integers(max(64, -(-width // 20)), min(1600, width * 20)))
    return width, height, draw(st.integers(32, 400)), draw(st.integers(32, 400))


def filled(tensor: np.ndarray) -> tuple[int, int, int, int]:
    """(x1, y1, x2, y2) in input pixels of where the tensor holds the image rather than the padding."""
    image = np.argwhere(tensor[0, 0] > (LETTERBOX_PAD + COLOUR) / 2)
    (y1, x1), (y2, x2) = image.min(axis=0), image.max(axis=0) + 1
    return int(x1), int(y1), int(x2), int(y2)


@settings(max_examples=60, deadline=None)
@given(shapes(), st.sampled_from(["letterbox", "stretch"]))
def test_the_image_as_placed_in_the_input_maps_back_to_the_whole_image(shape, resize):
    width, height, input_width, input_height = shape
    spec = InputSpec(width=input_width, height=input_height, scale=1.0, resize=resize)
    tensor, where = prepare(Image.new("RGB", (width, height), (COLOUR,) * 3), spec)
    assert tensor.shape == (1, 3, input_height, input_width)
    box = where.box_ratios(*filled(tensor))
    # Bilinear resampling may blur the image's edge by a pixel of the input: that, as a ratio of the image, at most.
    pixel_x, pixel_y = 1 / (where.scale_x * width), 1 / (where.scale_y * height)
    assert box["Left"] == pytest.approx(0, abs=pixel_x) and box["Width"] == pytest.approx(1, abs=2 * pixel_x)
    assert box["Top"] == pytest.approx(0, abs=pixel_y) and box["Height"] == pytest.approx(1, abs=2 * pixel_y)
    if resize == "stretch":
        assert filled(tensor) == (0, 0, input_width, input_height)


@settings(max_examples=60, deadline=None)
@given(shapes())
def test_letterbox_keeps_the_aspect_ratio_and_centres_the_image(shape):
    width, height, input_width, input_height = shape
    spec = InputSpec(width=input_width, height=input_height, scale=1.0)
    tensor, _ = prepare(Image.new("RGB", (width, height), (COLOUR,) * 3), spec)
    x1, y1, x2, y2 = filled(tensor)
    ratio = min(input_width / width, input_height / height)  # scale to fit, worked out here
    assert abs((x2 - x1) - width * ratio) <= 1.5 and abs((y2 - y1) - height * ratio) <= 1.5
    assert min(x1, y1) == 0  # it touches two sides of the input
    assert abs(x1 - (input_width - x2)) <= 1 and abs(y1 - (input_height - y2)) <= 1  # padded equally
