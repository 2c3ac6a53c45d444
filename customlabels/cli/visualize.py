"""`customlabels visualize`: the detections drawn on the images, and an HTML gallery of them."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from customlabels.cli.common import (
    PERCENT,
    console,
    input_file,
    input_folder,
    note_skipped,
    number,
    output_folder,
    print_not_saved,
)
from customlabels.errors import CommandError
from customlabels.escaping import shown

IOU = number(float, above=0, at_most=1, hint="an intersection over union: 0.5 for half")


def register(commands: argparse._SubParsersAction) -> None:
    visualize = commands.add_parser(
        "visualize",
        help="draw the detections on the images and write an HTML gallery",
        description="Pairs each result JSON under --results with its image under --images (by the end of its key), "
        "draws each box with its label and confidence in the label's colour, image-level labels as a "
        "caption and errors as a red banner, and writes the pictures (JPEG for JPEG images, else PNG) "
        "to --out/pictures/ and a static gallery --out/index.html: thumbnails, a label filter, a "
        "confidence slider that hides boxes below it, and each image's detail with its JSON. The "
        "gallery opens from the file system; no server needed. Images without a result are shown too. "
        "With --manifest, the ground truth is drawn too and each detection marked true or false "
        "positive, each missed object marked missed (matched as `evaluate` matches them).",
    )
    visualize.add_argument(
        "--results", required=True, metavar="DIR", help="result JSONs (from `local run --out` or `results --out`)"
    )
    visualize.add_argument("--images", required=True, metavar="DIR", help="the images that were uploaded")
    visualize.add_argument("--out", required=True, metavar="DIR", help="where to write pictures/ and index.html")
    visualize.add_argument(
        "--min-confidence",
        type=PERCENT,
        default=0.0,
        metavar="N",
        help="draw only detections at or above N (0-100) in the pictures; the gallery's slider "
        "starts there (default 0)",
    )
    visualize.add_argument(
        "--manifest",
        metavar="FILE",
        help="a Ground Truth manifest of these images: overlay its boxes and mark each detection "
        "true positive, false positive or missed",
    )
    visualize.add_argument(
        "--iou",
        type=IOU,
        metavar="X",
        help="with --manifest: the intersection over union a detection needs to match a box "
        "(0-1, default 0.5, as evaluate)",
    )
    visualize.set_defaults(func=visualize_command)


def visualize_command(args: argparse.Namespace) -> int:
    from customlabels.visualize import gallery

    results, images = input_folder("--results", args.results), input_folder("--images", args.images)
    out = output_folder("--out", args.out)
    if args.iou is not None and args.manifest is None:
        raise CommandError("--iou applies to the ground truth: give --manifest too, or leave --iou out")
    entries = _manifest_entries(args.manifest)
    items = _collect(results, images)
    not_saved = []
    with Progress(
        TextColumn("Drawing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task("pictures", total=len(items))
        index = gallery.write_gallery(
            items,
            out,
            args.min_confidence,
            lambda _item: progress.advance(task),
            entries=entries,
            iou_threshold=args.iou or 0.5,
            manifest_name=Path(args.manifest).name if args.manifest else None,
            on_not_saved=not_saved.append,
        )
    statuses = [item.status for item in items]
    counts = ", ".join(
        f"{statuses.count(status)} {text}" for status, text in gallery.STATUS_TEXT.items() if statuses.count(status)
    )
    console.print(f"{len(items)} pictures ({counts}) in {out / 'pictures'}/", soft_wrap=True)
    if entries is not None:
        from customlabels.datasets.manifest import KeyMatcher

        matcher = KeyMatcher(entries)
        found = sum(matcher.match(gallery.image_key(item)) is not None for item in items)
        console.print(f"Ground truth: {found} of {len(items)} images are in {args.manifest}", soft_wrap=True)
    console.print(f"Gallery: {index}", soft_wrap=True)
    console.print(f"  open in a browser: {index.resolve().as_uri()}", soft_wrap=True)
    print_not_saved(not_saved)
    return 1 if not_saved else 0


def _collect(results: Path, images: Path) -> list:
    """Every result paired with its image (visualize.result_images.collect), refused when no result or no image is
    there, and the results without an image named in one line."""
    from customlabels.results.model import ResultsError
    from customlabels.visualize import result_images

    try:
        items = result_images.collect(results, images, on_skipped=note_skipped)
    except ResultsError as error:
        raise CommandError(str(error)) from None
    with_result = [item for item in items if item.document is not None]
    if not with_result:
        raise CommandError(
            f"--results {results}: no result JSONs there. Fix: give the folder that `local run --out` "
            "or `results --out` wrote"
        )
    without_image = [item for item in with_result if item.image_path is None]
    if len(without_image) == len(with_result):
        raise CommandError(
            f"--images {images}: none of the {len(without_image)} results' images is there. Fix: give "
            "the folder the images were uploaded from"
        )
    if without_image:
        console.print(
            f"[yellow]{len(without_image)} result(s) have no image under --images {images}[/] (drawn as a "
            f"placeholder), e.g. {shown(without_image[0].name)}",
            soft_wrap=True,
        )
    return items


def _manifest_entries(path: str | None):
    """The manifest's entries, or None without --manifest; a bad manifest is named with its line."""
    from customlabels.datasets.manifest import ManifestError, read_manifest

    if path is None:
        return None
    input_file("--manifest", path, "give the Ground Truth manifest of these images")
    try:
        return read_manifest(path)
    except ManifestError as error:
        raise CommandError(f"--manifest {error}") from None
