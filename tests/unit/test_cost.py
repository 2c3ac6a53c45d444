"""`customlabels cost`'s arithmetic: the on-demand and always-on model hours by hand, prices as parameters."""

import pytest

from customlabels.operations.cost import Prices, Workload, estimate, model_hours

pytestmark = pytest.mark.unit


# --- cost ------------------------------------------------------------------------------------------------
def test_cost_by_hand_for_5000_images_in_one_two_hour_burst():
    workload = Workload(images_per_day=5000, burst_hours=2)
    always, on_demand = estimate(workload, "always-on"), estimate(workload, "on-demand")
    assert (always.model_hours, on_demand.model_hours) == (24, 2.5)  # the burst plus 30 idle minutes
    assert (always.model, on_demand.model) == (96.0, 10.0)
    # 5000 x 0.15 s x 0.5 GB + (1440 scheduled + 5000 on-upload) x 0.1 s x 0.25 GB = 536 GB-s; 500 + 6440 requests
    assert on_demand.lambda_ == pytest.approx(536 * 0.0000133334 + 6940 * 0.2e-6)
    # 5000 sends + 1000 receives/deletes + 5 pollers x 180 polls/h x hours + 1440 depth reads
    assert on_demand.sqs == pytest.approx((5000 + 1000 + 900 * 2.5 + 1440) * 0.4e-6)
    assert always.sqs == pytest.approx((5000 + 1000 + 900 * 24 + 1440) * 0.4e-6)
    assert on_demand.s3 == pytest.approx(10_000 * 0.005 / 1000 + 15_000 * 0.0004 / 1000)


def test_on_demand_never_runs_more_than_a_day_and_prices_are_parameters():
    assert model_hours(Workload(100, burst_hours=8, bursts_per_day=3), "on-demand") == 24
    cheap = estimate(Workload(100, burst_hours=1, inference_units=2), "on-demand", Prices(inference_unit_hour=1.5))
    assert cheap.model == pytest.approx(1.5 * 2 * 1.5)


def test_inference_unit_hours_per_1000_images_against_the_physical_minimum_by_hand():
    from customlabels.operations.cost import inference_unit_hours_per_1000, minimum_inference_unit_hours_per_1000

    workload = Workload(images_per_day=5000, burst_hours=2, inference_units=2)
    assert inference_unit_hours_per_1000(workload, "on-demand") == pytest.approx(2.5 * 2 / 5000 * 1000)  # 1.0
    assert inference_unit_hours_per_1000(workload, "always-on") == pytest.approx(24 * 2 / 5)
    assert minimum_inference_unit_hours_per_1000(5.0) == pytest.approx(1000 / 5 / 3600)  # 200 unit-seconds
    assert inference_unit_hours_per_1000(Workload(0, burst_hours=1), "on-demand") == float("inf")


def test_a_burst_longer_to_process_than_it_lasts_keeps_the_model_running_until_it_is_done():
    """36,000 images in a 1-hour burst at 5 TPS on 1 unit take 2 hours: the model runs 2 h + 30 idle minutes."""
    workload = Workload(images_per_day=36_000, burst_hours=1)
    assert workload.processing_hours_per_burst == pytest.approx(2.0)
    assert model_hours(workload, "on-demand") == pytest.approx(2.5)
    assert model_hours(Workload(images_per_day=36_000, burst_hours=1, tps_per_inference_unit=20), "on-demand") == 1.5


@pytest.mark.parametrize(
    ("workload", "says"),
    [
        (Workload(images_per_day=5000, burst_hours=20, bursts_per_day=3), "3 bursts of 20 h are more than a day"),
        (Workload(images_per_day=10_000_000, burst_hours=1), "Fix: --inference-units 24 or more"),
        (
            Workload(images_per_day=1_000_000, burst_hours=1, inference_units=2, tps_per_inference_unit=2),
            "Fix: --inference-units 6 or more",
        ),
    ],
)
def test_a_workload_no_day_can_hold_is_named_with_its_fix(workload, says):
    assert any(says in problem for problem in workload.problems()), workload.problems()


def test_the_largest_workload_a_day_can_hold_has_no_problem():
    assert Workload(images_per_day=432_000, burst_hours=24).problems() == []
    assert Workload(images_per_day=432_001, burst_hours=24).problems() != []
