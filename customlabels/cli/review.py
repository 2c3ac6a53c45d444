"""`customlabels review export`: the images a person should look at, as a manifest of pre-annotations."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from customlabels.cli.common import PERCENT, console, input_folder, note_skipped, number
from customlabels.errors import CommandError


def register(commands: argparse._SubParsersAction) -> None:
    review = commands.add_parser(
        "review",
        help="export the images a person should review, with the predictions as pre-annotations",
        description="The feedback loop's first step (docs/results-and-gallery.md): review export, then correct the "
        "labels (a Ground Truth labeling job, or by hand), `manifest merge`, `dataset update`, retrain.",
    )
    review_commands = review.add_subparsers(dest="review_command", required=True, metavar="COMMAND")
    export = review_commands.add_parser(
        "export",
        help="write a Ground Truth manifest of the uncertain, empty or disputed images",
        description="Chooses the images with a detection whose confidence is in the uncertain band [--low, --high), "
        "those with nothing detected (unless --skip-nothing), and, given a second --results, those where "
        "the two models disagree (a box without a box of the same label at --iou, or an image-level "
        "label only one gives). Writes them to --out as a Ground Truth manifest whose labels are the "
        "first model's predictions (human-annotated: no), which `manifest validate` accepts.",
    )
    export.add_argument(
        "--results",
        required=True,
        action="append",
        metavar="DIR",
        help="result JSONs (from `local run --out` or `results --out`); twice to compare two models",
    )
    export.add_argument("--out", required=True, metavar="FILE", help="the manifest to write")
    export.add_argument(
        "--images", metavar="DIR", help="the uploaded images, for their sizes (needed when the predictions have boxes)"
    )
    export.add_argument(
        "--low", type=PERCENT, default=50.0, metavar="N", help="the uncertain band starts at N%% (default 50)"
    )
    export.add_argument("--high", type=PERCENT, default=90.0, metavar="N", help="and ends below N%% (default 90)")
    export.add_argument("--skip-nothing", action="store_true", help="leave out the images with nothing detected")
    export.add_argument(
        "--iou",
        type=number(float, above=0, at_most=1),
        default=0.5,
        metavar="X",
        help="with two --results: the IoU at which two boxes agree (default 0.5)",
    )
    export.set_defaults(func=review_export)


def review_export(args: argparse.Namespace) -> int:
    from customlabels.results.model import ResultsError
    from customlabels.review import export

    if len(args.results) > 2:
        raise CommandError("--results: give one folder, or two to compare two models")
    for folder in args.results:
        input_folder("--results", folder)
    try:
        rules = export.Rules(args.low, args.high, not args.skip_nothing, args.iou)
        documents = [_documents(Path(folder)) for folder in args.results]
        chosen = export.select(documents[0], rules, documents[1] if len(documents) == 2 else None)
        lines = export.manifest_lines(chosen, _image_sizes(args.images))
    except (export.ReviewError, ResultsError) as error:
        raise CommandError(str(error)) from None
    if not documents[0]:
        raise CommandError(f"--results {args.results[0]}: no result JSONs")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    reasons: dict[str, int] = {}
    for candidate in chosen:
        for kind in {
            reason.split(" ")[0] if not reason.startswith("only") else "disagreement" for reason in candidate.reasons
        }:
            reasons[kind] = reasons.get(kind, 0) + 1
    console.print(f"{len(chosen)} of {len(documents[0])} images with a result to review")
    table = Table()
    table.add_column("why")
    table.add_column("images", justify="right")
    for kind, count in sorted(reasons.items()):
        table.add_row(kind, str(count))
    console.print(table)
    console.print(
        f"Review manifest: {out}\nNext: correct the labels, then `customlabels manifest merge BASE {out} "
        "--out NEW` and `customlabels dataset update --manifest NEW`",
        soft_wrap=True,
    )
    return 0


def _documents(folder: Path) -> list[dict]:
    """The well-formed result JSONs under `folder`; each file that is not one is named on stderr and left out."""
    from customlabels.results.reading import folder_result_documents, well_formed

    named = folder_result_documents(folder, note_skipped)
    readable = {name for name, _ in well_formed(named, note_skipped)}
    return [document for name, document in named if name in readable]


def _image_sizes(images: str | None):
    """key -> (width, height) of the image under --images that the key ends with (None without --images)."""
    if images is None:
        return lambda _key: None
    from PIL import Image

    from customlabels.datasets.manifest import KeyMatcher
    from customlabels.outputs import input_files
    from customlabels.review.export import ReviewError

    folder = input_folder("--images", images)
    files = input_files(folder)[0]  # not a gallery's drawn picture of the same name: it has a caption strip
    matcher = KeyMatcher(files, key=lambda path: path.relative_to(folder).as_posix())

    def size(key: str):
        path = matcher.match(key)
        if path is None:
            return None
        try:
            with Image.open(path) as image:
                return image.size
        except Image.DecompressionBombError:
            raise ReviewError(
                f"{path}: declares far more pixels than Pillow opens safely (a decompression bomb), so its size for "
                f"the pre-annotations of {key} cannot be read; Rekognition takes at most 4096 px per side. Fix: "
                "give --images the folder the images were uploaded from, without this file"
            ) from None
        except OSError:
            return None

    return size
