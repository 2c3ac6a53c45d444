"""Saturation of a model whose capacity the pipeline does not know, on a simulated clock.

    python -m bench.throughput            (also part of `make bench`)

Each cell runs an emulated model (`CustomLabelsService`, its own capacity model: `tps_per_inference_unit` x
inference units admitted in any one-second window) on a `ManualClock`, against three ways of calling it:

- **adaptive** (this pipeline): the REAL `ThroughputControl` of the inference function, one per execution
  environment, the stack's default concurrency (`PipelineConfig.effective_max_concurrency`), batches of
  `batch_size` records on a pool of `batch_workers` threads, throttled calls retried in the invocation at the
  control's next slot until `RETRY_RESERVE_SECONDS` are left;
- **fixed pacer** (before): the REAL former `Pacer` (bench/fixed_pacer.py) at `floor(5 x units / concurrency)`
  calls per 1.1 s, its sizing rule, and botocore's retries (4, exponential backoff with full jitter) then SQS;
- **AWS sample**: batch size 1, one poller, records one by one, botocore's retries then SQS.

What is simulated is the code as it runs: each execution environment is the event source mapping's loop
(receive up to `batch_size` visible messages at once, the batching window being 0; long polling while none is
visible; invoke; delete), the handler's pool of threads, each record's HEADs before its call, the call sent to
the model and counted there when it arrives, its answer (the model's latency and the service's overhead), the
PUT of the result, SQS's visibility timeout (6 x 60 s) and redrive after 5 receives. Every duration varies
(`Timings`): typical figures of Lambda in one region for the matrix (`AWS_TYPICAL`), or the durations measured on
the local stack for its real-time cells (bench/realtime.py). The draws are seeded, so a run's numbers are the
same on every machine.

Per cell: saturation = images done per second over the model's capacity in the steady state (between the 20th
and the 90th percentile of completions: no ramp-up, no tail), throttled calls per image, images lost (in the DLQ
or not done), Lambda GB-seconds per 1,000 images (invocation time x 0.5 GB).
"""

from __future__ import annotations

import argparse
import bisect
import heapq
import io
import itertools
import math
import random
import sys
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from PIL import Image

from bench.fixed_pacer import Pacer
from customlabels.config import MODEL_ARN_EXAMPLE, PipelineConfig
from customlabels.local.emulator.capacity import DEFAULT_SCALE_DOWN_AFTER, DEFAULT_SCALE_UP_AFTER
from customlabels.local.emulator.clock import ManualClock
from customlabels.local.emulator.errors import ServiceError
from customlabels.local.emulator.rekognition import CustomLabelsService
from customlabels_runtime.inference.logic import RETRY_RESERVE_SECONDS, Settings
from customlabels_runtime.inference.throughput import THROTTLING_CODES, Slot, ThroughputControl

LATENCY = 0.15
MEMORY_GB = 0.5
STEADY = (0.2, 0.9)
BOTOCORE_RETRIES = 4
LONG_POLL_SECONDS = 1.0
"""An empty receive waits this long (or until a message is visible again) before the next."""


# --- durations ------------------------------------------------------------------------------------------------


class Duration(Protocol):
    def draw(self, rng: random.Random) -> float: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class Spread:
    """A duration that varies as measured ones do: lognormal, with this median and 90th percentile (seconds)."""

    median: float
    p90: float

    def draw(self, rng: random.Random) -> float:
        if self.p90 <= self.median or self.median <= 0:
            return self.median
        return self.median * math.exp(rng.gauss(0.0, math.log(self.p90 / self.median) / 1.2816))

    def describe(self) -> str:
        return f"{self.median:g} s (p90 {self.p90:g})"


@dataclass(frozen=True)
class Samples:
    """A duration drawn from measured values (the local stack's, bench/realtime.py)."""

    values: tuple[float, ...]

    def draw(self, rng: random.Random) -> float:
        return rng.choice(self.values)

    def describe(self) -> str:
        ordered = sorted(self.values)
        return (
            f"{ordered[len(ordered) // 2]:.3f} s (p90 {ordered[len(ordered) * 9 // 10]:.3f}, {len(ordered)} measured)"
        )


@dataclass(frozen=True)
class Timings:
    """How long each step around the model's own latency takes."""

    esm_gap: Duration
    """An environment's pause between two invocations: from its last result written to the next batch's handler
    (metrics flush, delete, receive, invoke)."""
    prepare: Duration
    """A record's work before its call: the handler's two HEADs (the batch's threads in parallel)."""
    send: Duration
    """From a call's slot to the model counting it, and as long again for its answer to come back."""
    overhead: Duration
    """The model's answer beyond its latency (reading and decoding the image)."""
    throttle_answer: Duration
    finish: Duration
    """From a call's answer to the image's result written (the PUT)."""

    def describe(self) -> str:
        return (
            f"pause between invocations {self.esm_gap.describe()}, HEADs {self.prepare.describe()}, "
            f"sending a call {self.send.describe()}, model overhead {self.overhead.describe()}, "
            f"throttle answer {self.throttle_answer.describe()}, PUT {self.finish.describe()}"
        )


AWS_TYPICAL = Timings(
    esm_gap=Spread(0.07, 0.1),
    prepare=Spread(0.02, 0.035),
    send=Spread(0.003, 0.008),
    overhead=Spread(0.005, 0.02),
    throttle_answer=Spread(0.02, 0.03),
    finish=Spread(0.03, 0.05),
)
"""Lambda in one region: receive 0.03 s, delete 0.02, invoke 0.02, a HEAD 0.01-0.02, a PUT 0.03."""


@dataclass(frozen=True)
class Cell:
    name: str
    tps_per_unit: float
    units: int
    max_units: int | None = None
    """Above `units`: the emulator adds inference units under sustained load (auto-scaling)."""
    seconds_of_load: int = 120
    """The cell gets its (peak) capacity x this many images: minutes of steady state, seconds of run time."""
    latency: float = LATENCY
    timings: Timings = AWS_TYPICAL
    scale_up_after: float = DEFAULT_SCALE_UP_AFTER
    scale_down_after: float = DEFAULT_SCALE_DOWN_AFTER

    @property
    def peak_units(self) -> int:
        return self.max_units or self.units

    @property
    def images(self) -> int:
        return int(self.tps_per_unit * self.peak_units * self.seconds_of_load)


CELLS = (
    *(Cell(f"{tps:g} TPS x {units}", tps, units) for tps in (2, 3, 5, 8) for units in (1, 2)),
    Cell("5 TPS, 1 to 3 units (auto-scaling)", 5, 1, 3, seconds_of_load=600),
)


@dataclass
class Measured:
    cell: str
    strategy: str
    images: int
    saturation: float
    throttled_per_image: float
    steady_throttled_per_image: float
    lost: int
    gb_seconds_per_1000: float
    environments: int
    seconds: float
    note: str = ""
    completions: list[float] = field(default_factory=list, repr=False)
    throttle_times: list[float] = field(default_factory=list, repr=False)
    capacity_log: list[tuple[float, float]] = field(default_factory=list, repr=False)
    """(since, calls/s): the model's capacity over the run."""

    def saturation_between(self, start: float, end: float) -> float:
        """Images done from `start` to `end` (simulated seconds) over the capacity in that time."""
        done = bisect.bisect_left(self.completions, end) - bisect.bisect_left(self.completions, start)
        return done / capacity_between(self.capacity_log, start, end)

    def throttles_between(self, start: float, end: float) -> int:
        return bisect.bisect_left(self.throttle_times, end) - bisect.bisect_left(self.throttle_times, start)


# --- a tiny discrete-event scheduler: coroutines yield the time they wait for, or a list of children ----------


class Scheduler:
    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self._ready: list[tuple[float, int, Iterator, Any]] = []
        self._order = itertools.count()

    @property
    def now(self) -> float:
        return self.clock.now

    def start(self, coroutine: Generator, at: float | None = None, parent: Any = None) -> None:
        heapq.heappush(self._ready, (self.now if at is None else at, next(self._order), coroutine, parent))

    def run(self, until: float) -> None:
        waiting: dict[int, list] = {}  # id(parent record) -> [children left, parent coroutine, parent's parent]
        while self._ready and self._ready[0][0] <= until:
            at, _, coroutine, parent = heapq.heappop(self._ready)
            self.clock.now = max(self.clock.now, at)
            try:
                wanted = next(coroutine)
            except StopIteration:
                if parent is not None:
                    entry = waiting[id(parent)]
                    entry[0] -= 1
                    if entry[0] == 0:
                        del waiting[id(parent)]
                        self.start(entry[1], parent=entry[2])
                continue
            if isinstance(wanted, list):  # run these children and resume when all are done
                if not wanted:
                    self.start(coroutine, parent=parent)
                    continue
                marker = object()
                waiting[id(marker)] = [len(wanted), coroutine, parent]
                waiting[id(marker)].append(marker)  # keep the marker alive while its id is a key
                for child in wanted:
                    self.start(child, parent=marker)
            else:
                self.start(coroutine, at=max(self.now, wanted), parent=parent)


# --- SQS ----------------------------------------------------------------------------------------------------


@dataclass
class Message:
    image: int
    receives: int = 0
    visible_at: float = 0.0


@dataclass
class Queue:
    max_receives: int
    visibility: float
    messages: dict[int, Message] = field(default_factory=dict)
    dead: list[int] = field(default_factory=list)

    def receive(self, now: float, count: int) -> list[Message]:
        taken = []
        for message in list(self.messages.values()):
            if len(taken) == count:
                break
            if message.visible_at > now:
                continue
            if message.receives >= self.max_receives:
                del self.messages[message.image]
                self.dead.append(message.image)
                continue
            message.receives += 1
            message.visible_at = now + self.visibility
            taken.append(message)
        return taken

    def next_visible(self) -> float | None:
        return min((message.visible_at for message in self.messages.values()), default=None)


# --- the cell -----------------------------------------------------------------------------------------------


def picture(size: tuple[int, int] = (64, 64)) -> bytes:
    """A plain green JPEG: the emulated model reads it but never looks at its content."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (90, 160, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


def make_service(cell: Cell, clock: ManualClock, arn: str) -> CustomLabelsService:
    """The emulator with the cell's hidden capacity, auto-scaling (its defaults) up to `max_units`."""
    body = picture()
    service = CustomLabelsService(
        read_s3_object=lambda bucket, key, version: body,
        clock=clock,
        sleep=clock.sleep,
        tps_per_inference_unit=cell.tps_per_unit,
        scale_up_after=cell.scale_up_after,
        scale_down_after=cell.scale_down_after,
    )
    service.add_model(arn, running=True, inference_units=cell.units, max_inference_units=cell.max_units)
    return service


@dataclass
class Strategy:
    name: str
    batch_size: int
    environments: Callable[[Cell], int]
    control: Callable[[ManualClock, Cell, int], Any]
    in_process_retries: bool
    """True: throttles retried at the control's next slot while the invocation has time; False: botocore."""


def adaptive_environments(cell: Cell) -> int:
    return PipelineConfig(
        MODEL_ARN_EXAMPLE, min_inference_units=cell.units, max_inference_units=cell.peak_units
    ).effective_max_concurrency


def fixed_environments(cell: Cell) -> int:
    """The former sizing rule: Little's law at 5 TPS per unit, rounded up to a divisor of the model's TPS."""
    model_tps = 5 * cell.peak_units
    needed = max(2, math.ceil(model_tps * 0.5 * 2 / 10))
    return next(count for count in range(needed, model_tps + 1) if model_tps % count == 0)


class FixedPace:
    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer

    def reserve_call(self) -> Slot:
        slept: list[float] = []
        sleep, self.pacer.sleep = self.pacer.sleep, slept.append
        try:
            self.pacer.wait()
        finally:
            self.pacer.sleep = sleep
        now = self.pacer.clock()
        return Slot(now + sum(slept), bool(slept))

    def admitted(self, slot: Slot) -> None:
        pass

    def throttled(self, slot: Slot) -> None:
        pass


class Unpaced(FixedPace):
    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock

    def reserve_call(self) -> Slot:
        return Slot(self.clock())


STRATEGIES = (
    Strategy(
        "adaptive (this pipeline)",
        10,
        adaptive_environments,
        lambda clock, cell, index: ThroughputControl(
            scale_factor=cell.peak_units / cell.units, clock=clock, sleep=clock.sleep
        ),
        True,
    ),
    Strategy(
        "fixed pacer (before)",
        10,
        fixed_environments,
        lambda clock, cell, index: FixedPace(
            Pacer(5 * cell.peak_units / fixed_environments(cell), clock=clock, sleep=clock.sleep)
        ),
        False,
    ),
    Strategy("AWS sample (batch 1, one poller)", 1, lambda cell: 1, lambda clock, cell, index: Unpaced(clock), False),
)


def run_cell(
    cell: Cell,
    strategy: Strategy,
    images: int | None = None,
    seed: int = 1,
    unit_schedule: tuple[tuple[float, int], ...] = (),
    environments: int | None = None,
) -> Measured:
    """One cell; `unit_schedule` ((time, units), ...) changes the model's inference units at those times;
    `environments` overrides the strategy's concurrency."""
    clock = ManualClock(0.0)
    arn = MODEL_ARN_EXAMPLE
    service = make_service(cell, clock, arn)
    config = PipelineConfig(arn)
    images = images or cell.images
    queue = Queue(config.max_receive_count, config.visibility_timeout_seconds)
    for index in range(images):
        queue.messages[index] = Message(index)
    scheduler = Scheduler(clock)
    timings, draw = cell.timings, random.Random(seed)
    done: dict[int, float] = {}
    invocation_seconds = [0.0]
    throttle_times: list[float] = []
    request = {"ProjectVersionArn": arn, "Image": {"S3Object": {"Bucket": "bucket", "Name": "image.jpg"}}}

    def call() -> str | None:
        try:
            service.dispatch("DetectCustomLabels", request)
        except ServiceError as error:
            throttle_times.append(clock.now)
            return error.code
        return None

    def record(message: Message, control: Any, deadline: float) -> Generator:
        yield scheduler.now + timings.prepare.draw(draw)
        retries = 0
        while True:
            slot = control.reserve_call()
            yield slot.at
            yield scheduler.now + timings.send.draw(draw)  # the model counts the call when it arrives
            code = call()
            if code is None:
                yield scheduler.now + cell.latency + timings.overhead.draw(draw) + timings.send.draw(draw)
                control.admitted(slot)
                break
            yield scheduler.now + timings.throttle_answer.draw(draw)
            if code not in THROTTLING_CODES:
                raise RuntimeError(code)
            control.throttled(slot)
            if strategy.in_process_retries:
                if scheduler.now < deadline:
                    continue
                return  # fails the record: SQS delivers it again after the visibility timeout
            retries += 1
            if retries > BOTOCORE_RETRIES:
                return
            yield scheduler.now + draw.random() * min(20.0, 2.0**retries)
        yield scheduler.now + timings.finish.draw(draw)
        done.setdefault(message.image, scheduler.now)
        queue.messages.pop(message.image, None)

    def thread(records: Iterator[Message], control: Any, deadline: float) -> Generator:
        """One thread of the handler's pool: the batch's next record until none is left."""
        for message in records:
            yield from record(message, control, deadline)

    def environment(index: int) -> Generator:
        """The event source mapping's loop for one execution environment: receive, invoke, delete."""
        control = strategy.control(clock, cell, index)
        workers = Settings.from_environ(config.function_environment()).batch_workers if strategy.batch_size > 1 else 1
        while len(done) < images and (queue.messages or not queue.dead):
            yield scheduler.now + timings.esm_gap.draw(draw)
            batch = queue.receive(scheduler.now, strategy.batch_size)
            if not batch:
                upcoming = queue.next_visible()
                if upcoming is None:
                    return
                yield max(scheduler.now + LONG_POLL_SECONDS, upcoming)  # long polling until a message is visible
                continue
            started = scheduler.now
            deadline = started + config.function_timeout_seconds - RETRY_RESERVE_SECONDS
            records = iter(batch)
            yield [thread(records, control, deadline) for _ in range(min(workers, len(batch)))]
            invocation_seconds[0] += scheduler.now - started

    def change_units() -> Generator:
        for at, count in unit_schedule:
            yield at
            service.models[arn].capacity.units = count  # as if the service scaled, on the test's schedule
            service.models[arn].capacity.history.append((at, count))

    scheduler.start(change_units())
    environments = environments or strategy.environments(cell)
    for index in range(environments):
        scheduler.start(environment(index), at=index * 0.01)
    scheduler.run(until=24 * 3600)

    service.dispatch("DescribeProjectVersions", {"ProjectArn": service.models[arn].project_arn})  # scale-downs due
    capacity_log = [(at, cell.tps_per_unit * units) for at, units in service.models[arn].capacity.history]
    throttled = service.errors.get("ProvisionedThroughputExceededException", 0)
    finished = sorted(done.values())
    saturation, note = steady_saturation(finished, capacity_log)
    steady_throttled = steady_throttles(finished, throttle_times)
    return Measured(
        cell.name,
        strategy.name,
        images,
        saturation,
        throttled / images,
        steady_throttled,
        images - len(done),
        invocation_seconds[0] * MEMORY_GB / images * 1000,
        environments,
        finished[-1] if finished else 0.0,
        note,
        finished,
        throttle_times,
        capacity_log,
    )


def steady_window(finished: list[float]) -> tuple[float, float, int] | None:
    """(first, last, images done between): the steady state, between the STEADY percentiles of completions;
    None for too few images to tell."""
    if len(finished) < 20:
        return None
    first, last = (finished[int(len(finished) * share)] for share in STEADY)
    return first, last, int(len(finished) * STEADY[1]) - int(len(finished) * STEADY[0])


def steady_saturation(finished: list[float], capacity_log: list[tuple[float, float]]) -> tuple[float, str]:
    """Images done in the steady state over the capacity in that time."""
    if (window := steady_window(finished)) is None:
        return 0.0, "too few images"
    first, last, done = window
    return done / capacity_between(capacity_log, first, last), ""


def capacity_between(capacity_log: list[tuple[float, float]], start: float, end: float) -> float:
    """Calls the model could admit from `start` to `end`."""
    capacity = 0.0
    for (since, rate), (until, _) in zip(capacity_log, [*capacity_log[1:], (math.inf, 0.0)], strict=True):
        overlap = min(until, end) - max(since, start)
        if overlap > 0:
            capacity += rate * overlap
    return capacity


def steady_throttles(finished: list[float], throttle_times: list[float]) -> float:
    """Throttled calls per image done in the steady state."""
    if (window := steady_window(finished)) is None:
        return 0.0
    first, last, done = window
    return sum(1 for at in throttle_times if first <= at < last) / done


def run_all(cells: tuple[Cell, ...] = CELLS, strategies: tuple[Strategy, ...] = STRATEGIES) -> list[Measured]:
    results = []
    for cell in cells:
        results.extend(run_cell(cell, strategy) for strategy in strategies)
    return results


def assumptions(timings: Timings = AWS_TYPICAL) -> str:
    return (
        f"images for 120 s at each capacity (600 s at the auto-scaling case's peak), model latency {LATENCY} s, "
        f"{timings.describe()}, steady state between the {STEADY[0]:.0%} and {STEADY[1]:.0%} completions"
    )


def table(results: list[Measured]) -> list[str]:
    rows = [
        "| cell (true capacity) | configuration | environments | images | saturation | throttled/image | lost | "
        "GB-s/1,000 images |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        if result.note:
            rows.append(f"| {result.cell} | {result.strategy} | - | - | {result.note} | - | - | - |")
            continue
        rows.append(
            f"| {result.cell} | {result.strategy} | {result.environments} | {result.images:,} | "
            f"{result.saturation:.3f} | {result.throttled_per_image:.3f} | {result.lost} | "
            f"{result.gb_seconds_per_1000:.1f} |"
        )
    return rows


def main() -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    results = run_all()
    print("\n".join(table(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
