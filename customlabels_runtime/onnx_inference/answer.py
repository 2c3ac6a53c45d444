"""The own model's answer for one image, as DetectCustomLabels' would be: its labels (each label's threshold, else
the model's default one, applied), or the same permanent error for an image no retry can cure."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from customlabels_runtime.contract import ObjectCreated
from customlabels_runtime.inference.detection import Detection
from customlabels_runtime.inference.thresholds import Thresholds
from customlabels_runtime.onnx_inference.images import open_image, read_image
from customlabels_runtime.onnx_model.model import OwnModel


class OwnModelAnswer:
    """`Dependencies.own_model`: reads the image through S3 (and the pipeline's key), runs the model on it."""

    def __init__(self, model: OwnModel, s3: Any, clock: Callable[[], float] = time.perf_counter) -> None:
        self.model, self.s3, self.clock = model, s3, clock

    def __call__(self, image: ObjectCreated, thresholds: Thresholds) -> Detection:
        picture = open_image(read_image(image, self.s3))
        started = self.clock()
        labels = self.model.custom_labels(picture, thresholds.threshold_for)
        return Detection({"CustomLabels": labels}, self.clock() - started, 0.0)
