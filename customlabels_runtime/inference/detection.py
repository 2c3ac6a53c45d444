"""What a model says of one image, whichever model it is (DetectCustomLabels, or the own model of the onnx
backend), and how long it took."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Detection:
    """DetectCustomLabels' answer for one image, and how long the model took apart from the wait for a slot."""

    response: dict
    latency_seconds: float
    """The admitted call, from sending it to its answer."""
    slot_wait_seconds: float
    """From the image being ready to its admitted call being sent: slots waited for, throttled attempts."""
