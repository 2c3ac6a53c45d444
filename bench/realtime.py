"""Saturation on the local stack in real time, beside the simulation's figure for the same cell.

Each real-time cell runs the whole local stack (`LocalPipeline`: moto, the Rekognition emulator with a capacity the
pipeline is not told, the event source mapping's execution environments running the real handler) on photographs,
uploaded with the event source off and then drained. What it measures:

- saturation from the results' own `ProcessedAt` stamps: images done per second in the steady state (between the
  20% and 90% completions, whole seconds: a stamp is a whole second, so counting the stamps in [first, last) counts
  exactly the images done in that time) over the model's capacity then;
- throttled calls per image (the emulator's count), images lost (no result), Lambda GB-s per 1,000 images;
- the durations the simulation needs to model this run (`Timings`): the pause between two invocations of one
  environment, each image's HEADs, the send of a call, the model's overhead beyond its latency, the PUT, taken from
  the environments' invocations, the emulator's log of calls and the function's log line per image (its
  `latency_ms` and `slot_wait_ms`).

`bench/run.py` then runs bench/throughput.py's simulation of the same cell with those durations: the check that
the simulation models the code as it runs.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.throughput import STEADY, Cell, Samples, Timings, capacity_between, picture
from customlabels.local.emulator.errors import ServiceError
from customlabels.local.emulator.options import ModelOptions
from customlabels.local.pipeline import HAS_RESULT, LocalPipeline, load_config

PHOTOGRAPHS = Path("/work/shared/realdata/bees")
"""Real photographs (CC0 bees) on the machine the benchmarks were written on; `--photographs` names another
folder. Without any, the cells run on synthetic JPEGs and say so."""


@dataclass(frozen=True)
class Call:
    key: str
    arrived: float
    answered: float
    admitted: bool


@dataclass
class RealRun:
    cell: Cell
    images: int
    environments: int
    saturation: float
    throttled_per_image: float
    steady_throttled_per_image: float
    lost: int
    gb_seconds_per_1000: float
    seconds: float
    timings: Timings
    pictures: str
    load: tuple[float, float] = (0.0, 0.0)
    """The machine's 1-minute load average before and after the run (other work slows the stack)."""
    invocations: list[Any] = field(default_factory=list, repr=False)


def photographs(folder: Path | None) -> tuple[list[bytes], str]:
    """The JPEGs of `folder` (or of PHOTOGRAPHS when it exists), and what they are; synthetic ones without."""
    folder = folder or (PHOTOGRAPHS if PHOTOGRAPHS.is_dir() else None)
    files = sorted(path for path in folder.iterdir() if path.suffix.lower() in (".jpg", ".jpeg")) if folder else []
    if not files:
        return [picture((320, 240))], "synthetic 320x240 JPEGs (no photographs found: pass --photographs DIR)"
    return [path.read_bytes() for path in files], f"{len(files)} photographs of {folder}, each used in turn"


def run(
    cell: Cell, images: int, pictures: tuple[list[bytes], str], on_progress: Callable[[int], None] | None = None
) -> RealRun:
    """Upload `images` pictures with the event source off, switch it on and wait for every result."""
    bodies, described = pictures
    config = load_config(
        model_lifecycle="manual",
        min_inference_units=cell.units,
        max_inference_units=cell.peak_units,
        max_receive_count=100,
    )
    model = ModelOptions(
        running=True,
        inference_units=cell.units,
        max_inference_units=cell.max_units,
        latency=cell.latency,
        tps_per_inference_unit=cell.tps_per_unit,
        scale_up_after=cell.scale_up_after,
        scale_down_after=cell.scale_down_after,
    )
    calls: list[Call] = []
    load_before = os.getloadavg()[0]
    with LocalPipeline(config, model=model, visibility_timeout=30, manager_interval=30) as pipeline:
        observe_calls(pipeline, calls)
        pipeline.esm.set_enabled(False)
        keys = [f"test_images/bench/{index:05d}.jpg" for index in range(images)]
        for index, key in enumerate(keys):
            pipeline.s3.put_object(Bucket=pipeline.resources.bucket, Key=key, Body=bodies[index % len(bodies)])
        time.sleep(1.0)  # let the notifications land
        started = time.time()
        pipeline.esm.set_enabled(True)
        outcomes = pipeline.wait(keys, timeout=images * 2, poll=1.0, on_progress=on_progress)
        seconds = time.time() - started
        stamps = [processed_at(pipeline.result(key)) for key, outcome in outcomes.items() if outcome in HAS_RESULT]
        wall = time.time() - time.monotonic()  # the emulator's clock is monotonic
        units = pipeline.service.models[config.model_arn].capacity.history
        environments = pipeline.pollers
    invocations = list(pipeline.esm.invocations)
    log = pipeline.log_path.read_text(encoding="utf-8").splitlines()
    capacity_log = [(wall + at, cell.tps_per_unit * count) for at, count in units]
    throttles = sorted(call.arrived for call in calls if not call.admitted)
    memory_gb = config.function_memory_mb / 1024
    return RealRun(
        cell,
        images,
        environments,
        stamp_saturation(stamps, capacity_log),
        len(throttles) / images,
        steady_throttles(stamps, throttles),
        images - len(stamps),
        sum(invocation.duration_seconds for invocation in invocations) * memory_gb / images * 1000,
        seconds,
        measured_timings(calls, invocations, log, cell.latency),
        described,
        (load_before, os.getloadavg()[0]),
        invocations,
    )


def observe_calls(pipeline: LocalPipeline, calls: list[Call]) -> None:
    """Log every DetectCustomLabels the emulated model answers: key, arrival, answer (wall clock), admitted."""
    dispatch = pipeline.service.dispatch

    def logged(operation: str, request: Any) -> dict[str, Any]:
        if operation != "DetectCustomLabels":
            return dispatch(operation, request)
        arrived, key = time.time(), (request.get("Image", {}).get("S3Object") or {}).get("Name", "")
        try:
            answer = dispatch(operation, request)
        except ServiceError as error:
            calls.append(Call(key, arrived, time.time(), error.code != "ProvisionedThroughputExceededException"))
            raise
        calls.append(Call(key, arrived, time.time(), True))
        return answer

    pipeline.service.dispatch = logged


def processed_at(document: dict) -> float:
    return datetime.strptime(document["ProcessedAt"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def steady_seconds(stamps: list[float]) -> tuple[float, float, int] | None:
    """[first, last) whole seconds between the STEADY shares of completions, and the images done in them."""
    if len(stamps) < 20:
        return None
    ordered = sorted(stamps)
    first, last = (ordered[int(len(ordered) * share)] for share in STEADY)
    return first, last, bisect.bisect_left(ordered, last) - bisect.bisect_left(ordered, first)


def stamp_saturation(stamps: list[float], capacity_log: list[tuple[float, float]]) -> float:
    window = steady_seconds(stamps)
    if window is None or window[1] <= window[0]:
        return 0.0
    first, last, done = window
    return done / capacity_between(capacity_log, first, last)


def steady_throttles(stamps: list[float], throttles: list[float]) -> float:
    window = steady_seconds(stamps)
    if window is None or not window[2]:
        return 0.0
    first, last, done = window
    return (bisect.bisect_left(throttles, last) - bisect.bisect_left(throttles, first)) / done


def log_time(stamp: str) -> float:
    """Powertools' `timestamp` (`2026-12-01 21:21:23,893+0000`) as wall-clock seconds."""
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f%z").timestamp()


def measured_timings(calls: list[Call], invocations: list[Any], log: list[str], latency: float) -> Timings:
    """The durations of this run, per image and per invocation, as bench/throughput.py's `Timings`."""
    done: dict[str, list[dict]] = defaultdict(list)  # request id -> the images it processed
    for line in log:
        if '"Image done"' in line:
            record = json.loads(line)
            if record.get("latency_ms") is not None:
                done[record["function_request_id"]].append(record)
    admitted_call = {call.key: call for call in calls if call.admitted}  # the last admitted call of each key
    overheads = [call.answered - call.arrived - latency for call in admitted_call.values()]
    prepare, send, finish, gaps = [], [], [], []
    by_environment: dict[int, list[tuple[float, float]]] = defaultdict(list)  # (start, last result) per invocation
    for invocation in invocations:
        images = [record for record in done.get(invocation.request_id, []) if record["key"] in admitted_call]
        if not images:
            continue
        last_result = 0.0
        for record in images:
            call = admitted_call[record["key"]]
            latency_seen = record["latency_ms"] / 1000
            one_way = max(0.0, (latency_seen - (call.answered - call.arrived)) / 2)
            sent = call.arrived - one_way
            result = log_time(record["timestamp"])
            prepare.append(max(0.0, sent - record["slot_wait_ms"] / 1000 - invocation.started_at))
            send.append(one_way)
            finish.append(max(0.0, result - (sent + latency_seen)))
            last_result = max(last_result, result)
        by_environment[invocation.environment].append((invocation.started_at, last_result))
    for runs in by_environment.values():
        runs.sort()
        gaps += [start - last_result for (_, last_result), (start, _) in itertools.pairwise(runs)]
    if not send:
        raise RuntimeError("the run measured no duration: did any image get a result?")
    round_trip = 2 * statistics.median(send)  # the emulator answers a throttle at once: what the handler waits
    throttle_answers = [call.answered - call.arrived + round_trip for call in calls if not call.admitted]
    return Timings(
        esm_gap=measured(gaps),
        prepare=measured(prepare),
        send=measured(send),
        overhead=measured([max(0.0, value) for value in overheads]),
        throttle_answer=measured(throttle_answers or [round_trip]),
        finish=measured(finish),
    )


def measured(values: list[float]) -> Samples:
    if not values:
        raise RuntimeError("the run measured no duration: did any image get a result?")
    return Samples(tuple(round(value, 4) for value in values if math.isfinite(value)))
