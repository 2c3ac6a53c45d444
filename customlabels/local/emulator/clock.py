"""A clock that moves only when told, for the emulator, the model commands and their tests.

Injected where real code reads `time.monotonic` and calls `time.sleep`, it makes every state in between
(a model STARTING, a wait that polls) last exactly as long as the caller says, whatever the machine's speed.
"""

from __future__ import annotations

import threading


class ManualClock:
    """`clock()` reads the time; `advance(seconds)` moves it; `sleep(seconds)` moves it too (a sleeper
    that is the only thing happening lets its own time pass), and records what was asked."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds
