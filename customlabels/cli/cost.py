"""`customlabels cost`: what the pipeline costs a day, the Custom Labels model always on against on demand, beside
the onnx backend (your own model run in the function, paid per image)."""

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
        help="always-on vs on-demand vs your own ONNX model: cost per day and per 1,000 images",
        description="Estimates the daily cost of the pipeline with the Custom Labels model always on and "
        "on demand, and with the onnx backend (your own model in the function: Lambda GB-seconds of each image "
        "and cold start, no model hours): model hours, Lambda, SQS and S3 requests, from list prices "
        "you can override. See docs/model-lifecycle.md and docs/own-model.md for the formulas.",
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
    _onnx_options(cost)
    add_budget_arguments(cost)
    cost.set_defaults(func=cost_command)


def _onnx_options(cost: argparse.ArgumentParser) -> None:
    from customlabels.operations.cost import OnnxFunction

    defaults = OnnxFunction()
    cost.add_argument(
        "--onnx-ms-per-image",
        type=number(at_least=0, at_most=900_000),
        default=defaults.ms_per_image,
        help=f"the onnx backend's billed time per image in ms, at most Lambda's 900 s (default "
        f"{defaults.ms_per_image:g}, on the safe side: bench/onnx.py measures 75-85 ms for a 7 MB, 640 px detector "
        "on 2 x86 cores here, and Lambda's arm64 share of a core at 2,048 MB is smaller; use your function's "
        "CloudWatch Duration per image)",
    )
    cost.add_argument(
        "--onnx-memory-mb",
        type=number(int, at_least=128, at_most=10_240),
        default=defaults.memory_mb,
        help=f"the onnx backend's function memory (default {defaults.memory_mb}, its default)",
    )
    cost.add_argument(
        "--onnx-init-ms",
        type=number(at_least=0),
        default=defaults.init_ms,
        help=f"a cold start of the onnx function in ms, billed (default {defaults.init_ms:g}: bench/onnx.py "
        "measures 0.7-2.3 s here, by load; use the function's Init Duration)",
    )


def cost_command(args: argparse.Namespace) -> int:
    from customlabels.operations.cost import (
        OnnxFunction,
        Prices,
        Workload,
        estimate,
        minimum_inference_unit_hours_per_1000,
        onnx_estimate,
    )

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
    function = OnnxFunction(args.onnx_ms_per_image, args.onnx_memory_mb, args.onnx_init_ms)
    estimates[ONNX] = onnx_estimate(workload, function, prices)
    minimum = minimum_inference_unit_hours_per_1000(args.tps_per_inference_unit)
    console.print(_cost_table(args, workload, estimates, minimum))
    saved = estimates["always-on"].total - estimates["on-demand"].total
    console.print(
        f"On demand saves {saved:.2f} USD a day ({saved / estimates['always-on'].total:.0%}). "
        "Formula and assumptions: docs/model-lifecycle.md"
    )
    _print_onnx(estimates, function)
    console.print(
        f"The minimum, {minimum:.3f} inference-unit hours per 1,000 images, is the images at the model's "
        f"capacity ({args.tps_per_inference_unit:g} images/s per unit) and nothing else: the pipeline keeps "
        "the model at its capacity (docs/reliability.md); the rest is idle time before a stop."
    )
    return 0


ONNX = "onnx (own model)"


def _print_onnx(estimates: dict, function) -> None:
    onnx, on_demand = estimates[ONNX], estimates["on-demand"]
    share = (
        f"Custom Labels on demand costs {on_demand.total / onnx.total:,.0f}x as much"
        if onnx.total
        else "nothing either way"
    )
    console.print(
        f"The onnx backend: {onnx.items['lambda_gb_seconds']:,.1f} GB-s a day ({function.ms_per_image:g} ms per "
        f"image and {onnx.items['cold_starts']:,} cold start(s) of {function.init_ms:g} ms at "
        f"{function.memory_mb} MB), no model hours: {onnx.total:.4f} USD a day; {share}. Formula: docs/own-model.md"
    )


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
        ("Total per day", lambda e: e.total),
        ("Per 1,000 images", lambda e: e.total / max(args.images_per_day, 1) * 1000),
    ]
    for name, cell in rows:
        table.add_row(name, *(_money(cell(e), mode) for mode, e in estimates.items()))
    modes = [mode for mode in estimates if mode != ONNX]
    table.add_row(
        "Unit hours / 1,000 images", *(f"{inference_unit_hours_per_1000(workload, mode):.3f}" for mode in modes), "-"
    )
    table.add_row("  minimum (at capacity)", *(f"{minimum:.3f}" for _ in modes), "-")
    return table


def _money(value: float | str, mode: str) -> str:
    """Totals in cents, but the onnx backend's in hundredths of a cent: its day may cost less than one."""
    if isinstance(value, str):
        return value
    return f"{value:.4f}" if mode == ONNX else f"{value:.2f}"
