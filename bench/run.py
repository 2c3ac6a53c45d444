"""Benchmarks of the pipeline, measured in one run on this machine and printed as ratios.

    python -m bench.run [--photographs DIR]      (make bench; from the checkout's root)

1. Saturation matrix, on a simulated clock (bench/throughput.py): the real throughput control against the
   emulator's capacity model, for a true capacity of 2, 3, 5 and 8 TPS per inference unit x 1 and 2 units and an
   auto-scaling case, with Lambda's typical durations, side by side with the former fixed pacer and the original
   AWS sample's configuration (batch size 1, one poller, records one by one): saturation, throttled calls per
   image, images lost, Lambda GB-seconds per 1,000 images. Deterministic, seconds of run time.
2. Saturation on the local stack, in real time (bench/realtime.py): the same handler code in its emulated execution
   environments against an emulated model whose capacity the pipeline is not told, 150 ms latency, on
   photographs, for 3 TPS x 1 unit and 8 TPS x 1 unit; saturation from the results' `ProcessedAt` stamps, beside the
   simulation of the same cell with the durations that run measured: the check that the simulation models the
   code as it runs. A cell is run again when the load average (other work on the machine) exceeded its cores;
   both runs are reported. The photographs are `--photographs DIR`, or /work/shared/realdata/bees where it exists;
   without either, synthetic JPEGs, and the results say so.
3. Handler overhead: CPU milliseconds per image spent in the handler's execution environment, with a
   zero-latency model.
4. Cold start: a fresh interpreter importing and initializing the handler module vs. one that only imports
   boto3 and creates the S3 and Rekognition clients.
5. Model lifecycle: a simulated day of each workload profile with the real model manager (bench/lifecycle.py),
   and the latency budget on three of them (bench/wait_budget.py):
   billed model minutes against the minimum, inference-unit hours per 1,000 images against the physical minimum
   (images / capacity), and latency with and without the on-upload trigger.
   `--simulated-only` runs 1 and 5 only (seconds, no local stack).

Results are appended to bench/RESULTS.md with the machine they were measured on.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from bench import lifecycle, realtime, throughput, wait_budget
from bench.throughput import Cell
from customlabels.local.pipeline import load_config

ROOT = Path(__file__).resolve().parent.parent

console = Console()
RESULTS = ROOT / "bench" / "RESULTS.md"
REALTIME_CELLS = (Cell("3 TPS x 1", 3, 1, seconds_of_load=120), Cell("8 TPS x 1", 8, 1, seconds_of_load=60))
"""The auto-scaling case is simulated only: at the emulator's 60 s of throttling per unit it would take 10 minutes
of real time, and a shorter delay would not be the case the control's 90 s of patience is made for."""
SIMULATION_SEEDS = range(1, 6)
TARGETS = "saturation >= 0.95, throttled calls <= 0.05 per image, 0 lost"


def simulate_like(run: realtime.RealRun) -> list[throughput.Measured]:
    """The simulation of a real-time cell: its images and environments, drawing the durations it measured."""
    cell = dataclasses.replace(run.cell, timings=run.timings)
    return [
        throughput.run_cell(cell, throughput.STRATEGIES[0], images=run.images, seed=seed, environments=run.environments)
        for seed in SIMULATION_SEEDS
    ]


def realtime_lines(runs: list[tuple[realtime.RealRun, list[throughput.Measured]]]) -> list[str]:
    rows = [
        "| cell (true capacity) | images | real time: saturation | simulated, this run's durations: saturation "
        "(seeds 1-5) | real minus simulated | real time: throttled/image (steady state) | simulated: throttled/image "
        "| lost | GB-s/1,000 images | seconds | load average before / after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run, simulated in runs:
        saturations = [measured.saturation for measured in simulated]
        mean = statistics.mean(saturations)
        rows.append(
            f"| {run.cell.name} | {run.images:,} | {run.saturation:.3f} | {mean:.3f} ({min(saturations):.3f}-"
            f"{max(saturations):.3f}) | {run.saturation - mean:+.3f} | {run.throttled_per_image:.3f} "
            f"({run.steady_throttled_per_image:.3f}) | "
            f"{statistics.mean(measured.throttled_per_image for measured in simulated):.3f} | {run.lost} | "
            f"{run.gb_seconds_per_1000:.1f} | {run.seconds:.0f} | {run.load[0]:.1f} / {run.load[1]:.1f} |"
        )
    durations = [f"- {run.cell.name}: {run.timings.describe()}" for run, _ in runs]
    return [*rows, "", "Durations measured in each run (the simulation's draws):", "", *durations]


def run_stack_overhead(images: int, pictures: tuple[list[bytes], str]) -> float:
    """CPU milliseconds per image in the execution environments, against a zero-latency model."""
    run = realtime.run(Cell("overhead", 1000, 1, latency=0.0), images, pictures)
    return sum(invocation.cpu_seconds for invocation in run.invocations) / images * 1000


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
    parser.add_argument(
        "--photographs",
        type=Path,
        metavar="DIR",
        help=f"JPEGs for the real-time cells (default: {realtime.PHOTOGRAPHS} where it exists, else synthetic)",
    )
    parser.add_argument("--cold-start-runs", type=int, default=7)
    parser.add_argument(
        "--simulated-only",
        action="store_true",
        help="only the simulations: the saturation matrix and the model lifecycle (seconds)",
    )
    args = parser.parse_args()
    if args.photographs and not args.photographs.is_dir():
        raise SystemExit(f"--photographs {args.photographs}: not a folder. Fix: give a folder of JPEG photographs")
    started = time.time()
    matrix, matrix_lost = matrix_lines()
    simulated = [*matrix, "", *lifecycle_lines()]
    if args.simulated_only:
        append_results(simulated, started)
        return 1 if matrix_lost else 0

    pictures = realtime.photographs(args.photographs)
    console.print(f"Real-time cells on the local stack: {pictures[1]}")
    runs = []
    with Progress(console=console) as progress:
        for cell in REALTIME_CELLS:
            for attempt in ("", " (again: the machine was busy)"):
                task = progress.add_task(cell.name + attempt, total=cell.images)
                run = realtime.run(
                    cell, cell.images, pictures, lambda done, task=task: progress.update(task, completed=done)
                )
                runs.append((run, simulate_like(run)))
                if max(run.load) <= (os.cpu_count() or 1):
                    break
    overhead_images = 100
    overhead = run_stack_overhead(overhead_images, pictures)
    handler_start, bare_start = cold_start(args.cold_start_runs)

    title = (
        f"Saturation on the local stack in real time, beside the simulation of the same cell ({pictures[1]}; "
        f"model latency {throughput.LATENCY * 1000:.0f} ms, a capacity the pipeline is not told; saturation from "
        f"the results' ProcessedAt stamps between the 20% and 90% completions); targets: {TARGETS}:"
    )
    lines = [
        title,
        "",
        *realtime_lines(runs),
        "",
        f"- handler overhead: {overhead:.1f} CPU ms per image (zero-latency model, {overhead_images} images)",
        f"- cold start: handler import + init {handler_start * 1000:.0f} ms vs boto3 + two clients "
        f"{bare_start * 1000:.0f} ms: ratio {handler_start / bare_start:.2f} (median of {args.cold_start_runs})",
    ]
    for line in lines:
        console.print(line, markup=False, soft_wrap=True)
    append_results([*simulated, "", *lines], started)
    lost = matrix_lost + sum(run.lost for run, _ in runs)
    return 0 if lost == 0 else 1


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
    ratios += [seeds_line(), *scaled_lines(results)]
    console.print(title)
    for row in [*rows, "", *ratios]:
        console.print(row, markup=False, soft_wrap=True)
    return [title, "", *rows, "", *ratios], sum(result.lost for result in results)


def seeds_line(seeds: range = SIMULATION_SEEDS) -> str:
    """The matrix is one draw of the durations (seed 1): this pipeline's worst cell over other draws too."""
    results = [
        throughput.run_cell(cell, throughput.STRATEGIES[0], seed=seed) for cell in throughput.CELLS for seed in seeds
    ]
    worst = min(results, key=lambda result: result.saturation)
    most = max(results, key=lambda result: result.throttled_per_image)
    return (
        f"- this pipeline over seeds {seeds.start}-{seeds.stop - 1} of every cell: lowest saturation "
        f"{worst.saturation:.3f} ({worst.cell}), most throttled calls per image {most.throttled_per_image:.3f} "
        f"({most.cell}), {sum(result.lost for result in results)} lost"
    )


def scaled_lines(results: list[throughput.Measured]) -> list[str]:
    """How far each auto-scaling cell's model scaled under this pipeline."""
    lines = []
    for cell in (cell for cell in throughput.CELLS if cell.max_units):
        ours = next(r for r in results if r.cell == cell.name and r.strategy == throughput.STRATEGIES[0].name)
        units = max(capacity for _, capacity in ours.capacity_log) / cell.tps_per_unit
        lines.append(f"- {cell.name}: the model scaled to {units:g} of {cell.max_units} units under this pipeline")
    return lines


def lifecycle_lines() -> list[str]:
    """The lifecycle simulation's tables (deterministic: a simulated clock, the same on every machine): the
    profiles as deployed, then the latency budget on three of them with its verdicts."""
    pairs = lifecycle.run_all()
    rows = lifecycle.table(pairs)
    runs = wait_budget.budget_runs({ours.profile: ours for ours, _ in pairs})
    budget_title = (
        "The latency budget (max_wait_minutes), simulated the same way; billed minutes with no minimum per start "
        "(AWS documents none) and with a whole hour per start (the worst case); targets of issue 30:"
    )
    lines = [
        f"Model lifecycle, simulated ({lifecycle.assumptions()}):",
        "",
        *rows,
        "",
        budget_title,
        "",
        *wait_budget.budget_table(runs),
        "",
        *wait_budget.verdicts(runs),
    ]
    for line in lines:
        console.print(line, markup=False, soft_wrap=True)
    errors = [error for pair in pairs for outcome in pair for error in outcome.manager_errors]
    errors += [error for run in runs for error in run.outcome.manager_errors]
    if errors:
        raise SystemExit(f"The model manager failed in the simulation: {errors[:3]}")
    return lines


def append_results(lines: list[str], started: float, part: str = "make bench") -> None:
    minutes = (time.time() - started) / 60
    with RESULTS.open("a", encoding="utf-8") as results:
        results.write(
            f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()} ({part} took {minutes:.1f} min)\n\n"
            + "\n".join(lines)
            + "\n"
        )
    console.print(f"Appended to {RESULTS.relative_to(ROOT)} ({minutes:.1f} min)")


if __name__ == "__main__":
    sys.exit(main())
