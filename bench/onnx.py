"""The onnx backend in numbers (make bench, part 6), for a detector of realistic size and against Custom Labels.

    python -m bench.onnx [--photographs DIR]      (make bench runs it after bench.run; from the checkout's root)

- The detector: YOLO-shaped, generated with onnx.helper (seeded random weights: speed does not depend on what they
  learned), a strided convolution backbone with heads at strides 8, 16 and 32 of a 640 px input (8,400 anchors),
  `yolo-raw` output [1, 4 + 2, 8400], about 7 MB of weights; class scores through a Sigmoid whose bias lets a
  handful of anchors pass 50%, as a trained model's do.
- Speed, on the same photographs, interleaved image by image so that the machine's load weighs on all alike: a bare
  `session.run` of the already prepared tensor; the image's path in the function (`OwnModelAnswer`: GetObject,
  decode, EXIF, letterbox, run, decode, NMS, the result contract); the whole handler on SQS batches of 10
  (`handle_event`: the batch, HEADs, the answer, the result's PUT), S3 being moto in this process. CPU ms per
  image (the process's, every thread) and wall ms; ratios over the bare run (target <= 1.10x).
- Cold start, each in a fresh interpreter (median of N): the handler module imported and its dependencies built
  (boto3 clients, the model loaded and its spec checked) against bare onnxruntime (import, InferenceSession of the
  same model) (target <= 1.2x), and against onnxruntime with boto3 and an S3 client (what any function reading
  its images from S3 loads).
- The asset: the onnx function's bundle for Lambda arm64 (onnxruntime, numpy, Pillow, Powertools; the package and
  this model), unzipped, against Lambda's 250 MB.
- Cost per 1,000 images for the lifecycle profiles: Custom Labels on demand (the model's billed minutes from the
  lifecycle simulation, bench/lifecycle.py, at USD 4 per inference-unit hour, plus Lambda, SQS and S3 by
  customlabels.operations.cost) beside the onnx backend (customlabels.operations.cost.onnx_estimate with the
  handler's wall ms per image and the cold start measured here, at 2,048 MB).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import lifecycle, realtime

ROOT = Path(__file__).resolve().parent.parent
LABELS = ("bee", "flower")
SIZE = 640
LAYERS = (
    (3, 16, 2, False),
    (16, 32, 2, False),
    (32, 64, 2, False),
    (64, 64, 1, True),
    (64, 128, 2, False),
    (128, 128, 1, True),
    (128, 256, 2, False),
    (256, 256, 1, False),
    (256, 256, 1, True),
)
"""(in, out, stride, a head after it) of the 3x3 convolutions: heads at strides 8, 16 and 32."""
SCORE_BIAS = -1.6
BATCH = 10


def _conv(name: str, source: str, given: int, out: int, stride: int, rng, kernel: int = 3):
    """A convolution (He-initialized, seeded) and its Relu; the initializers it needs."""
    from onnx import helper, numpy_helper

    weights = rng.normal(0, np.sqrt(2 / (given * kernel * kernel)), (out, given, kernel, kernel)).astype(np.float32)
    tensors = [
        numpy_helper.from_array(weights, f"{name}_w"),
        numpy_helper.from_array(np.zeros(out, np.float32), f"{name}_b"),
    ]
    pad = kernel // 2
    nodes = [
        helper.make_node(
            "Conv", [source, f"{name}_w", f"{name}_b"], [f"{name}_c"], strides=[stride] * 2, pads=[pad] * 4
        ),
        helper.make_node("Relu", [f"{name}_c"], [name]),
    ]
    return nodes, tensors


def _head(name: str, source: str, channels: int, rng):
    """A 1x1 head: 4 box channels (positive, in pixels) and the label scores (Sigmoid), as [1, 6, anchors]."""
    from onnx import helper, numpy_helper

    outputs = 4 + len(LABELS)
    weights = (rng.normal(0, 1 / np.sqrt(channels), (outputs, channels, 1, 1))).astype(np.float32)
    bias = np.array([320, 320, 40, 40] + [SCORE_BIAS] * len(LABELS), np.float32)
    tensors = [
        numpy_helper.from_array(weights, f"{name}_w"),
        numpy_helper.from_array(bias, f"{name}_b"),
        numpy_helper.from_array(np.array([1, outputs, -1], np.int64), f"{name}_shape"),
        numpy_helper.from_array(np.array([4, len(LABELS)], np.int64), f"{name}_parts"),
    ]
    nodes = [
        helper.make_node("Conv", [source, f"{name}_w", f"{name}_b"], [f"{name}_c"]),
        helper.make_node("Reshape", [f"{name}_c", f"{name}_shape"], [f"{name}_flat"]),
        helper.make_node("Split", [f"{name}_flat", f"{name}_parts"], [f"{name}_box", f"{name}_logit"], axis=1),
        helper.make_node("Relu", [f"{name}_box"], [f"{name}_boxes"]),
        helper.make_node("Sigmoid", [f"{name}_logit"], [f"{name}_scores"]),
        helper.make_node("Concat", [f"{name}_boxes", f"{name}_scores"], [name], axis=1),
    ]
    return nodes, tensors


def detector(folder: Path, seed: int = 0) -> Path:
    """MODEL.onnx and its spec in `folder`."""
    import onnx
    from onnx import TensorProto, helper

    rng = np.random.default_rng(seed)
    nodes, tensors, source, heads = [], [], "images", []
    for index, (given, out, stride, head) in enumerate(LAYERS):
        name = f"layer{index}"
        more_nodes, more_tensors = _conv(name, source, given, out, stride, rng)
        nodes, tensors, source = nodes + more_nodes, tensors + more_tensors, name
        if head:
            head_nodes, head_tensors = _head(f"head{len(heads)}", name, out, rng)
            nodes, tensors = nodes + head_nodes, tensors + head_tensors
            heads.append(f"head{len(heads)}")
    nodes.append(helper.make_node("Concat", heads, ["output0"], axis=2))
    anchors = sum((SIZE // stride) ** 2 for stride in (8, 16, 32))
    graph = helper.make_graph(
        nodes,
        "bench-detector",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 4 + len(LABELS), anchors])],
        initializer=tensors,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = folder / "detector.onnx"
    onnx.save(model, path)
    spec = {
        "format": "yolo-raw",
        "labels": list(LABELS),
        "input": {"width": SIZE, "height": SIZE, "resize": "letterbox"},
    }
    (folder / "detector.onnx.json").write_text(json.dumps(spec), encoding="utf-8")
    return path


# --- speed ---------------------------------------------------------------------------------------------------------


def _times(run) -> tuple[float, float]:
    """(CPU seconds of the process, wall seconds) of `run()`."""
    cpu, wall = time.process_time(), time.perf_counter()
    run()
    return time.process_time() - cpu, time.perf_counter() - wall


def _environment(model: Path) -> dict[str, str]:
    from customlabels.local.pipeline import load_config

    config = load_config(backend="onnx", onnx_model=str(model))
    return {
        **config.function_environment(),
        "ONNX_MODEL": str(model),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }


def _notification(bucket: str, key: str) -> dict:
    body = {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}
    return {
        "messageId": key,
        "receiptHandle": key,
        "body": json.dumps(body),
        "eventSource": "aws:sqs",
        "attributes": {},
    }


def _forget_results(s3, prefix: str) -> None:
    listed = s3.list_objects_v2(Bucket="bench", Prefix=prefix).get("Contents", [])
    written = [{"Key": item["Key"]} for item in listed if item["Key"].endswith(".json")]
    if not written:
        raise SystemExit("The handler wrote no result: the bench would time nothing. Run it with --debug")
    s3.delete_objects(Bucket="bench", Delete={"Objects": written})


def speed(model: Path, pictures: list[bytes], rounds: int) -> dict[str, tuple[float, float]]:
    """Per image, (CPU ms, wall ms) of the bare run, the image's path in the function and the whole handler."""
    import boto3
    from moto import mock_aws

    from customlabels_runtime.contract import ObjectCreated
    from customlabels_runtime.inference.logic import Dependencies, Settings, handle_event
    from customlabels_runtime.inference.metrics import PipelineMetrics
    from customlabels_runtime.inference.thresholds import Thresholds
    from customlabels_runtime.inference.wiring import powertools
    from customlabels_runtime.onnx_inference.answer import OwnModelAnswer
    from customlabels_runtime.onnx_inference.images import open_image
    from customlabels_runtime.onnx_model.model import OwnModel
    from customlabels_runtime.onnx_model.preprocess import prepare

    environment = _environment(model)
    os.environ.update(environment)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="bench")
        keys = [f"{environment['INPUT_PREFIX']}photo-{index}.jpg" for index in range(len(pictures))]
        for key, data in zip(keys, pictures, strict=True):
            s3.put_object(Bucket="bench", Key=key, Body=data)
        own = OwnModel.from_file(model)
        answer = OwnModelAnswer(own, s3)
        settings = Settings.from_environ(environment)
        logger, metrics = powertools()
        deps = Dependencies(settings, s3, None, PipelineMetrics(metrics), logger, own_model=answer)
        tensors = [prepare(open_image(data), own.spec.input)[0] for data in pictures]
        feed = own.session.get_inputs()[0].name
        thresholds = Thresholds(settings.min_confidence)
        totals = {"bare session.run": [0.0, 0.0], "the image in the function": [0.0, 0.0], "the handler": [0.0, 0.0]}
        for _ in range(rounds):
            for start in range(0, len(keys), BATCH):
                batch = range(start, min(start + BATCH, len(keys)))
                measured = {
                    "bare session.run": _times(lambda b=batch: [own.session.run(None, {feed: tensors[i]}) for i in b]),
                    "the image in the function": _times(
                        lambda b=batch: [answer(ObjectCreated("bench", keys[i]), thresholds) for i in b]
                    ),
                    "the handler": _times(
                        lambda b=batch: handle_event(
                            {"Records": [_notification("bench", keys[i]) for i in b]}, None, deps
                        )
                    ),
                }
                for name, (cpu, wall) in measured.items():
                    totals[name][0] += cpu
                    totals[name][1] += wall
                _forget_results(s3, environment["RESULTS_PREFIX"])  # or the next round finds them and skips
    count = rounds * len(keys)
    return {name: (cpu / count * 1000, wall / count * 1000) for name, (cpu, wall) in totals.items()}


# --- cold start, asset ---------------------------------------------------------------------------------------------

HANDLER_START = (
    "import time; t = time.perf_counter(); from customlabels_runtime.onnx_inference import handler; "
    "handler.dependencies(); print(time.perf_counter() - t)"
)
BARE_START = (
    "import sys, time; t = time.perf_counter(); import onnxruntime; onnxruntime.InferenceSession(sys.argv[1], "
    "providers=['CPUExecutionProvider']); print(time.perf_counter() - t)"
)
BARE_WITH_S3_START = (
    "import sys, time; t = time.perf_counter(); import boto3; boto3.client('s3'); import onnxruntime; "
    "onnxruntime.InferenceSession(sys.argv[1], providers=['CPUExecutionProvider']); print(time.perf_counter() - t)"
)


def cold_starts(model: Path, runs: int) -> dict[str, float]:
    """Median seconds from a fresh interpreter to a model ready to answer, the three ways, interleaved."""
    environment = {**os.environ, **_environment(model)}
    measured: dict[str, list[float]] = {"handler": [], "bare onnxruntime": [], "onnxruntime + boto3 S3 client": []}
    for _ in range(runs):
        for name, code in zip(measured, (HANDLER_START, BARE_START, BARE_WITH_S3_START), strict=True):
            done = subprocess.run(
                [sys.executable, "-c", code, str(model)], env=environment, check=True, capture_output=True, text=True
            )
            measured[name].append(float(done.stdout.split()[-1]))
    return {name: statistics.median(values) for name, values in measured.items()}


def asset_megabytes(model: Path) -> float:
    """The onnx function's asset for Lambda arm64 with this model, unzipped (its requirements from the bundling's
    cache, installed by pip for the platform the first time)."""
    from stacks.bundling import PLATFORMS, RUNTIME_PYTHON_VERSION, PipInstallBundling

    bundled = {"model/detector.onnx": model, "model/detector.onnx.json": model.with_name(model.name + ".json")}
    with tempfile.TemporaryDirectory() as folder:
        PipInstallBundling("onnx_inference", RUNTIME_PYTHON_VERSION, PLATFORMS["onnx_inference"], bundled).try_bundle(
            folder
        )
        return sum(path.stat().st_size for path in Path(folder).rglob("*") if path.is_file()) / 1e6


# --- cost ----------------------------------------------------------------------------------------------------------


def cost_lines(handler_ms: float, init_ms: float) -> list[str]:
    """Per lifecycle profile: USD per 1,000 images with Custom Labels on demand (billed minutes simulated) and
    with the onnx backend (this run's handler time and cold start, 2,048 MB)."""
    from customlabels.operations.cost import OnnxFunction, Prices, Workload, estimate, onnx_estimate

    prices, function = Prices(), OnnxFunction(ms_per_image=handler_ms, init_ms=init_ms)
    rows = [
        "| profile | images | Custom Labels on demand: billed model min | USD / 1,000 images | onnx backend: "
        "GB-s | cold starts | USD / 1,000 images | Custom Labels / onnx |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for profile in lifecycle.PROFILES:
        outcome = lifecycle.simulate(profile)
        images = len(profile.uploads)
        workload = Workload(images_per_day=images, **_shape(profile))
        requests = estimate(workload, "on-demand", prices)
        custom_labels = outcome.running_seconds / 3600 * prices.inference_unit_hour + requests.total - requests.model
        onnx = onnx_estimate(workload, function, prices)
        per_1000 = functools.partial(_per_1000, images=images)
        rows.append(
            f"| {profile.name} | {images:,} | {outcome.running_seconds / 60:.1f} | {per_1000(custom_labels)} | "
            f"{onnx.items['lambda_gb_seconds']:,.1f} | {onnx.items['cold_starts']:,} | {per_1000(onnx.total)} | "
            f"{_ratio(custom_labels / onnx.total)} |"
        )
    return rows


def _per_1000(usd: float, images: int) -> str:
    return f"{usd / images * 1000:.4f}" if images else f"{usd:.4f} a day"


def _ratio(value: float) -> str:
    return f"{value:,.0f}x" if value >= 10 else f"{value:.2f}x"


def _shape(profile: lifecycle.Profile) -> dict[str, float]:
    """The profile as the cost formula's workload: its bursts (uploads more than an hour apart start a new one)
    and the hours each lasts (its images' spacing times their number, so 288 uploads 5 minutes apart last 24 h)."""
    if not profile.uploads:
        return {"burst_hours": 1, "bursts_per_day": 1}
    bursts: list[list[float]] = [[profile.uploads[0]]]
    for previous, upload in zip(profile.uploads, profile.uploads[1:], strict=False):
        (bursts.append([upload]) if upload - previous > 3600 else bursts[-1].append(upload))
    lasting = [(b[-1] - b[0]) * len(b) / max(len(b) - 1, 1) / 3600 for b in bursts]
    return {"burst_hours": max(statistics.mean(lasting), 1 / 3600), "bursts_per_day": len(bursts)}


# --- the run -------------------------------------------------------------------------------------------------------


def lines(model: Path, pictures: tuple[list[bytes], str], rounds: int, cold_runs: int) -> list[str]:
    timed = speed(model, pictures[0], rounds)
    starts = cold_starts(model, cold_runs)
    asset = asset_megabytes(model)
    bare_cpu, bare_wall = timed["bare session.run"]
    rows = ["| per image | CPU ms | wall ms | CPU / bare | wall / bare |", "|---|---:|---:|---:|---:|"]
    rows += [
        f"| {name} | {cpu:.1f} | {wall:.1f} | {cpu / bare_cpu:.2f}x | {wall / bare_wall:.2f}x |"
        for name, (cpu, wall) in timed.items()
    ]
    handler_start = starts["handler"]
    return [
        f"The onnx backend with a detector of realistic size ({model.stat().st_size / 1e6:.1f} MB of weights, "
        f"{SIZE} px input, yolo-raw 8,400 anchors, random weights; bench/onnx.py) on {pictures[1]}, "
        f"{rounds} rounds in batches of {BATCH}, S3 in moto; targets: handler <= 1.10x bare session.run, cold start "
        "<= 1.2x bare onnxruntime:",
        "",
        *rows,
        "",
        f"- cold start to a model ready (median of {cold_runs} fresh interpreters): handler import + dependencies "
        f"{handler_start * 1000:.0f} ms, bare onnxruntime import + session {starts['bare onnxruntime'] * 1000:.0f} "
        f"ms: ratio {handler_start / starts['bare onnxruntime']:.2f}; against onnxruntime + boto3 + an S3 client "
        f"{starts['onnxruntime + boto3 S3 client'] * 1000:.0f} ms: ratio "
        f"{handler_start / starts['onnxruntime + boto3 S3 client']:.2f}",
        f"- the function's asset for Lambda arm64 with this model, unzipped: {asset:.1f} MB (Lambda's limit: 250 MB)",
        "",
        "Cost per 1,000 images for the lifecycle profiles, Custom Labels on demand (its billed minutes simulated, "
        "USD 4 per inference-unit hour) beside the onnx backend (this run's handler wall ms per image "
        f"{timed['the handler'][1]:.0f} and cold start {handler_start * 1000:.0f} ms, at 2,048 MB, arm64 prices):",
        "",
        *cost_lines(timed["the handler"][1], handler_start * 1000),
    ]


def main() -> int:
    from rich.console import Console

    from bench.run import append_results

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photographs", type=Path, metavar="DIR", help=f"JPEGs (default: {realtime.PHOTOGRAPHS})")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the photographs (default 3)")
    parser.add_argument("--cold-start-runs", type=int, default=7)
    args = parser.parse_args()
    started = time.time()
    with tempfile.TemporaryDirectory() as folder:
        found = lines(detector(Path(folder)), realtime.photographs(args.photographs), args.rounds, args.cold_start_runs)
    console = Console()
    for line in found:
        console.print(line, markup=False, soft_wrap=True)
    append_results(found, started, "bench.onnx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
