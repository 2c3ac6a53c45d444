"""`customlabels thresholds show|set FILE|import-assumed`: the confidence thresholds the function applies,
changed at runtime through their SSM parameter."""

from __future__ import annotations

import argparse
import json

from rich.table import Table

from customlabels.cli.common import aws_client, console, stack_option
from customlabels.errors import CommandError
from customlabels.escaping import shown

DESCRIPTION = (
    "A label's threshold is its own, else min_confidence, else the model's assumed one; changes apply "
    "within 60 s without a redeploy (docs/thresholds.md). The parameter comes from the stack's outputs "
    "(--stack) or is given (--parameter; for the local stack, with the endpoints `local serve` prints)."
)


def register(commands: argparse._SubParsersAction) -> None:
    thresholds = commands.add_parser(
        "thresholds",
        help="show or change the confidence thresholds, at runtime",
        description="show: the thresholds the function applies. set FILE: replace them with a JSON document "
        '{"min_confidence": null | 0-100, "labels": {"bee": 72.5}} (validated first). import-assumed: '
        "per-label thresholds from the model version's evaluation summary. " + DESCRIPTION,
    )
    actions = thresholds.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = actions.add_parser(
        "show",
        help="the thresholds the function applies now",
        description="The thresholds the function applies now. " + DESCRIPTION,
    )
    setting = actions.add_parser(
        "set",
        help="replace them with a JSON file (validated first)",
        description='Replaces the thresholds with FILE, a JSON document {"min_confidence": '
        'null | 0-100, "labels": {"bee": 72.5}}, after validating it '
        "(`customlabels evaluate --tuned-thresholds` writes one). " + DESCRIPTION,
    )
    setting.add_argument("file", metavar="FILE", help="the thresholds JSON file")
    importing = actions.add_parser(
        "import-assumed",
        help="per-label thresholds from the model's evaluation summary",
        description="Reads the model version's evaluation summary (the threshold Custom Labels assumed for each "
        "label) and writes those thresholds. " + DESCRIPTION,
    )
    importing.add_argument(
        "--keep-global",
        action="store_true",
        help="keep min_confidence for labels the summary does not name (default: clear it, "
        "so the model's own thresholds apply everywhere)",
    )
    for action in (show, setting, importing):
        stack_option(action)
        action.add_argument("--parameter", help="the SSM parameter's name, instead of a stack")
        action.set_defaults(func=thresholds_command, model_arn=None)
    importing.add_argument(
        "--model-arn",
        help="the model version whose evaluation summary to read (needed with "
        "--parameter; with --stack, the stack's model)",
    )


def _target(args: argparse.Namespace):
    from customlabels.operations import model

    if args.parameter:
        return model.Target(model.check_model_arn(args.model_arn) if args.model_arn else "", None, None, args.parameter)
    target = model.stack_target(aws_client("cloudformation"), args.stack)
    if not target.thresholds_parameter:
        raise CommandError(
            f"--stack {args.stack}: no ThresholdsParameter output. Fix: deploy this version of the "
            "stack (cdk deploy), which creates the parameter"
        )
    return target


def thresholds_command(args: argparse.Namespace) -> int:
    from customlabels.operations import runtime_thresholds as runtime

    if args.action == "set":  # the file first: a mistake in it is named before anything about AWS
        thresholds = runtime.read_file(args.file, args.file)
    target = _target(args)
    ssm = aws_client("ssm")
    if args.action == "set":
        runtime.write(ssm, target.thresholds_parameter, thresholds)
        console.print(
            f"Set {target.thresholds_parameter}; the function applies it within 60 s, no redeploy.", soft_wrap=True
        )
    elif args.action == "import-assumed":
        if not target.model_arn:
            raise CommandError(
                "thresholds import-assumed: give --model-arn (or --stack) to read the model's evaluation summary from"
            )
        thresholds = _import_assumed(runtime, target, ssm, args.keep_global)
        console.print(
            f"Imported the assumed thresholds of {len(thresholds.labels)} label(s) into "
            f"{target.thresholds_parameter}; the function applies them within 60 s.",
            soft_wrap=True,
        )
    else:
        thresholds = runtime.read(ssm, target.thresholds_parameter)
    _print_thresholds(target.thresholds_parameter, thresholds)
    return 0


def _import_assumed(runtime, target, ssm, keep_global: bool):
    """Per-label thresholds from the model version's evaluation summary, written to the parameter."""
    from customlabels.operations import model

    region = target.model_arn.split(":")[3]
    version = model.describe(aws_client("rekognition", region_name=region), target.model_arn)
    bucket, key = runtime.summary_location(version)
    summary = json.loads(aws_client("s3", region_name=region).get_object(Bucket=bucket, Key=key)["Body"].read())
    try:
        labels = runtime.assumed_thresholds(summary)
    except runtime.ThresholdsError as error:
        raise CommandError(f"s3://{bucket}/{key}: {error}") from None
    # The current document matters only for the global threshold it keeps: an invalid one is replaced.
    keep = runtime.read(ssm, target.thresholds_parameter).min_confidence if keep_global else None
    thresholds = runtime.Thresholds(keep, labels)
    runtime.write(ssm, target.thresholds_parameter, thresholds)
    return thresholds


def _print_thresholds(parameter: str, thresholds) -> None:
    table = Table(title=f"Thresholds in {parameter}")
    table.add_column("label", overflow="fold")
    table.add_column("threshold", justify="right")
    table.add_column("from")
    for label, value in sorted(thresholds.labels.items()):
        table.add_row(shown(label), f"{value:g}", "per-label")
    everything_else = (
        "model's assumed threshold" if thresholds.min_confidence is None else f"{thresholds.min_confidence:g}"
    )
    table.add_row(
        "[i]any other label[/]",
        everything_else,
        "min_confidence" if thresholds.min_confidence is not None else "the model",
    )
    console.print(table)
    console.print(shown(json.dumps(thresholds.to_document())), soft_wrap=True)
