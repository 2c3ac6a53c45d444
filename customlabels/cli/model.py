"""`customlabels model status|start|stop|resume`: the deployed model's state, starting or stopping it, and
resuming after the spend guard's daily budget; `model inspect MODEL.onnx`: an own model and its spec
(cli/model_inspect.py)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from rich.table import Table

from customlabels.cli.common import POSITIVE, SECONDS, aws_client, console, stack_option
from customlabels.cli.model_train import add_train_options, train_command
from customlabels.cli.model_versions import (
    VERSION_ACTIONS,
    VERSIONS_HELP,
    add_version_options,
    in_service_target,
    version_rows,
    versions_command,
)
from customlabels.errors import CommandError

ACTIONS_HELP = (
    "resume: after the spend guard stopped the model for the day, allow another max_model_hours_per_day from now "
    "(needs --stack); inspect: an ONNX model file (offline); example: write a tiny stand-in ONNX detector and its spec "
    "to try the onnx backend; " + VERSIONS_HELP
)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "model",
        help="status, start, stop or resume (after the spend guard) the model; promote or roll back a version; "
        "inspect an ONNX model",
        description="Shows the model's state (with --stack: the version in service, the previous one, a promotion "
        "under way), inference units and since when; starts or stops it. `model train` trains a new version, "
        "`model promote` puts one in service without a redeploy and `model rollback` goes back (README, 'Train and "
        "promote a new version'). The model is found from the stack's outputs (--stack) or given (--model-arn). Uses "
        "your AWS credentials. `model inspect MODEL.onnx` shows an own model's inputs, outputs, metadata, the spec it "
        "would run with and what does not fit (docs/own-model.md).",
    )
    parser.add_argument(
        "action",
        choices=["status", "start", "stop", "resume", "inspect", "example", "train", *VERSION_ACTIONS],
        help=ACTIONS_HELP,
    )
    parser.add_argument(
        "onnx_model",
        nargs="?",
        metavar="MODEL.onnx|VERSION_ARN",
        help="inspect, example: the model file; promote: the version to put in service, its ARN or its name in the "
        "project of the version in service",
    )
    parser.add_argument(
        "--write-spec",
        action="store_true",
        help="inspect: start MODEL.onnx.json from what the graph and its metadata suggest, to edit",
    )
    where = parser.add_mutually_exclusive_group()
    stack_option(where)
    where.add_argument("--model-arn", help="the project version ARN, instead of a stack")
    parser.add_argument(
        "--wait",
        action="store_true",
        help="wait until RUNNING (start), STOPPED (stop), or either (status), with a spinner",
    )
    parser.add_argument("--inference-units", type=POSITIVE, default=1, help="start with this many (default 1)")
    parser.add_argument(
        "--max-inference-units",
        type=POSITIVE,
        help="let Rekognition scale up to this many (at least --inference-units)",
    )
    parser.add_argument(
        "--timeout", type=SECONDS, default=3600, help="--wait gives up after this (s); promote: the longest start"
    )
    parser.add_argument("--poll", type=SECONDS, default=15, help=argparse.SUPPRESS)
    add_train_options(parser)
    add_version_options(parser)
    parser.set_defaults(func=model_command)


def model_target(args: argparse.Namespace):
    """The model (and the manager's state parameter) from --model-arn or the stack's outputs."""
    from customlabels.operations import model

    if args.model_arn:
        return model.Target(model.check_model_arn(args.model_arn)), None
    return model.stack_target(aws_client("cloudformation"), args.stack), aws_client("ssm")


ACTION_OPTIONS = {
    "--project": ("project", {"train"}),
    "--train-manifest": ("train_manifest", {"train"}),
    "--test-manifest": ("test_manifest", {"train"}),
    "--auto-split": ("auto_split", {"train"}),
    "--version-name": ("version_name", {"train"}),
    "--bucket": ("bucket", {"train"}),
    "--follow": ("follow", {"train"}),
    "--gate": ("gate", {"promote"}),
    "--manifest": ("manifest", {"promote"}),
    "--version-parameter": ("version_parameter", {"promote", "rollback"}),
    "--drain-seconds": ("drain_seconds", {"promote", "rollback"}),
    "--take-over": ("take_over", {"promote", "rollback"}),
}
"""The options of one or two actions on `model`'s one parser, by the attribute argparse sets: given to another
action they would be ignored in silence."""


def _refuse_options_of_other_actions(args: argparse.Namespace) -> None:
    for option, (name, actions) in ACTION_OPTIONS.items():
        if getattr(args, name, None) not in (None, False) and args.action not in actions:
            raise CommandError(
                f"{option} applies to `model {'|'.join(sorted(actions))}`, not `model {args.action}`. Fix: leave it out"
            )


def model_command(args: argparse.Namespace) -> int:
    _refuse_options_of_other_actions(args)
    if args.action == "train":
        return train_command(args)
    if (
        args.action in ("inspect", "example")
        or (args.onnx_model and args.action not in VERSION_ACTIONS)
        or args.write_spec
    ):
        from customlabels.cli.model_inspect import example_command, inspect_command

        return example_command(args) if args.action == "example" else inspect_command(args)

    if args.action != "start" and (args.inference_units != 1 or args.max_inference_units):
        raise CommandError(
            f"--inference-units and --max-inference-units apply to `model start`, not `model {args.action}`"
        )
    if args.max_inference_units is not None and args.max_inference_units < args.inference_units:
        raise CommandError(
            f"--max-inference-units {args.max_inference_units} is below --inference-units "
            f"{args.inference_units}. Fix: give a maximum at least the starting number"
        )
    if args.action in VERSION_ACTIONS:
        return versions_command(args)
    target, ssm = model_target(args)
    if args.action == "resume":
        return _resume(target, ssm)
    target = in_service_target(target, ssm)  # start, stop, status: the version in service, not the deployed one
    rekognition = aws_client("rekognition", region_name=target.model_arn.split(":")[3])
    return _model_action(args, rekognition, target, ssm)


def _model_action(args: argparse.Namespace, rekognition, target, ssm) -> int:
    """start, stop or status, then with --wait until it settles (1 if it does not), then the model's status."""
    from customlabels.operations import model

    if args.action in ("start", "stop"):
        _start_or_stop(args, rekognition, target)
    if args.wait:
        wanted = model.SETTLED[args.action]
        names = " or ".join(sorted(wanted))
        with console.status(f"Waiting for {names}...") as spinner:
            final = model.wait_for(
                rekognition,
                target.model_arn,
                wanted,
                args.timeout,
                args.poll,
                on_status=lambda s: spinner.update(f"Waiting for {names}: now {s}"),
            )
        console.print(f"Model {final}")
        if final not in wanted:
            return 1
    console.print(_status_table(model.status(rekognition, target, ssm), target, version_rows(target, ssm)))
    return 0


def _start_or_stop(args: argparse.Namespace, rekognition, target) -> None:
    from customlabels.operations import model

    if args.action == "start":
        answer = model.start(rekognition, target.model_arn, args.inference_units, args.max_inference_units)
        console.print(f"[yellow]The model is billed per inference-unit hour from now until it stops.[/] {answer}")
    else:
        answer = model.stop(rekognition, target.model_arn)
        console.print(answer)
    if target.lifecycle == "on-demand":
        console.print(
            "Note: this stack manages the model on demand; its model manager may start or stop it "
            "again as work arrives or idles."
        )


def _status_table(current, target, versions: Sequence[tuple[str, str]] = ()) -> Table:
    table = Table(show_header=False, title="Model")
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in (
        ("Model", current.model_arn),
        *versions,
        ("Status", f"{current.status}: {current.message}"),
        ("Inference units", f"{current.min_inference_units or '-'} (max {current.max_inference_units or '-'})"),
        ("Since", current.since or "unknown (the model manager records it)"),
        ("Last work seen", current.last_activity or "-"),
        (
            "Hours today",
            "-"
            if current.hours_today is None
            else f"{current.hours_today:.2f} (the spend guard's count; `model resume` restarts it)",
        ),
        ("Lifecycle", target.lifecycle or "-"),
        *_wait_rows(current.wait),
    ):
        table.add_row(name, str(value))
    return table


def _wait_rows(wait) -> list[tuple[str, str]]:
    """The latency budget, the oldest waiting image and when the model starts for it, as the manager recorded."""
    if wait is None:
        return []
    from customlabels_runtime.model_manager.learning import DEFAULT_START_SECONDS

    if wait.budget_minutes is None:
        return [("Latency budget", "none (max_wait_minutes unset: the model starts at the first image)")]
    rows = [("Latency budget", f"{wait.budget_minutes:g} min (max_wait_minutes)")]
    if wait.waiting_since is None:
        return [*rows, ("Oldest waiting image", "none")]
    rows.append(
        (
            "Oldest waiting image",
            f"{wait.waiting_key or '(key not known)'}, waiting {wait.waited_minutes:.0f} min (since "
            f"{wait.waiting_since:%Y-%m-%d %H:%M:%S} UTC)",
        )
    )
    start = (
        f"at {wait.start_due_at:%Y-%m-%d %H:%M:%S} UTC, when waiting longer would make it miss the budget"
        if wait.start_due_at is not None
        else "now (it is due, or already starting)"
    )
    learned = (
        f"its safe default, {DEFAULT_START_SECONDS / 60:g} min"
        if wait.start_minutes is None
        else f"{wait.start_minutes:.1f} min, as seen"
    )
    rows.append(("Model starts", f"{start}; a start takes {learned}"))
    if wait.late:
        rows.append(("[red]Late[/]", f"the image waits longer than the budget: {wait.late}"))
    return rows


def _resume(target, ssm) -> int:
    from datetime import UTC, datetime

    from customlabels.operations import model

    if ssm is None or not target.state_parameter:
        raise CommandError(
            "model resume needs the stack (--stack), whose model manager keeps the spend guard's "
            "count; --model-arn alone does not name it"
        )
    model.resume(ssm, target.state_parameter, datetime.now(UTC))
    console.print(
        "Resumed: the spend guard allows another max_model_hours_per_day from now. The model manager "
        "starts the model for the waiting images at its next run (within manager_interval_minutes)."
    )
    return 0
