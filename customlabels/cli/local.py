"""`customlabels local run|serve`: the real inference handler against emulated S3, SQS and Rekognition."""

from __future__ import annotations

import argparse
import signal
import time
from contextlib import ExitStack
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from customlabels.cli.common import (
    PERCENT,
    POSITIVE,
    SECONDS,
    console,
    input_folder,
    key_values,
    number,
    output_folder,
    print_not_saved,
)
from customlabels.cli.local_events import add_result_events_option, print_how_to_watch_events, print_result_events
from customlabels.cli.local_tables import (
    count,
    print_failed,
    print_model_timeline,
    print_never_processed,
    print_results,
)
from customlabels.config import ConfigError
from customlabels.errors import CommandError
from customlabels.local.emulator.capacity import DEFAULT_TPS_PER_INFERENCE_UNIT
from customlabels.result_events_settings import result_events_problems
from customlabels_runtime.contract import DEFAULT_STACK_NAME


def register(commands: argparse._SubParsersAction) -> None:
    local = commands.add_parser(
        "local",
        help="run the pipeline on this machine, no AWS account needed",
        description="The real inference handler against emulated S3, SQS and "
        "Rekognition Custom Labels, provisioned from cdk.json.",
    )
    local_commands = local.add_subparsers(dest="local_command", required=True, metavar="COMMAND")
    _register_run(local_commands)
    _register_serve(local_commands)


def _register_run(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "run",
        help="upload a folder of images, wait for every result, save them",
        description="Uploads every file under --images to the emulated bucket (paths "
        "kept under the input prefix), waits until each image has a result "
        "JSON or sits in the DLQ, writes the results and summary.json to "
        "--out. Exits 1 if any image ended in the DLQ or timed out.",
    )
    run.add_argument("--images", required=True, help="folder of images (searched recursively)")
    run.add_argument("--out", required=True, help="where to write the result JSONs and summary.json")
    run.add_argument(
        "--include-outputs",
        action="store_true",
        help="upload the pictures customlabels drew too (left out by default, as `upload` does)",
    )
    run.add_argument(
        "--timeout", type=SECONDS, default=300, metavar="SECONDS", help="give up waiting after this long (default 300)"
    )
    _local_options(run)
    run.set_defaults(func=local_run)


def _register_serve(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser(
        "serve",
        help="keep the emulated stack up for the AWS CLI or boto3",
        description="Starts the local pipeline and prints its endpoints, bucket, "
        "queues and the environment to use it; Ctrl-C stops it.",
    )
    serve.add_argument("--log", default="customlabels-lambda.log", help="where the function's logs go")
    serve.add_argument(
        "--env-file", metavar="FILE", help="also write the `export` lines to FILE, for `source FILE` in another shell"
    )
    _local_options(serve)
    serve.set_defaults(func=local_serve)


def _local_options(parser: argparse.ArgumentParser) -> None:
    """The options `run` and `serve` share, in the order `--help` lists them."""
    _answer_options(parser)
    _imperfection_options(parser)
    _capacity_options(parser)
    _timing_options(parser)
    add_result_events_option(parser)


def _answer_options(parser: argparse.ArgumentParser) -> None:
    """What the emulated model answers: the labels of a manifest, over which confidence."""
    parser.add_argument(
        "--model",
        metavar="manifest:FILE|onnx:MODEL.onnx",
        help="what the model detects: the emulated Custom Labels model answers with the labels of a Ground Truth "
        "manifest (default: nothing), or your own ONNX model runs in the function with onnxruntime "
        "(docs/own-model.md)",
    )
    parser.add_argument(
        "--min-confidence",
        type=PERCENT,
        metavar="N",
        help="MinConfidence 0-100 (default: cdk.json's min_confidence; unset = the model's "
        "assumed per-label thresholds)",
    )


def _imperfection_options(parser: argparse.ArgumentParser) -> None:
    """How the emulated model fails or errs: injected errors (at rates or planned) and noise."""
    parser.add_argument(
        "--faults",
        metavar="SPEC",
        help="inject errors at rates 0-1: throttle, throughput, internal, not-ready or any "
        "error code, e.g. throttle=0.1,internal=0.02",
    )
    parser.add_argument(
        "--fault-plan",
        metavar="SPEC",
        help="inject errors for certain: throttle:3 (the first 3 calls for each image), "
        "internal@*/bad.jpg (every call for matching keys); comma-separated",
    )
    parser.add_argument(
        "--noise",
        type=key_values("--noise"),
        metavar="SPEC",
        help="make the manifest model imperfect: miss=0.1 (drop objects), spurious=0.2 "
        "(add wrong boxes), jitter=4 (confidence spread), confidence=95",
    )


def _capacity_options(parser: argparse.ArgumentParser) -> None:
    """The emulated model's inference units, their throughput and auto-scaling."""
    parser.add_argument(
        "--inference-units",
        type=POSITIVE,
        default=1,
        help="inference units the model starts with (default 1); sets min_inference_units",
    )
    parser.add_argument(
        "--max-inference-units",
        type=POSITIVE,
        metavar="M",
        help="above --inference-units, the model auto-scales up to M under sustained load and "
        "back down when it falls; sets max_inference_units (default: --inference-units)",
    )
    parser.add_argument(
        "--tps-per-inference-unit",
        type=number(above=0),
        default=DEFAULT_TPS_PER_INFERENCE_UNIT,
        metavar="N",
        help="calls per second one unit of the emulated model admits (default "
        f"{DEFAULT_TPS_PER_INFERENCE_UNIT:g}); "
        "the pipeline's configuration does not know it",
    )
    parser.add_argument(
        "--scale-after",
        type=key_values("--scale-after"),
        metavar="SPEC",
        help="auto-scaling delays in seconds: up=60 (continuous throttling before a unit is "
        "added), down=300 (lower load before one is removed); e.g. up=5,down=30",
    )


def _timing_options(parser: argparse.ArgumentParser) -> None:
    """How long things take (the model's latency and start, the queue's retry delay), and the seed."""
    parser.add_argument(
        "--latency",
        type=number(at_least=0),
        default=0.0,
        metavar="SECONDS",
        help="DetectCustomLabels latency of the emulated model (default 0)",
    )
    parser.add_argument(
        "--visibility-timeout",
        type=number(int, at_least=0),
        default=10,
        metavar="SECONDS",
        help="queue visibility timeout, i.e. the delay before a failed image is retried "
        "(default 10 locally; the deployed queue uses 6x the function timeout)",
    )
    parser.add_argument(
        "--start-delay",
        type=number(at_least=0),
        default=2.0,
        metavar="SECONDS",
        help="how long the emulated model takes from STARTING to RUNNING (default 2; real models take minutes)",
    )
    parser.add_argument(
        "--training-delay",
        type=number(at_least=0),
        default=5.0,
        metavar="SECONDS",
        help="how long an emulated training (customlabels model train) lasts (default 5; real ones take hours)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of injected faults and noise")


def _pipeline(args: argparse.Namespace, log_path: Path):
    """The local pipeline the options describe; the emulator and the configuration judge them, and any refusal is
    reported naming the options as they were typed."""
    from customlabels.local.emulator.backends import Noise, manifest_model
    from customlabels.local.emulator.errors import OptionError
    from customlabels.local.emulator.options import ModelOptions
    from customlabels.local.pipeline import LocalPipeline, load_config

    if args.result_events is not None and (problems := result_events_problems(args.result_events, "--result-events")):
        raise CommandError(problems[0])
    try:
        model = ModelOptions.from_specs(
            faults=args.faults,
            fault_plan=args.fault_plan,
            scale_after=args.scale_after,
            inference_units=args.inference_units,
            max_inference_units=args.max_inference_units or args.inference_units,
            tps_per_inference_unit=args.tps_per_inference_unit,
            latency=args.latency,
            seed=args.seed,
            start_delay=args.start_delay,
            training_delay=args.training_delay,
            noise=Noise.from_mapping(args.noise or {}),
        )
        onnx_model = args.model[len("onnx:") :] if (args.model or "").startswith("onnx:") else None
        if (onnx_model or "").startswith("s3://"):
            raise CommandError(
                f"--model onnx:{onnx_model}: the local twin runs a model file on this machine (an s3:// model is read "
                "by the deployed function only). Fix: copy it and its spec here (aws s3 cp "
                f"{onnx_model} . ; aws s3 cp {onnx_model}.json .), then --model onnx:{onnx_model.rsplit('/', 1)[-1]}"
            )
        config = load_config(
            min_confidence=args.min_confidence,
            min_inference_units=model.inference_units,
            max_inference_units=model.max_inference_units,
            result_events=args.result_events,
            **({"backend": "onnx", "onnx_model": onnx_model} if onnx_model is not None else {}),
        )
        backend = None if onnx_model is not None else manifest_model(args.model, args.noise, args.seed)
    except OptionError as error:
        raise CommandError(error.spelled(_flag)) from None
    except ConfigError as error:
        raise CommandError(str(error)) from None
    if backend is None and onnx_model is None:
        console.print(
            "[yellow]No --model given: the emulated model detects nothing. "
            "Pass --model manifest:FILE to answer with a Ground Truth manifest's labels.[/]"
        )
    return LocalPipeline(config, backend, model=model, visibility_timeout=args.visibility_timeout, log_path=log_path)


def _flag(option: str) -> str:
    """An emulator option as the command line spells it: `max_inference_units` -> `--max-inference-units`."""
    return "--" + option.replace("_", "-")


def local_run(args: argparse.Namespace) -> int:
    """Exit 0 when every image has its result, 1 when some ended in the DLQ or timed out, 130 on Ctrl-C (after
    saving the results done so far and a summary.json that says `interrupted`)."""
    from customlabels.local.pipeline import write_outputs

    images, out = input_folder("--images", args.images), output_folder("--out", args.out)
    files = _files_to_upload(images, args.include_outputs)
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / "lambda.log"
    log_path.write_text("")
    with ExitStack() as stack:
        with console.status("Starting emulated S3, SQS, the model and the inference function..."):
            pipeline = stack.enter_context(_pipeline(args, log_path))
        keys, outcomes, interrupted = _upload_and_wait(pipeline, images, len(files), args)
        not_saved = []
        results = write_outputs(pipeline, outcomes, out, interrupted=interrupted, on_not_saved=not_saved.append)
    invocations = pipeline.esm.invocations  # complete once the pollers have stopped
    print_results(outcomes, results)
    if interrupted:
        finished = sum(outcome != "interrupted" for outcome in outcomes.values())
        console.print(
            f"[yellow]Interrupted[/] (Ctrl-C): {finished} of {len(keys)} uploaded image(s) finished, their results "
            f"saved in {out}/; summary.json lists the others as `interrupted`"
            + (f"; {len(files) - len(keys)} file(s) were not uploaded" if len(keys) < len(files) else ""),
            soft_wrap=True,
        )
        return 130
    if not pipeline.onnx:
        print_model_timeline(pipeline)
    console.print(f"{count(len(invocations), 'invocation')} of the real handler; its logs: {log_path}", soft_wrap=True)
    console.print(
        f"Results: {out}/  (one JSON per image, mirroring the keys)  Summary: {out / 'summary.json'}", soft_wrap=True
    )
    print_result_events(pipeline, out)
    print_never_processed(pipeline, outcomes)
    print_not_saved(not_saved)
    failed = print_failed(outcomes)
    return 1 if failed or not_saved else 0


def _files_to_upload(images: Path, include_outputs: bool) -> list[Path]:
    """The files under --images, but the pictures customlabels drew (unless --include-outputs), which it names."""
    from customlabels.outputs import input_files

    files, drawn = input_files(images, include_outputs)
    if drawn:
        console.print(
            f"[yellow]Left out {len(drawn)} picture(s) that customlabels drew[/] under --images "
            "(--include-outputs uploads them too)"
        )
    if not files:
        raise CommandError(f"--images {images}: no files to upload")
    return files


def _upload_and_wait(
    pipeline, images: Path, file_count: int, args: argparse.Namespace
) -> tuple[list[str], dict[str, str], bool]:
    """Upload every file, then wait for every outcome, with progress bars: (keys uploaded, outcomes, interrupted).
    Ctrl-C stops both: what is done is saved, the rest named `interrupted` (the functions ignore it)."""
    from customlabels.local.pipeline import upload_tree

    keys: list[str] = []
    try:
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as progress:
            uploading = progress.add_task("Uploading", total=file_count)

            def uploaded(key: str) -> None:
                keys.append(key)
                progress.advance(uploading)

            upload_tree(pipeline, images, on_upload=uploaded, include_outputs=args.include_outputs)
            waiting = progress.add_task("Results", total=len(keys))
            outcomes = pipeline.wait(
                keys, args.timeout, on_progress=lambda done: progress.update(waiting, completed=done)
            )
        return keys, outcomes, False
    except KeyboardInterrupt:
        console.print("[yellow]Interrupted[/]: saving the results done so far...")
        return keys, pipeline.interrupted(keys), True


def local_serve(args: argparse.Namespace) -> int:
    log_path = Path(args.log)
    # Before anything starts: Ctrl-C or a SIGTERM at any moment stops the emulated stack and its processes
    # cleanly, also when started from a script in the background, which inherits SIGINT ignored (a test hung so).
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _interrupt)
    with _pipeline(args, log_path) as pipeline:
        environment = pipeline.client_environment()
        if args.env_file:
            Path(args.env_file).write_text(
                "".join(f"export {name}={value}\n" for name, value in environment.items()), encoding="utf-8"
            )
        console.print("[bold]Local pipeline running.[/] Ctrl-C stops it.")
        _print_stack(pipeline, log_path)
        _print_how_to_use(pipeline, environment, args.env_file)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            console.print("Stopping.")
    return 0


def _print_stack(pipeline, log_path: Path) -> None:
    """The endpoints and resources, as plain lines never folded or cut at the terminal's width, so that every URL
    and ARN can be copied whole."""
    resources = pipeline.resources
    for name, value in (
        ("S3/SQS endpoint", resources.endpoint),
        ("Rekognition endpoint", pipeline.rekognition_endpoint),
        ("Bucket", resources.bucket),
        ("Upload prefix", pipeline.config.input_prefix),
        ("Queue", resources.queue_url),
        ("Dead-letter queue", resources.dead_letter_queue_url),
        ("Model", pipeline.config.onnx_model if pipeline.onnx else pipeline.config.model_arn),
        ("Thresholds parameter", resources.thresholds_parameter),
        ("Version parameter", resources.model_version_parameter),
        ("Stack (--stack)", DEFAULT_STACK_NAME),
        *(
            [
                ("Result events bus", resources.result_events.bus),
                ("Result events queue", resources.result_events.queue_url),
            ]
            if resources.result_events
            else []
        ),
        ("Function logs", str(log_path)),
    ):
        if value is not None:  # the own model (onnx) has no Rekognition endpoint
            console.print(f"  {name + ':':22} {value}", soft_wrap=True, highlight=False)


def _print_how_to_use(pipeline, environment: dict[str, str], env_file: str | None) -> None:
    """The `export` lines, one unwrapped line per variable so that pasting them sets every one, and an example."""
    console.print(
        "Use it with the AWS CLI or boto3" + (f" (or: source {env_file}):" if env_file else ":"), soft_wrap=True
    )
    for name, value in environment.items():
        console.print(f"export {name}={value}", soft_wrap=True, highlight=False)
    bucket, prefix = pipeline.resources.bucket, pipeline.config.input_prefix
    console.print(
        f"aws s3 cp bee.jpg s3://{bucket}/{prefix}bee.jpg\naws s3 cp s3://{bucket}/{prefix}bee.jpg.json -",
        soft_wrap=True,
        highlight=False,
    )
    print_how_to_watch_events(pipeline)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt
