"""`customlabels model promote VERSION_ARN [--gate G] [--manifest M]` and `model rollback`: switch the pipeline to
another model version without a redeploy (customlabels/lifecycle/promotion.py); and the version in service that
`model status|start|stop` act on (docs/model-lifecycle.md, "Versions: promote and roll back")."""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from typing import Any

from rich.markup import escape

from customlabels.cli.common import SECONDS, aws_client, console
from customlabels.errors import CommandError

VERSION_ACTIONS = ("promote", "rollback")
IN_FLIGHT = (
    "Images are never lost or answered twice: until the switch the version in service answers them; from the switch "
    "the pipeline calls the new version, while the images the old one took before it finish on it during the drain "
    "(the stack's ModelVersionDrainSeconds); then the old version is stopped. Both versions run, and are billed, "
    "from the new version's start until the old one stops."
)

VERSIONS_HELP = (
    "promote VERSION_ARN (or its name in the project, e.g. v2): switch the pipeline to that version without a "
    "redeploy (started with the units of the version in service, gated, then the old one stopped); rollback: back "
    "to the previous version the same way. " + IN_FLIGHT
)


def add_version_options(parser: argparse.ArgumentParser) -> None:
    """promote's and rollback's options on `model`'s one parser."""
    parser.add_argument(
        "--gate",
        metavar='"f1>=0.9,bee.recall>=0.8"',
        help="promote: what the new version must reach once RUNNING, else nothing changes and it is stopped: terms "
        "[LABEL.]f1|precision|recall >=|>|<=|< a fraction or current[+-D] (the version in service's), joined by "
        "commas; checked on the service's evaluation of the version, or with --manifest on both versions' answers",
    )
    parser.add_argument(
        "--manifest",
        metavar="M",
        help="promote: check the gate on this Ground Truth manifest: both versions answer each image (by its S3 "
        "source-ref, with the pipeline's thresholds), scored as `customlabels evaluate` scores",
    )
    parser.add_argument(
        "--version-parameter",
        metavar="NAME",
        help="promote, rollback: the SSM parameter of the version in service, for a pipeline without a stack "
        "(default: the stack's ModelVersionParameter output); give --drain-seconds with it",
    )
    parser.add_argument(
        "--drain-seconds",
        type=SECONDS,
        help="promote, rollback: how long the old version still answers after the switch (default: the stack's "
        "ModelVersionDrainSeconds output)",
    )
    parser.add_argument(
        "--take-over",
        action="store_true",
        help="promote, rollback: replace a recorded promotion that no longer runs (it was killed)",
    )


def pipeline_target(args: argparse.Namespace):
    """(the Target, the ssm client): the version parameter and drain from --version-parameter or the stack."""
    from customlabels.operations import model

    if args.version_parameter:
        if args.drain_seconds is None:
            raise CommandError(
                "--version-parameter needs --drain-seconds: how long the old version may still get calls after "
                "the switch (the function's cache of the parameter plus a batch's time)"
            )
        target = model.Target("", version_parameter=args.version_parameter, drain_seconds=args.drain_seconds)
        return target, aws_client("ssm")
    if args.model_arn:
        raise CommandError(
            f"model {args.action} switches the version in service of a pipeline, not --model-arn: give --stack, or "
            "--version-parameter NAME --drain-seconds S"
        )
    target = model.stack_target(aws_client("cloudformation"), args.stack)
    if not target.version_parameter:
        raise CommandError(
            f"--stack {args.stack} has no ModelVersionParameter output: it was deployed before model versions. Fix: "
            "cdk deploy this version of the pipeline, whose function reads the version in service at runtime"
        )
    drain = target.drain_seconds if args.drain_seconds is None else args.drain_seconds
    if drain is None:
        raise CommandError(f"--stack {args.stack} has no ModelVersionDrainSeconds output. Fix: give --drain-seconds S")
    return replace(target, drain_seconds=drain), aws_client("ssm")


def versions_command(args: argparse.Namespace) -> int:
    """promote or rollback, with the progress of each step; 1 when nothing changed, 130 on Ctrl-C."""
    from customlabels.lifecycle import promotion

    _check_arguments(args)
    target, ssm = pipeline_target(args)
    document = promotion.read_document(ssm, target.version_parameter)
    region = document.version_arn.split(":")[3]  # a candidate elsewhere is refused: not of the project
    rekognition = aws_client("rekognition", region_name=region)
    pipeline = promotion.Pipeline(rekognition, ssm, target.version_parameter, target.drain_seconds)
    timing = promotion.Timing(start_timeout=args.timeout, poll=args.poll)
    gate_check = _gate_check(args, target, rekognition, ssm, region) if args.gate is not None else None
    try:
        with console.status("Starting...") as spinner:
            on_step = _progress(spinner)
            if args.action == "rollback":
                outcome = promotion.rollback(pipeline, timing=timing, on_step=on_step, take_over=args.take_over)
            else:
                outcome = promotion.promote(
                    pipeline,
                    candidate_arn(rekognition, document.version_arn, args.onnx_model),
                    gate_check=gate_check,
                    timing=timing,
                    on_step=on_step,
                    take_over=args.take_over,
                )
    except promotion.PromotionInterruptedError as interruption:
        console.print(f"[yellow]{escape(str(interruption))}[/]", soft_wrap=True, highlight=False)
        return 130
    console.print(
        f"[green]In service:[/] {outcome.version_arn} (previous: {outcome.previous_arn}; roll back with "
        f"customlabels model rollback{_where(args)})",
        soft_wrap=True,
        highlight=False,
    )
    return 0


def candidate_arn(rekognition, in_service: str, given: str) -> str:
    """The version to promote: an ARN as given, or the version of that name in the project of the version in service
    (the name `model train --version-name` gave it)."""
    from customlabels.config import MODEL_ARN_PATTERN
    from customlabels_runtime.model_manager.observe import project_arn, version_names

    if given.startswith("arn:") or MODEL_ARN_PATTERN.match(in_service) is None:
        return given
    project = project_arn(rekognition, in_service)
    found = rekognition.describe_project_versions(ProjectArn=project, VersionNames=[given])
    if not found["ProjectVersionDescriptions"]:
        every = rekognition.describe_project_versions(ProjectArn=project, MaxResults=10)["ProjectVersionDescriptions"]
        names = ", ".join(version_names(version["ProjectVersionArn"])[1] for version in every)
        raise CommandError(
            f"project {version_names(in_service)[0]} has no version named {given!r}. Fix: one of {names} (the newest "
            "first), or the version's ARN as `customlabels model train` printed it"
        )
    return found["ProjectVersionDescriptions"][0]["ProjectVersionArn"]


def _check_arguments(args: argparse.Namespace) -> None:
    if args.action == "rollback" and (args.onnx_model or args.gate is not None or args.manifest):
        raise CommandError(
            "model rollback goes back to the previous version, without a gate: give no VERSION_ARN, --gate or "
            "--manifest (use model promote VERSION_ARN for another version)"
        )
    if args.action == "promote" and not args.onnx_model:
        raise CommandError(
            "model promote needs the version to promote: customlabels model promote VERSION_ARN (or the version's "
            "name in the project of the version in service, e.g. v2)"
        )
    if args.manifest and args.gate is None:
        raise CommandError('--manifest is where the gate is checked: give --gate too, e.g. --gate "f1>=current"')
    if args.gate is not None:
        from customlabels.lifecycle.gate import GateError, parse_gate

        try:
            parse_gate(args.gate)
        except GateError as error:
            raise CommandError(str(error)) from None


def _where(args: argparse.Namespace) -> str:
    if args.version_parameter:
        return f" --version-parameter {args.version_parameter} --drain-seconds {args.drain_seconds:g}"
    return f" --stack {args.stack}"


def _progress(spinner):
    """Each step printed as it ends; the waits (a start, the drain) shown on the spinner."""

    def on_step(step) -> None:
        if step.name in ("wait", "drain"):
            spinner.update(f"{step.name}: {step.message}")
        else:
            colour = "red" if step.name == "undo" else "green"
            console.print(f"[{colour}]{step.name}[/] {escape(step.message)}", soft_wrap=True, highlight=False)
            if step.name == "record":  # the checks passed: what happens now to images and the bill
                console.print(f"[yellow]Images and billing:[/] {IN_FLIGHT}", soft_wrap=True)
            spinner.update(f"after {step.name}...")

    return on_step


def _gate_check(args: argparse.Namespace, target, rekognition, ssm, region: str):
    """The gate on the service's evaluation, or with --manifest on both versions' answers over it."""
    from customlabels.cli.evaluate import manifest_entries
    from customlabels.lifecycle import figures
    from customlabels.lifecycle.gate import check_gate, parse_gate, verdict_lines
    from customlabels.operations import model

    gate = parse_gate(args.gate)
    entries = manifest_entries(args.manifest) if args.manifest else None
    s3 = aws_client("s3", region_name=region)

    def check(candidate: str, current: str):
        if entries is not None:
            found = _manifest_figures(args, target, rekognition, ssm, entries, candidate, current)
        else:
            found = [figures.service_figures(model.describe(rekognition, arn), s3) for arn in (candidate, current)]
        verdict = check_gate(gate, *found)
        for line in verdict_lines(verdict):
            colour = "green" if line.startswith("PASS") else "red"
            console.print(f"[{colour}]{escape(line)}[/]", soft_wrap=True, highlight=False)
        return verdict

    return check


def _manifest_figures(args, target, rekognition, ssm, entries, candidate: str, current: str) -> list[Any]:
    """Both versions (the version in service only when it runs) over the manifest, compared as `evaluate` compares
    them; the candidate's figures and the current one's (None when it does not run)."""
    from customlabels.cli.evaluation_tables import print_comparison, print_summary
    from customlabels.lifecycle import figures
    from customlabels.operations import model
    from customlabels.operations import runtime_thresholds as runtime
    from customlabels_runtime.inference.thresholds import Thresholds

    thresholds = runtime.read(ssm, target.thresholds_parameter) if target.thresholds_parameter else Thresholds()
    versions = {"in service": current, "candidate": candidate}
    if model.describe(rekognition, current)["Status"] != "RUNNING":
        console.print(
            f"{current} is not RUNNING: the manifest is run on the candidate alone", soft_wrap=True, highlight=False
        )
        del versions["in service"]
    with console.status("Running the manifest...") as spinner:
        evaluations = figures.manifest_evaluations(
            rekognition,
            versions,
            entries,
            thresholds,
            sleep=time.sleep,
            on_image=lambda name, done, total: spinner.update(f"{name}: {done}/{total} images"),
        )
    if len(evaluations) > 1:
        print_comparison(evaluations, console)  # as `evaluate --results A --results B` prints them
    else:
        print_summary(evaluations["candidate"], console)
    source = f"the manifest {args.manifest}"
    found = {name: figures.evaluation_figures(evaluation, source) for name, evaluation in evaluations.items()}
    return [found["candidate"], found.get("in service")]


def in_service_target(target, ssm):
    """`model status|start|stop --stack`: the version in service (from its parameter) rather than the deploy-time
    ModelArn; the target unchanged when the stack has no such parameter or it holds no document."""
    document = version_document(ssm, target)
    return target if document is None else replace(target, model_arn=document.version_arn)


def version_document(ssm, target):
    if ssm is None or not target.version_parameter:
        return None
    from customlabels_runtime.model_version import parse_version_document

    return parse_version_document(ssm.get_parameter(Name=target.version_parameter)["Parameter"]["Value"])


def version_rows(target, ssm) -> list[tuple[str, str]]:
    """`model status`'s rows about versions: in service (and since when), the previous one, a promotion or a
    version retiring."""
    if ssm is None or not target.version_parameter:
        return []
    document = version_document(ssm, target)
    if document is None:
        return [("In service", f"unknown: {target.version_parameter} holds no version document")]
    rows = [
        ("In service", f"{document.version_arn}" + (f" (since {document.changed_at})" if document.changed_at else "")),
        ("Previous", document.previous_arn or "- (model rollback has nothing to go back to)"),
    ]
    if document.promotion:
        promoting = document.promotion
        rows.append(("Promotion", f"{promoting.candidate_arn}: {promoting.phase} since {promoting.since}"))
    if document.retiring:
        rows.append(
            (
                "Retiring",
                f"{document.retiring.version_arn}: answers its images in flight, stopped after "
                f"{document.retiring.stop_after}",
            )
        )
    return rows
