"""Throughput control of DetectCustomLabels per execution environment. Standard library only.

A model's capacity is not a number the pipeline can know: the Custom Labels guide says the TPS of an inference
unit depends on the model, the image size and the objects found, and with `MaxInferenceUnits` the service adds
units under load. What the pipeline does see is the model's answer, `ProvisionedThroughputExceededException`,
when the calls exceed the capacity. So each execution environment finds its share from those answers and
follows it as it changes; there is no TPS setting to get wrong (docs/reliability.md, "Throughput control").
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import NamedTuple

THROTTLING_CODES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException"})
"""The model's (and the account's) "too many calls": a signal to slow down, retried at the next slot."""


class Slot(NamedTuple):
    """A call's turn: when it may go, whether the rate held it back (it waited), whether it is a demand probe,
    the generation of the rate it was given under (how many decreases had happened), and whether it took the
    fractional lane."""

    at: float
    held: bool = False
    probe: bool = False
    generation: int = 0
    fractional: bool = False


class ThroughputControl:
    """This environment's rate of DetectCustomLabels calls, found from the model's throttles and kept just at them.

    - **The rate is what it sends, at any share.** `rate` x `window_seconds` is an allowance of calls per window,
      whole and fractional. Its whole part is that many lanes, each used at most once per window, across the
      threads of a batch; its fraction is one lane more, used once every `window_seconds / fraction` (rate 1.5: a
      call every 1.03 s and one more every 2.06 s; rate 0.7: one call every 1.47 s). A call takes the lane that is
      free first and goes as soon as it is, so what an environment did not send during the pause between two
      invocations is made up at once, and no second holds more than `ceil(rate)` of its calls. The window is 3%
      longer than the model's second: a lane reused exactly a second later would, half the time, arrive a few
      milliseconds early (the jitter between sending a call and the model counting it) and be throttled.
    - **Lanes, not a spread rate, against a model that counts calls per second.** Two environments that each
      send 1.5 calls/s to a 3 TPS model meet in the same second whatever their phases; one of 2 lanes and one of
      1 never do. So the whole lanes are kept and the fraction is the probe for one more: a throttle of a call
      in the fractional lane cuts the fraction by `fraction_decrease`, a second one in a row to at most
      `target_throttled` x the whole lanes (one probe in about 1 / `target_throttled` calls), and leaves the
      whole lanes alone (one collision cut at once to the cap left two environments at 6 lanes of 8). A
      throttle of a whole-lane call lowers the rate by `decrease` only when another came within
      `repeat_windows` windows: lanes over the capacity collide every second, while one lane taken by another
      environment's probe in the instant it was free is taken once. A whole-lane call that did not wait (the
      first of a batch, after the pause) found its lane taken meanwhile: that lowers nothing either.
    - **Steps.** Every admitted call that had waited for its slot raises the rate: a whole-lane call by the base
      step, a call in the fractional lane or an admitted demand probe (capacity found beyond the whole lanes) by
      `fraction_step`; from the third fractional call in a row found free (no lane taken once, but room), the
      fraction doubles, up to a whole lane more. Of two environments whose fractions meet, the one that lost
      halves and the other grows: they part into lanes of their own. The base step makes the fraction grow
      between its failed probes as much as they cut it: with the whole lanes full, a fraction f of a rate r grows
      by r x r x step a second and loses (1 -
      `fraction_decrease`) x f at each of its f failed calls a second, so f / r, the share of throttled calls,
      settles at sqrt(step / (1 - `fraction_decrease`)) = `target_throttled`. After `probe_calls` admitted calls
      in a row without a decrease the base step doubles, and again for each further `probe_calls`: far below a
      new capacity the rate grows exponentially.
    - **One overload, one answer.** A call given its slot before the latest decrease was sent at the rate that
      the decrease already answered: its throttle lowers nothing more.
    - **Discovery.** A cold environment starts at `initial_rate` with its fractional lane just used (no burst
      beyond its whole lanes) and grows by `discovery_step` per admitted call until its first throttle, which
      lowers the rate by `decrease` whatever its lane: it answers the overshoot. (Cut to the cap there, two
      environments that started together would both keep one lane of a 3 TPS model and probe once a minute.)
    - **Demand for an auto-scaling model.** A model that may auto-scale (`scale_factor` = max / min inference
      units above 1) adds units only when it sees more demand than it serves; a control that keeps exactly to
      the capacity would hide that demand. So while calls wait for their slots and the rate is below
      `scale_factor` times the share found at the first throttle, a waiting call goes earlier, outside the lanes,
      one every `demand_probe_seconds`: a demand probe; and no throttle lowers the rate then (each one is the
      demand the model has to see). An admitted probe raises the rate like a call in the fractional lane. After
      `demand_patience_seconds` without the rate growing by 10%, the model has added what it will: no more
      probes.
    """

    def __init__(
        self,
        *,
        initial_rate: float = 1.0,
        target_throttled: float = 0.01,
        decrease: float = 0.95,
        discovery_step: float = 0.05,
        fraction_step: float = 0.02,
        fraction_decrease: float = 0.5,
        repeat_windows: float = 2.0,
        probe_calls: int = 50,
        min_rate: float = 0.05,
        scale_factor: float = 1.0,
        demand_probe_seconds: float = 0.9,
        demand_patience_seconds: float = 90.0,
        window_seconds: float = 1.03,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 0 < target_throttled < 0.5 or not 0 < decrease < 1 or not 0 <= fraction_decrease < 1:
            raise ValueError("need 0 < target_throttled < 0.5, 0 < decrease < 1 and 0 <= fraction_decrease < 1")
        if initial_rate <= 0 or window_seconds <= 0:
            raise ValueError("need initial_rate > 0 and window_seconds > 0")
        self.rate = initial_rate
        self.min_rate = min_rate
        self.target_throttled = target_throttled
        self.decrease = decrease
        self.discovery_step = discovery_step
        self.fraction_step = fraction_step
        self.fraction_decrease = fraction_decrease
        self.repeat_windows = repeat_windows
        self.probe_calls = probe_calls
        self.scale_factor = scale_factor
        self.demand_probe_seconds = demand_probe_seconds
        self.demand_patience_seconds = demand_patience_seconds
        self.window_seconds = window_seconds
        self.base_step = target_throttled**2 * (1 - fraction_decrease)
        self.first_share: float | None = None
        """This environment's share of the model as it started: the highest rate within `probe_calls` admitted
        calls of its first throttle (a cold start's first throttle may come from the other environments' start)."""
        self._share_until = 0
        self.clock, self.sleep = clock, sleep
        self.admitted_calls = 0
        self.throttled_calls = 0
        self.generation = 0
        """How many times a throttle lowered the rate."""
        self._discovering = True
        self._admitted_in_a_row = 0
        self._last_probe = float("-inf")
        self._last_whole_throttle = float("-inf")
        self._free_in_a_row = 0
        self._failed_in_a_row = 0
        self._peak, self._peak_at = initial_rate, clock()
        """The highest rate so far (by steps of 10%) and when it was reached: while the model still adds units."""
        self._slots: deque[float] = deque()
        """The times of the latest calls in the whole lanes, at most one per lane, oldest first."""
        self._fraction_used = clock()
        """When the fractional lane was last used (a cold environment starts with it just used)."""
        self._lock = threading.Lock()

    @property
    def step(self) -> float:
        """The relative increase for one admitted whole-lane call that waited for its slot."""
        if self._discovering:
            return self.discovery_step
        return self.base_step * 2 ** min(self._admitted_in_a_row // self.probe_calls, 20)

    def window(self) -> tuple[int, float]:
        """(whole, every): at most `whole` calls in any window of `window_seconds`, and one more every `every`
        seconds (the fraction of the rate; infinity for a whole number)."""
        allowance = self.rate * self.window_seconds
        whole = math.floor(allowance + 1e-9)
        fraction = allowance - whole
        return whole, self.window_seconds / fraction if fraction > 1e-9 else math.inf

    @property
    def seeks_more_units(self) -> bool:
        """True while the model may still add units that this environment's share has not met, and it did add
        some lately (the rate grew 10% within `demand_patience_seconds`)."""
        return (
            self.scale_factor > 1
            and (self.first_share is None or self.rate < 0.9 * self.scale_factor * self.first_share)
            and self.clock() - self._peak_at < self.demand_patience_seconds
        )

    def reserve_call(self) -> Slot:
        """This call's slot: when it may go, whether the rate held it back, whether it is a demand probe (sent at
        once, outside the lanes, to show the model more demand than it serves)."""
        with self._lock:
            now = self.clock()
            whole, every = self.window()
            while len(self._slots) > whole:
                self._slots.popleft()
            if len(self._slots) < whole:
                in_window = now
            else:
                in_window = max(now, self._slots[0] + self.window_seconds) if whole else math.inf
            in_fraction = max(now, self._fraction_used + every) if every < math.inf else math.inf
            at = min(in_window, in_fraction)
            if at > now and self.seeks_more_units:
                probe = max(now, self._last_probe + self.demand_probe_seconds)
                if probe < at:
                    self._last_probe = probe
                    return Slot(probe, True, True, self.generation)
            if in_window <= in_fraction:
                self._slots.append(at)
            else:
                self._fraction_used = at
            return Slot(at, at > now, False, self.generation, fractional=in_window > in_fraction)

    def wait(self) -> Slot:
        """Block until this call's slot, and return it."""
        slot = self.reserve_call()
        delay = slot.at - self.clock()
        if delay > 0:
            self.sleep(delay)
        return slot

    def admitted(self, slot: Slot) -> None:
        """The model took the call of `slot`; a call that had waited for its slot (the rate was the limit) raises
        the rate."""
        with self._lock:
            self.admitted_calls += 1
            if not slot.held:
                return
            self._admitted_in_a_row += 1
            if self._discovering:
                self.rate *= 1 + self.discovery_step
            elif slot.probe:  # capacity found beyond the whole lanes
                self.rate *= 1 + self.fraction_step
            elif slot.fractional:  # the fractional lane found free
                self._free_in_a_row += 1
                self._failed_in_a_row = 0
                self.rate *= 1 + self.fraction_step
                whole, _ = self.window()
                if whole and self._free_in_a_row > 2:  # free again and again: not a lane taken once, but room
                    fraction = self.rate * self.window_seconds - whole
                    self.rate = (whole + min(1.0, 2 * fraction)) / self.window_seconds
            else:
                self.rate *= 1 + self.step
            if self.rate > 1.1 * self._peak:
                self._peak, self._peak_at = self.rate, self.clock()
            if self.first_share is not None and self.admitted_calls <= self._share_until:
                self.first_share = max(self.first_share, self.rate)

    def throttled(self, slot: Slot) -> None:
        """The model refused the call of `slot` for throughput: cut the fraction, or lower the rate, as the class
        says; stop discovering."""
        with self._lock:
            self.throttled_calls += 1
            if slot.probe or slot.generation != self.generation:
                return  # a probe was sent beyond the rate; a stale slot's overload is answered already
            whole, _ = self.window()
            if not self._discovering:
                if self.seeks_more_units:
                    return  # the demand an auto-scaling model has to see
                if whole and not slot.fractional:
                    if not slot.held:
                        return  # its lane was taken during the pause before it: no sign of a rate too high
                    now = self.clock()
                    repeated = now - self._last_whole_throttle <= self.repeat_windows * self.window_seconds
                    self._last_whole_throttle = now
                    if not repeated:
                        return  # one lane taken once, in the instant it was free
            if self.first_share is None:
                self.first_share, self._share_until = self.rate, self.admitted_calls + self.probe_calls
            was_discovering = self._discovering
            if slot.fractional and not was_discovering:
                self._free_in_a_row = 0
                self._failed_in_a_row += 1
            self._discovering = False
            self._admitted_in_a_row = 0
            self.generation += 1
            if slot.fractional and whole and not was_discovering:
                fraction = self.rate * self.window_seconds - whole
                fraction *= self.fraction_decrease
                if self._failed_in_a_row > 1:
                    fraction = min(fraction, self.target_throttled * whole)
                self.rate = (whole + fraction) / self.window_seconds
            else:
                self.rate = max(self.min_rate, self.rate * self.decrease)
