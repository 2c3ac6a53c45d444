"""`customlabels cost --max-wait-minutes M` answers from the lifecycle simulation (the real manager on a simulated
clock), not from a formula of its own: its figures are the simulation's for the same workload."""

import argparse

import pytest

from customlabels.cli import main
from customlabels.cli.cost_simulated import simulate_day
from customlabels.config import MODEL_ARN_EXAMPLE, PipelineConfig
from customlabels.simulation.lifecycle import DAY, simulate, workload

pytestmark = pytest.mark.unit

TRICKLE = ["--images-per-day", "288", "--burst-hours", "24"]


def printed(capsys, *argv: str) -> str:
    assert main(["cost", *argv]) == 0
    return " ".join(capsys.readouterr().out.split())


def options(**given) -> argparse.Namespace:
    defaults = dict(
        images_per_day=288,
        burst_hours=24.0,
        bursts_per_day=1,
        idle_minutes=30,
        inference_units=1,
        tps_per_inference_unit=5.0,
        start_minutes=10.0,
        max_wait_minutes=60,
    )
    return argparse.Namespace(**{**defaults, **given})


def test_the_workload_is_the_days_images_in_its_bursts():
    profile = workload(3000, 1, 3)
    assert len(profile.uploads) == 3000 and max(profile.uploads) < DAY
    starts = [profile.uploads[0], profile.uploads[1000], profile.uploads[2000]]
    assert [round(starts[1] - starts[0]), round(starts[2] - starts[1])] == [DAY // 3, DAY // 3]
    assert profile.uploads[999] - profile.uploads[0] < 3600


def test_cost_prints_the_simulations_own_figures(capsys):
    text = printed(capsys, *TRICKLE, "--max-wait-minutes", "60")
    config = PipelineConfig(MODEL_ARN_EXAMPLE, max_wait_minutes=60)
    profile = workload(288, 24, 1, tail_seconds=(60 + 120) * 60)
    direct = simulate(profile, config=config)
    assert f"{direct.billed_seconds() / 60:,.1f}" in text
    assert f"Worst wait with max_wait_minutes 60: {direct.worst_wait / 60:,.1f} min" in text
    assert direct.worst_wait <= 61 * 60
    today = simulate(profile, config=PipelineConfig(MODEL_ARN_EXAMPLE))
    assert f"Billed model minutes │ {today.billed_seconds() / 60:,.1f} │ {direct.billed_seconds() / 60:,.1f}" in text


def test_the_options_reach_the_simulation():
    slow, fast = simulate_day(options(start_minutes=20), 60), simulate_day(options(start_minutes=5), 60)
    assert slow.world.start_seconds == 1200 and fast.world.start_seconds == 300
    two = simulate_day(options(inference_units=2, tps_per_inference_unit=2.5), 60)
    assert two.capacity == 5.0 and two.config.max_inference_units == 2


def test_a_budget_no_schedule_can_keep_is_said_with_why(capsys):
    text = printed(capsys, "--images-per-day", "10000", "--burst-hours", "0.1", "--max-wait-minutes", "15")
    assert "images wait longer: a start takes 10 min and the images need 33.3 min at 5 images/s" in text
