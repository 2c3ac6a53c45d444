"""`customlabels`: the command line of the pipeline's tooling. `customlabels --help` lists the commands.

Each command group is a module of this package with a `register(commands)` that adds its parser next to its
command; `main()` is the one error boundary. Modules import their heavy dependencies inside the commands, so
that `--help` stays fast."""

from __future__ import annotations

import argparse
import os
import sys

from customlabels.cli import (
    cost,
    dataset,
    dlq,
    evaluate,
    fit_diy,
    local,
    manifest,
    model,
    review,
    sample_data,
    thresholds,
    transfer,
    visualize,
)

DESCRIPTION = (
    "The tooling of the Rekognition Custom Labels S3 pipeline: run it locally, upload images and\n"
    "read their results, draw them, prepare manifests, evaluate and tune, manage the model and its cost."
)
EXAMPLES = """examples:
  customlabels sample-data demo-output/sample
  customlabels local run --images demo-output/sample/images --model manifest:demo-output/sample/manifest.jsonl \\
      --out demo-output/results
  customlabels local run --images ./my_images --out ./results --min-confidence 80 --faults throttle=0.1,internal=0.02
  customlabels local serve --model manifest:demo-output/sample/manifest.jsonl
  customlabels local run --images ./my_images --out ./results --tps-per-inference-unit 2 --max-inference-units 3
  customlabels model status --stack CustomLabelsPipeline
  customlabels model start --wait --inference-units 1
  customlabels model resume
  customlabels thresholds show --stack CustomLabelsPipeline
  customlabels thresholds set thresholds.json
  customlabels thresholds import-assumed
  customlabels evaluate --manifest demo-output/sample/manifest.jsonl --results demo-output/results \\
      --report demo-output/evaluation --tuned-thresholds tuned.json
  customlabels evaluate --manifest gt.manifest --results old=./results-v1 --results new=./results-v2 --report compare/
  customlabels upload ./my_images --stack CustomLabelsPipeline --prefix test_images/batch-1/
  customlabels results --stack CustomLabelsPipeline --prefix test_images/batch-1/ --wait --out ./results
  customlabels results --bucket my-bucket --format csv > results.csv
  customlabels visualize --results demo-output/results --images demo-output/sample/images --out demo-output/gallery
  customlabels review export --results ./results --images ./my_images --out review.manifest --low 50 --high 90
  customlabels manifest merge train.manifest reviewed.manifest --out train-v2.manifest
  customlabels dataset update --manifest train-v2.manifest --stack CustomLabelsPipeline
  customlabels manifest validate train.manifest
  customlabels manifest rewrite train.manifest moved.manifest --from s3://old-bucket/images/ --to s3://new/images/
  customlabels manifest split demo-output/sample/manifest.jsonl --test 0.2 --seed 1
  customlabels manifest stats demo-output/sample/manifest.jsonl
  customlabels fit-diy --manifest demo-output/sample/manifest.train.jsonl --images demo-output/sample/images \\
      --out demo-output/diy/bees.onnx
  customlabels cost --images-per-day 5000 --burst-hours 2
  customlabels dlq list --stack CustomLabelsPipeline
  customlabels dlq redrive --stack CustomLabelsPipeline
"""
GROUPS = (
    local,
    model,
    fit_diy,
    thresholds,
    evaluate,
    cost,
    dlq,
    transfer,
    visualize,
    review,
    manifest,
    dataset,
    sample_data,
)
"""The command groups, in the order `--help` lists them."""


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error said in one line that names the option and where the help is (exit 2), not
    after the whole usage block; every subcommand's parser is one of these too."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="customlabels",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show the Python traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Exit codes: 0 done, 1 a problem at run time (named with its fix), 2 a usage error (argparse)."""
    from customlabels.cli.common import error_console
    from customlabels.errors import explain
    from customlabels.escaping import shown

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # the reader went away (`| head`): end quietly, as command-line tools do
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - nothing more may reach the closed pipe
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        message = None if args.debug else explain(error)
        if message is None:
            raise
        # The message may quote a key, a label or a file's text: printed as written, never as markup or escapes.
        text = shown(message, keep_newlines=True)
        error_console.print(f"[red]customlabels {args.command}:[/] {text}", highlight=False, soft_wrap=True)
        return 1
