"""Benchmarks of the pipeline, measured in one run on this machine and printed as ratios.

    python -m bench.run [--images 500]      (make bench; from the checkout's root)

1. Saturation matrix, on a simulated clock (bench/throughput.py): the real throughput control against the
   emulator's capacity model, for a true capacity of 2, 5 and 8 TPS per inference unit x 1 and 2 units and an
   auto-scaling case, side by side with the former fixed pacer and the original AWS sample's configuration
   (batch size 1, one poller, records one by one): saturation, throttled calls per image, images lost, Lambda
   GB-seconds per 1,000 images. Deterministic, seconds of run time.
2. Saturation on the local stack, in real time: the same handler code in its emulated execution environments
   against an emulated model of 2 inference units whose capacity (5 TPS each) the pipeline is not told, with
   150 ms latency, and the AWS sample's configuration as the baseline: the check that the simulation's
   figures hold with real processes, HTTP and threads on this machine.
3. Handler overhead: CPU milliseconds per image spent in the handler's execution environment, with a
   zero-latency model.
4. Cold start: a fresh interpreter importing and initializing the handler module vs. one that only imports
   boto3 and creates the S3 and Rekognition clients.
5. Model lifecycle: a simulated day of each workload profile with the real model manager (bench/lifecycle.py):
   billed model minutes against the minimum, inference-unit hours per 1,000 images against the physical minimum
   (images / capacity), and latency with and without the on-upload trigger.
   `--simulated-only` runs 1 and 5 only (seconds, no local stack).

Results are appended to bench/RESULTS.md with the machine they were measured on.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bench import lifecycle, throughput
from customlabels.config import TPS_PER_INFERENCE_UNIT
from customlabels.local.pipeline import LocalPipeline, ModelOptions, load_config

ROOT = Path(__file__).resolve().parent.parent

console = Console()
RESULTS = ROOT / "bench" / "RESULTS.md"
INFERENCE_UNITS = 2
LATENCY = 0.150


@dataclass
class Saturation:
    name: str
    images: int
    seconds: float
    images_per_second: float
    of_cap: float
    throttled_per_image: float
    lost: int
    gb_seconds_per_1000: float
    cpu_ms_per_image: float


def run_stack(
    name: str, images: int, *, batch_size: int, pollers: int | None, latency: float, progress: Progress
) -> Saturation:
    """Upload with the event source off, then switch it on and time the drain: throughput, not upload speed."""
    config = load_config(
        model_lifecycle="manual", batch_size=batch_size, max_inference_units=INFERENCE_UNITS, max_receive_count=100
    )
    model = ModelOptions(
        running=True, inference_units=INFERENCE_UNITS, latency=latency, tps_per_inference_unit=TPS_PER_INFERENCE_UNIT
    )
    body = throughput.picture((320, 240))
    with LocalPipeline(config, model=model, visibility_timeout=30, pollers=pollers, manager_interval=30) as pipeline:
        pipeline.esm.set_enabled(False)
        keys = [f"test_images/bench/{index:05d}.jpg" for index in range(images)]
        for key in keys:
            pipeline.s3.put_object(Bucket=pipeline.resources.bucket, Key=key, Body=body)
        time.sleep(1.0)  # let the notifications land
        task = progress.add_task(name, total=images)
        started = time.perf_counter()
        pipeline.esm.set_enabled(True)
        outcomes = pipeline.wait(
            keys, timeout=images * 2, poll=1.0, on_progress=lambda done: progress.update(task, completed=done)
        )
        seconds = time.perf_counter() - started
        throttled = pipeline.service.errors.get("ProvisionedThroughputExceededException", 0)
    invocations = pipeline.esm.invocations
    memory_gb = config.function_memory_mb / 1024
    gb_seconds = sum(invocation.duration_seconds for invocation in invocations) * memory_gb
    cpu = sum(invocation.cpu_seconds for invocation in invocations)
    done = sum(1 for outcome in outcomes.values() if outcome == "labels")
    cap = TPS_PER_INFERENCE_UNIT * INFERENCE_UNITS
    return Saturation(
        name,
        images,
        seconds,
        done / seconds,
        done / seconds / cap,
        throttled / images,
        images - done,
        gb_seconds / images * 1000,
        cpu / images * 1000,
    )


def cold_start(runs: int) -> tuple[float, float]:
    """Median seconds to import and initialize: the handler module vs. boto3 with its two clients."""
    environment = {
        **os.environ,
        **load_config().function_environment(),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
    }
    handler = (
        "import time; t = time.perf_counter(); from customlabels_runtime.inference import handler; "
        "handler.dependencies(); print(time.perf_counter() - t)"
    )
    bare = (
        "import time; t = time.perf_counter(); import boto3; boto3.client('s3'); boto3.client('rekognition'); "
        "print(time.perf_counter() - t)"
    )

    def median(code: str) -> float:
        return statistics.median(
            float(
                subprocess.run(
                    [sys.executable, "-c", code], env=environment, check=True, capture_output=True, text=True
                ).stdout
            )
            for _ in range(runs)
        )

    return median(handler), median(bare)


def machine() -> str:
    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else ""
    )
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=500, help="images per real-time saturation run (default 500)")
    parser.add_argument("--cold-start-runs", type=int, default=7)
    parser.add_argument(
        "--simulated-only",
        action="store_true",
        help="only the simulations: the saturation matrix and the model lifecycle (seconds)",
    )
    args = parser.parse_args()
    matrix, matrix_lost = matrix_lines()
    simulated = [*matrix, "", *lifecycle_lines()]
    if args.simulated_only:
        append_results(simulated)
        return 1 if matrix_lost else 0

    with Progress(console=console) as progress:
        ours = run_stack(
            "this pipeline (batch 10, sized pollers, pooled)",
            args.images,
            batch_size=10,
            pollers=None,
            latency=LATENCY,
            progress=progress,
        )
        baseline = run_stack(
            "AWS sample (batch 1, one poller, one by one)",
            args.images,
            batch_size=1,
            pollers=1,
            latency=LATENCY,
            progress=progress,
        )
        overhead = run_stack(
            "handler overhead (zero-latency model)",
            max(100, args.images // 5),
            batch_size=10,
            pollers=None,
            latency=0.0,
            progress=progress,
        )
    handler_start, bare_start = cold_start(args.cold_start_runs)

    table = Table(
        title=f"Saturation on the local stack: {args.images} images, {INFERENCE_UNITS} inference units "
        f"({TPS_PER_INFERENCE_UNIT * INFERENCE_UNITS} TPS cap), {LATENCY * 1000:.0f} ms latency"
    )
    for column in ("configuration", "images/s", "of cap", "throttled/image", "lost", "GB-s/1,000 images"):
        table.add_column(column, justify="right" if column != "configuration" else "left")
    for run in (ours, baseline):
        table.add_row(
            run.name,
            f"{run.images_per_second:.2f}",
            f"{run.of_cap:.2f}",
            f"{run.throttled_per_image:.3f}",
            str(run.lost),
            f"{run.gb_seconds_per_1000:.1f}",
        )
    console.print(table)
    lines = [
        f"Saturation on the local stack, real time ({args.images} images, {INFERENCE_UNITS} units of "
        f"{TPS_PER_INFERENCE_UNIT} TPS the pipeline is not told, {LATENCY * 1000:.0f} ms latency):",
        "",
        f"- saturation: {ours.of_cap:.2f} of the cap ({ours.images_per_second:.2f} images/s of "
        f"{TPS_PER_INFERENCE_UNIT * INFERENCE_UNITS}), {ours.throttled_per_image:.3f} throttled calls/image, "
        f"{ours.lost} lost, {ours.gb_seconds_per_1000:.1f} Lambda GB-s per 1,000 images",
        f"- baseline (AWS sample configuration): {baseline.of_cap:.2f} of the cap, "
        f"{baseline.throttled_per_image:.3f} throttled calls/image, {baseline.lost} lost, "
        f"{baseline.gb_seconds_per_1000:.1f} GB-s per 1,000 images",
        f"- throughput ratio this/baseline: {ours.images_per_second / baseline.images_per_second:.2f}x; "
        f"GB-s ratio this/baseline: {ours.gb_seconds_per_1000 / baseline.gb_seconds_per_1000:.2f}",
        f"- handler overhead: {overhead.cpu_ms_per_image:.1f} CPU ms per image (zero-latency model, "
        f"{overhead.images} images)",
        f"- cold start: handler import + init {handler_start * 1000:.0f} ms vs boto3 + two clients "
        f"{bare_start * 1000:.0f} ms: ratio {handler_start / bare_start:.2f} (median of {args.cold_start_runs})",
    ]
    for line in lines:
        console.print(line)
    append_results([*simulated, "", *lines])
    return 0 if ours.lost == 0 and baseline.lost == 0 and not matrix_lost else 1


def matrix_lines() -> tuple[list[str], int]:
    """The saturation matrix on a simulated clock (the same on every machine), and the images it lost."""
    results = throughput.run_all()
    rows = throughput.table(results)
    title = (
        f"Saturation matrix, simulated ({throughput.assumptions()}); targets for this pipeline: saturation >= "
        f"0.95, throttled calls <= 0.05 per image, 0 lost:"
    )
    ratios = []
    for cell in throughput.CELLS:
        ours, sample = (
            next(r for r in results if r.cell == cell.name and r.strategy == strategy.name)
            for strategy in (throughput.STRATEGIES[0], throughput.STRATEGIES[-1])
        )
        ratios.append(
            f"- {cell.name}: this pipeline / AWS sample: {ours.saturation / sample.saturation:.2f}x the "
            f"images/s, {ours.gb_seconds_per_1000 / sample.gb_seconds_per_1000:.2f}x the GB-s per 1,000 "
            f"images; throttled/image in the steady state {ours.steady_throttled_per_image:.3f}"
        )
    console.print(title)
    for row in [*rows, "", *ratios]:
        console.print(row, markup=False, soft_wrap=True)
    return [title, "", *rows, "", *ratios], sum(result.lost for result in results)


def lifecycle_lines() -> list[str]:
    """The lifecycle simulation's table (deterministic: a simulated clock, the same on every machine)."""
    pairs = lifecycle.run_all()
    rows = lifecycle.table(pairs)
    console.print(f"Model lifecycle, simulated ({lifecycle.assumptions()}):")
    for row in rows:
        console.print(row, markup=False, soft_wrap=True)
    errors = [error for pair in pairs for outcome in pair for error in outcome.manager_errors]
    if errors:
        raise SystemExit(f"The model manager failed in the simulation: {errors[:3]}")
    return [f"Model lifecycle, simulated ({lifecycle.assumptions()}):", "", *rows]


def append_results(lines: list[str]) -> None:
    with RESULTS.open("a", encoding="utf-8") as results:
        results.write(f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}\n\n" + "\n".join(lines) + "\n")
    console.print(f"Appended to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
