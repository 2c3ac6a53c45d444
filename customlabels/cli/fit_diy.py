"""`customlabels fit-diy`: fit a small detector of your own on this CPU from a training manifest, written as
MODEL.onnx and its spec MODEL.onnx.json for the onnx backend (docs/diy-model.md)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from customlabels.cli.common import POSITIVE, console, error_console, input_file, input_folder, number
from customlabels.errors import CommandError
from customlabels.escaping import shown

EXAMPLE = """example (the demo's split, then the comparison with Custom Labels on the test images):
  customlabels manifest split demo-output/sample/manifest.jsonl --test 0.3 --seed 1
  customlabels fit-diy --manifest demo-output/sample/manifest.train.jsonl --images demo-output/sample/images \\
      --out demo-output/diy/bees.onnx
  customlabels local run --images demo-output/sample/images --model onnx:demo-output/diy/bees.onnx \\
      --min-confidence 1 --out demo-output/results-diy
"""


def register(commands: argparse._SubParsersAction) -> None:
    fit = commands.add_parser(
        "fit-diy",
        help="fit a small detector of your own (ONNX) from a training manifest, on this CPU",
        description="Fits a small detector on the images of an object-detection manifest, on this CPU in "
        "seconds, with scikit-learn: a classifier of the cells of a grid over the image (colours learned by "
        "k-means, edges, a logistic regression over each cell's neighbourhood) and a regression of the "
        "boxes. Writes it as an ONNX model (yolo-raw output) and its spec MODEL.onnx.json, ready for "
        "`local run --model onnx:MODEL.onnx` and `-c backend=onnx`. Fit it on a training split and evaluate "
        "it on images it never saw (`manifest split`).",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fit.add_argument("--manifest", required=True, help="the training manifest (groundtruth/object-detection)")
    fit.add_argument("--images", required=True, help="folder holding its images (matched by the end of source-ref)")
    fit.add_argument("--out", required=True, metavar="MODEL.onnx", help="the model to write (and MODEL.onnx.json)")
    fit.add_argument(
        "--size",
        type=number(int, at_least=64, at_most=1024),
        default=256,
        help="input width and height in pixels, a multiple of 8, 64-1024 (default 256)",
    )
    fit.add_argument("--colours", type=POSITIVE, default=12, help="colours k-means learns (default 12)")
    fit.add_argument("--seed", type=int, default=0, help="random seed of k-means' pixel sample (default 0)")
    fit.set_defaults(func=fit_diy)


def fit_diy(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from customlabels.datasets.manifest import ManifestError, read_manifest
    from customlabels.diy import fit, graph
    from customlabels.diy.grid import GridShape

    manifest = input_file("--manifest", args.manifest)
    images = input_folder("--images", args.images)
    out = _model_path(args.out)
    if args.size % 8:
        raise CommandError(
            f"--size {args.size}: not a multiple of 8 (the grid's cell). Fix: --size {args.size // 8 * 8}"
        )
    try:
        entries = read_manifest(manifest)
        labels = fit.labels_of(entries)
        with Progress(console=error_console, transient=True) as progress:
            task = progress.add_task("Reading the training images", total=len(entries))
            examples = fit.manifest_examples(entries, images, args.size, lambda: progress.advance(task))
        started = time.monotonic()
        settings = fit.FitSettings(grid=GridShape(size=args.size), colours=args.colours, seed=args.seed)
        with error_console.status(f"Fitting on {len(examples)} images"):
            detector = fit.fit(examples, labels, settings).detector()
        seconds = time.monotonic() - started
    except (ManifestError, fit.DiyFitError) as error:
        raise CommandError(f"--manifest {manifest}: {error}") from None
    metadata = {
        "customlabels.training_manifest": str(manifest),
        "customlabels.training_images": str(len(examples)),
        "customlabels.settings": json.dumps({"size": args.size, "colours": args.colours, "seed": args.seed}),
    }
    model, spec = graph.write(detector, out, metadata)
    boxes = sum(len(item.boxes) for item in examples)
    console.print(
        f"Fitted on {len(examples)} images ({boxes} boxes of {', '.join(map(shown, labels))}) in {seconds:.1f} s: "
        f"{shown(str(model))} ({model.stat().st_size / 1024:.0f} KiB) and its spec {shown(str(spec))}",
        soft_wrap=True,
    )
    console.print(
        f"Next: customlabels local run --images IMAGES --model onnx:{shown(str(model))} --out RESULTS, then "
        "customlabels evaluate on a test manifest it never saw",
        soft_wrap=True,
        highlight=False,
    )
    return 0


def _model_path(value: str) -> Path:
    path = Path(value)
    if path.suffix != ".onnx":
        raise CommandError(f"--out {value}: name the model MODEL.onnx (its spec becomes MODEL.onnx.json)")
    if path.is_dir():
        raise CommandError(f"--out {value}: a folder. Fix: give a file name such as {path / 'model.onnx'}")
    return path
