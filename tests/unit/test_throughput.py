"""The inference function's throughput control on a simulated clock: its window across threads, its steps, and in
closed loop against the emulator's capacity model (bench/throughput.py's simulation, the real control code), that it
finds a capacity it is not told, follows it when it changes, and loses nothing."""

import bisect
import math
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.throughput import STRATEGIES, Cell, run_cell
from customlabels.local.emulator.clock import ManualClock
from customlabels_runtime.inference.throughput import ThroughputControl

pytestmark = pytest.mark.unit

ADAPTIVE = STRATEGIES[0]


class Recorded(ManualClock):
    """A clock whose sleep does not move time (many threads sleep at once): it records each wake-up time."""

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(round(self.now + seconds, 6))


def busiest_second(times: list[float]) -> int:
    times = sorted(times)
    return max(bisect.bisect_left(times, start + 1.0 - 1e-9) - index for index, start in enumerate(times))


def test_a_batch_on_many_threads_keeps_to_floor_rate_calls_in_any_second():
    clock = Recorded(0.0)
    control = ThroughputControl(initial_rate=3.7, clock=clock, sleep=clock.sleep)
    with ThreadPoolExecutor(10) as pool:
        held = [held for held, _ in pool.map(lambda _: control.wait(), range(10))]
    slots = [0.0] * held.count(False) + clock.slept
    assert sorted(slots) == [0.0] * 3 + [1.0] * 3 + [2.0] * 3 + [3.0]
    assert held.count(False) == 3  # the first window's calls go at once; the others were held back


def test_calls_not_made_during_a_pause_are_made_up_at_once_but_never_beyond_the_rate_in_a_second():
    """Rate 4: a batch's 4 calls at 0.0, then the pause between invocations until 1.6: the next batch's first 4 calls
    go at once (what the pause did not use), the rest a window later."""
    clock = ManualClock(0.0)
    control = ThroughputControl(initial_rate=4.0, clock=clock, sleep=clock.sleep)
    slots = [control.reserve_call()[0] for _ in range(4)]
    clock.advance(1.6)
    slots += [control.reserve_call()[0] for _ in range(6)]
    assert slots == [0.0] * 4 + [1.6] * 4 + [pytest.approx(2.6)] * 2
    assert busiest_second(slots) == 4


@pytest.mark.parametrize(("rate", "calls", "seconds"), [(2.5, 2, 1.0), (1.0, 1, 1.0), (0.5, 1, 2.0), (7.9, 7, 1.0)])
def test_a_fractional_rate_is_rounded_down_so_a_window_never_exceeds_it(rate, calls, seconds):
    assert ThroughputControl(initial_rate=rate).window() == (calls, pytest.approx(seconds))


def test_the_rate_grows_only_on_calls_it_held_back_and_falls_on_a_throttle():
    control = ThroughputControl(initial_rate=2.0, discovery_step=0.1, decrease=0.9)
    control.admitted(held=False)
    assert control.rate == 2.0  # a call that did not wait says nothing about the capacity
    control.admitted(held=True)
    assert control.rate == pytest.approx(2.2)  # discovering: a large step
    control.throttled()
    assert control.rate == pytest.approx(1.98)
    control.admitted(held=True)
    assert control.rate == pytest.approx(1.98 * (1 + control.base_step))  # after the first throttle: the base step


def test_the_steps_make_the_share_of_throttled_calls_converge_to_its_target():
    """At the target share p, the increases of (1 - p) of the calls cancel the decreases of p of them."""
    for target, decrease in ((0.01, 0.95), (0.03, 0.9)):
        control = ThroughputControl(target_throttled=target, decrease=decrease)
        assert (1 - target) * math.log(1 + control.base_step) == pytest.approx(target * -math.log(decrease))


def test_a_long_run_without_throttles_doubles_the_step_and_a_throttle_resets_it():
    control = ThroughputControl(probe_calls=10)
    control.throttled()
    base = control.step
    for _ in range(25):
        control.admitted(held=True)
    assert control.step == 4 * base
    control.throttled()
    assert control.step == base


def test_the_rate_never_falls_below_its_floor():
    control = ThroughputControl(initial_rate=0.1, min_rate=0.05)
    for _ in range(100):
        control.throttled()
    assert control.rate == 0.05


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="target_throttled"):
        ThroughputControl(target_throttled=0.7)


# --- closed loop: the real control in simulated execution environments against the emulator's capacity -------------


@pytest.mark.parametrize(
    "cell", [Cell("2 TPS x 1", 2, 1), Cell("5 TPS x 2", 5, 2), Cell("8 TPS x 2", 8, 2)], ids=lambda cell: cell.name
)
def test_the_environments_find_a_capacity_they_are_not_told_and_lose_nothing(cell):
    measured = run_cell(cell, ADAPTIVE)
    assert measured.lost == 0
    assert measured.saturation >= 0.9, measured
    assert measured.throttled_per_image <= 0.1, measured


def test_the_environments_follow_the_capacity_up_and_down():
    """Units change under a sustained load (1, then 3, then 1): in each phase the model is kept busy, and after the
    fall the throttles stop growing once the environments have come down to the new capacity."""
    measured = run_cell(Cell("5 TPS, 1-3-1", 5, 1), ADAPTIVE, images=4500, unit_schedule=((120.0, 3), (300.0, 1)))
    assert measured.lost == 0 and measured.seconds > 430
    for phase, (start, end) in {"1 unit": (40, 120), "3 units": (160, 300), "1 unit again": (340, 420)}.items():
        assert measured.saturation_between(start, end) >= 0.9, (phase, measured.saturation_between(start, end))
    assert measured.throttles_between(360, 420) <= 0.05 * 5 * 60, "still throttled a minute after the fall"


def test_the_simulation_is_deterministic():
    cell = Cell("5 TPS x 1", 5, 1)
    assert run_cell(cell, ADAPTIVE, images=200) == run_cell(cell, ADAPTIVE, images=200)


def test_a_model_that_may_scale_is_shown_more_demand_than_it_serves_by_probes_whose_throttles_lower_nothing():
    clock = ManualClock(0.0)
    control = ThroughputControl(
        initial_rate=2.0, scale_factor=3, demand_probe_seconds=0.9, clock=clock, sleep=clock.sleep
    )
    control.throttled()  # the first throttle: the share at the starting units is 1.9
    calls = [control.reserve_call() for _ in range(6)]
    probes = [slot for slot, _, probe in calls if probe]
    assert probes == [0.0, pytest.approx(0.9), pytest.approx(1.8)]  # one every 0.9 s among the waiting calls
    assert [slot for slot, _, probe in calls if not probe] == [0.0, 1.0, 2.0]  # the window: 1 call a second
    rate = control.rate
    control.throttled(probe=True)
    assert control.rate == rate
    control.rate = 3 * 1.9  # the model has scaled to its maximum: no more probes
    assert not control.seeks_more_units


def test_a_model_that_cannot_scale_gets_no_probes():
    clock = ManualClock(0.0)
    control = ThroughputControl(initial_rate=2.0, clock=clock, sleep=clock.sleep)
    control.throttled()
    assert not any(probe for _, _, probe in (control.reserve_call() for _ in range(10)))


def test_an_auto_scaling_model_is_scaled_to_its_maximum_under_sustained_load_and_nothing_is_lost():
    measured = run_cell(Cell("5 TPS, 1 to 3", 5, 1, 3), ADAPTIVE, images=4500)
    assert measured.lost == 0
    assert max(capacity for _, capacity in measured.capacity_log) == 15
