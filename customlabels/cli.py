"""`customlabels`: the command line of the pipeline's tooling. `customlabels --help` lists the commands."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from customlabels.config import DEFAULT_STACK_NAME, IMAGE_SUFFIXES, ConfigError, image_name_problem

console = Console()
DESCRIPTION = ("The tooling of the Rekognition Custom Labels S3 pipeline: run it locally, upload images and\n"
               "read their results, draw them, prepare manifests, evaluate and tune, manage the model and its cost.")
EXAMPLES = """examples:
  customlabels sample-data demo-output/sample
  customlabels local run --images demo-output/sample/images --model manifest:demo-output/sample/manifest.jsonl \\
      --out demo-output/results
  customlabels local run --images ./my_images --out ./results --min-confidence 80 --faults throttle=0.1,internal=0.02
  customlabels local serve --model manifest:demo-output/sample/manifest.jsonl
  customlabels model status --stack CustomLabelsPipeline
  customlabels model start --wait --inference-units 1
  customlabels thresholds show --stack CustomLabelsPipeline
  customlabels thresholds set thresholds.json
  customlabels thresholds import-assumed
  customlabels evaluate --manifest demo-output/sample/manifest.jsonl --results demo-output/results \\
      --report demo-output/evaluation --tuned-thresholds tuned.json
  customlabels upload ./my_images --stack CustomLabelsPipeline --prefix test_images/batch-1/
  customlabels results --stack CustomLabelsPipeline --prefix test_images/batch-1/ --wait --out ./results
  customlabels results --bucket my-bucket --format csv > results.csv
  customlabels visualize --results demo-output/results --images demo-output/sample/images --out demo-output/gallery
  customlabels manifest validate train.manifest
  customlabels manifest rewrite train.manifest moved.manifest --from s3://old-bucket/images/ --to s3://new/images/
  customlabels manifest split demo-output/sample/manifest.jsonl --test 0.2 --seed 1
  customlabels manifest stats demo-output/sample/manifest.jsonl
  customlabels cost --images-per-day 5000 --burst-hours 2
  customlabels dlq list --stack CustomLabelsPipeline
  customlabels dlq redrive --stack CustomLabelsPipeline
"""


def number(kind: type = float, *, at_least: float | None = None, above: float | None = None,
           at_most: float | None = None, hint: str = ""):
    """An argparse type: a number in a range, refused at parse time with the range (and a hint) in words."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole number' if kind is int else 'number'}") \
                from None
        bounds = [f"at least {at_least:g}" if at_least is not None else "", f"above {above:g}" if above is not None
                  else "", f"at most {at_most:g}" if at_most is not None else ""]
        if ((at_least is not None and value < at_least) or (above is not None and value <= above)
                or (at_most is not None and value > at_most)):
            wanted = " and ".join(bound for bound in bounds if bound)
            raise argparse.ArgumentTypeError(f"{text} is out of range: give a number {wanted}"
                                             + (f" ({hint})" if hint else ""))
        return value
    return parse


POSITIVE = number(int, at_least=1)
SECONDS = number(float, above=0)
PERCENT = number(float, at_least=0, at_most=100, hint="a percent: 90 for 90%")
FRACTION = number(float, above=0, at_most=1, hint="a fraction: 0.9 for 90%")


def _key_values(spec: str, option: str) -> dict[str, float]:
    try:
        pairs = (part.split("=", 1) for part in spec.split(",") if part)
        return {name.strip(): float(value) for name, value in pairs}
    except ValueError:
        raise argparse.ArgumentTypeError(f"{option} takes name=number pairs separated by commas, got {spec!r}") \
            from None


def _backend(spec: str | None, noise: dict[str, float], seed: int):
    """`manifest:FILE` -> a ManifestBackend; None -> a model that detects nothing."""
    from customlabels.datasets.manifest import ManifestError
    from customlabels.local.emulator.backends import ManifestBackend

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
    from customlabels.local.emulator.rekognition import parse_fault_plan, parse_faults
    from customlabels.local.pipeline import LocalPipeline, ModelOptions, load_config

    try:
        config = load_config(min_confidence=args.min_confidence)
        faults = parse_faults(args.faults)
        fault_plan = parse_fault_plan(args.fault_plan)
    except (ConfigError, ValueError) as error:
        raise SystemExit(str(error)) from None
    model = ModelOptions(inference_units=args.inference_units, latency=args.latency, faults=faults,
                         fault_plan=fault_plan, seed=args.seed, start_delay=args.start_delay)
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
    _print_model_timeline(pipeline)
    console.print(f"{len(invocations)} invocations of the real handler; its logs: {log_path}")
    console.print(f"Results: {out}/  (one JSON per image, mirroring the keys)  Summary: {out / 'summary.json'}")
    for key, outcome in outcomes.items():  # a JPEG named bee.Jpg: the notifications never send it (upload says so)
        if outcome == "not-an-image" and key.lower().endswith(tuple({s.lower() for s in IMAGE_SUFFIXES})):
            console.print(f"[yellow]not-an-image[/]: {key}: {image_name_problem(key.rsplit('/', 1)[-1])}",
                          soft_wrap=True)
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
        style = "green" if outcome == "labels" else "yellow" if outcome.startswith(("error", "not-")) else "red"
        table.add_row(key, f"[{style}]{outcome}[/]", _labels_text(results.get(key)))
    console.print(table)


def _labels_text(document: dict | None) -> str:
    """`bee (97.5), flower (81.0)`, or `-`."""
    labels = (document or {}).get("CustomLabels", [])
    return ", ".join(f"{label['Name']} ({label['Confidence']:.1f})" for label in labels) or "-"


def _print_model_timeline(pipeline) -> None:
    """How the model manager drove the model during the run (on demand: started when the uploads came)."""
    history = pipeline.service.models[pipeline.config.model_arn].history
    started = history[0][0]
    steps = " -> ".join(f"{status} (+{moment - started:.1f} s)" for moment, status in history)
    console.print(f"Model ({pipeline.config.model_lifecycle}): {steps}")
    if pipeline.config.model_lifecycle == "on-demand":
        started = any(status == "STARTING" for _, status in history)
        console.print(("  The model manager started it when images arrived" if started else
                       "  The model manager did not start it during the run")
                      + f"; deployed, it stops it after {pipeline.config.idle_minutes} idle minutes (idle_minutes).")


def local_serve(args: argparse.Namespace) -> int:
    log_path = Path(args.log)
    # Before anything starts: Ctrl-C or a SIGTERM at any moment stops the emulated stack and its processes
    # cleanly, also when started from a script in the background, which inherits SIGINT ignored (a test hung so).
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _interrupt)
    with _pipeline(args, log_path) as pipeline:
        resources = pipeline.resources
        console.print("[bold]Local pipeline running.[/] Ctrl-C stops it.")
        table = Table(show_header=False)
        for name, value in (("S3/SQS endpoint", resources.endpoint),
                            ("Rekognition endpoint", pipeline.rekognition_endpoint),
                            ("Bucket", resources.bucket), ("Upload prefix", pipeline.config.input_prefix),
                            ("Queue", resources.queue_url), ("Dead-letter queue", resources.dead_letter_queue_url),
                            ("Model", pipeline.config.model_arn),
                            ("Thresholds parameter", resources.thresholds_parameter),
                            ("Function logs", str(log_path))):
            table.add_row(name, value)
        console.print(table)
        console.print("Use it with the AWS CLI or boto3:\n"
                      f"  export AWS_ENDPOINT_URL_S3={resources.endpoint} AWS_ENDPOINT_URL_SQS={resources.endpoint} "
                      f"AWS_ENDPOINT_URL_REKOGNITION={pipeline.rekognition_endpoint} "
                      f"AWS_ENDPOINT_URL_SSM={resources.endpoint} \\\n"
                      "         AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local "
                      f"AWS_DEFAULT_REGION={resources.region}\n"
                      f"  aws s3 cp bee.jpg s3://{resources.bucket}/{pipeline.config.input_prefix}bee.jpg\n"
                      f"  aws s3 cp s3://{resources.bucket}/{pipeline.config.input_prefix}bee.jpg.json -")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            console.print("Stopping.")
    return 0


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _model_target(args: argparse.Namespace):
    import boto3

    from customlabels.operations import model

    if args.model_arn:
        return model.Target(model.check_model_arn(args.model_arn)), None
    return model.stack_target(boto3.client("cloudformation"), args.stack), boto3.client("ssm")


def thresholds_command(args: argparse.Namespace) -> int:
    import boto3

    from customlabels.operations import model
    from customlabels.operations import runtime_thresholds as runtime

    if args.parameter:
        target = model.Target(model.check_model_arn(args.model_arn) if args.model_arn else "", None, None,
                              args.parameter)
    else:
        target = model.stack_target(boto3.client("cloudformation"), args.stack)
        if not target.thresholds_parameter:
            raise SystemExit(f"--stack {args.stack}: no ThresholdsParameter output. Fix: deploy this version of the "
                             "stack (cdk deploy), which creates the parameter")
    ssm = boto3.client("ssm")
    if args.action == "set":
        if not args.file:
            raise SystemExit("thresholds set FILE: give the JSON file to apply (customlabels evaluate --tune "
                             "writes one)")
        try:
            thresholds = runtime.parse_thresholds(Path(args.file).read_text(encoding="utf-8"))
        except (OSError, runtime.ThresholdsError) as error:
            raise SystemExit(f"{args.file}: {error}") from None
        runtime.write(ssm, target.thresholds_parameter, thresholds)
        console.print(f"Set {target.thresholds_parameter}; the function applies it within 60 s, no redeploy.")
    elif args.action == "import-assumed":
        if not target.model_arn:
            raise SystemExit("thresholds import-assumed: give --model-arn (or --stack) to read the model's "
                             "evaluation summary from")
        thresholds = _import_assumed(runtime, boto3, target, ssm, args.keep_global)
        console.print(f"Imported the assumed thresholds of {len(thresholds.labels)} label(s) into "
                      f"{target.thresholds_parameter}; the function applies them within 60 s.")
    else:
        thresholds = runtime.read(ssm, target.thresholds_parameter)
    _print_thresholds(target.thresholds_parameter, thresholds)
    return 0


def _import_assumed(runtime, boto3, target, ssm, keep_global: bool):
    """Per-label thresholds from the model version's evaluation summary, written to the parameter."""
    from customlabels.operations import model

    region = target.model_arn.split(":")[3]
    version = model.describe(boto3.client("rekognition", region_name=region), target.model_arn)
    bucket, key = runtime.summary_location(version)
    summary = json.loads(boto3.client("s3", region_name=region).get_object(Bucket=bucket, Key=key)["Body"].read())
    try:
        labels = runtime.assumed_thresholds(summary)
    except runtime.ThresholdsError as error:
        raise SystemExit(f"s3://{bucket}/{key}: {error}") from None
    # The current document matters only for the global threshold it keeps: an invalid one is replaced.
    keep = runtime.read(ssm, target.thresholds_parameter).min_confidence if keep_global else None
    thresholds = runtime.Thresholds(keep, labels)
    runtime.write(ssm, target.thresholds_parameter, thresholds)
    return thresholds


def _print_thresholds(parameter: str, thresholds) -> None:
    table = Table(title=f"Thresholds in {parameter}")
    table.add_column("label")
    table.add_column("threshold", justify="right")
    table.add_column("from")
    for label, value in sorted(thresholds.labels.items()):
        table.add_row(label, f"{value:g}", "per-label")
    everything_else = ("model's assumed threshold" if thresholds.min_confidence is None
                       else f"{thresholds.min_confidence:g}")
    table.add_row("[i]any other label[/]", everything_else,
                  "min_confidence" if thresholds.min_confidence is not None else "the model")
    console.print(table)
    console.print(json.dumps(thresholds.to_document()))


def evaluate_command(args: argparse.Namespace) -> int:
    from customlabels.datasets.manifest import ManifestError, read_manifest
    from customlabels.evaluation import evaluate
    from customlabels.evaluation import report as evaluation_report

    try:
        entries = read_manifest(args.manifest)
    except (OSError, ManifestError) as error:
        raise SystemExit(f"--manifest: {error}") from None
    if not entries:
        raise SystemExit(f"--manifest {args.manifest}: no lines")
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
            raise SystemExit(str(error)) from None
    if args.thresholds:
        from customlabels.operations import runtime_thresholds as runtime

        try:
            thresholds = runtime.parse_thresholds(Path(args.thresholds).read_text(encoding="utf-8"))
        except (OSError, runtime.ThresholdsError) as error:
            raise SystemExit(f"--thresholds {args.thresholds}: {error}") from None
        results = evaluate.apply_thresholds(results, thresholds)
    evaluation = evaluate.evaluate(entries, results, iou_threshold=args.iou, target_precision=args.target_precision)
    evaluation_report.print_summary(evaluation, console)
    if args.json:
        Path(args.json).write_text(evaluate.to_json_text(evaluation), encoding="utf-8")
        console.print(f"Every number: {args.json}")
    if args.tuned_thresholds:
        goal = "precision" if args.target_precision is not None else "f1"
        Path(args.tuned_thresholds).write_text(json.dumps(evaluation.tuned_thresholds(goal), indent=2) + "\n",
                                               encoding="utf-8")
        chosen = "lowest reaching the target precision" if goal == "precision" else "best F1"
        console.print(f"Tuned thresholds ({chosen}): {args.tuned_thresholds}; apply with: "
                      f"customlabels thresholds set {args.tuned_thresholds}")
    if args.report:
        index = evaluation_report.write_report(evaluation, Path(args.report))
        console.print(f"Report: {index}")
    return 0


def model_command(args: argparse.Namespace) -> int:
    import boto3
    from botocore.exceptions import ClientError

    target, ssm = _model_target(args)
    rekognition = boto3.client("rekognition", region_name=target.model_arn.split(":")[3])
    try:
        return _model_action(args, rekognition, target, ssm)
    except ClientError as error:
        raise SystemExit(f"model {args.action}: {error.response['Error']['Message']}") from None


def _model_action(args: argparse.Namespace, rekognition, target, ssm) -> int:
    from customlabels.operations import model

    if args.action in ("start", "stop"):
        if args.action == "start":
            answer = model.start(rekognition, target.model_arn, args.inference_units, args.max_inference_units)
            console.print(f"[yellow]The model is billed per inference-unit hour from now until it stops.[/] {answer}")
        else:
            answer = model.stop(rekognition, target.model_arn)
            console.print(answer)
        if target.lifecycle == "on-demand":
            console.print("Note: this stack manages the model on demand; its model manager may start or stop it "
                          "again as work arrives or idles.")
    if args.wait:
        wanted = model.SETTLED[args.action]
        names = " or ".join(sorted(wanted))
        with console.status(f"Waiting for {names}...") as spinner:
            final = model.wait_for(rekognition, target.model_arn, wanted, args.timeout, args.poll,
                                   on_status=lambda s: spinner.update(f"Waiting for {names}: now {s}"))
        console.print(f"Model {final}")
        if final not in wanted:
            return 1
    current = model.status(rekognition, target, ssm)
    table = Table(show_header=False, title="Model")
    for name, value in (("Model", current.model_arn), ("Status", f"{current.status}: {current.message}"),
                        ("Inference units", f"{current.min_inference_units or '-'} (max "
                                            f"{current.max_inference_units or '-'})"),
                        ("Since", current.since or "unknown (the model manager records it)"),
                        ("Last work seen", current.last_activity or "-"),
                        ("Lifecycle", target.lifecycle or "-")):
        table.add_row(name, str(value))
    console.print(table)
    return 0


def cost_command(args: argparse.Namespace) -> int:
    from customlabels.operations.cost import Prices, Workload, estimate

    workload = Workload(images_per_day=args.images_per_day, burst_hours=args.burst_hours,
                        bursts_per_day=args.bursts_per_day, inference_units=args.inference_units,
                        idle_minutes=args.idle_minutes, ms_per_image=args.ms_per_image)
    prices = Prices(inference_unit_hour=args.price_per_iu_hour)
    estimates = {mode: estimate(workload, mode, prices) for mode in ("always-on", "on-demand")}
    table = Table(title=f"Cost per day: {args.images_per_day:,} images in {args.bursts_per_day} burst(s) of "
                        f"{args.burst_hours:g} h, {args.inference_units} inference unit(s) (USD)")
    table.add_column("")
    for mode in estimates:
        table.add_column(mode, justify="right")
    rows = [("Model hours", lambda e: f"{e.model_hours:.2f}"), ("Model", lambda e: f"{e.model:.2f}"),
            ("Lambda", lambda e: f"{e.lambda_:.4f}"), ("SQS", lambda e: f"{e.sqs:.4f}"),
            ("S3 requests", lambda e: f"{e.s3:.4f}"), ("Total per day", lambda e: f"{e.total:.2f}"),
            ("Per 1,000 images", lambda e: f"{e.total / max(args.images_per_day, 1) * 1000:.2f}")]
    for name, cell in rows:
        table.add_row(name, *(cell(e) for e in estimates.values()))
    console.print(table)
    saved = estimates["always-on"].total - estimates["on-demand"].total
    console.print(f"On demand saves {saved:.2f} USD a day ({saved / estimates['always-on'].total:.0%}). "
                  "Formula and assumptions: docs/model-lifecycle.md")
    return 0


def dlq_command(args: argparse.Namespace) -> int:
    import boto3

    from customlabels.operations import dlq

    if args.dead_letter_queue_url:
        queues = dlq.Queues(args.queue_url or "", args.dead_letter_queue_url)
    else:
        queues = dlq.stack_queues(boto3.client("cloudformation"), args.stack)
    sqs = boto3.client("sqs")
    if args.action == "list":
        letters = dlq.peek(sqs, queues.dead_letter_queue_url)
        table = Table(title=f"{len(letters)} message(s) in the dead-letter queue")
        for column in ("image", "receives", "first received", "message id"):
            table.add_column(column)
        for letter in sorted(letters, key=lambda item: item.keys):
            table.add_row(", ".join(letter.keys) or "(no image record)", str(letter.receive_count),
                          letter.first_received.isoformat(timespec="seconds") if letter.first_received else "-",
                          letter.message_id)
        console.print(table)
        if letters:
            console.print("Fix the cause (the inference function's logs name it per image), then: "
                          "customlabels dlq redrive")
        return 0
    if not queues.queue_url:
        raise SystemExit("dlq redrive: pass --queue-url too (where to send the messages back), or --stack")
    with Progress(TextColumn("{task.description}"), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("Moving back to the work queue", total=None)
        moved = dlq.redrive(sqs, queues, on_moved=lambda count: progress.advance(task, count))
    console.print(f"Moved {moved} message(s) back to {queues.queue_url}; they will be processed again.")
    return 0


def visualize_command(args: argparse.Namespace) -> int:
    from customlabels.evaluation.evaluate import ResultsError
    from customlabels.visualize import gallery, pictures

    results, images, out = Path(args.results), Path(args.images), Path(args.out)
    for option, folder in (("--results", results), ("--images", images)):
        if not folder.is_dir():
            raise SystemExit(f"{option} {folder}: not a folder")
    try:
        items = pictures.collect(results, images)
    except ResultsError as error:
        raise SystemExit(str(error)) from None
    if not items:
        raise SystemExit(f"--results {results}: no result JSONs, and no JPEG/PNG images under --images {images}")
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


def _transfer_location(args: argparse.Namespace):
    """The bucket and prefixes from the stack's outputs, or as given with --bucket."""
    import boto3

    from customlabels.operations import transfer
    from customlabels.operations.stack_outputs import stack_outputs

    if args.bucket:
        upload_prefix = args.prefix or "test_images/"
        return transfer.Location(args.bucket, upload_prefix, getattr(args, "results_prefix", None) or upload_prefix,
                                 getattr(args, "dead_letter_queue_url", None)), False
    return transfer.stack_location(stack_outputs(boto3.client("cloudformation"), args.stack), args.stack), True


def _check_prefix(prefix: str, location, from_stack: bool) -> None:
    """A stack's pipeline sees only keys under its upload prefix (with --bucket, --prefix defines it)."""
    if from_stack and not prefix.startswith(location.upload_prefix):
        raise SystemExit(f"--prefix {prefix}: the pipeline only processes images under {location.upload_prefix}; "
                         f"use a prefix that starts with it, such as {location.upload_prefix}batch-1/")


def upload_command(args: argparse.Namespace) -> int:
    import boto3

    from customlabels.operations import transfer

    folder = Path(args.folder)
    if not folder.is_dir():
        raise SystemExit(f"{folder}: not a folder")
    location, from_stack = _transfer_location(args)
    prefix = args.prefix if args.prefix is not None else location.upload_prefix
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    _check_prefix(prefix, location, from_stack)
    with console.status(f"Checking the files under {folder}..."):
        uploads, skipped = transfer.plan_upload(folder, prefix)
    if skipped:
        table = Table(title=f"Skipped {len(skipped)} file(s): not sent", title_style="yellow")
        table.add_column("file")
        table.add_column("why, and the fix")
        for item in skipped:
            table.add_row(str(item.path.relative_to(folder)), item.reason)
        console.print(table)
    if not uploads:
        raise SystemExit(f"{folder}: no JPEG or PNG images to upload")
    s3 = boto3.client("s3")
    with Progress(TextColumn("Uploading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("upload", total=len(uploads))
        failures = transfer.upload(s3, location.bucket, uploads, args.workers, lambda _i: progress.advance(task))
    for item, error in sorted(failures.items(), key=lambda pair: pair[0].key):
        console.print(f"[red]failed[/]: {item.path} -> s3://{location.bucket}/{item.key}: {error}")
    where = f"--stack {args.stack}" if from_stack else f"--bucket {location.bucket}"
    console.print(f"Uploaded {len(uploads) - len(failures)} image(s) to s3://{location.bucket}/{prefix}"
                  + (f"; {len(skipped)} skipped" if skipped else ""), soft_wrap=True)
    console.print(f"Follow their results: customlabels results {where} --prefix {prefix} --wait", soft_wrap=True)
    return 1 if failures else 0


def results_command(args: argparse.Namespace) -> int:
    import csv

    import boto3

    from customlabels.operations import transfer

    location, from_stack = _transfer_location(args)
    prefix = args.prefix or location.upload_prefix
    _check_prefix(prefix, location, from_stack)
    s3 = boto3.client("s3")
    sqs = boto3.client("sqs") if location.dead_letter_queue_url else None
    status = Console(stderr=True)
    keys = transfer.image_keys(s3, location, prefix)
    if not keys:
        raise SystemExit(f"s3://{location.bucket}/{prefix}: no images; upload some with customlabels upload")
    with Progress(TextColumn("Results"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=status, transient=not args.wait) as progress:
        task = progress.add_task("results", total=len(keys))
        statuses = transfer.follow(s3, location, keys, sqs=sqs, wait=args.wait, timeout=args.timeout,
                                   poll=args.poll, on_progress=lambda done, total: progress.update(
                                       task, completed=done, total=total))
    if args.out:
        for item in statuses:
            if item.result is not None:
                transfer.save_result(Path(args.out), location.result_key(item.key), item.result)
    if args.format == "json":
        print(json.dumps(transfer.to_json(statuses), indent=2, ensure_ascii=False))
    elif args.format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(transfer.CSV_COLUMNS)
        writer.writerows(transfer.csv_rows(statuses))
    else:
        _print_statuses(statuses)
    counts = {name: sum(item.status == name for item in statuses) for name in transfer.STATUSES}
    status.print(", ".join(f"{count} {name}" for name, count in counts.items() if count)
                 + (f"; result JSONs in {args.out}/" if args.out else ""), soft_wrap=True)
    if counts["dead-letter"]:
        status.print("Images in the dead-letter queue: see why with `customlabels dlq list`, fix it, then "
                     "`customlabels dlq redrive`.")
    unfinished = counts["pending"] + counts["dead-letter"]
    return 1 if args.wait and unfinished else 0


def _print_statuses(statuses) -> None:
    table = Table(title="Results")
    for column in ("image", "status", "labels (confidence)"):
        table.add_column(column)
    colours = {"labels": "green", "nothing": "white", "error": "yellow", "pending": "cyan", "dead-letter": "red"}
    for item in statuses:
        error = (item.result or {}).get("Error")
        text = f"{error.get('Code')}: {error.get('Message', '')}" if error else _labels_text(item.result)
        table.add_row(item.key, f"[{colours[item.status]}]{item.status}[/]", text)
    console.print(table)


def manifest_command(args: argparse.Namespace) -> int:
    from customlabels.datasets import manifest_tools as tools

    try:
        return {"rewrite": _manifest_rewrite, "validate": _manifest_validate, "split": _manifest_split,
                "stats": _manifest_stats}[args.manifest_command](args, tools)
    except tools.ManifestToolError as error:
        raise SystemExit(str(error)) from None


def _manifest_rewrite(args: argparse.Namespace, tools) -> int:
    count = tools.rewrite(Path(args.source), Path(args.target), args.old, args.new)
    console.print(f"Rewrote {count} line(s): {args.old} -> {args.new}, in {args.target}", soft_wrap=True)
    return 0


def _manifest_validate(args: argparse.Namespace, tools) -> int:
    with console.status(f"Checking {args.file}..."):
        problems = tools.validate(Path(args.file))
    if not problems:
        console.print(f"[green]{args.file}: no problems[/] (the Custom Labels rules in docs/manifests.md)")
        return 0
    table = Table(title=f"{len(problems)} problem(s) in {args.file}")
    for column in ("line", "rule", "problem"):
        table.add_column(column)
    for problem in problems[:args.limit]:
        table.add_row("-" if problem.line is None else str(problem.line), problem.rule, problem.message)
    console.print(table)
    if len(problems) > args.limit:
        console.print(f"... and {len(problems) - args.limit} more (--limit)")
    lines = {problem.line for problem in problems if problem.line is not None}
    console.print(f"[red]{len(problems)} problem(s) on {len(lines)} line(s).[/] Fix them before creating a "
                  "dataset; upper-case rules are Custom Labels' own error codes.")
    return 1


def _manifest_split(args: argparse.Namespace, tools) -> int:
    source = Path(args.source)
    entries = tools.read_valid(source)
    train, test = tools.split(entries, args.test, args.seed)
    out = Path(args.out_dir) if args.out_dir else source.parent
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for part, lines in (("train", train), ("test", test)):
        paths[part] = out / f"{source.stem}.{part}{source.suffix or '.manifest'}"
        paths[part].write_text("".join(line + "\n" for line, _ in lines), encoding="utf-8")
    counts = {part: tools.stats([entry for _, entry in lines]) for part, lines in (("train", train), ("test", test))}
    table = Table(title=f"{len(train)} training and {len(test)} test images (seed {args.seed})")
    for column in ("label", "train images", "test images", "train boxes", "test boxes"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label in tools.stats([entry for _, entry in entries]).labels:
        cells = [counts[part].labels.get(label, tools.LabelCount()) for part in ("train", "test")]
        table.add_row(label, str(cells[0].images), str(cells[1].images), str(cells[0].boxes), str(cells[1].boxes))
    console.print(table)
    missing = [label for label in counts["train"].labels if label not in counts["test"].labels]
    if missing:
        console.print(f"[yellow]No test image for {', '.join(missing)}: Custom Labels needs each label in both "
                      "sets; add images of it or raise --test.[/]")
    console.print(f"Training set: {paths['train']}\nTest set: {paths['test']}", soft_wrap=True)
    return 0


def _manifest_stats(args: argparse.Namespace, tools) -> int:
    source = Path(args.file)
    result = tools.stats([entry for _, entry in tools.read_valid(source)])
    console.print(f"{source}: {result.images} images, {result.boxes} boxes, {len(result.labels)} labels",
                  soft_wrap=True)
    table = Table()
    for column in ("label", "images", "boxes"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label, count in result.labels.items():
        table.add_row(label, str(count.images), str(count.boxes))
    if result.images_without_labels:
        table.add_row("[i](no label)[/]", str(result.images_without_labels), "0")
    console.print(table)
    chart = Path(args.chart) if args.chart else source.with_name(f"{source.stem}.stats.png")
    tools.stats_chart(result, f"{source.name}: images and boxes per label", chart)
    console.print(f"Chart: {chart}", soft_wrap=True)
    return 0


def sample_data(args: argparse.Namespace) -> int:
    from customlabels.datasets.sample_data import generate

    data = generate(args.out, count=args.count, seed=args.seed)
    console.print(f"{data.count} images in {data.images}/, Ground Truth manifest {data.manifest}")
    return 0


def _local_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="manifest:FILE",
                        help="what the emulated model detects: the labels of a Ground Truth manifest "
                             "(default: nothing)")
    parser.add_argument("--min-confidence", type=PERCENT, metavar="N",
                        help="MinConfidence 0-100 (default: cdk.json's min_confidence; unset = the model's "
                             "assumed per-label thresholds)")
    parser.add_argument("--faults", metavar="SPEC",
                        help="inject errors at rates 0-1: throttle, throughput, internal, not-ready or any "
                             "error code, e.g. throttle=0.1,internal=0.02")
    parser.add_argument("--fault-plan", metavar="SPEC",
                        help="inject errors for certain: throttle:3 (the first 3 calls for each image), "
                             "internal@*/bad.jpg (every call for matching keys); comma-separated")
    parser.add_argument("--noise", type=lambda s: _key_values(s, "--noise"), metavar="SPEC",
                        help="make the manifest model imperfect: miss=0.1 (drop objects), spurious=0.2 "
                             "(add wrong boxes), jitter=4 (confidence spread), confidence=95")
    parser.add_argument("--inference-units", type=POSITIVE, default=1,
                        help="model inference units (5 TPS each; default 1)")
    parser.add_argument("--latency", type=number(at_least=0), default=0.0, metavar="SECONDS",
                        help="DetectCustomLabels latency of the emulated model (default 0)")
    parser.add_argument("--visibility-timeout", type=number(int, at_least=0), default=10, metavar="SECONDS",
                        help="queue visibility timeout, i.e. the delay before a failed image is retried "
                             "(default 10 locally; the deployed queue uses 6x the function timeout)")
    parser.add_argument("--start-delay", type=number(at_least=0), default=2.0, metavar="SECONDS",
                        help="how long the emulated model takes from STARTING to RUNNING (default 2; real models "
                             "take minutes)")
    parser.add_argument("--seed", type=int, default=0, help="seed of injected faults and noise")


def _bucket_options(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--stack", default=DEFAULT_STACK_NAME,
                       help=f"read the bucket and prefixes from this stack's outputs (default {DEFAULT_STACK_NAME})")
    where.add_argument("--bucket", help="the bucket, instead of a stack (the pipeline's or the local one)")
    parser.add_argument("--prefix", help="where the images go or are listed (default: the stack's UploadPrefix, or "
                                         "test_images/ with --bucket)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="customlabels", description=DESCRIPTION,
                                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true", help="show the Python traceback of an error")
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
    run.add_argument("--timeout", type=SECONDS, default=300, metavar="SECONDS",
                     help="give up waiting after this long (default 300)")
    _local_options(run)
    run.set_defaults(func=local_run)

    serve = local_commands.add_parser("serve", help="keep the emulated stack up for the AWS CLI or boto3",
                                      description="Starts the local pipeline and prints its endpoints, bucket, "
                                                  "queues and the environment to use it; Ctrl-C stops it.")
    serve.add_argument("--log", default="customlabels-lambda.log", help="where the function's logs go")
    _local_options(serve)
    serve.set_defaults(func=local_serve)

    model_parser = commands.add_parser("model", help="status, start or stop the deployed model",
                                       description="Shows the model's state, inference units and since when; starts "
                                                   "or stops it. The model is found from the stack's outputs "
                                                   "(--stack) or given (--model-arn). Uses your AWS credentials.")
    model_parser.add_argument("action", choices=["status", "start", "stop"])
    where = model_parser.add_mutually_exclusive_group()
    where.add_argument("--stack", default=DEFAULT_STACK_NAME, help=f"stack name (default {DEFAULT_STACK_NAME})")
    where.add_argument("--model-arn", help="the project version ARN, instead of a stack")
    model_parser.add_argument("--wait", action="store_true",
                              help="wait until RUNNING (start), STOPPED (stop), or either (status), with a spinner")
    model_parser.add_argument("--inference-units", type=POSITIVE, default=1, help="start with this many (default 1)")
    model_parser.add_argument("--max-inference-units", type=POSITIVE, help="let Rekognition scale up to this many")
    model_parser.add_argument("--timeout", type=SECONDS, default=3600, help="--wait gives up after this (s)")
    model_parser.add_argument("--poll", type=SECONDS, default=15, help=argparse.SUPPRESS)
    model_parser.set_defaults(func=model_command)

    thresholds = commands.add_parser(
        "thresholds", help="show or change the confidence thresholds, at runtime",
        description="show: the thresholds the function applies. set FILE: replace them with a JSON document "
                    '{"min_confidence": null | 0-100, "labels": {"bee": 72.5}} (validated first). import-assumed: '
                    "per-label thresholds from the model version's evaluation summary. A label's threshold is its "
                    "own, else min_confidence, else the model's assumed one; changes apply within 60 s without a "
                    "redeploy (docs/thresholds.md). The parameter comes from the stack's outputs (--stack) or is "
                    "given (--parameter; for the local stack, with the endpoints `local serve` prints).")
    thresholds.add_argument("action", choices=["show", "set", "import-assumed"])
    thresholds.add_argument("file", nargs="?", help="the thresholds JSON file (set)")
    thresholds.add_argument("--stack", default=DEFAULT_STACK_NAME, help=f"stack name (default {DEFAULT_STACK_NAME})")
    thresholds.add_argument("--parameter", help="the SSM parameter's name, instead of a stack")
    thresholds.add_argument("--model-arn", help="the model version (import-assumed with --parameter)")
    thresholds.add_argument("--keep-global", action="store_true",
                            help="import-assumed: keep min_confidence for labels the summary does not name "
                                 "(default: clear it, so the model's own thresholds apply everywhere)")
    thresholds.set_defaults(func=thresholds_command)

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

    cost = commands.add_parser("cost", help="always-on vs on-demand cost per day and per 1,000 images",
                               description="Estimates the daily cost of the pipeline with the model always on and "
                                           "on demand: model hours, Lambda, SQS and S3 requests, from list prices "
                                           "you can override. See docs/model-lifecycle.md for the formula.")
    cost.add_argument("--images-per-day", type=number(int, at_least=0), required=True,
                      help="images uploaded a day")
    cost.add_argument("--burst-hours", type=number(above=0, at_most=24), required=True,
                      help="hours a day during which images arrive")
    cost.add_argument("--bursts-per-day", type=POSITIVE, default=1, help="separate bursts a day (default 1)")
    cost.add_argument("--price-per-iu-hour", type=number(at_least=0), default=4.00,
                      help="USD per inference-unit hour (default 4.00; check your region)")
    cost.add_argument("--inference-units", type=POSITIVE, default=1, help="inference units (default 1)")
    cost.add_argument("--idle-minutes", type=POSITIVE, default=30, help="the stack's idle_minutes (default 30)")
    cost.add_argument("--ms-per-image", type=number(at_least=0), default=150.0,
                      help="the inference function's billed time per image in ms: model latency plus the "
                           "handler's CPU time (default 150, an estimate; use your CloudWatch Duration per image)")
    cost.set_defaults(func=cost_command)

    dead_letters = commands.add_parser(
        "dlq", help="list or redrive the images that failed every retry",
        description="list: the images whose messages sit in the dead-letter queue (left in place). redrive: move "
                    "them all back to the work queue once the cause is fixed. Queues come from the stack's outputs "
                    "(--stack) or are given; for the local stack, use the URLs and endpoint `local serve` prints.")
    dead_letters.add_argument("action", choices=["list", "redrive"])
    dead_letters.add_argument("--stack", default=DEFAULT_STACK_NAME,
                              help=f"stack name (default {DEFAULT_STACK_NAME})")
    dead_letters.add_argument("--dead-letter-queue-url", help="the DLQ's URL, instead of a stack")
    dead_letters.add_argument("--queue-url", help="the work queue's URL (redrive), instead of a stack")
    dead_letters.set_defaults(func=dlq_command)

    uploading = commands.add_parser(
        "upload", help="upload a folder of images to the pipeline's bucket, concurrently",
        description="Checks every file under FOLDER by its content (JPEG or PNG, at most 15 MB, 64-4096 px per side, "
                    "a name the pipeline picks up) and uploads the good ones concurrently under --prefix, keeping "
                    "their paths; the others are listed with the fix and not sent. The bucket comes from the "
                    "stack's outputs (--stack) or is given (--bucket; for the local stack, set the endpoints that "
                    "`local serve` prints).")
    uploading.add_argument("folder", help="folder of images (searched recursively)")
    _bucket_options(uploading)
    uploading.add_argument("--workers", type=POSITIVE, default=8, help="concurrent uploads (default 8)")
    uploading.set_defaults(func=upload_command)

    fetching = commands.add_parser(
        "results", help="the results of the uploaded images; --wait follows them until done",
        description="Lists the images under --prefix and reads their result JSONs: labels, nothing detected, an "
                    "error, still pending, or in the dead-letter queue (known with --stack or "
                    "--dead-letter-queue-url). --wait polls until every image has a result or sits in the DLQ, "
                    "with a progress bar on stderr, and exits 1 if some never finished. --out saves the result "
                    "JSONs (the layout `visualize --results` reads).")
    _bucket_options(fetching)
    fetching.add_argument("--results-prefix", help="with --bucket: where results are written, if not next to the "
                                                    "images (the stack's results_prefix)")
    fetching.add_argument("--dead-letter-queue-url", help="with --bucket: the DLQ, to tell failed images from pending")
    fetching.add_argument("--wait", action="store_true", help="follow until every image has a result or sits in "
                                                               "the DLQ")
    fetching.add_argument("--timeout", type=number(at_least=0), default=900, metavar="SECONDS",
                          help="--wait gives up after this long (default 900)")
    fetching.add_argument("--poll", type=SECONDS, default=5, metavar="SECONDS", help="--wait polls this often (5)")
    fetching.add_argument("--out", metavar="DIR", help="save the result JSONs here, mirroring their keys")
    fetching.add_argument("--format", choices=["table", "json", "csv"], default="table",
                          help="table (default), json (a list of {image, status, result}) or csv (a row per label)")
    fetching.set_defaults(func=results_command)

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

    manifests = commands.add_parser(
        "manifest", help="rewrite, validate, split or count a Ground Truth manifest",
        description="Tools for a data set's SageMaker Ground Truth manifest (JSON lines) before training a "
                    "Custom Labels model. See docs/manifests.md.")
    manifest_commands = manifests.add_subparsers(dest="manifest_command", required=True, metavar="COMMAND")
    rewrite = manifest_commands.add_parser(
        "rewrite", help="point source-refs at a new bucket or prefix",
        description="Replaces the --from prefix of every source-ref with --to (after copying the images, e.g. "
                    "`aws s3 sync`). Writes nothing if a line is not JSON or not under --from; lists those lines.")
    rewrite.add_argument("source", metavar="IN")
    rewrite.add_argument("target", metavar="OUT")
    rewrite.add_argument("--from", dest="old", required=True, metavar="s3://OLD/PREFIX")
    rewrite.add_argument("--to", dest="new", required=True, metavar="s3://NEW/PREFIX")
    validate = manifest_commands.add_parser(
        "validate", help="check a manifest against the Custom Labels rules",
        description="JSON lines, a source-ref s3://bucket/key on each, one bucket, at most 250,000 lines, 1-250 "
                    "labels (2 for image classification), 0-50 boxes per image, boxes inside the image, one kind "
                    "of labels. Lists every problem with its line number and exits 1 if there is any.")
    validate.add_argument("file")
    validate.add_argument("--limit", type=POSITIVE, default=200, help="show at most this many problems (default 200)")
    splitting = manifest_commands.add_parser(
        "split", help="split into training and test manifests, stratified by label",
        description="Splits the images into IN's stem .train and .test manifests (next to IN, or in --out-dir), "
                    "stratified by each image's rarest label so every label lands in both sets where it can "
                    "(scikit-learn's train_test_split). Lines keep their order and text.")
    splitting.add_argument("source", metavar="IN")
    splitting.add_argument("--test", type=float, default=0.2, help="share of images for testing (default 0.2)")
    splitting.add_argument("--seed", type=int, default=0, help="random seed, for the same split again (default 0)")
    splitting.add_argument("--out-dir", help="where to write the two manifests (default: next to IN)")
    statistics = manifest_commands.add_parser(
        "stats", help="images and boxes per label, with a bar chart",
        description="Counts images and boxes per label and images without labels; draws them as a bar chart PNG.")
    statistics.add_argument("file")
    statistics.add_argument("--chart", metavar="PNG", help="where to write the chart (default FILE's stem.stats.png)")
    manifests.set_defaults(func=manifest_command)

    sample = commands.add_parser("sample-data", help="draw a small labeled data set (bees and flowers)",
                                 description="Draws images with Pillow and writes their Ground Truth "
                                             "object-detection manifest; nothing is downloaded.")
    sample.add_argument("out", help="folder to write images/ and manifest.jsonl into")
    sample.add_argument("--count", type=POSITIVE, default=12, help="number of images (default 12)")
    sample.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    sample.set_defaults(func=sample_data)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Exit codes: 0 done, 1 a problem at run time (named with its fix), 2 a usage error (argparse)."""
    from customlabels.errors import explain

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
        Console(stderr=True).print(f"[red]customlabels {args.command}:[/] {message}", highlight=False,
                                   soft_wrap=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
