"""Fitting the DIY detector (customlabels.diy.grid) on the images of an object-detection manifest, with scikit-learn:
k-means for the colours, a multinomial logistic regression for the labels, a ridge regression for the boxes.

A cell is trained as an object's when its centre lies near the object's centre (within `centre_share` of the
object's width and height, and at least within the cell): YOLO's assignment of an object to the cells at its centre.
The other cells inside an object's box are left out of the training (neither the object nor the background), the
remaining cells are background. Several cells may answer one object; the backend's NMS keeps the best box."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from customlabels.datasets.local_images import files_by_key
from customlabels.datasets.manifest import Box, ManifestEntry
from customlabels.diy.grid import DiyDetector, GridShape, Letterboxed, cell_descriptions, letterbox, pixel_features

IGNORED, BACKGROUND = -1, 0
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


class DiyFitError(ValueError):
    """Training data the fit cannot use; the message names it and the fix."""


@dataclass(frozen=True)
class FitSettings:
    grid: GridShape = field(default_factory=GridShape)
    colours: int = 12
    """Colours k-means learns from the training pixels."""
    radius: float = 0.3
    """RGB distance (values in [0, 1]) at which a pixel stops belonging to a colour."""
    centre_share: float = 0.25
    regularization: float = 0.1
    """The logistic regression's C (smaller: simpler)."""
    ridge_alpha: float = 10.0
    pixels_for_colours: int = 20_000
    seed: int = 0


@dataclass(frozen=True)
class Example:
    """A training image, letterboxed, with its boxes in input pixels (centre x, centre y, width, height)."""

    input: Letterboxed
    boxes: tuple[tuple[str, float, float, float, float], ...]


def example(image: Image.Image, boxes: Sequence[Box], size: int) -> Example:
    boxed = letterbox(image, size)
    return Example(
        boxed,
        tuple(
            (
                box.label,
                (box.left + box.width / 2) * boxed.scale + boxed.left,
                (box.top + box.height / 2) * boxed.scale + boxed.top,
                box.width * boxed.scale,
                box.height * boxed.scale,
            )
            for box in boxes
        ),
    )


def manifest_examples(
    entries: Sequence[ManifestEntry], images: Path, size: int, on_image: Callable[[], None] | None = None
) -> list[Example]:
    """Each manifest line's image, found under `images` by the end of its key (as `evaluate --images` finds them)."""
    files = files_by_key(images, IMAGE_SUFFIXES)
    missing, found = [], []
    for entry in entries:
        path = files.match(entry.key)
        if path is None:
            missing.append(entry.key)
            continue
        with Image.open(path) as image:  # turned as the onnx backend turns it (EXIF orientation), boxes as shown
            found.append(example(ImageOps.exif_transpose(image), entry.boxes, size))
        if on_image:
            on_image()
    if missing:
        raise DiyFitError(
            f"{len(missing)} image(s) of the manifest are not under {images}/, first {missing[0]!r}. Fix: give "
            "--images the folder that holds them (matched by the end of each source-ref)"
        )
    return found


def labels_of(entries: Sequence[ManifestEntry]) -> tuple[str, ...]:
    labels = sorted({box.label for entry in entries for box in entry.boxes})
    if not labels:
        raise DiyFitError(
            "the manifest has no boxes: the DIY model is a detector. Fix: give an object-detection manifest "
            "(groundtruth/object-detection), such as `customlabels sample-data` writes"
        )
    return tuple(labels)


def cell_targets(example: Example, labels: Sequence[str], grid: GridShape, centre_share: float):
    """Per cell: its class (IGNORED, BACKGROUND or 1 + the label's index) and, for an object's cell, the box it
    answers as the regression's targets (offsets and log sizes in cells; NaN elsewhere)."""
    x, y = grid.centres()
    classes = np.full(x.size, BACKGROUND)
    targets = np.full((x.size, 4), np.nan)
    nearest = np.full(x.size, np.inf)
    for _, cx, cy, width, height in example.boxes:
        classes[(np.abs(x - cx) <= width / 2) & (np.abs(y - cy) <= height / 2)] = IGNORED
    for label, cx, cy, width, height in example.boxes:
        reach_x, reach_y = max(grid.cell / 2, centre_share * width), max(grid.cell / 2, centre_share * height)
        distance = np.hypot((x - cx) / reach_x, (y - cy) / reach_y)
        takes = (np.abs(x - cx) <= reach_x) & (np.abs(y - cy) <= reach_y) & (distance < nearest)
        classes[takes] = 1 + labels.index(label)
        nearest[takes] = distance[takes]
        targets[takes] = [
            [(cx - px) / grid.cell, (cy - py) / grid.cell, math.log(width / grid.cell), math.log(height / grid.cell)]
            for px, py in zip(x[takes], y[takes], strict=True)
        ]
    return classes, targets


def learn_colours(examples: Sequence[Example], settings: FitSettings) -> np.ndarray:
    """The training pixels' main colours: k-means centres over a sample of the pixels."""
    from sklearn.cluster import KMeans

    pixels = np.concatenate([item.input.pixels.reshape(3, -1).T for item in examples])
    rng = np.random.default_rng(settings.seed)
    sample = pixels[rng.choice(len(pixels), size=min(settings.pixels_for_colours, len(pixels)), replace=False)]
    means = KMeans(n_clusters=settings.colours, n_init=3, random_state=settings.seed).fit(sample)
    return means.cluster_centers_.astype(np.float32)


@dataclass(frozen=True)
class Fitted:
    """What was learned: the colours (k-means), the standardization (each feature's mean and deviation, as
    scikit-learn's StandardScaler has them) and the two regressions (scikit-learn's)."""

    settings: FitSettings
    labels: tuple[str, ...]
    colours: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    classifier: Any
    boxes: Any

    def describe(self, pixels: np.ndarray) -> np.ndarray:
        """Every cell's standardized description, as the regressions were fitted on it."""
        features = pixel_features(pixels, self.colours, self.settings.radius)
        return (cell_descriptions(features, self.settings.grid) - self.mean) / self.scale

    def detector(self) -> DiyDetector:
        class_coef, class_intercept = _all_classes(self.classifier, len(self.labels))
        return DiyDetector(
            labels=self.labels,
            grid=self.settings.grid,
            colours=self.colours,
            radius=self.settings.radius,
            mean=self.mean.astype(np.float32),
            scale=self.scale.astype(np.float32),
            class_coef=class_coef,
            class_intercept=class_intercept,
            box_coef=self.boxes.coef_.astype(np.float32),
            box_intercept=self.boxes.intercept_.astype(np.float32),
        )


def fit(examples: Sequence[Example], labels: Sequence[str], settings: FitSettings | None = None) -> Fitted:
    """The models these examples teach."""
    import sklearn.cluster  # noqa: F401 - loaded first: threadpool_limits limits the thread pools already loaded
    from threadpoolctl import threadpool_limits

    settings = settings or FitSettings()
    with threadpool_limits(limits=1):  # measured: BLAS threads on a shared 2-core machine make the fit 6x slower
        return _fit(examples, tuple(labels), settings)


def _fit(examples: Sequence[Example], labels: tuple[str, ...], settings: FitSettings) -> Fitted:
    from sklearn.linear_model import LogisticRegression, Ridge

    colours = learn_colours(examples, settings)
    descriptions, classes, targets = [], [], []
    for item in examples:
        features = pixel_features(item.input.pixels, colours, settings.radius)
        descriptions.append(cell_descriptions(features, settings.grid))
        cell_classes, cell_boxes = cell_targets(item, labels, settings.grid, settings.centre_share)
        classes.append(cell_classes)
        targets.append(cell_boxes)
    described, classes, targets = np.concatenate(descriptions), np.concatenate(classes), np.concatenate(targets)
    kept = classes != IGNORED
    if len(set(classes[kept])) < 2:
        raise DiyFitError("the training images hold no object's centre cell. Fix: give images with boxes")
    mean, scale = standardization(described[kept])
    standardized = (described - mean) / scale
    classifier = LogisticRegression(C=settings.regularization, max_iter=2000).fit(standardized[kept], classes[kept])
    objects = classes > BACKGROUND
    boxes = Ridge(alpha=settings.ridge_alpha).fit(standardized[objects], targets[objects])
    return Fitted(settings, labels, colours, mean, scale, classifier, boxes)


def standardization(described: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each feature's mean and standard deviation (1 for a constant feature), as StandardScaler computes them;
    in float64 with numpy, which is several times faster here than StandardScaler's incremental pass."""
    mean = described.mean(axis=0, dtype=np.float64)
    scale = described.std(axis=0, dtype=np.float64)
    scale[scale == 0] = 1.0
    return mean.astype(np.float32), scale.astype(np.float32)


def _all_classes(classifier, labels: int) -> tuple[np.ndarray, np.ndarray]:
    """The coefficients for background and every label, in class order. A label with no training centre gets a
    logit that never wins (its score is 0), so the model's outputs keep one row per label."""
    features = classifier.coef_.shape[1]
    coef = np.zeros((1 + labels, features), dtype=np.float32)
    intercept = np.full(1 + labels, -1e4, dtype=np.float32)
    if len(classifier.classes_) == 2:  # scikit-learn keeps one row for two classes: the second's logit
        rows = np.vstack([-classifier.coef_ / 2, classifier.coef_ / 2])
        intercepts = np.concatenate([-classifier.intercept_ / 2, classifier.intercept_ / 2])
    else:
        rows, intercepts = classifier.coef_, classifier.intercept_
    for row, number in enumerate(classifier.classes_):
        coef[number], intercept[number] = rows[row], intercepts[row]
    return coef, intercept
