"""`customlabels model train`: a new model version trained from Ground Truth manifests, followed until it is trained,
then its evaluation (customlabels/lifecycle/training.py does the work)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from rich.table import Table

from customlabels.cli.common import console
from customlabels.errors import CommandError


def add_train_options(parser: argparse.ArgumentParser) -> None:
    """`model train`'s options, on `model`'s one parser."""
    train = parser.add_argument_group(
        "train",
        "model train: creates the project and its datasets where missing (or reuses them), uploads the manifests "
        "to the pipeline's bucket (under training/), starts CreateProjectVersion with its output there, follows it "
        "until TRAINING_COMPLETED or TRAINING_FAILED, then prints the evaluation (README, 'Train and promote a "
        "new version')",
    )
    train.add_argument("--project", help="train: the Rekognition project (default: the stack's model's project)")
    train.add_argument(
        "--train-manifest",
        metavar="FILE",
        help="train: the training images' Ground Truth manifest (left out: the project's training dataset as it is, "
        "e.g. after `dataset update`)",
    )
    test = train.add_mutually_exclusive_group()
    test.add_argument("--test-manifest", metavar="FILE", help="train: the test images' manifest")
    test.add_argument(
        "--auto-split", action="store_true", help="train: move 20%% of the training images into the test dataset"
    )
    train.add_argument("--version-name", help="train: the new version's name (default: v and the UTC time)")
    train.add_argument(
        "--bucket", help="train: the bucket for the manifests and the training output, instead of the stack's"
    )
    train.add_argument(
        "--follow", metavar="VERSION_ARN", help="train: follow a training already started (after Ctrl-C) to its end"
    )


def train_command(
    args: argparse.Namespace,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """0 when the version is trained, 1 when its training failed, 130 when Ctrl-C stopped the following."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from customlabels.lifecycle import training

    where = f"--bucket {args.bucket}" if args.bucket else f"--stack {args.stack}"
    if args.follow:
        training.version_parts(args.follow)
    plan = None if args.follow else _plan(args, datetime.now(UTC))
    rekognition, s3, bucket, project = _clients_and_target(args)
    if plan is None:
        version_arn = args.follow
    else:
        if (problem := training.name_problem("--project", project)) is not None:  # the stack's model's project
            raise CommandError(problem)
        version_arn = _start(replace(plan, bucket=bucket, project=project), rekognition, s3, args, clock, sleep)
    try:
        description = _follow(args, rekognition, version_arn, clock, sleep)
    except KeyboardInterrupt:
        console.print(
            "\nStopped following; the training goes on. Follow it again with:\n"
            f"  customlabels model train --follow {version_arn} {where}",
            soft_wrap=True,
        )
        return 130
    if description["Status"] == "TRAINING_FAILED":
        console.print(f"[red]TRAINING_FAILED[/] {version_arn}: {training.failure_line(description)}", soft_wrap=True)
        return 1
    _print_evaluation(training.evaluation(s3, description), version_arn)
    stack = f"--stack {args.stack}" if not args.bucket else "--stack <the stack of a pipeline serving this project>"
    console.print(
        f'Next: customlabels model promote {version_arn} {stack} (with --gate, e.g. --gate "f1>=0.9", it is put '
        "in service only if its figures reach the gate)",
        soft_wrap=True,
    )
    return 0


def _start(plan, rekognition, s3, args: argparse.Namespace, clock, sleep) -> str:
    """The project, datasets and manifests made ready and the training started, each step printed: its version ARN."""
    from customlabels.lifecycle import training

    with console.status("Preparing the training...") as spinner:
        started = training.start_training(
            rekognition,
            s3,
            plan,
            clock=clock,
            sleep=sleep,
            poll=args.poll,
            timeout=args.timeout,
            on_step=lambda text: (console.print(f"  {text}", soft_wrap=True), spinner.update(text)),
        )
    return started.version_arn


def _follow(args, rekognition, version_arn: str, clock, sleep) -> dict:
    """DescribeProjectVersions until the training settles, its status and elapsed time on a spinner."""
    from customlabels.lifecycle import training

    with console.status(f"Training {version_arn}...") as spinner:
        return training.follow(
            rekognition,
            version_arn,
            clock=clock,
            sleep=sleep,
            poll=args.poll,
            on_status=lambda status, elapsed: spinner.update(f"{status}, {_elapsed(elapsed)} ({version_arn})"),
        )


def _clients_and_target(args: argparse.Namespace):
    """Rekognition and S3 clients, the bucket (--bucket, else the stack's) and the project (--project, else the
    project of the stack's model)."""
    from customlabels.cli.common import aws_client
    from customlabels.operations.stack_outputs import stack_outputs

    bucket, project, region = args.bucket, args.project, None
    if not bucket or not project:
        outputs = stack_outputs(aws_client("cloudformation"), args.stack)
        bucket = bucket or outputs.get("BucketName")
        model_arn = outputs.get("ModelArn", "")
        region = model_arn.split(":")[3] if model_arn.count(":") >= 5 else None
        project = project or (model_arn.split(":project/", 1)[1].split("/", 1)[0] if ":project/" in model_arn else None)
        if not bucket or (not project and not args.follow):
            raise CommandError(
                f"--stack {args.stack} names no bucket or model project. Fix: give --bucket and --project"
            )
    options = {"region_name": region} if region else {}
    return aws_client("rekognition", **options), aws_client("s3", **options), bucket, project


def _plan(args: argparse.Namespace, now):
    """The training the options describe, without its bucket and project until they are known; bad input is one
    error naming the fix, before any call to AWS."""
    from customlabels.cli.manifest import checked_manifest_lines
    from customlabels.lifecycle import training

    version_name = args.version_name or training.timestamped_name(now)
    for option, name in (("--project", args.project), ("--version-name", version_name)):
        if name is not None and (problem := training.name_problem(option, name)):
            raise CommandError(problem)
    return training.TrainingPlan(
        project=args.project or "",
        version_name=version_name,
        bucket=args.bucket or "",
        train_lines=checked_manifest_lines("--train-manifest", args.train_manifest) if args.train_manifest else None,
        test_lines=checked_manifest_lines("--test-manifest", args.test_manifest) if args.test_manifest else None,
        auto_split=args.auto_split,
    )


def _elapsed(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{rest:02d} elapsed"


def _print_evaluation(evaluation, version_arn: str) -> None:
    """The service's evaluation: per label F1, precision, recall, assumed threshold; overall F1."""
    table = Table(title=f"Evaluation of {version_arn}")
    for name in ("Label", "F1", "Precision", "Recall", "Assumed threshold", "Test images"):
        table.add_column(name, justify="left" if name == "Label" else "right")
    for score in evaluation.labels:
        table.add_row(
            score.label,
            _number(score.f1),
            _number(score.precision),
            _number(score.recall),
            "-" if score.threshold is None else f"{score.threshold:.1f}",
            "-" if score.testing_images is None else str(score.testing_images),
        )
    console.print(table)
    console.print(
        f"Overall F1 {_number(evaluation.f1)}, precision {_number(evaluation.precision)}, recall "
        f"{_number(evaluation.recall)} (summary: {evaluation.summary_uri or 'none'})",
        soft_wrap=True,
    )


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
