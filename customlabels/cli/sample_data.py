"""`customlabels sample-data`: a small labeled data set drawn with Pillow, for the demo and first tries."""

from __future__ import annotations

import argparse

from customlabels.cli.common import console, number, output_folder


def register(commands: argparse._SubParsersAction) -> None:
    sample = commands.add_parser(
        "sample-data",
        help="draw a small labeled data set (bees and flowers)",
        description="Draws images with Pillow and writes their Ground Truth "
        "object-detection manifest; nothing is downloaded.",
    )
    sample.add_argument("out", help="folder to write images/ and manifest.jsonl into")
    sample.add_argument(
        "--count",
        type=number(int, at_least=1, at_most=10_000),
        default=12,
        help="number of images, 1-10,000 (default 12)",
    )
    sample.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    sample.set_defaults(func=sample_data)


def sample_data(args: argparse.Namespace) -> int:
    from customlabels.datasets.sample_data import generate

    output_folder("", args.out)
    data = generate(args.out, count=args.count, seed=args.seed)
    console.print(f"{data.count} images in {data.images}/, Ground Truth manifest {data.manifest}", soft_wrap=True)
    return 0
