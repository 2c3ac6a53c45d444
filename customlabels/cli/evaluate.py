"""`customlabels evaluate`: score results against a Ground Truth manifest, and tune the thresholds."""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, datetime
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from customlabels.cli.common import FRACTION, aws_client, console, input_folder, note_skipped, print_not_saved
from customlabels.errors import CommandError


def fraction(text: str) -> float:
    """A fraction in (0, 1]; a percent such as 90 is refused with the fraction it likely means."""
    try:
        return FRACTION(text)
    except argparse.ArgumentTypeError as error:
        try:
            value = float(text)
        except ValueError:
            raise error from None
        if 2 <= value <= 100:  # 90 for 0.9; 1.5 is no percent anyone means
            raise argparse.ArgumentTypeError(f"{error}; did you mean {value / 100:g}?") from None
        raise


NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def named_path(text: str) -> tuple[str | None, str]:
    """`NAME=PATH` -> (NAME, PATH); a bare PATH (also one with `=` further on, or an s3:// URI) -> (None, PATH)."""
    name, separator, path = text.partition("=")
    if separator and NAME.fullmatch(name) and path:
        return name, path
    if separator and not path and NAME.fullmatch(name):
        raise argparse.ArgumentTypeError(f"{text!r}: give NAME=PATH, the path after the =")
    return None, text


def register(commands: argparse._SubParsersAction) -> None:
    evaluation = commands.add_parser(
        "evaluate",
        help="score results against a Ground Truth manifest; compare models; tune thresholds",
        description="Reads a SageMaker Ground Truth manifest (object detection, image classification, multi-label) "
        "and the pipeline's result JSONs (a folder, s3://bucket/prefix, or Rekognition's evaluation "
        "manifest snapshot). Prints image-level metrics (scikit-learn), detection TP/FP/FN, precision, "
        "recall, F1 and AP per label at --iou, the most confused labels and per-label threshold tuning. "
        "Images without a result count as predicting nothing and are listed. Tuning needs results made "
        "with a low threshold (e.g. min_confidence 1), since a result holds nothing below its own. "
        "Give --results NAME=PATH two or more times to compare models side by side. "
        "See docs/evaluation.md.",
    )
    _scoring_options(evaluation)
    _output_options(evaluation)
    evaluation.set_defaults(func=evaluate_command)


def _scoring_options(parser: argparse.ArgumentParser) -> None:
    """What is scored, and how: the ground truth, the results (one model or several), the IoU, the thresholds."""
    parser.add_argument("--manifest", required=True, help="the ground truth (.manifest / JSON lines)")
    parser.add_argument(
        "--results",
        required=True,
        action="append",
        type=named_path,
        metavar="[NAME=]DIR|s3://BUCKET/PREFIX|SNAPSHOT",
        help="result JSONs, or an evaluation manifest snapshot file; repeat with NAME= to compare models",
    )
    parser.add_argument("--iou", type=fraction, default=0.5, help="IoU for a detection to match a box (default 0.5)")
    parser.add_argument(
        "--target-precision",
        type=fraction,
        metavar="P",
        help="also find, per label, the threshold reaching precision P (0-1) with the most recall",
    )
    parser.add_argument(
        "--thresholds",
        metavar="FILE",
        help="score as if these thresholds had applied (predicts what `thresholds set` would do)",
    )


def _output_options(parser: argparse.ArgumentParser) -> None:
    """What is written besides the terminal's tables: tuned thresholds, every number, the report and its pictures."""
    parser.add_argument(
        "--tuned-thresholds",
        metavar="FILE",
        help="write the tuned thresholds (best F1, or with --target-precision the one "
        "reaching it) as a file `customlabels thresholds set` accepts (one model)",
    )
    parser.add_argument("--json", metavar="FILE", help="write every number (schema in docs/evaluation.md)")
    parser.add_argument("--report", metavar="DIR", help="write an HTML report with the plots")
    parser.add_argument(
        "--images",
        metavar="DIR",
        help="the images, for the report's pictures of false positives, false negatives and "
        "disagreements (matched to the manifest like results are)",
    )
    parser.add_argument(
        "--gallery",
        action="append",
        type=named_path,
        metavar="[NAME=]DIR",
        help="the folder of `customlabels visualize --out`: the report's pictures link to "
        "their place in it; comparing models, give each model's own as NAME=DIR",
    )


def _models(specs: list[tuple[str | None, str]]) -> dict[str, str]:
    """Model name -> results; one bare PATH is the single model "results", several are named by NAME= or by
    their folder's name."""
    if len(specs) == 1:
        return {specs[0][0] or "results": specs[0][1]}
    models: dict[str, str] = {}
    for name, path in specs:
        name = name or Path(path.rstrip("/")).name or path
        if name in models:
            raise CommandError(f"--results: two models named {name!r}; name each with NAME=PATH")
        models[name] = path
    return models


def _galleries(specs: list[tuple[str | None, str]], models: dict[str, str]) -> dict[str, str]:
    """Model name -> the folder of the gallery drawn from its results: a picture links to its own model's
    detections. One model takes a bare DIR; several need NAME=DIR, and a model without one gets no links."""
    galleries: dict[str, str] = {}
    named = ", ".join(models)
    for name, folder in specs:
        if name is None and len(models) > 1:
            raise CommandError(
                f"--gallery {folder}: which model's results does it show? Give NAME=DIR, e.g. "
                f"--gallery {next(iter(models))}={folder} (the models: {named})"
            )
        name = name or next(iter(models))
        if name not in models:
            raise CommandError(f"--gallery {name}={folder}: no model is named {name!r}. Fix: one of {named}")
        if name in galleries:
            raise CommandError(f"--gallery: two galleries for {name!r}; give one per model")
        galleries[name] = str(input_folder("--gallery", folder, "the folder `customlabels visualize --out` wrote"))
    return galleries


def evaluate_command(args: argparse.Namespace) -> int:
    models = _models(args.results)
    if len(models) > 1 and args.tuned_thresholds:
        raise CommandError(
            "--tuned-thresholds writes one model's thresholds: evaluate that model alone (one --results)"
        )
    if args.images:
        input_folder("--images", args.images)
    galleries = _galleries(args.gallery or [], models)
    entries = manifest_entries(args.manifest)
    evaluations = _evaluations(models, entries, args)
    document = _print_evaluations(evaluations)
    if args.json:
        Path(args.json).write_text(json.dumps(document, indent=2, default=float), encoding="utf-8")
        console.print(f"Every number: {args.json}", soft_wrap=True)
    if args.tuned_thresholds:
        _write_tuned_thresholds(next(iter(evaluations.values())), args.tuned_thresholds, args.target_precision)
    if args.report:
        return _write_report(args, models, galleries, entries, evaluations)
    return 0


def manifest_entries(path: str):
    from customlabels.datasets.manifest import ManifestError, read_manifest

    try:
        entries = read_manifest(path)
    except (OSError, ManifestError) as error:
        raise CommandError(f"--manifest: {error}") from None
    if not entries:
        raise CommandError(f"--manifest {path}: no lines")
    return entries


def _evaluations(models: dict[str, str], entries, args: argparse.Namespace) -> dict:
    """Model name -> its Evaluation, each model's results read and, with --thresholds, filtered as they would."""
    from customlabels.evaluation.evaluate import evaluate
    from customlabels.results.model import ResultsError, apply_thresholds

    thresholds = _thresholds(args.thresholds)
    evaluations = {}
    for name, source in models.items():
        results = _load(source)
        if thresholds is not None:
            results = apply_thresholds(results, thresholds)
        try:
            evaluations[name] = evaluate(
                entries, results, iou_threshold=args.iou, target_precision=args.target_precision
            )
        except ResultsError as error:
            raise CommandError(f"--results {source}: {error}") from None
    return evaluations


def _print_evaluations(evaluations: dict) -> dict:
    """One model's summary or several side by side on the terminal; the document --json writes."""
    from customlabels.cli.evaluation_tables import print_comparison, print_summary
    from customlabels.evaluation.compare import comparison_document

    if len(evaluations) == 1:
        evaluation = next(iter(evaluations.values()))
        print_summary(evaluation, console)
        return evaluation.to_json()
    print_comparison(evaluations, console)
    return comparison_document(evaluations)


def _write_tuned_thresholds(evaluation, path: str, target_precision: float | None) -> None:
    goal = "precision" if target_precision is not None else "f1"
    Path(path).write_text(json.dumps(evaluation.tuned_thresholds(goal), indent=2) + "\n", encoding="utf-8")
    chosen = "reaching the target precision with the most recall" if goal == "precision" else "best F1"
    console.print(
        f"Tuned thresholds ({chosen}): {path}; apply with: customlabels thresholds set {path}",
        soft_wrap=True,
    )


def _write_report(args: argparse.Namespace, models: dict[str, str], galleries: dict[str, str], entries, evaluations):
    """The HTML report, its pictures drawn from --images and linked to the galleries; 1 when a picture or chart
    could not be saved."""
    from customlabels.evaluation import report

    folder = Path(args.report)
    context = report.ReportContext(
        manifest=args.manifest,
        results=models,
        iou_threshold=args.iou,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        thresholds=args.thresholds,
        target_precision=args.target_precision,
        galleries={
            name: report.relative_href(Path(gallery) / "index.html", folder) for name, gallery in galleries.items()
        },
    )
    draw = picture_drawer(Path(args.images), args.iou, entries, evaluations) if args.images else None
    not_saved = []
    index = report.write_report(evaluations, folder, context, draw, on_not_saved=not_saved.append)
    console.print(f"Report: {index}\n  open in a browser: {index.resolve().as_uri()}", soft_wrap=True)
    print_not_saved(not_saved)
    return 1 if not_saved else 0


def _thresholds(path: str | None):
    if not path:
        return None
    from customlabels.operations import runtime_thresholds as runtime

    return runtime.read_file(path, f"--thresholds {path}")


def _load(source: str):
    """One --results source read, with a progress bar while S3 objects come in; a source that cannot be read is
    one line naming it."""
    from customlabels.results.model import ResultsError
    from customlabels.results.reading import load_results

    s3 = None
    if source.startswith("s3://"):
        s3 = aws_client("s3")
    with Progress(
        TextColumn("reading results"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:  # piped: not even a blank line
        task = progress.add_task("results", total=None)
        try:
            return load_results(
                source,
                s3,
                lambda done, total: progress.update(task, completed=done, total=total),
                on_skipped=note_skipped,
            )
        except ResultsError as error:
            raise CommandError(str(error)) from None


def picture_drawer(images: Path, iou_threshold: float, entries, evaluations):
    """The report's pictures drawn as the gallery draws them (visualize.pictures, with the ground truth and each
    detection's verdict from visualize.truth): the evaluation package cannot import the gallery's code."""
    from PIL import Image

    from customlabels.datasets.manifest import KeyMatcher
    from customlabels.outputs import input_files
    from customlabels.visualize import pictures, truth

    files = input_files(images)[0]  # a gallery inside --images holds drawn pictures of the same names
    matcher = KeyMatcher(files, key=lambda path: path.relative_to(images).as_posix())
    labels = {label for entry in entries for label in entry.all_labels} | {
        p.label for evaluation in evaluations.values() for _, result in evaluation.pairs for p in result.predictions
    }
    colours = pictures.label_colours(labels)

    def draw(entry, result):
        path = matcher.match(entry.key)
        if path is None:
            return None
        try:
            with Image.open(path) as image:
                image.load()
                plain = image.copy()
        except (OSError, Image.DecompressionBombError):
            plain = pictures.placeholder(f"{entry.key}: cannot be read as an image")
        comparison = truth.compare(entry, result.predictions, iou_threshold)
        return pictures.draw(plain, result.predictions, colours, truth=comparison.boxes, verdicts=comparison.verdicts)

    return draw
