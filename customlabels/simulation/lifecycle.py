"""The model lifecycle on a simulated clock: the REAL model manager (`manage`: observe, decide, act) against the
simulated services of services.py, for a day of a workload. `make bench` (bench/lifecycle.py) reports it for its
profiles and `customlabels cost` for the user's workload: the figure people act on is the one the code produces.

What lifecycle.py adds to the services, at a one-second step (every figure of the pipeline from `PipelineConfig`):

- S3: each upload puts its notification in the queue one second later, and sends EventBridge's `Object Created`
  (the announcement) at once, so an announced run can look before the message is there.
- The model answers `tps_per_unit` x units images a second, only while RUNNING: the event source receives up to
  that each second while effective, and a result is written one second after the receive. A receive while the
  model is not RUNNING fails and the message waits a visibility timeout (and counts toward the DLQ).
- Lambda's asynchronous invocation of the manager: the schedule (every `manager_interval_minutes`) and one
  announcement per image go to one queue; reserved concurrency 1 and a run of 0.5 s serve two a second, in
  order; 0 retries and events older than 60 s are dropped.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from customlabels.config import MODEL_ARN_EXAMPLE, TPS_PER_INFERENCE_UNIT, PipelineConfig
from customlabels.simulation.services import (
    START_SECONDS,
    TEST_EVENT,
    FakeLambda,
    FakeRekognition,
    FakeSQS,
    FakeSSM,
    Message,
    Quiet,
    World,
    s3_event,
)
from customlabels_runtime.model_manager.dependencies import Dependencies, Settings
from customlabels_runtime.model_manager.logic import manage
from customlabels_runtime.model_manager.messages import announced_image, announced_key, announcement_time
from customlabels_runtime.model_manager.observe import project_arn

EPOCH = datetime(2026, 11, 23, tzinfo=UTC)
NOTIFICATION_SECONDS = 1
MANAGER_RUNS_PER_SECOND = 2
MAX_EVENT_AGE_SECONDS = 60
SCHEDULE_OFFSET_SECONDS = 30
DAY = 24 * 3600


@dataclass(frozen=True)
class Profile:
    name: str
    uploads: tuple[float, ...]
    """Upload times, in seconds after the deploy."""
    seconds: int = DAY + 3600


def burst(at: float, images: int, per_second: float) -> tuple[float, ...]:
    return tuple(at + index / per_second for index in range(images))


def workload(images_per_day: int, burst_hours: float, bursts_per_day: int, tail_seconds: int = 3600) -> Profile:
    """`customlabels cost`'s workload as a profile: `bursts_per_day` bursts spread evenly over the day (the first
    at 00:10), each spreading its share of the images evenly over `burst_hours` (at most until the next burst),
    then `tail_seconds` for the last images to be answered."""
    every = DAY / bursts_per_day
    span = min(burst_hours * 3600, every - 600)
    uploads: list[float] = []
    for k in range(bursts_per_day):
        images = images_per_day // bursts_per_day + (k < images_per_day % bursts_per_day)
        uploads += [600 + k * every + index * span / images for index in range(images)]
    name = f"{images_per_day:,} images a day in {bursts_per_day} burst(s) of {burst_hours:g} h"
    return Profile(name, tuple(uploads), seconds=DAY + 600 + tail_seconds)


@dataclass
class Outcome:
    profile: str
    announcements: bool
    config: PipelineConfig
    uploads: tuple[float, ...]
    world: World
    results: dict[int, float]
    """Upload index -> time its result was written."""
    capacity: float
    manager_runs: int = 0
    announcements_dropped: int = 0
    manager_errors: list[str] = field(default_factory=list)

    @property
    def images(self) -> int:
        return len(self.uploads)

    @property
    def running_seconds(self) -> int:
        return self.world.running_seconds

    @property
    def up_seconds(self) -> int:
        return self.world.up_seconds

    @property
    def starts(self) -> list[float]:
        return self.world.starts

    @property
    def stops(self) -> list[float]:
        return self.world.stops

    @property
    def queued_at_stops(self) -> list[int]:
        return self.world.queued_at_stops

    @property
    def in_flight_at_stops(self) -> list[int]:
        return self.world.in_flight_at_stops

    @property
    def guard_stops(self) -> list[float]:
        return self.world.guard_stops

    @property
    def running_by_day(self) -> dict[int, int]:
        return self.world.running_by_day

    @property
    def guard_paused_seconds(self) -> int:
        return self.world.guard_paused_seconds

    @property
    def received_while_not_running(self) -> int:
        return self.world.received_while_not_running

    @property
    def dead_letters(self) -> int:
        return len(self.world.dead_letters)

    @property
    def end_status(self) -> str:
        return self.world.model_status

    @property
    def end_queued(self) -> int:
        return sum(self.world.counts())

    @property
    def minimum_running_seconds(self) -> float:
        """Processing every image at capacity: no model can be billed less."""
        return self.images / self.capacity

    @property
    def minimum_up_seconds(self) -> float:
        """One start plus processing at capacity (when there is anything to process)."""
        return (START_SECONDS if self.images else 0) + self.minimum_running_seconds

    @property
    def latencies(self) -> list[float]:
        return [self.results[index] - self.uploads[index] for index in sorted(self.results)]

    @property
    def worst_wait(self) -> float | None:
        return max(self.latencies, default=None)

    @property
    def median_wait(self) -> float | None:
        return statistics.median(self.latencies) if self.latencies else None

    @property
    def last_result(self) -> float | None:
        return max(self.results.values(), default=None)

    @property
    def stop_after_last_result(self) -> float | None:
        """Seconds from the last result to the stop that followed it."""
        last = self.last_result
        later = [stop for stop in self.stops if last is not None and stop >= last]
        return min(later) - last if later else None

    def billed_seconds(self, minimum_per_start: float = 0.0) -> float:
        """RUNNING seconds, each start's period billed at least `minimum_per_start` (AWS documents hourly
        billing of running time and no minimum per start: 0 is what it documents, 3600 the worst case)."""
        end = self.world.now
        periods = [(stopped if stopped is not None else end) - began for began, stopped in self.world.running_periods]
        return sum(max(period, minimum_per_start) for period in periods)


class _Run:
    """One simulated run of a profile: the world, the manager wired to it, and the step of each second."""

    def __init__(self, profile: Profile, announcements: bool, config: PipelineConfig, tps_per_unit: float) -> None:
        self.profile, self.announcements, self.config = profile, announcements, config
        self.world = World(config)
        self.settings = Settings.from_environ(
            {
                **config.manager_environment(),
                "QUEUE_URL": "queue",
                "MAPPING_UUID": "mapping",
                "STATE_PARAMETER": "/state",
            }
        )
        rekognition, quiet = FakeRekognition(self.world, self.settings.model_arn), Quiet()
        self.deps = Dependencies(
            settings=self.settings,
            project=project_arn(rekognition, self.settings.model_arn),
            rekognition=rekognition,
            sqs=FakeSQS(self.world),
            lambda_=FakeLambda(self.world),
            ssm=FakeSSM(self.world),
            logger=quiet,
            metrics=quiet,
        )
        self.capacity = tps_per_unit * config.max_inference_units
        self.credit = 0.0
        self.keys = [f"{config.input_prefix}day/{index:05d}.jpg" for index in range(len(profile.uploads))]
        self.pending = deque(sorted(range(len(profile.uploads)), key=lambda index: profile.uploads[index]))
        self.invocations: deque[tuple[float, dict]] = deque()
        self.in_flight: list[Message] = []
        self.paused = False
        self.outcome = Outcome(profile.name, announcements, config, profile.uploads, self.world, {}, self.capacity)

    def second(self, second: int) -> None:
        world = self.world
        world.now = float(second)
        world.advance_services()
        self._answer()
        self._upload()
        world.release_due()
        self._poll()
        if second % (self.config.manager_interval_minutes * 60) == SCHEDULE_OFFSET_SECONDS:
            self.invocations.append((world.now, {"source": "aws.events", "detail-type": "Scheduled Event"}))
        for slot in range(MANAGER_RUNS_PER_SECOND):
            if not self._invoke(second + (slot + 0.5) / MANAGER_RUNS_PER_SECOND):
                break
        world.now = float(second)
        self._count(second)

    def _answer(self) -> None:
        """The batch received a second ago: answered if the model runs, else back after the visibility timeout."""
        for message in self.in_flight:
            if message.id in self.world.messages and self.world.model_status == "RUNNING":
                if message.image is not None:
                    self.outcome.results.setdefault(message.image, self.world.now)
                self.world.delete(message)
        self.in_flight = []

    def _upload(self) -> None:
        world = self.world
        while self.pending and self.profile.uploads[self.pending[0]] <= world.now:
            index = self.pending.popleft()
            world.put(s3_event(self.keys[index]), index, world.now + NOTIFICATION_SECONDS)
            if self.announcements:
                detail = {"bucket": {"name": "bucket"}, "object": {"key": self.keys[index]}}
                when = (EPOCH + timedelta(seconds=world.now)).isoformat()
                event = {"source": "aws.s3", "detail-type": "Object Created", "time": when, "detail": detail}
                self.invocations.append((world.now, event))

    def _poll(self) -> None:
        """Lambda's pollers, up to the model's capacity each second (a fractional capacity accumulates)."""
        if not self.world.polling:
            self.credit = 0.0
            return
        self.credit = min(self.credit + self.capacity, max(self.capacity, 1.0))
        batch = self.world.receive(int(self.credit), self.config.visibility_timeout_seconds)
        self.credit -= len(batch)
        if batch and self.world.model_status != "RUNNING":
            self.world.received_while_not_running += sum(1 for message in batch if message.image is not None)
        self.in_flight = batch

    def _invoke(self, at: float) -> bool:
        """One manager invocation from the asynchronous queue (events too old are dropped); False: none left."""
        while self.invocations and self.world.now - self.invocations[0][0] > MAX_EVENT_AGE_SECONDS:
            if self.invocations.popleft()[1]["detail-type"] == "Object Created":
                self.outcome.announcements_dropped += 1
        if not self.invocations:
            return False
        self.world.now = at
        _, event = self.invocations.popleft()
        self.outcome.manager_runs += 1
        now, prefix = EPOCH + timedelta(seconds=at), self.settings.input_prefix
        try:
            answer = manage(
                self.deps,
                now=now,
                work_announced=announced_image(event, prefix),
                announced_at=announcement_time(event, now),
                announced_key=announced_key(event, prefix),
            )
            self.paused = bool(answer.get("paused"))
            if answer["stop"] and self.paused:
                self.world.guard_stops.append(self.world.stops[-1])
        except Exception as error:
            self.outcome.manager_errors.append(f"{at:.1f}s: {type(error).__name__}: {error}")
        return True

    def _count(self, second: int) -> None:
        world = self.world
        running = world.model_status == "RUNNING"
        world.running_seconds += running
        day = second // DAY
        world.running_by_day[day] = world.running_by_day.get(day, 0) + running
        world.guard_paused_seconds += self.paused
        world.up_seconds += world.model_status in ("STARTING", "RUNNING", "STOPPING")


def simulate(
    profile: Profile,
    *,
    announcements: bool = True,
    config: PipelineConfig | None = None,
    tps_per_unit: float = TPS_PER_INFERENCE_UNIT,
    start_seconds: float = START_SECONDS,
) -> Outcome:
    """A day of `profile` with the real manager: what happened (billed seconds, starts, stops, per-image waits,
    receives while the model was not running, the DLQ)."""
    run = _Run(profile, announcements, config or PipelineConfig(MODEL_ARN_EXAMPLE), tps_per_unit)
    run.world.start_seconds = start_seconds
    run.world.put(TEST_EVENT, None, 0.0)  # the deploy configures the notifications: S3 sends its test event
    for second in range(profile.seconds):
        run.second(second)
    return run.outcome
