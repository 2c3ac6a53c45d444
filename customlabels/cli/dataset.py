"""`customlabels dataset update`: reviewed manifest lines sent to the model's dataset (UpdateDatasetEntries)."""

from __future__ import annotations

import argparse

from customlabels.cli.common import SECONDS, aws_client, console, stack_option


def register(commands: argparse._SubParsersAction) -> None:
    dataset = commands.add_parser(
        "dataset",
        help="send manifest lines to the model's training dataset",
        description="The feedback loop's last step before retraining (docs/results-and-gallery.md).",
    )
    dataset_commands = dataset.add_subparsers(dest="dataset_command", required=True, metavar="COMMAND")
    update = dataset_commands.add_parser(
        "update",
        help="add or replace the manifest's lines in the dataset (UpdateDatasetEntries)",
        description="Checks the manifest (as `manifest validate`), finds the dataset of the model's project "
        "(DescribeProjects) and sends the lines with UpdateDatasetEntries, at most 5 MB a call: a line "
        "whose source-ref is in the dataset replaces that image's entry, any other is added. Waits "
        "until the dataset says UPDATE_COMPLETE.",
    )
    update.add_argument(
        "--manifest", required=True, metavar="FILE", help="the lines to send (e.g. from manifest merge)"
    )
    where = update.add_mutually_exclusive_group()
    stack_option(where)
    where.add_argument("--model-arn", help="the project version ARN, instead of a stack")
    update.add_argument(
        "--dataset", choices=["train", "test"], default="train", help="which of the project's datasets (default train)"
    )
    update.add_argument("--timeout", type=SECONDS, default=900, help="give up waiting after this (s, default 900)")
    update.add_argument("--poll", type=SECONDS, default=5, help=argparse.SUPPRESS)
    update.set_defaults(func=dataset_update)


def dataset_update(args: argparse.Namespace) -> int:
    from customlabels.cli.manifest import checked_manifest_lines
    from customlabels.cli.model import model_target
    from customlabels.operations import dataset

    lines = checked_manifest_lines("--manifest", args.manifest)
    target, _ = model_target(args)
    rekognition = aws_client("rekognition", region_name=target.model_arn.split(":")[3])
    arn = dataset.dataset_arn(rekognition, target.model_arn, args.dataset.upper())
    with console.status(f"Updating {arn}..."):
        description = dataset.update(
            rekognition,
            arn,
            lines,
            timeout=args.timeout,
            poll=args.poll,
            on_batch=lambda n, total: console.print(f"sent part {n} of {total}"),
        )
    stats = description.get("DatasetStats", {})
    console.print(
        f"Sent {len(lines)} line(s) to {arn}: {description['Status']}; the dataset now holds "
        f"{stats.get('TotalEntries', '?')} images ({stats.get('LabeledEntries', '?')} labeled, "
        f"{stats.get('ErrorEntries', '?')} with errors). Next: train a new model version.",
        soft_wrap=True,
    )
    return 0
