"""Daily cost of the pipeline, always-on vs on-demand, from public list prices given as parameters.

The formula is documented in docs/model-lifecycle.md; every price is a parameter because prices differ
by region and change over time. Free tiers are ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from customlabels.config import TPS_PER_INFERENCE_UNIT

HOURS_PER_DAY = 24
ESM_POLLERS = 5
"""Lambda starts an SQS event source with five long-polling pollers (20 s polls) while it is enabled."""
POLLS_PER_POLLER_HOUR = 3600 / 20


@dataclass(frozen=True)
class Prices:
    """USD list prices (us-east-1, checked 2026-11); pass your region's."""

    inference_unit_hour: float = 4.00
    lambda_gb_second: float = 0.0000133334  # arm64
    lambda_request: float = 0.20 / 1_000_000
    sqs_request: float = 0.40 / 1_000_000
    s3_put_request: float = 0.005 / 1_000
    s3_get_request: float = 0.0004 / 1_000


@dataclass(frozen=True)
class Workload:
    images_per_day: int
    burst_hours: float
    """Hours a day during which images arrive (in `bursts_per_day` bursts)."""
    bursts_per_day: int = 1
    inference_units: int = 1
    idle_minutes: int = 30
    batch_size: int = 10
    memory_mb: int = 512
    ms_per_image: float = 150.0
    """Inference function billed time per image: the model's latency plus the handler's own CPU time (bench/
    measures the latter); an estimate to replace with the function's CloudWatch Duration per image."""
    manager_interval_minutes: int = 1
    manager_ms: float = 100.0
    manager_memory_mb: int = 256
    tps_per_inference_unit: float = TPS_PER_INFERENCE_UNIT
    """The model's capacity per inference unit, which only the user can measure (it depends on the model and the
    images); the pipeline does not need it, the estimate does: for the time a burst takes and the minimum."""

    def problems(self) -> list[str]:
        """Workloads no day can hold, each with its fix: the estimate would otherwise quietly stop at 24 hours."""
        found = []
        if self.bursts_per_day * self.burst_hours > HOURS_PER_DAY:
            found.append(
                f"{self.bursts_per_day} bursts of {self.burst_hours:g} h are more than a day. Fix: "
                "--bursts-per-day x --burst-hours at most 24"
            )
        per_unit_per_day = self.tps_per_inference_unit * 3600 * HOURS_PER_DAY
        capacity_per_day = per_unit_per_day * self.inference_units
        if self.images_per_day > capacity_per_day:
            needed = math.ceil(self.images_per_day / per_unit_per_day)
            found.append(
                f"{self.images_per_day:,} images a day are more than {self.inference_units} inference "
                f"unit(s) at {self.tps_per_inference_unit:g} images/s can answer in a day "
                f"({capacity_per_day:,.0f}). Fix: --inference-units {needed} or more"
            )
        return found

    @property
    def processing_hours_per_burst(self) -> float:
        """Hours a burst's images take at the model's capacity (the pipeline keeps it busy, docs/reliability.md)."""
        return self.images_per_day / self.bursts_per_day / (self.tps_per_inference_unit * self.inference_units) / 3600


@dataclass(frozen=True)
class Estimate:
    model_hours: float
    model: float
    lambda_: float
    sqs: float
    s3: float
    items: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return self.model + self.lambda_ + self.sqs + self.s3


def model_hours(workload: Workload, lifecycle: str) -> float:
    """Hours the model runs a day: all day, or each burst (or the time its images take at capacity, if longer)
    plus the idle time before the manager stops it."""
    if lifecycle == "always-on":
        return HOURS_PER_DAY
    busy = max(workload.burst_hours, workload.processing_hours_per_burst)
    return min(HOURS_PER_DAY, workload.bursts_per_day * (busy + workload.idle_minutes / 60))


def inference_unit_hours_per_1000(workload: Workload, lifecycle: str) -> float:
    """Inference-unit hours billed per 1,000 images (infinite for a day without images)."""
    billed = model_hours(workload, lifecycle) * workload.inference_units
    return billed / workload.images_per_day * 1000 if workload.images_per_day else math.inf


def minimum_inference_unit_hours_per_1000(tps_per_inference_unit: float) -> float:
    """The physical minimum: 1,000 images at the model's capacity, billed for exactly that long (1,000 / TPS per
    unit seconds of unit time, whatever the number of units)."""
    return 1000 / tps_per_inference_unit / 3600


def estimate(workload: Workload, lifecycle: str, prices: Prices | None = None) -> Estimate:
    prices = prices or Prices()
    images = workload.images_per_day
    hours = model_hours(workload, lifecycle)
    model = hours * workload.inference_units * prices.inference_unit_hour

    invocations = math.ceil(images / workload.batch_size)
    manager_runs = HOURS_PER_DAY * 60 / workload.manager_interval_minutes + images  # schedule + one per upload
    gb_seconds = (
        images * workload.ms_per_image / 1000 * workload.memory_mb / 1024
        + manager_runs * workload.manager_ms / 1000 * workload.manager_memory_mb / 1024
    )
    lambda_cost = gb_seconds * prices.lambda_gb_second + (invocations + manager_runs) * prices.lambda_request

    mapping_hours = HOURS_PER_DAY if lifecycle == "always-on" else hours  # on demand, the pollers stop too
    sqs_requests = (
        images  # S3 sends one message per image
        + 2 * invocations  # receive and delete per batch
        + ESM_POLLERS * POLLS_PER_POLLER_HOUR * mapping_hours  # empty long polls while enabled
        + HOURS_PER_DAY * 60 / workload.manager_interval_minutes
    )  # the manager reads the depth
    s3_puts, s3_gets = 2 * images, 3 * images  # upload + result; Rekognition's read + two HEADs
    return Estimate(
        model_hours=hours,
        model=model,
        lambda_=lambda_cost,
        sqs=sqs_requests * prices.sqs_request,
        s3=s3_puts * prices.s3_put_request + s3_gets * prices.s3_get_request,
        items={
            "lambda_gb_seconds": gb_seconds,
            "sqs_requests": sqs_requests,
            "s3_put_requests": s3_puts,
            "s3_get_requests": s3_gets,
        },
    )
