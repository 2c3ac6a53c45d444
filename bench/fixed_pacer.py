"""The fixed pacer the inference function used before its throughput control (until 2026-11-27), kept as the
reference that bench/throughput.py compares against: each environment paced to `floor(share)` calls per 1.1 s,
the share assuming 5 TPS per inference unit."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class Pacer:
    """At most this environment's share of the model's calls in any one-second window, across threads.

    The model admits 5 calls per inference unit in any second. If every environment keeps to
    `floor(share)` calls in any window of a little over a second (1.1 s), their sum stays under the limit whatever
    their phases, so nothing is throttled; and since a call may go as soon as the window allows, a new
    batch starts with a burst that makes up for the gap between invocations (docs/reliability.md).
    """

    WINDOW_MARGIN = 1.1
    """Windows 10% longer than a second absorb the jitter between sending a call and the model admitting it
    (at 5%, 1.1% of calls were still throttled in bench/)."""

    def __init__(
        self,
        calls_per_second: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.calls = max(1, math.floor(calls_per_second)) if calls_per_second else 0
        self.window = max(1.0, self.calls / calls_per_second) * self.WINDOW_MARGIN if calls_per_second else 0.0
        self.clock, self.sleep = clock, sleep
        self._slots: deque[float] = deque(maxlen=self.calls or None)
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.calls:
            return
        with self._lock:
            now = self.clock()
            slot = now if len(self._slots) < self.calls else max(now, self._slots[0] + self.window)
            self._slots.append(slot)
        if slot > now:
            self.sleep(slot - now)
