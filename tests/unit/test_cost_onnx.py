"""The onnx backend's cost (`customlabels cost`'s third column), worked by hand: Lambda GB-seconds of the images and
the cold starts, requests, SQS polls and S3 requests, and no model hours."""

import pytest

from customlabels.cli import main
from customlabels.operations.cost import OnnxFunction, Prices, Workload, cold_starts, estimate, onnx_estimate

pytestmark = pytest.mark.unit

FUNCTION = OnnxFunction(ms_per_image=300, memory_mb=2048, init_ms=1500, max_concurrency=10)


def test_a_trickle_pays_a_cold_start_per_image_and_no_model_hour():
    """144 images a day, one every 10 minutes: each comes alone to a fresh environment."""
    day = onnx_estimate(Workload(images_per_day=144, burst_hours=24), FUNCTION)
    assert (day.model_hours, day.model) == (0.0, 0.0)
    assert (day.items["invocations"], day.items["cold_starts"]) == (144, 144)
    # 144 x 0.3 s x 2 GB + 144 x 1.5 s x 2 GB = 86.4 + 432 GB-s; 144 requests
    assert day.items["lambda_gb_seconds"] == pytest.approx(518.4)
    assert day.lambda_ == pytest.approx(518.4 * 0.0000133334 + 144 * 0.2e-6)
    # 144 sends + 2 x 144 receives/deletes + 5 pollers x 180 polls an hour all day
    assert day.sqs == pytest.approx((144 + 288 + 21_600) * 0.4e-6)
    # upload + result; the function's GetObject and its two HEADs
    assert day.s3 == pytest.approx(288 * 0.005 / 1000 + 432 * 0.0004 / 1000)
    assert day.total == pytest.approx(0.0069408 + 0.0088128 + 0.0016128, rel=1e-4)


def test_a_burst_comes_in_batches_and_starts_at_most_max_concurrency_environments():
    """10,000 images in an hour (0.36 s apart): 1,000 batches of 10, 10 environments started."""
    workload = Workload(images_per_day=10_000, burst_hours=1)
    assert cold_starts(workload, FUNCTION) == (1000, 10)
    day = onnx_estimate(workload, FUNCTION, Prices(lambda_gb_second=0.00001))
    assert day.items["lambda_gb_seconds"] == pytest.approx(10_000 * 0.3 * 2 + 10 * 1.5 * 2)  # 6,030
    assert day.lambda_ == pytest.approx(6030 * 0.00001 + 1000 * 0.2e-6)
    assert cold_starts(Workload(images_per_day=3000, burst_hours=1, bursts_per_day=3), FUNCTION) == (300, 30)
    assert cold_starts(Workload(images_per_day=30, burst_hours=1, bursts_per_day=3), FUNCTION) == (
        30,
        30,
    )  # 6 min apart


def test_a_day_without_images_costs_the_polls_only():
    day = onnx_estimate(Workload(images_per_day=0, burst_hours=1), FUNCTION)
    assert (day.lambda_, day.s3, day.items["cold_starts"]) == (0.0, 0.0, 0)
    assert day.total == pytest.approx(21_600 * 0.4e-6)


def test_the_cost_command_prints_the_onnx_column_beside_custom_labels(capsys):
    """The camera of issue 29: 288 images a day, one every 5 minutes (each a cold start)."""
    assert main(["cost", "--images-per-day", "288", "--burst-hours", "24", "--onnx-ms-per-image", "200"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    workload = Workload(images_per_day=288, burst_hours=24)
    onnx = onnx_estimate(workload, OnnxFunction(ms_per_image=200))
    on_demand = estimate(workload, "on-demand")
    assert "onnx (own model)" in out
    assert f"│ Per 1,000 images │ 333.38 │ 333.38 │ {onnx.total / 288 * 1000:.4f} │" in out
    # 288 x 0.2 s x 2 GB + 288 x 1.5 s x 2 GB = 979.2 GB-s
    assert "The onnx backend: 979.2 GB-s a day (200 ms per image and 288 cold start(s) of 1500 ms at 2048 MB)" in out
    assert (
        f"{onnx.total:.4f} USD a day; Custom Labels on demand costs {on_demand.total / onnx.total:,.0f}x as much" in out
    )


def test_the_onnx_defaults_are_the_backends():
    from customlabels.own_model import ONNX_DEFAULT_MAX_CONCURRENCY, ONNX_DEFAULT_MEMORY_MB

    assert (OnnxFunction().memory_mb, OnnxFunction().max_concurrency) == (
        ONNX_DEFAULT_MEMORY_MB,
        ONNX_DEFAULT_MAX_CONCURRENCY,
    )
