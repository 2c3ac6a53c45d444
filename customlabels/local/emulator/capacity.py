"""A running model's inference units: what they admit each second, and how auto-scaling adds and removes them.

Each emulated model owns one `Capacity`; no window is shared between models. Time comes from the caller (the
service's clock, a `ManualClock` in tests), and scaling is evaluated lazily whenever the model is used or
described, so no timer runs and a test decides exactly when the delays have passed.

The Custom Labels guide ("Running a trained model", "Managing throughput with inference units") says that the
TPS one unit supports depends on the model type, image size and objects, and that with `MaxInferenceUnits` the
service adds units as demand rises and removes them as it falls; it gives no TPS figure and no delays. The
emulator's figures are therefore parameters (defaults below), listed as assumptions in docs/local-pipeline.md.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from customlabels.config import TPS_PER_INFERENCE_UNIT

DEFAULT_TPS_PER_INFERENCE_UNIT = float(TPS_PER_INFERENCE_UNIT)
"""Calls per second one emulated inference unit admits by default (the configuration's typical figure); a
parameter of each model, not a fact of the service."""
DEFAULT_SCALE_UP_AFTER = 60.0
"""Seconds of sustained overload (calls throttled with no pause over a second) before one unit is added."""
DEFAULT_SCALE_DOWN_AFTER = 300.0
"""Seconds during which the demand would have fitted one unit fewer before that unit is removed."""
WINDOW = 1.0


@dataclass
class Capacity:
    """Inference units in service and the calls they admit: at most `tps_per_inference_unit` x units in any
    one-second window. Between `min_units` and `max_units` the units follow the demand: one more after
    `scale_up_after` seconds of continuous throttling, one fewer after `scale_down_after` seconds in which every
    second's calls would have fitted one unit fewer. `history` records (time, units) of every change."""

    tps_per_inference_unit: float = DEFAULT_TPS_PER_INFERENCE_UNIT
    scale_up_after: float = DEFAULT_SCALE_UP_AFTER
    scale_down_after: float = DEFAULT_SCALE_DOWN_AFTER
    units: int = 0
    min_units: int = 0
    max_units: int = 0
    history: list[tuple[float, int]] = field(default_factory=list)
    _accepted: deque[float] = field(default_factory=deque, repr=False)
    _attempts: deque[float] = field(default_factory=deque, repr=False)
    _changed_at: float = 0.0
    _overloaded_since: float | None = None
    _last_throttled: float | None = None
    _busy_at: dict[int, float] = field(default_factory=dict, repr=False)
    """Per number of units k: the last time one second's calls exceeded what k units admit."""

    def __post_init__(self) -> None:
        if self.tps_per_inference_unit <= 0:
            raise ValueError(f"tps_per_inference_unit must be above 0, got {self.tps_per_inference_unit}")
        if self.scale_up_after < 0 or self.scale_down_after < 0:
            raise ValueError("scale_up_after and scale_down_after must be 0 or more seconds")

    @property
    def tps(self) -> float:
        """Calls per second the units in service admit now."""
        return self.tps_per_inference_unit * self.units

    def start(self, now: float, minimum: int, maximum: int | None = None) -> None:
        """Put `minimum` units in service; with `maximum` above it, auto-scaling may add units up to it."""
        self.min_units, self.max_units = minimum, max(minimum, maximum or minimum)
        self._accepted.clear()
        self._attempts.clear()
        self._busy_at.clear()
        self._overloaded_since = self._last_throttled = None
        self._set(now, minimum)

    def stop(self, now: float) -> None:
        self._set(now, 0)

    def admit(self, now: float) -> bool:
        """Count one call at `now`; False when the units in service are already saturated (throttle it)."""
        self.refresh(now)
        for calls in (self._accepted, self._attempts):
            while calls and now - calls[0] >= WINDOW:
                calls.popleft()
        self._attempts.append(now)
        for units in range(math.ceil(len(self._attempts) / self.tps_per_inference_unit)):
            self._busy_at[units] = now
        if len(self._accepted) >= self.tps:
            self._throttled(now)
            return False
        self._accepted.append(now)
        return True

    def refresh(self, now: float) -> None:
        """Remove the units the demand has not needed for `scale_down_after` seconds, one delay per unit."""
        while self.units > self.min_units:
            quiet_since = max(self._busy_at.get(self.units - 1, self._changed_at), self._changed_at)
            if now - quiet_since < self.scale_down_after:
                return
            self._set(quiet_since + self.scale_down_after, self.units - 1)

    def _throttled(self, now: float) -> None:
        if self._last_throttled is None or now - self._last_throttled > WINDOW:
            self._overloaded_since = now  # a pause of more than a second ends a stretch of overload
        self._last_throttled = now
        overloaded_for = now - max(self._overloaded_since, self._changed_at)
        if self.units < self.max_units and overloaded_for >= self.scale_up_after:
            self._set(now, self.units + 1)

    def _set(self, now: float, units: int) -> None:
        self.units, self._changed_at = units, now
        self.history.append((now, units))
