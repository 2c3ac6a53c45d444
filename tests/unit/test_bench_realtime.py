"""The real-time bench's measurements (bench/realtime.py): saturation counted from whole-second `ProcessedAt` stamps,
and the durations it derives for the simulation from the invocations, the emulator's call log and the function's
log lines."""

import json
import random
from dataclasses import dataclass

import pytest

from bench.realtime import Call, measured_timings, stamp_saturation, steady_throttles
from bench.throughput import Samples, Spread

pytestmark = pytest.mark.unit


def test_whole_second_stamps_count_exactly_the_images_done_between_the_steady_states_bounds():
    """2 images a second for 100 s, stamped to the second: between the 20% and 90% completions (seconds 20 and
    90), 140 images in 70 s; over a capacity of 2, 4, and one that doubles at second 55."""
    stamps = [1_000_000.0 + second for second in range(100) for _ in range(2)]
    assert stamp_saturation(stamps, [(0.0, 2.0)]) == pytest.approx(1.0)
    assert stamp_saturation(stamps, [(0.0, 4.0)]) == pytest.approx(0.5)
    assert stamp_saturation(stamps, [(0.0, 2.0), (1_000_055.0, 4.0)]) == pytest.approx(140 / (35 * 2 + 35 * 4))
    assert stamp_saturation(stamps[:10], [(0.0, 2.0)]) == 0.0  # too few to tell


def test_throttles_are_counted_per_image_of_the_steady_state():
    stamps = [1_000_000.0 + second for second in range(100) for _ in range(2)]
    throttles = [1_000_000.0 + 10.5, 1_000_000.0 + 30.5, 1_000_000.0 + 89.9, 1_000_000.0 + 95.0]
    assert steady_throttles(stamps, throttles) == pytest.approx(2 / 140)


@dataclass
class Invocation:
    environment: int
    started_at: float
    duration_seconds: float
    request_id: str


def log_line(key, request_id, at, latency_ms, slot_wait_ms):
    stamp = f"1970-01-12 13:46:{at - 1_000_000 + 40:06.3f}".replace(".", ",") + "+0000"
    return json.dumps(
        {
            "message": "Image done",
            "timestamp": stamp,
            "key": key,
            "function_request_id": request_id,
            "latency_ms": latency_ms,
            "slot_wait_ms": slot_wait_ms,
        }
    )


def test_the_durations_of_a_run_are_read_from_its_invocations_calls_and_log_lines():
    """One environment, two invocations of one image each. The first starts at 0 (seconds after 1,000,000); its image
    is ready at 0.10 (HEADs), waits 0.20 for its slot, is sent at 0.30, counted by the model at 0.31 (the handler saw
    0.17 s of latency where the model took 0.15: 0.01 s each way), answered at 0.47, its result written at 0.50
    (PUT 0.03). The next invocation starts at 0.60: 0.10 s after that result."""
    calls = [
        Call("a.jpg", 1_000_000.31, 1_000_000.46, True),
        Call("b.jpg", 1_000_000.65, 1_000_000.66, False),
        Call("b.jpg", 1_000_000.71, 1_000_000.86, True),
    ]
    invocations = [Invocation(0, 1_000_000.0, 0.52, "one"), Invocation(0, 1_000_000.6, 0.4, "two")]
    log = [
        log_line("a.jpg", "one", 1_000_000.50, 170.0, 200.0),
        log_line("b.jpg", "two", 1_000_000.90, 170.0, 0.0),
    ]
    timings = measured_timings(calls, invocations, log, latency=0.15)
    assert timings.esm_gap.values == (pytest.approx(0.10),)
    assert timings.prepare.values == (pytest.approx(0.10), pytest.approx(0.10))
    assert timings.send.values == (pytest.approx(0.01), pytest.approx(0.01))
    assert timings.finish.values == (pytest.approx(0.03), pytest.approx(0.03))
    assert timings.overhead.values == (0.0, 0.0)
    assert timings.throttle_answer.values == (pytest.approx(0.03),)  # the emulator's 0.01 s and the way back and forth


def test_a_spread_has_its_median_and_90th_percentile_and_samples_draw_what_was_measured():
    draw = random.Random(7)
    values = sorted(Spread(0.1, 0.3).draw(draw) for _ in range(20_000))
    assert values[10_000] == pytest.approx(0.1, rel=0.03) and values[18_000] == pytest.approx(0.3, rel=0.05)
    assert {Samples((0.2, 0.4)).draw(draw) for _ in range(50)} == {0.2, 0.4}
