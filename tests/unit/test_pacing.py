"""The inference function's pacing of DetectCustomLabels calls, on a fake clock: a burst, then its share per window,
across threads and environments."""

import bisect
import threading
from concurrent.futures import ThreadPoolExecutor
from random import Random

import pytest

pytestmark = pytest.mark.unit


class FakeTime:
    """A clock that only moves when told, and a sleep that records what it was asked (thread-safe)."""

    def __init__(self, now: float = 100.0) -> None:
        self.now, self.slept = now, []
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(round(seconds, 6))


def test_pacer_lets_a_batch_start_with_a_burst_then_keeps_to_its_share_per_window_across_threads():
    from customlabels_runtime.inference.pacing import Pacer

    fake = FakeTime()
    pacer = Pacer(5.0, clock=fake.clock, sleep=fake.sleep)
    with ThreadPoolExecutor(12) as pool:
        list(pool.map(lambda _: pacer.wait(), range(12)))
    assert sorted(fake.slept) == [1.1] * 5 + [2.2] * 2  # 5 at once, 5 a window later, then 2
    fake.now += 10.0
    fake.slept.clear()
    pacer.wait()  # after a pause there is no debt
    assert fake.slept == []


@pytest.mark.parametrize(("rate", "calls", "window"), [(2.5, 2, 1.1), (1.0, 1, 1.1), (0.5, 1, 2.2)])
def test_pacer_rounds_a_fractional_share_down_so_it_never_exceeds_it(rate, calls, window):
    from customlabels_runtime.inference.pacing import Pacer

    pacer = Pacer(rate)
    assert (pacer.calls, pacer.window) == (calls, pytest.approx(window))


def test_paced_environments_together_never_exceed_the_model_in_any_second():
    """Two environments at 5 calls/s each, called at random moments: the 10 TPS limit holds in every window."""
    from customlabels_runtime.inference.pacing import Pacer

    random = Random(7)
    slots = []
    for _ in range(2):
        fake = FakeTime(0.0)
        pacer = Pacer(5.0, clock=fake.clock, sleep=fake.sleep)
        for _ in range(300):
            fake.now += random.expovariate(8.0)
            before = len(fake.slept)
            pacer.wait()
            slots.append(fake.now + (fake.slept[-1] if len(fake.slept) > before else 0.0))
            fake.now = slots[-1]
    slots.sort()
    busiest = max(bisect.bisect_left(slots, start + 1.0) - index for index, start in enumerate(slots))
    assert busiest <= 10


def test_an_unpaced_environment_never_waits():
    from customlabels_runtime.inference.pacing import Pacer

    fake = FakeTime()
    unpaced = Pacer(None, clock=fake.clock, sleep=fake.sleep)
    for _ in range(50):
        unpaced.wait()
    assert fake.slept == []
