"""`customlabels cost --max-wait-minutes M`: the model's day on demand with a latency budget, answered by the lifecycle
simulation (customlabels/simulation/: the real model manager on a simulated clock, as `make bench` runs it), not by
a second formula, beside the same simulation without a budget (today's on demand)."""

from __future__ import annotations

import argparse

from rich.table import Table

from customlabels.cli.common import console, number
from customlabels.config import MODEL_ARN_EXAMPLE, PipelineConfig

HOUR_PER_START = 3600.0


def add_budget_arguments(parser: argparse.ArgumentParser) -> None:
    """`--max-wait-minutes` and the simulation's start time."""
    parser.add_argument(
        "--max-wait-minutes",
        type=number(int, at_least=1, at_most=1440),
        help="answer for the latency budget max_wait_minutes (on demand): billed model minutes, starts and the "
        "worst wait, from the lifecycle simulation (the real model manager on a simulated clock), against today's "
        "on demand",
    )
    parser.add_argument(
        "--start-minutes",
        type=number(above=0, at_most=120),
        default=10.0,
        help="with --max-wait-minutes: how long the model's start takes in the simulation (default 10; the "
        "manager learns your model's own)",
    )


def simulate_day(args: argparse.Namespace, max_wait_minutes: int | None):
    """One day of the workload given, with the real manager, the pipeline's defaults and the options' figures."""
    from customlabels.simulation.lifecycle import simulate, workload

    profile = workload(
        args.images_per_day,
        args.burst_hours,
        args.bursts_per_day,
        tail_seconds=(args.max_wait_minutes + 120) * 60,
    )
    config = PipelineConfig(
        MODEL_ARN_EXAMPLE,
        idle_minutes=args.idle_minutes,
        min_inference_units=args.inference_units,
        max_inference_units=args.inference_units,
        max_wait_minutes=max_wait_minutes,
    )
    return simulate(
        profile, config=config, tps_per_unit=args.tps_per_inference_unit, start_seconds=args.start_minutes * 60
    )


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:,.1f}"


def budget_command(args: argparse.Namespace) -> int:
    """The simulated day with and without the budget: billed model minutes, starts, waits, the model's cost."""
    with console.status("Simulating a day of the model manager (seconds)..."):
        today, budgeted = simulate_day(args, None), simulate_day(args, args.max_wait_minutes)
    budget = args.max_wait_minutes
    table = Table(
        title=f"The model on demand, simulated: {args.images_per_day:,} images a day in {args.bursts_per_day} "
        f"burst(s) of {args.burst_hours:g} h, {args.inference_units} inference unit(s), starts of "
        f"{args.start_minutes:g} min"
    )
    table.add_column("")
    table.add_column("today (no budget)", justify="right")
    table.add_column(f"max_wait_minutes {budget}", justify="right")
    price = args.price_per_iu_hour * args.inference_units / 3600
    rows = [
        ("Billed model minutes", lambda o: _minutes(o.billed_seconds())),
        ("  with an hour billed per start", lambda o: _minutes(o.billed_seconds(HOUR_PER_START))),
        ("Starts", lambda o: str(len(o.starts))),
        ("Model USD a day", lambda o: f"{o.billed_seconds() * price:.2f}"),
        ("Worst wait (min)", lambda o: _minutes(o.worst_wait)),
        ("Median wait (min)", lambda o: _minutes(o.median_wait)),
        ("Images answered", lambda o: f"{len(o.results):,} of {o.images:,}"),
    ]
    for name, cell in rows:
        table.add_row(name, cell(today), cell(budgeted))
    console.print(table)
    _print_promise(budgeted, budget, args)
    paused = [name for name, o in (("today", today), ("with the budget", budgeted)) if o.guard_stops]
    if paused:
        console.print(
            f"[yellow]The spend guard paused the model ({' and '.join(paused)}):[/] max_model_hours_per_day, 12 h a "
            "day on demand by default, held images in the queue (none lost); its waits are in the table.",
            soft_wrap=True,
        )
    _print_source()
    return 0


def _print_promise(outcome, budget: int, args: argparse.Namespace) -> None:
    tick = outcome.config.manager_interval_minutes
    late = [wait for wait in outcome.latencies if wait > (budget + tick) * 60]
    console.print(
        f"Worst wait with max_wait_minutes {budget}: {_minutes(outcome.worst_wait)} min (the promise: {budget} "
        f"min + one {tick}-min manager tick), median {_minutes(outcome.median_wait)} min.",
        soft_wrap=True,
    )
    if late:
        console.print(
            f"[yellow]{len(late):,} images wait longer:[/] a start takes {args.start_minutes:g} min and the images "
            f"need {outcome.minimum_running_seconds / 60:,.1f} min at {outcome.capacity:g} images/s; the manager "
            "then starts at once, as without a budget. Fix: more --inference-units, or a longer budget.",
            soft_wrap=True,
        )


def _print_source() -> None:
    console.print(
        "Figures from the lifecycle simulation (the real model manager on a simulated clock; docs/model-lifecycle.md, "
        "'A latency budget'); AWS documents no minimum bill per start, the hour row is the worst case.",
        soft_wrap=True,
    )
