"""What `local run` says of the emulated Rekognition: its calls, the errors it answered, and the inference units
auto-scaling moved (from the emulator's own counters and Capacity.history)."""

import pytest

from customlabels.cli.local_tables import service_story
from customlabels.local.emulator.capacity import Capacity

pytestmark = pytest.mark.unit


def test_a_quiet_run_says_its_calls_and_no_error_and_fixed_units_say_nothing_more():
    capacity = Capacity()
    capacity.start(10.0, 1)
    assert service_story({"DetectCustomLabels": 1, "DescribeProjectVersions": 4}, {}, capacity.history, 0.0) == [
        "Rekognition: 1 DetectCustomLabels call, no error"
    ]


def test_throttles_and_the_units_auto_scaling_added_and_removed_are_told_in_order():
    """A capacity of 1 unit (1 call/s) that may grow to 2: two calls in one second for 2 s add a unit, quiet for
    3 s removes it; the story tells the units the capacity itself recorded."""
    capacity = Capacity(tps_per_inference_unit=1, scale_up_after=2, scale_down_after=3)
    capacity.start(10.0, 1, 2)
    for second in range(4):
        capacity.admit(10.0 + second)
        capacity.admit(10.5 + second)
    capacity.refresh(30.0)
    assert [units for _, units in capacity.history] == [1, 2, 1]
    capacity.stop(40.0)
    lines = service_story(
        {"DetectCustomLabels": 8}, {"ThrottlingException": 3, "ResourceNotReadyException": 1}, capacity.history, 5.0
    )
    assert lines[0] == (
        "Rekognition: 8 DetectCustomLabels calls; errors answered (retried, docs/reliability.md): "
        "1 ResourceNotReadyException, 3 ThrottlingException"
    )
    added, removed = capacity.history[1][0] - 5.0, capacity.history[2][0] - 5.0
    assert lines[1] == (
        f"Inference units (auto-scaling): 1 (+5.0 s) -> 2 (+{added:.1f} s) -> 1 (+{removed:.1f} s) -> 0 (+35.0 s)"
    )
