"""`customlabels visualize`: the detections drawn on the images, and an HTML gallery of them."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from customlabels.cli.common import PERCENT, console
from customlabels.errors import CommandError


def register(commands: argparse._SubParsersAction) -> None:
    visualize = commands.add_parser(
        "visualize", help="draw the detections on the images and write an HTML gallery",
        description="Pairs each result JSON under --results with its image under --images (by the end of its key), "
                    "draws each box with its label and confidence in the label's colour, image-level labels as a "
                    "caption and errors as a red banner, and writes the pictures (JPEG for JPEG images, else PNG) "
                    "to --out/pictures/ and a static gallery --out/index.html: thumbnails, a label filter, a "
                    "confidence slider that hides boxes below it, and each image's detail with its JSON. The "
                    "gallery opens from the file system; no server needed. Images without a result are shown too.")
    visualize.add_argument("--results", required=True, metavar="DIR",
                           help="result JSONs (from `local run --out` or `results --out`)")
    visualize.add_argument("--images", required=True, metavar="DIR", help="the images that were uploaded")
    visualize.add_argument("--out", required=True, metavar="DIR", help="where to write pictures/ and index.html")
    visualize.add_argument("--min-confidence", type=PERCENT, default=0.0, metavar="N",
                           help="draw only detections at or above N (0-100) in the pictures; the gallery's slider "
                                "starts there (default 0)")
    visualize.set_defaults(func=visualize_command)


def visualize_command(args: argparse.Namespace) -> int:
    from customlabels.evaluation.evaluate import ResultsError
    from customlabels.visualize import gallery, pictures

    results, images, out = Path(args.results), Path(args.images), Path(args.out)
    for option, folder in (("--results", results), ("--images", images)):
        if not folder.is_dir():
            raise CommandError(f"{option} {folder}: not a folder")
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out {out}: a file, not a folder. Fix: give a folder (created if missing)")
    try:
        items = pictures.collect(results, images)
    except ResultsError as error:
        raise CommandError(str(error)) from None
    if not any(item.document is not None for item in items):
        raise CommandError(f"--results {results}: no result JSONs there. Fix: give the folder that `local run --out` "
                           "or `results --out` wrote")
    with Progress(TextColumn("Drawing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("pictures", total=len(items))
        index = gallery.write_gallery(items, out, args.min_confidence, lambda _item: progress.advance(task))
    statuses = [item.status for item in items]
    counts = ", ".join(f"{statuses.count(status)} {text}" for status, text in gallery.STATUS_TEXT.items()
                       if statuses.count(status))
    console.print(f"{len(items)} pictures ({counts}) in {out / 'pictures'}/", soft_wrap=True)
    console.print(f"Gallery: {index}", soft_wrap=True)
    console.print(f"  open in a browser: {index.resolve().as_uri()}", soft_wrap=True)
    return 0
