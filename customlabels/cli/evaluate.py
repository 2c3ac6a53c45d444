"""`customlabels evaluate`: score results against a Ground Truth manifest, and tune the thresholds."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from customlabels.cli.common import FRACTION, console
from customlabels.errors import CommandError


def register(commands: argparse._SubParsersAction) -> None:
    evaluation = commands.add_parser(
        "evaluate", help="score results against a Ground Truth manifest; tune thresholds",
        description="Reads a SageMaker Ground Truth manifest (object detection, image classification, multi-label) "
                    "and the pipeline's result JSONs (a folder, s3://bucket/prefix, or Rekognition's evaluation "
                    "manifest snapshot). Prints image-level metrics (scikit-learn), detection TP/FP/FN, precision, "
                    "recall, F1 and AP per label at --iou, the most confused labels and per-label threshold tuning. "
                    "Images without a result count as predicting nothing and are listed. Tuning needs results made "
                    "with a low threshold (e.g. min_confidence 1), since a result holds nothing below its own. "
                    "See docs/evaluation.md.")
    evaluation.add_argument("--manifest", required=True, help="the ground truth (.manifest / JSON lines)")
    evaluation.add_argument("--results", required=True, metavar="DIR|s3://BUCKET/PREFIX|SNAPSHOT",
                            help="result JSONs, or an evaluation manifest snapshot file")
    evaluation.add_argument("--iou", type=FRACTION, default=0.5,
                            help="IoU for a detection to match a box (default 0.5)")
    evaluation.add_argument("--target-precision", type=FRACTION, metavar="P",
                            help="also find, per label, the lowest threshold whose precision reaches P (0-1)")
    evaluation.add_argument("--thresholds", metavar="FILE",
                            help="score as if these thresholds had applied (predicts what `thresholds set` would do)")
    evaluation.add_argument("--tuned-thresholds", metavar="FILE",
                            help="write the tuned thresholds (best F1, or with --target-precision the lowest "
                                 "reaching it) as a file `customlabels thresholds set` accepts")
    evaluation.add_argument("--json", metavar="FILE", help="write every number (schema in docs/evaluation.md)")
    evaluation.add_argument("--report", metavar="DIR", help="write an HTML report with the plots")
    evaluation.set_defaults(func=evaluate_command)


def evaluate_command(args: argparse.Namespace) -> int:
    from customlabels.datasets.manifest import ManifestError, read_manifest
    from customlabels.evaluation import evaluate
    from customlabels.evaluation import report as evaluation_report

    try:
        entries = read_manifest(args.manifest)
    except (OSError, ManifestError) as error:
        raise CommandError(f"--manifest: {error}") from None
    if not entries:
        raise CommandError(f"--manifest {args.manifest}: no lines")
    s3 = None
    if args.results.startswith("s3://"):
        import boto3

        s3 = boto3.client("s3")
    with Progress(TextColumn("reading results"), BarColumn(), MofNCompleteColumn(), console=console,
                  transient=True) as progress:
        task = progress.add_task("results", total=None)
        try:
            results = evaluate.load_results(args.results, s3, lambda done, total: progress.update(
                task, completed=done, total=total))
        except evaluate.ResultsError as error:
            raise CommandError(str(error)) from None
    if args.thresholds:
        from customlabels.operations import runtime_thresholds as runtime

        try:
            thresholds = runtime.parse_thresholds(Path(args.thresholds).read_text(encoding="utf-8"))
        except (OSError, runtime.ThresholdsError) as error:
            raise CommandError(f"--thresholds {args.thresholds}: {error}") from None
        results = evaluate.apply_thresholds(results, thresholds)
    evaluation = evaluate.evaluate(entries, results, iou_threshold=args.iou, target_precision=args.target_precision)
    evaluation_report.print_summary(evaluation, console)
    if args.json:
        Path(args.json).write_text(evaluate.to_json_text(evaluation), encoding="utf-8")
        console.print(f"Every number: {args.json}", soft_wrap=True)
    if args.tuned_thresholds:
        goal = "precision" if args.target_precision is not None else "f1"
        Path(args.tuned_thresholds).write_text(json.dumps(evaluation.tuned_thresholds(goal), indent=2) + "\n",
                                               encoding="utf-8")
        chosen = "lowest reaching the target precision" if goal == "precision" else "best F1"
        console.print(f"Tuned thresholds ({chosen}): {args.tuned_thresholds}; apply with: "
                      f"customlabels thresholds set {args.tuned_thresholds}", soft_wrap=True)
    if args.report:
        index = evaluation_report.write_report(evaluation, Path(args.report))
        console.print(f"Report: {index}", soft_wrap=True)
    return 0
