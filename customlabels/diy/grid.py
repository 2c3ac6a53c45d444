"""The DIY detector in numpy: a patch classifier over a grid of cells, as `graph` writes it in ONNX.

An image is letterboxed to a square input (as the onnx backend does for `resize: letterbox`). Each pixel gets
features of its own: how close its colour is to each of a few colours learned from the training images (k-means), and
the strength of its horizontal and vertical edges (Sobel filters on its grey). The features are averaged over each
cell of the grid; a cell is described by the averages of the cells around it (a `context` x `context`
neighbourhood, zeros beyond the border). A multinomial logistic regression tells from that description whether the
cell holds the centre of an object of each label (or of none), and a ridge regression where the object's centre is
and how large the object is. Every step is linear but the colour memberships, the edges' magnitude and the softmax:
so each is one ONNX operator, and the regressions are convolutions whose kernels are their coefficients.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

GREY = np.array([0.299, 0.587, 0.114], dtype=np.float32)
"""ITU-R BT.601 luma weights: an RGB pixel's grey."""
SOBEL = np.array([[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]], dtype=np.float32)
"""The horizontal and vertical Sobel kernels (cross-correlation, as ONNX Conv computes)."""
PAD_VALUE = 114
"""The letterbox's grey padding (as Ultralytics pads)."""


@dataclass(frozen=True)
class GridShape:
    size: int = 256
    """Input width and height in pixels."""
    cell: int = 8
    """A cell's side in input pixels."""
    context: int = 5
    """Cells on each side of the neighbourhood that describes a cell (odd)."""

    @property
    def cells_per_side(self) -> int:
        return self.size // self.cell

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Each cell's centre in input pixels (x, y), in the order of the model's outputs (row by row)."""
        index = (np.arange(self.cells_per_side, dtype=np.float32) + 0.5) * self.cell
        y, x = np.meshgrid(index, index, indexing="ij")
        return x.ravel(), y.ravel()


@dataclass(frozen=True)
class Letterboxed:
    """An image as the model's input: channels first, RGB values in [0, 1], and how it maps to the original."""

    pixels: np.ndarray
    """[3, size, size] float32."""
    scale: float
    left: int
    top: int


def letterbox(image: Image.Image, size: int) -> Letterboxed:
    """Scaled to fit `size` x `size` keeping its aspect ratio, centred on grey."""
    image = image.convert("RGB")
    scale = min(size / image.width, size / image.height)
    width, height = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    canvas = Image.new("RGB", (size, size), (PAD_VALUE,) * 3)
    left, top = (size - width) // 2, (size - height) // 2
    canvas.paste(image.resize((width, height), Image.Resampling.BILINEAR), (left, top))
    pixels = np.asarray(canvas, dtype=np.float32).transpose(2, 0, 1) / 255.0
    return Letterboxed(pixels, scale, left, top)


def pixel_features(pixels: np.ndarray, colours: np.ndarray, radius: float) -> np.ndarray:
    """[K + 2, H, W]: each pixel's membership of each of the K colours (1 at the colour, falling to 0 at `radius`
    away in RGB), then its horizontal and vertical edge magnitudes."""
    squares = (pixels * pixels).sum(axis=0)  # ||x - c||² = ||x||² - 2 c.x + ||c||², as the graph's one Conv has it
    distances = squares[None] - 2 * np.tensordot(colours, pixels, axes=1) + (colours**2).sum(axis=1)[:, None, None]
    memberships = np.maximum(0.0, 1.0 - distances / radius**2)
    grey = np.pad(np.tensordot(GREY, pixels, axes=1), 1)
    windows = sliding_window_view(grey, (3, 3))
    edges = np.abs(np.einsum("hwab,kab->khw", windows, SOBEL))
    return np.concatenate([memberships, edges]).astype(np.float32)


def cell_descriptions(features: np.ndarray, grid: GridShape) -> np.ndarray:
    """[cells, F * context²]: per cell (row by row), the cell averages of its neighbourhood, feature by feature and
    within a feature row by row: the order in which a Conv kernel of the same size holds its weights."""
    channels, side, reach = features.shape[0], grid.cells_per_side, grid.context // 2
    averages = features.reshape(channels, side, grid.cell, side, grid.cell).mean(axis=(2, 4))
    padded = np.pad(averages, ((0, 0), (reach, reach), (reach, reach)))
    windows = sliding_window_view(padded, (grid.context, grid.context), axis=(1, 2))  # [F, side, side, c, c]
    return windows.transpose(1, 2, 0, 3, 4).reshape(side * side, -1)


@dataclass(frozen=True)
class DiyDetector:
    """The fitted weights. The regressions work on standardized descriptions ((x - mean) / scale, as scikit-learn's
    StandardScaler makes them); `graph` folds the standardization into the convolutions."""

    labels: tuple[str, ...]
    grid: GridShape
    colours: np.ndarray
    """[K, 3] RGB in [0, 1]."""
    radius: float
    mean: np.ndarray
    scale: np.ndarray
    class_coef: np.ndarray
    """[1 + C, F * context²]: background first, then the labels."""
    class_intercept: np.ndarray
    box_coef: np.ndarray
    """[4, F * context²]: the centre's offset from the cell's centre (x, y) and the log of the width and height, all
    in cells."""
    box_intercept: np.ndarray

    def describe(self, pixels: np.ndarray) -> np.ndarray:
        """The standardized description of every cell of one input."""
        features = pixel_features(pixels, self.colours, self.radius)
        return (cell_descriptions(features, self.grid) - self.mean) / self.scale

    def raw_output(self, pixels: np.ndarray) -> np.ndarray:
        """[4 + C, cells]: cx, cy, w, h in input pixels and each label's score, the `yolo-raw` layout."""
        described = self.describe(pixels)
        logits = described @ self.class_coef.T + self.class_intercept
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        boxes = described @ self.box_coef.T + self.box_intercept
        x, y = self.grid.centres()
        cell = self.grid.cell
        return np.vstack(
            [
                x + boxes[:, 0] * cell,
                y + boxes[:, 1] * cell,
                np.exp(boxes[:, 2]) * cell,
                np.exp(boxes[:, 3]) * cell,
                probabilities[:, 1:].T,
            ]
        ).astype(np.float32)
