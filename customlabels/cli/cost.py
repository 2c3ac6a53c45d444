"""`customlabels cost`: what the pipeline costs a day, the model always on against on demand."""

from __future__ import annotations

import argparse

from rich.table import Table

from customlabels.cli.common import POSITIVE, console, number
from customlabels.cli.cost_simulated import add_budget_arguments
from customlabels.config import TPS_PER_INFERENCE_UNIT
from customlabels.errors import CommandError


def register(commands: argparse._SubParsersAction) -> None:
    cost = commands.add_parser(
        "cost",
        help="always-on vs on-demand cost per day and per 1,000 images",
        description="Estimates the daily cost of the pipeline with the model always on and "
        "on demand: model hours, Lambda, SQS and S3 requests, from list prices "
        "you can override. See docs/model-lifecycle.md for the formula.",
    )
    cost.add_argument("--images-per-day", type=number(int, at_least=0), required=True, help="images uploaded a day")
    cost.add_argument(
        "--burst-hours", type=number(above=0, at_most=24), required=True, help="hours a day during which images arrive"
    )
    cost.add_argument("--bursts-per-day", type=POSITIVE, default=1, help="separate bursts a day (default 1)")
    cost.add_argument(
        "--price-per-iu-hour",
        type=number(at_least=0),
        default=4.00,
        help="USD per inference-unit hour (default 4.00; check your region)",
    )
    cost.add_argument("--inference-units", type=POSITIVE, default=1, help="inference units (default 1)")
    cost.add_argument("--idle-minutes", type=POSITIVE, default=30, help="the stack's idle_minutes (default 30)")
    cost.add_argument(
        "--ms-per-image",
        type=number(at_least=0),
        default=150.0,
        help="the inference function's billed time per image in ms: model latency plus the "
        "handler's CPU time (default 150, an estimate; use your CloudWatch Duration per image)",
    )
    cost.add_argument(
        "--tps-per-inference-unit",
        type=number(above=0),
        default=TPS_PER_INFERENCE_UNIT,
        help="images a second one inference unit of YOUR model serves (default "
        f"{TPS_PER_INFERENCE_UNIT:g}, a typical figure; it depends on the model and the images): "
        "the time a burst takes and the minimum cost. "
        "The pipeline itself needs no such figure, it finds the capacity",
    )
    add_budget_arguments(cost)
    cost.set_defaults(func=cost_command)


def cost_command(args: argparse.Namespace) -> int:
    from customlabels.operations.cost import Prices, Workload, estimate, minimum_inference_unit_hours_per_1000

    workload = Workload(
        images_per_day=args.images_per_day,
        burst_hours=args.burst_hours,
        bursts_per_day=args.bursts_per_day,
        inference_units=args.inference_units,
        idle_minutes=args.idle_minutes,
        ms_per_image=args.ms_per_image,
        tps_per_inference_unit=args.tps_per_inference_unit,
    )
    if problems := workload.problems():
        raise CommandError("\n".join(problems))
    if args.max_wait_minutes is not None:
        from customlabels.cli.cost_simulated import budget_command

        return budget_command(args)
    prices = Prices(inference_unit_hour=args.price_per_iu_hour)
    estimates = {mode: estimate(workload, mode, prices) for mode in ("always-on", "on-demand")}
    minimum = minimum_inference_unit_hours_per_1000(args.tps_per_inference_unit)
    console.print(_cost_table(args, workload, estimates, minimum))
    saved = estimates["always-on"].total - estimates["on-demand"].total
    console.print(
        f"On demand saves {saved:.2f} USD a day ({saved / estimates['always-on'].total:.0%}). "
        "Formula and assumptions: docs/model-lifecycle.md"
    )
    console.print(
        f"The minimum, {minimum:.3f} inference-unit hours per 1,000 images, is the images at the model's "
        f"capacity ({args.tps_per_inference_unit:g} images/s per unit) and nothing else: the pipeline keeps "
        "the model at its capacity (docs/reliability.md); the rest is idle time before a stop."
    )
    return 0


def _cost_table(args: argparse.Namespace, workload, estimates: dict, minimum: float) -> Table:
    """A column per mode: the day's model hours and costs, per 1,000 images, and the unit hours against the
    minimum at the model's capacity."""
    from customlabels.operations.cost import inference_unit_hours_per_1000

    table = Table(
        title=f"Cost per day: {args.images_per_day:,} images in {args.bursts_per_day} burst(s) of "
        f"{args.burst_hours:g} h, {args.inference_units} inference unit(s) (USD)"
    )
    table.add_column("")
    for mode in estimates:
        table.add_column(mode, justify="right")
    rows = [
        ("Model hours", lambda e: f"{e.model_hours:.2f}"),
        ("Model", lambda e: f"{e.model:.2f}"),
        ("Lambda", lambda e: f"{e.lambda_:.4f}"),
        ("SQS", lambda e: f"{e.sqs:.4f}"),
        ("S3 requests", lambda e: f"{e.s3:.4f}"),
        ("Total per day", lambda e: f"{e.total:.2f}"),
        ("Per 1,000 images", lambda e: f"{e.total / max(args.images_per_day, 1) * 1000:.2f}"),
    ]
    for name, cell in rows:
        table.add_row(name, *(cell(e) for e in estimates.values()))
    table.add_row(
        "Unit hours / 1,000 images", *(f"{inference_unit_hours_per_1000(workload, mode):.3f}" for mode in estimates)
    )
    table.add_row("  minimum (at capacity)", *(f"{minimum:.3f}" for _ in estimates))
    return table
