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
    s3, s3_requests = s3_cost(images, prices)
    return Estimate(
        model_hours=hours,
        model=model,
        lambda_=lambda_cost,
        sqs=sqs_requests * prices.sqs_request,
        s3=s3,
        items={"lambda_gb_seconds": gb_seconds, "sqs_requests": sqs_requests, **s3_requests},
    )


def s3_cost(images: int, prices: Prices) -> tuple[float, dict[str, int]]:
    """S3's requests a day, the same with either backend: the upload and the result (PUT-class); the image's read
    (Rekognition's or the function's GetObject) and the function's two HEADs (GET-class)."""
    puts, gets = 2 * images, 3 * images
    return puts * prices.s3_put_request + gets * prices.s3_get_request, {
        "s3_put_requests": puts,
        "s3_get_requests": gets,
    }


ENVIRONMENT_KEPT_SECONDS = 300
"""How long Lambda keeps an idle execution environment, as assumed here: AWS documents no figure (observed: 5 to 15
minutes), so the shortest; images this far apart each start a fresh environment (a cold start)."""


@dataclass(frozen=True)
class OnnxFunction:
    """The onnx backend's function: its billed time per image and memory, and its cold start (bench/onnx.py
    measures both; replace them with the function's CloudWatch Duration and Init Duration)."""

    ms_per_image: float = 300.0
    memory_mb: int = 2048
    """The onnx backend's default memory (one vCPU at 1,769 MB)."""
    init_ms: float = 1500.0
    """A cold start: importing onnxruntime and loading the model. Lambda bills the init phase."""
    max_concurrency: int = 10
    """Environments a burst may start (the event source's maximum concurrency)."""


def cold_starts(workload: Workload, function: OnnxFunction) -> tuple[int, int]:
    """(invocations, cold starts) a day. Images at least ENVIRONMENT_KEPT_SECONDS apart each come alone to a
    fresh environment; closer together, they come in batches and each burst starts at most `max_concurrency`
    environments."""
    images = workload.images_per_day
    if not images:
        return 0, 0
    batched = math.ceil(images / workload.batch_size)
    gap = workload.burst_hours * 3600 * workload.bursts_per_day / images
    if gap >= ENVIRONMENT_KEPT_SECONDS:
        return images, images
    per_burst = math.ceil(batched / workload.bursts_per_day)
    return batched, workload.bursts_per_day * min(function.max_concurrency, per_burst)


def onnx_estimate(workload: Workload, function: OnnxFunction | None = None, prices: Prices | None = None) -> Estimate:
    """The day with the onnx backend: the function runs the model (GB-seconds of the images and of the cold starts,
    and its requests); no model to bill, no model manager; the event source polls all day; S3 as with Custom Labels
    (upload and result; the function's GetObject of the image and its two HEADs)."""
    function, prices = function or OnnxFunction(), prices or Prices()
    images = workload.images_per_day
    invocations, starts = cold_starts(workload, function)
    gigabytes = function.memory_mb / 1024
    gb_seconds = images * function.ms_per_image / 1000 * gigabytes + starts * function.init_ms / 1000 * gigabytes
    sqs_requests = images + 2 * invocations + ESM_POLLERS * POLLS_PER_POLLER_HOUR * HOURS_PER_DAY
    s3, s3_requests = s3_cost(images, prices)
    return Estimate(
        model_hours=0.0,
        model=0.0,
        lambda_=gb_seconds * prices.lambda_gb_second + invocations * prices.lambda_request,
        sqs=sqs_requests * prices.sqs_request,
        s3=s3,
        items={
            "lambda_gb_seconds": gb_seconds,
            "invocations": invocations,
            "cold_starts": starts,
            "sqs_requests": sqs_requests,
            **s3_requests,
        },
    )
