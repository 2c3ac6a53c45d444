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

THROTTLING_CODES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException"})
"""The model's (and the account's) "too many calls": a signal to slow down, retried at the next slot."""


class ThroughputControl:
    """This environment's rate of DetectCustomLabels calls, found from the model's throttles and kept just at them.

    - At most `floor(rate)` calls in any one-second window (below 1 call/s: one call per `1 / rate` s), across
      the threads of a batch: the span over which the model counts. A call goes as soon as its window allows,
      so the calls an environment did not make during the pause between two invocations (delete, receive) are
      made up at once, and the environments' windows add up to at most the sum of their rates in any second.
    - Every admitted call that had to wait for its slot raises the rate a little; every throttled call lowers it
      by `decrease`. The two steps are in the ratio that makes the share of throttled calls converge to
      `target_throttled`: the environments together stay at the model's capacity, and a throttle costs one
      quick call, retried at the next slot, not a backoff.
    - Until the first throttle the rate grows by `discovery_step` per call (a cold start finds its share in a
      few dozen calls); after `probe_calls` admitted calls in a row without a throttle, the step doubles, and
      again for each further `probe_calls`: when the service adds inference units, the rate grows exponentially
      until it meets the new capacity. A throttle brings the step back to its base.
    - Calls that did not wait (the environment sent less than its rate) are no evidence of capacity: the rate
      grows only while it is what limits the calls.
    - A model that may auto-scale (`scale_factor` = max / min inference units above 1) adds units only when it
      sees more demand than it serves; a control that keeps exactly to the capacity would hide that demand. So
      while calls wait for their slots and the rate is below `scale_factor` times the share found at the first
      throttle, a call waiting for its slot goes earlier, outside the window, one every `demand_probe_seconds`: a
      demand probe. A
      throttled probe lowers nothing (it was expected); an admitted one raises the rate like any held call.
    """

    def __init__(
        self,
        *,
        initial_rate: float = 1.0,
        target_throttled: float = 0.01,
        decrease: float = 0.95,
        discovery_step: float = 0.05,
        probe_calls: int = 50,
        min_rate: float = 0.05,
        scale_factor: float = 1.0,
        demand_probe_seconds: float = 0.9,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 0 < target_throttled < 0.5 or not 0 < decrease < 1 or initial_rate <= 0:
            raise ValueError("need 0 < target_throttled < 0.5, 0 < decrease < 1 and initial_rate > 0")
        self.rate = initial_rate
        self.min_rate = min_rate
        self.decrease = decrease
        self.discovery_step = discovery_step
        self.probe_calls = probe_calls
        self.scale_factor = scale_factor
        self.demand_probe_seconds = demand_probe_seconds
        self.first_share: float | None = None
        """The rate at the first throttle: this environment's share of the model as it started."""
        self._last_probe = float("-inf")
        # Equilibrium of the share p of throttled calls: (1 - p) x ln(1 + step) = p x -ln(decrease).
        self.base_step = (1 / decrease) ** (target_throttled / (1 - target_throttled)) - 1
        self.clock, self.sleep = clock, sleep
        self.admitted_calls = 0
        self.throttled_calls = 0
        self._discovering = True
        self._admitted_in_a_row = 0
        self._slots: deque[float] = deque()
        """The times of the latest calls, at most one window's worth, oldest first."""
        self._lock = threading.Lock()

    @property
    def step(self) -> float:
        """The relative increase for one admitted call that waited for its slot."""
        if self._discovering:
            return self.discovery_step
        return self.base_step * 2 ** min(self._admitted_in_a_row // self.probe_calls, 20)

    def window(self) -> tuple[int, float]:
        """(calls, seconds): at most that many calls in any window of that length."""
        calls = max(1, math.floor(self.rate))
        return calls, max(1.0, calls / self.rate)

    @property
    def seeks_more_units(self) -> bool:
        """True while the model may still add units that this environment's share has not met."""
        return self.scale_factor > 1 and (
            self.first_share is None or self.rate < 0.9 * self.scale_factor * self.first_share
        )

    def reserve_call(self) -> tuple[float, bool, bool]:
        """(time, held, probe): when this call may go, whether the rate held it back, whether it is a demand probe
        (sent at once, outside the window, to show the model more demand than it serves)."""
        with self._lock:
            now = self.clock()
            calls, seconds = self.window()
            while len(self._slots) > calls:
                self._slots.popleft()
            slot = now if len(self._slots) < calls else max(now, self._slots[0] + seconds)
            if slot > now and self.seeks_more_units:
                probe = max(now, self._last_probe + self.demand_probe_seconds)
                if probe < slot:
                    self._last_probe = probe
                    return probe, True, True
            self._slots.append(slot)
            return slot, slot > now, False

    def wait(self) -> tuple[bool, bool]:
        """Block until this call's slot; (held, probe) as `reserve_call` says."""
        slot, held, probe = self.reserve_call()
        delay = slot - self.clock()
        if delay > 0:
            self.sleep(delay)
        return held, probe

    def admitted(self, held: bool) -> None:
        """The model took a call; `held`: the call had waited for its slot (the rate was the limit)."""
        with self._lock:
            self.admitted_calls += 1
            if held:
                self._admitted_in_a_row += 1
                self.rate *= 1 + self.step

    def throttled(self, probe: bool = False) -> None:
        """The model refused a call for throughput: slow down, and stop probing (a refused demand probe changes
        nothing: it was sent beyond the rate)."""
        with self._lock:
            self.throttled_calls += 1
            if probe:
                return
            if self.first_share is None:
                self.first_share = self.rate
            self._discovering = False
            self._admitted_in_a_row = 0
            self.rate = max(self.min_rate, self.rate * self.decrease)
