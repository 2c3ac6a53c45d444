"""`customlabels`: the command line of the pipeline's tooling. `customlabels --help` lists the commands."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from customlabels.config import ConfigError

console = Console()
EXAMPLES = """examples:
  customlabels sample-data demo-output/sample
  customlabels local run --images demo-output/sample/images --model manifest:demo-output/sample/manifest.jsonl \\
      --out demo-output/results
  customlabels local run --images ./my_images --out ./results --min-confidence 80 --faults throttle=0.1,internal=0.02
  customlabels local serve --model manifest:demo-output/sample/manifest.jsonl
"""


def _key_values(spec: str, option: str) -> dict[str, float]:
    try:
        pairs = (part.split("=", 1) for part in spec.split(",") if part)
        return {name.strip(): float(value) for name, value in pairs}
    except ValueError:
        raise argparse.ArgumentTypeError(f"{option} takes name=number pairs separated by commas, got {spec!r}") \
            from None


def _backend(spec: str | None, noise: dict[str, float], seed: int):
    """`manifest:FILE` -> a ManifestBackend; None -> a model that detects nothing."""
    from customlabels.emulator.backends import ManifestBackend
    from customlabels.manifest import ManifestError

    if spec is None:
        return None
    kind, _, path = spec.partition(":")
    if kind != "manifest" or not path:
        raise SystemExit(f"--model {spec!r}: use manifest:PATH (a SageMaker Ground Truth manifest)")
    unknown = set(noise) - {"miss", "spurious", "jitter", "confidence"}
    if unknown:
        raise SystemExit(f"--noise: unknown {', '.join(sorted(unknown))}; use miss, spurious, jitter, confidence")
    try:
        return ManifestBackend.from_file(path, miss_rate=noise.get("miss", 0.0),
                                         spurious_rate=noise.get("spurious", 0.0),
                                         jitter=noise.get("jitter", 4.0), confidence=noise.get("confidence", 95.0),
                                         seed=seed)
    except (OSError, ManifestError) as error:
        raise SystemExit(f"--model {spec!r}: {error}") from None


def _pipeline(args: argparse.Namespace, log_path: Path):
    from customlabels.emulator.rekognition import parse_faults
    from customlabels.local.pipeline import LocalPipeline, ModelOptions, load_config

    try:
        config = load_config(min_confidence=args.min_confidence)
        faults = parse_faults(args.faults)
    except (ConfigError, ValueError) as error:
        raise SystemExit(str(error)) from None
    model = ModelOptions(inference_units=args.inference_units, latency=args.latency, faults=faults, seed=args.seed)
    backend = _backend(args.model, args.noise or {}, args.seed)
    if backend is None:
        console.print("[yellow]No --model given: the emulated model detects nothing. "
                      "Pass --model manifest:FILE to answer with a Ground Truth manifest's labels.[/]")
    return LocalPipeline(config, backend, model=model, visibility_timeout=args.visibility_timeout,
                         log_path=log_path)


def local_run(args: argparse.Namespace) -> int:
    from customlabels.local.pipeline import upload_tree, write_outputs

    images, out = Path(args.images), Path(args.out)
    if not images.is_dir():
        raise SystemExit(f"--images {images}: not a folder")
    files = [p for p in images.rglob("*") if p.is_file()]
    if not files:
        raise SystemExit(f"--images {images}: no files to upload")
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / "lambda.log"
    log_path.write_text("")
    with ExitStack() as stack:
        with console.status("Starting emulated S3, SQS, Rekognition and the inference function..."):
            pipeline = stack.enter_context(_pipeline(args, log_path))
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console) as progress:
            uploading = progress.add_task("Uploading", total=len(files))
            keys = upload_tree(pipeline, images, on_upload=lambda _key: progress.advance(uploading))
            waiting = progress.add_task("Results", total=len(keys))
            outcomes = pipeline.wait(keys, args.timeout,
                                     on_progress=lambda done: progress.update(waiting, completed=done))
        results = write_outputs(pipeline, outcomes, out)
    invocations = pipeline.esm.invocations  # complete once the pollers have stopped
    _print_results(outcomes, results)
    console.print(f"{len(invocations)} invocations of the real handler; its logs: {log_path}")
    console.print(f"Results: {out}/  (one JSON per image, mirroring the keys)  Summary: {out / 'summary.json'}")
    failed = {key: outcome for key, outcome in outcomes.items() if outcome in ("dlq", "timeout")}
    for key, outcome in failed.items():
        console.print(f"[red]{outcome}[/]: {key}" + (" (still pending after --timeout)" if outcome == "timeout"
                                                      else " (every retry failed; see the log)"))
    return 1 if failed else 0


def _print_results(outcomes: dict[str, str], results: dict[str, dict]) -> None:
    table = Table(title="Results", show_lines=False)
    table.add_column("image")
    table.add_column("outcome")
    table.add_column("labels (confidence)")
    for key, outcome in outcomes.items():
        labels = results.get(key, {}).get("CustomLabels", [])
        text = ", ".join(f"{label['Name']} ({label['Confidence']:.1f})" for label in labels)
        style = "green" if outcome == "labels" else "yellow" if outcome.startswith(("error", "not-")) else "red"
        table.add_row(key, f"[{style}]{outcome}[/]", text or "-")
    console.print(table)


def local_serve(args: argparse.Namespace) -> int:
    log_path = Path(args.log)
    with _pipeline(args, log_path) as pipeline:
        resources = pipeline.resources
        console.print("[bold]Local pipeline running.[/] Ctrl-C stops it.")
        table = Table(show_header=False)
        for name, value in (("S3/SQS endpoint", resources.endpoint),
                            ("Rekognition endpoint", pipeline.rekognition_endpoint),
                            ("Bucket", resources.bucket), ("Upload prefix", pipeline.config.input_prefix),
                            ("Queue", resources.queue_url), ("Dead-letter queue", resources.dead_letter_queue_url),
                            ("Model", pipeline.config.model_arn), ("Function logs", str(log_path))):
            table.add_row(name, value)
        console.print(table)
        console.print("Use it with the AWS CLI or boto3:\n"
                      f"  export AWS_ENDPOINT_URL_S3={resources.endpoint} AWS_ENDPOINT_URL_SQS={resources.endpoint} "
                      f"AWS_ENDPOINT_URL_REKOGNITION={pipeline.rekognition_endpoint} \\\n"
                      "         AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local "
                      f"AWS_DEFAULT_REGION={resources.region}\n"
                      f"  aws s3 cp bee.jpg s3://{resources.bucket}/{pipeline.config.input_prefix}bee.jpg\n"
                      f"  aws s3 cp s3://{resources.bucket}/{pipeline.config.input_prefix}bee.jpg.json -")
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            console.print("Stopping.")
    return 0


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def sample_data(args: argparse.Namespace) -> int:
    from customlabels.sample_data import generate

    data = generate(args.out, count=args.count, seed=args.seed)
    console.print(f"{data.count} images in {data.images}/, Ground Truth manifest {data.manifest}")
    return 0


def _local_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="manifest:FILE",
                        help="what the emulated model detects: the labels of a Ground Truth manifest "
                             "(default: nothing)")
    parser.add_argument("--min-confidence", type=float, metavar="N",
                        help="MinConfidence 0-100 (default: cdk.json's min_confidence; unset = the model's "
                             "assumed per-label thresholds)")
    parser.add_argument("--faults", metavar="SPEC",
                        help="inject errors at rates 0-1: throttle, throughput, internal, not-ready or any "
                             "error code, e.g. throttle=0.1,internal=0.02")
    parser.add_argument("--noise", type=lambda s: _key_values(s, "--noise"), metavar="SPEC",
                        help="make the manifest model imperfect: miss=0.1 (drop objects), spurious=0.2 "
                             "(add wrong boxes), jitter=4 (confidence spread), confidence=95")
    parser.add_argument("--inference-units", type=int, default=1, help="model inference units (5 TPS each)")
    parser.add_argument("--latency", type=float, default=0.0, metavar="SECONDS",
                        help="DetectCustomLabels latency of the emulated model (default 0)")
    parser.add_argument("--visibility-timeout", type=int, default=10, metavar="SECONDS",
                        help="queue visibility timeout, i.e. the delay before a failed image is retried "
                             "(default 10 locally; the deployed queue uses 6x the function timeout)")
    parser.add_argument("--seed", type=int, default=0, help="seed of injected faults and noise")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="customlabels", description=__doc__.split(":")[0] + ".",
                                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    local = commands.add_parser("local", help="run the pipeline on this machine, no AWS account needed",
                                description="The real inference handler against emulated S3, SQS and "
                                            "Rekognition Custom Labels, provisioned from cdk.json.")
    local_commands = local.add_subparsers(dest="local_command", required=True, metavar="COMMAND")
    run = local_commands.add_parser("run", help="upload a folder of images, wait for every result, save them",
                                    description="Uploads every file under --images to the emulated bucket (paths "
                                                "kept under the input prefix), waits until each image has a result "
                                                "JSON or sits in the DLQ, writes the results and summary.json to "
                                                "--out. Exits 1 if any image ended in the DLQ or timed out.")
    run.add_argument("--images", required=True, help="folder of images (searched recursively)")
    run.add_argument("--out", required=True, help="where to write the result JSONs and summary.json")
    run.add_argument("--timeout", type=float, default=300, metavar="SECONDS",
                     help="give up waiting after this long (default 300)")
    _local_options(run)
    run.set_defaults(func=local_run)

    serve = local_commands.add_parser("serve", help="keep the emulated stack up for the AWS CLI or boto3",
                                      description="Starts the local pipeline and prints its endpoints, bucket, "
                                                  "queues and the environment to use it; Ctrl-C stops it.")
    serve.add_argument("--log", default="customlabels-lambda.log", help="where the function's logs go")
    _local_options(serve)
    serve.set_defaults(func=local_serve)

    sample = commands.add_parser("sample-data", help="draw a small labeled data set (bees and flowers)",
                                 description="Draws images with Pillow and writes their Ground Truth "
                                             "object-detection manifest; nothing is downloaded.")
    sample.add_argument("out", help="folder to write images/ and manifest.jsonl into")
    sample.add_argument("--count", type=int, default=12, help="number of images (default 12)")
    sample.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    sample.set_defaults(func=sample_data)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
