"""Confidence thresholds: which detections a result keeps, tunable at runtime (docs/thresholds.md).

The configuration is a JSON document, kept in an SSM parameter the stack creates:

    {"min_confidence": null | 0-100, "labels": {"bee": 72.5}}

A label's threshold is its own, else `min_confidence`, else the model's assumed threshold (what
Rekognition applies when no `MinConfidence` is sent). Rekognition returns nothing below `MinConfidence`,
so the call asks for the lowest threshold needed and the rest is filtered here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from customlabels_runtime.inference.runtime_parameter import RuntimeParameter


class ThresholdsError(ValueError):
    """A thresholds document that cannot be used; the message names the problem and the fix."""


@dataclass(frozen=True)
class Thresholds:
    min_confidence: float | None = None
    labels: Mapping[str, float] = field(default_factory=dict)

    def request_min_confidence(self) -> float | None:
        """What to send as `MinConfidence`: the lowest threshold in use, or None for the assumed thresholds.

        Without a global threshold, labels without their own must get their assumed threshold, which only
        a call without `MinConfidence` applies; per-label thresholds then filter on top of it.
        """
        if self.min_confidence is None:
            return None
        return min([self.min_confidence, *self.labels.values()])

    def threshold_for(self, label: str) -> float | None:
        """The label's threshold; None means the model's assumed threshold (already applied by Rekognition)."""
        return self.labels.get(label, self.min_confidence)

    def passes(self, label: str, confidence: float) -> bool:
        """At or above the label's threshold (always, when the model's assumed threshold applies)."""
        threshold = self.threshold_for(label)
        return threshold is None or confidence >= threshold

    def keep(self, custom_labels: list[dict]) -> list[dict]:
        """The detections at or above their label's threshold."""
        return [label for label in custom_labels if self.passes(label["Name"], label["Confidence"])]

    def to_document(self) -> dict[str, Any]:
        return {"min_confidence": self.min_confidence, "labels": dict(sorted(self.labels.items()))}


def _confidence(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ThresholdsError(f"{where} is {value!r}, not a number. Fix: a confidence from 0 to 100, like 72.5")
    if not 0 <= value <= 100:
        raise ThresholdsError(f"{where}={value} is out of range. Fix: a confidence from 0 to 100 (percent, not 0-1)")
    return float(value)


def parse_thresholds(text: str | bytes | Mapping[str, Any]) -> Thresholds:
    """Validate a thresholds document; every problem is a ThresholdsError naming it and the fix."""
    if isinstance(text, Mapping):
        document: Any = text
    else:
        try:
            document = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ThresholdsError(
                f'not JSON ({error}). Fix: write {{"min_confidence": 80, "labels": {{"bee": 72.5}}}}'
            ) from None
    if not isinstance(document, dict):
        raise ThresholdsError('must be a JSON object with "min_confidence" and "labels"')
    unknown = sorted(set(document) - {"min_confidence", "labels"})
    if unknown:
        raise ThresholdsError(f'unknown key(s) {", ".join(unknown)}. Fix: only "min_confidence" and "labels"')
    global_value = document.get("min_confidence")
    labels = document.get("labels") or {}
    if not isinstance(labels, dict):
        raise ThresholdsError(
            f'"labels" is {labels!r}. Fix: an object of label name to confidence, like {{"bee": 72.5}}'
        )
    for name in labels:
        if not name.strip():
            raise ThresholdsError('"labels" has an empty label name. Fix: use the model\'s label names')
    return Thresholds(
        None if global_value is None else _confidence(global_value, "min_confidence"),
        {name: _confidence(value, f"labels.{name}") for name, value in labels.items()},
    )


class ThresholdSource(RuntimeParameter[Thresholds]):
    """The current thresholds from the SSM parameter, cached up to `max_age` seconds by Powertools Parameters.

    A value that fails validation (or a failed read) keeps the last valid thresholds in force; it is logged and
    counted once per distinct bad value, so a typo never stops the pipeline (runtime_parameter.py).
    """

    unreadable_code = "ThresholdsUnreadable"
    invalid_code = "ThresholdsInvalid"

    def parse(self, value: str) -> Thresholds:
        return parse_thresholds(value)
