"""The model lifecycle on a simulated clock: the REAL model manager (`manage`: observe, decide, act) against
simulated AWS services, for a day of each workload profile.

    python -m bench.lifecycle            (also part of `make bench`)

What is simulated, at a one-second step (every figure of the pipeline comes from `PipelineConfig`'s defaults):

- S3: each upload puts its notification in the queue one second later, and sends EventBridge's `Object Created`
  (the announcement) at once, so an announced run can look before the message is there. The deploy leaves
  S3's `s3:TestEvent` in the queue at time 0.
- SQS: visible and in-flight messages, receive counts, the redrive policy (a receive of a message already
  received `max_receive_count` times moves it to the DLQ), the visibility timeout.
- Rekognition: `StartProjectVersion` takes 10 minutes to RUNNING, `StopProjectVersion` 3 minutes to STOPPED;
  the model answers `TPS_PER_INFERENCE_UNIT` x units images a second, only while RUNNING. Billing counts RUNNING
  seconds (AWS bills a model from RUNNING to the stop).
- The event source mapping: enabling or disabling takes effect after 5 seconds; while effective it receives
  up to the model's capacity each second, and a result is written one second after the receive. A receive
  while the model is not RUNNING fails and the message waits a visibility timeout (and counts toward the DLQ).
- Lambda's asynchronous invocation of the manager: the schedule (every `manager_interval_minutes`) and one
  announcement per image go to one queue; reserved concurrency 1 and a run of 0.5 s serve two a second, in
  order; 0 retries and events older than 60 s are dropped.

`simulate` returns what happened (billed seconds, starts, stops, per-image latency, receives while the model was
not running, DLQ); tests/unit/test_lifecycle_simulation.py checks the promises of docs/model-lifecycle.md on it.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import sys
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from customlabels.config import MODEL_ARN_EXAMPLE, TPS_PER_INFERENCE_UNIT, PipelineConfig
from customlabels_runtime.model_manager.dependencies import Dependencies, Settings
from customlabels_runtime.model_manager.logic import manage
from customlabels_runtime.model_manager.messages import announced_image, announcement_time
from customlabels_runtime.model_manager.observe import project_arn

EPOCH = datetime(2026, 11, 23, tzinfo=UTC)
START_SECONDS = 600
STOP_SECONDS = 180
MAPPING_SECONDS = 5
NOTIFICATION_SECONDS = 1
MANAGER_RUNS_PER_SECOND = 2
MAX_EVENT_AGE_SECONDS = 60
SCHEDULE_OFFSET_SECONDS = 30
DAY = 24 * 3600


# --- workloads -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    name: str
    uploads: tuple[float, ...]
    """Upload times, in seconds after the deploy."""
    seconds: int = DAY + 3600


def burst(at: float, images: int, per_second: float) -> tuple[float, ...]:
    return tuple(at + index / per_second for index in range(images))


PROFILES = (
    Profile("10,000-image burst", burst(600, 10_000, 50)),
    Profile("trickle, 1 image / 5 min", tuple(600.0 + 300 * index for index in range(288))),
    Profile(
        "3 bursts a day (3 x 1,000)",
        burst(8 * 3600, 1000, 20) + burst(12 * 3600, 1000, 20) + burst(16 * 3600, 1000, 20),
    ),
    Profile("a day with no images", ()),
)
FLOOD = Profile(
    "flood, 1 image / 10 s all day",
    tuple(600.0 + 10 * index for index in range((DAY - 600) // 10)),
    seconds=DAY + 2 * 3600,
)
"""The flood: a client stuck in a loop keeps an on-demand model busy around the clock; the spend guard's budget
(`max_model_hours_per_day`) bounds its bill per UTC day (the simulation starts at 00:00 UTC)."""


# --- the simulated services ------------------------------------------------------------------------------


def client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


@dataclass
class Message:
    id: int
    body: str
    image: int | None
    """Index of the upload, None for S3's test event."""
    receives: int = 0
    visible_at: float = 0.0
    delivered: bool = False
    """False until S3's notification reaches the queue (not counted by SQS before)."""


@dataclass
class World:
    config: PipelineConfig
    now: float = 0.0
    model_status: str = "STOPPED"
    model_until: float = 0.0
    mapping_state: str = "Disabled"
    mapping_until: float = 0.0
    state_value: str = "{}"
    visible: deque = field(default_factory=deque)
    hidden: list = field(default_factory=list)
    """Heap of (visible_at, id) for messages in flight or not yet delivered."""
    messages: dict = field(default_factory=dict)
    dead_letters: list = field(default_factory=list)
    received_while_not_running: int = 0
    running_seconds: int = 0
    up_seconds: int = 0
    starts: list = field(default_factory=list)
    stops: list = field(default_factory=list)
    queued_at_stops: list = field(default_factory=list)
    in_flight_at_stops: list = field(default_factory=list)
    guard_stops: list = field(default_factory=list)
    """Times of the stops the spend guard made (its budget used up), which may leave images waiting."""
    running_by_day: dict = field(default_factory=dict)
    """UTC day (0 = the first) -> RUNNING seconds billed that day."""
    guard_paused_seconds: int = 0
    """Seconds during which the manager's last run reported the spend guard's pause (what its alarm shows)."""
    ids: Any = field(default_factory=itertools.count)
    undelivered: int = 0

    # SQS -----------------------------------------------------------------------------------------------
    @property
    def max_receives(self) -> int:
        return self.config.max_receive_count

    def put(self, body: str, image: int | None, at: float) -> None:
        message = Message(next(self.ids), body, image, visible_at=at)
        self.messages[message.id] = message
        self.undelivered += 1
        heapq.heappush(self.hidden, (at, message.id))

    def release_due(self) -> None:
        while self.hidden and self.hidden[0][0] <= self.now:
            _, message_id = heapq.heappop(self.hidden)
            message = self.messages.get(message_id)
            if message is not None and message.visible_at <= self.now:
                if not message.delivered:
                    message.delivered = True
                    self.undelivered -= 1
                self.visible.append(message_id)

    def receive(self, count: int, visibility: float) -> list[Message]:
        """SQS's receive with its redrive rule: a message already received max_receives times goes to the DLQ."""
        taken = []
        while self.visible and len(taken) < count:
            message = self.messages.get(self.visible.popleft())
            if message is None or message.visible_at > self.now:
                continue
            if message.receives >= self.max_receives:
                del self.messages[message.id]
                self.dead_letters.append(message)
                continue
            message.receives += 1
            message.visible_at = self.now + visibility
            heapq.heappush(self.hidden, (message.visible_at, message.id))
            taken.append(message)
        return taken

    def make_visible(self, message: Message) -> None:
        message.visible_at = self.now
        self.visible.appendleft(message.id)

    def delete(self, message: Message) -> None:
        self.messages.pop(message.id, None)

    def counts(self) -> tuple[int, int]:
        """(visible, in flight) as SQS counts them: a notification on its way is not in the queue yet."""
        visible = sum(1 for message_id in self.visible if message_id in self.messages)
        return visible, len(self.messages) - visible - self.undelivered

    # Rekognition and the mapping ----------------------------------------------------------------------
    def advance_services(self) -> None:
        if self.model_status == "STARTING" and self.now >= self.model_until:
            self.model_status = "RUNNING"
        if self.model_status == "STOPPING" and self.now >= self.model_until:
            self.model_status = "STOPPED"
        if self.mapping_state in ("Enabling", "Disabling") and self.now >= self.mapping_until:
            self.mapping_state = "Enabled" if self.mapping_state == "Enabling" else "Disabled"

    @property
    def polling(self) -> bool:
        """Lambda's pollers receive while the mapping is Enabled, and until a disable has taken effect."""
        return self.mapping_state in ("Enabled", "Disabling")


class FakeSQS:
    def __init__(self, world: World) -> None:
        self.world = world

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict:
        visible, hidden = self.world.counts()
        return {
            "Attributes": {
                "ApproximateNumberOfMessages": str(visible),
                "ApproximateNumberOfMessagesNotVisible": str(hidden),
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": "arn:aws:sqs:::dlq", "maxReceiveCount": self.world.max_receives}
                ),
            }
        }

    def receive_message(
        self, QueueUrl: str, MaxNumberOfMessages: int, VisibilityTimeout: int, WaitTimeSeconds: int = 0
    ) -> dict:
        taken = self.world.receive(MaxNumberOfMessages, VisibilityTimeout)
        return {
            "Messages": [
                {"MessageId": str(m.id), "ReceiptHandle": f"{m.id}:{m.receives}", "Body": m.body} for m in taken
            ]
        }

    def _entries(self, entries: list[dict]) -> list[tuple[dict, Message | None]]:
        return [(entry, self.world.messages.get(int(entry["ReceiptHandle"].split(":")[0]))) for entry in entries]

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
        for _, message in self._entries(Entries):
            if message is not None:
                self.world.delete(message)
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries]}

    def change_message_visibility_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
        for _, message in self._entries(Entries):
            if message is not None:
                self.world.make_visible(message)
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries]}


class FakeRekognition:
    def __init__(self, world: World) -> None:
        self.world = world

    def describe_projects(self, ProjectNames: list[str]) -> dict:
        return {"ProjectDescriptions": [{"ProjectArn": f"arn:aws:rekognition:::project/{ProjectNames[0]}/1"}]}

    def describe_project_versions(self, ProjectArn: str, VersionNames: list[str]) -> dict:
        return {"ProjectVersionDescriptions": [{"Status": self.world.model_status}]}

    def start_project_version(self, ProjectVersionArn: str, MinInferenceUnits: int, **_: Any) -> dict:
        if self.world.model_status not in ("STOPPED", "TRAINING_COMPLETED"):
            raise client_error("ResourceInUseException", "StartProjectVersion")
        self.world.model_status, self.world.model_until = "STARTING", self.world.now + START_SECONDS
        self.world.starts.append(self.world.now)
        return {"Status": "STARTING"}

    def stop_project_version(self, ProjectVersionArn: str) -> dict:
        if self.world.model_status != "RUNNING":
            raise client_error("ResourceInUseException", "StopProjectVersion")
        self.world.model_status, self.world.model_until = "STOPPING", self.world.now + STOP_SECONDS
        self.world.stops.append(self.world.now)
        self.world.queued_at_stops.append(sum(self.world.counts()))
        self.world.in_flight_at_stops.append(self.world.counts()[1])
        return {"Status": "STOPPING"}


class FakeLambda:
    def __init__(self, world: World) -> None:
        self.world = world

    def get_event_source_mapping(self, UUID: str) -> dict:
        return {"UUID": UUID, "State": self.world.mapping_state}

    def update_event_source_mapping(self, UUID: str, Enabled: bool) -> dict:
        if self.world.mapping_state not in ("Enabled", "Disabled"):
            raise client_error("ResourceInUseException", "UpdateEventSourceMapping")
        self.world.mapping_state = "Enabling" if Enabled else "Disabling"
        self.world.mapping_until = self.world.now + MAPPING_SECONDS
        return {"UUID": UUID, "State": self.world.mapping_state}


class FakeSSM:
    def __init__(self, world: World) -> None:
        self.world = world

    def get_parameter(self, Name: str) -> dict:
        if self.world.state_value is None:
            raise client_error("ParameterNotFound", "GetParameter")
        return {"Parameter": {"Name": Name, "Value": self.world.state_value}}

    def put_parameter(self, Name: str, Value: str, **_: Any) -> dict:
        self.world.state_value = Value
        return {"Version": 1}


class Quiet:
    """Logger and metrics that keep nothing (the simulation runs the manager a few thousand times)."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def s3_event(key: str) -> str:
    return json.dumps(
        {
            "Records": [
                {
                    "eventSource": "aws:s3",
                    "eventName": "ObjectCreated:Put",
                    "s3": {"bucket": {"name": "bucket"}, "object": {"key": key, "size": 1}},
                }
            ]
        }
    )


TEST_EVENT = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "bucket"})


# --- the simulation --------------------------------------------------------------------------------------


@dataclass
class Outcome:
    profile: str
    announcements: bool
    config: PipelineConfig
    images: int
    results: dict[int, float]
    """Upload index -> time its result was written."""
    uploads: tuple[float, ...]
    running_seconds: int
    up_seconds: int
    starts: list[float]
    stops: list[float]
    queued_at_stops: list[int]
    received_while_not_running: int
    dead_letters: int
    manager_runs: int
    announcements_dropped: int
    manager_errors: list[str]
    end_status: str
    end_queued: int
    in_flight_at_stops: list[int] = field(default_factory=list)
    guard_stops: list[float] = field(default_factory=list)
    running_by_day: dict[int, int] = field(default_factory=dict)
    guard_paused_seconds: int = 0

    @property
    def capacity(self) -> float:
        return TPS_PER_INFERENCE_UNIT * self.config.max_inference_units

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
    def last_result(self) -> float | None:
        return max(self.results.values(), default=None)

    @property
    def stop_after_last_result(self) -> float | None:
        """Seconds from the last result to the stop that followed it."""
        last = self.last_result
        later = [stop for stop in self.stops if last is not None and stop >= last]
        return min(later) - last if later else None


def simulate(profile: Profile, *, announcements: bool = True, config: PipelineConfig | None = None) -> Outcome:
    config = config or PipelineConfig(MODEL_ARN_EXAMPLE)
    world = World(config)
    settings = Settings.from_environ(
        {**config.manager_environment(), "QUEUE_URL": "queue", "MAPPING_UUID": "mapping", "STATE_PARAMETER": "/state"}
    )
    rekognition, quiet = FakeRekognition(world), Quiet()
    deps = Dependencies(
        settings=settings,
        project=project_arn(rekognition, settings.model_arn),
        rekognition=rekognition,
        sqs=FakeSQS(world),
        lambda_=FakeLambda(world),
        ssm=FakeSSM(world),
        logger=quiet,
        metrics=quiet,
    )
    capacity = TPS_PER_INFERENCE_UNIT * config.max_inference_units
    interval = config.manager_interval_minutes * 60
    keys = [f"{config.input_prefix}day/{index:05d}.jpg" for index in range(len(profile.uploads))]
    pending_uploads = deque(sorted(range(len(profile.uploads)), key=lambda index: profile.uploads[index]))
    invocations: deque[tuple[float, dict]] = deque()
    in_flight: list[Message] = []
    results: dict[int, float] = {}
    runs, dropped, errors, paused = 0, 0, [], False
    world.put(TEST_EVENT, None, 0.0)  # the deploy configures the notifications: S3 sends its test event

    for second in range(profile.seconds):
        world.now = float(second)
        world.advance_services()
        # The batch received a second ago: answered if the model runs, else back after the visibility timeout.
        for message in in_flight:
            if message.id in world.messages and world.model_status == "RUNNING":
                if message.image is not None:
                    results.setdefault(message.image, world.now)
                world.delete(message)
        in_flight = []
        while pending_uploads and profile.uploads[pending_uploads[0]] <= world.now:
            index = pending_uploads.popleft()
            world.put(s3_event(keys[index]), index, world.now + NOTIFICATION_SECONDS)
            if announcements:
                invocations.append(
                    (
                        world.now,
                        {
                            "source": "aws.s3",
                            "detail-type": "Object Created",
                            "time": (EPOCH + timedelta(seconds=world.now)).isoformat(),
                            "detail": {"bucket": {"name": "bucket"}, "object": {"key": keys[index]}},
                        },
                    )
                )
        world.release_due()
        if world.polling:
            batch = world.receive(capacity, config.visibility_timeout_seconds)
            if batch and world.model_status != "RUNNING":
                world.received_while_not_running += sum(1 for message in batch if message.image is not None)
            in_flight = batch
        if second % interval == SCHEDULE_OFFSET_SECONDS:
            invocations.append((world.now, {"source": "aws.events", "detail-type": "Scheduled Event"}))
        for slot in range(MANAGER_RUNS_PER_SECOND):
            while invocations and world.now - invocations[0][0] > MAX_EVENT_AGE_SECONDS:
                if invocations.popleft()[1]["detail-type"] == "Object Created":
                    dropped += 1
            if not invocations:
                break
            world.now = second + (slot + 0.5) / MANAGER_RUNS_PER_SECOND
            _, event = invocations.popleft()
            runs += 1
            now = EPOCH + timedelta(seconds=world.now)
            try:
                answer = manage(
                    deps,
                    now=now,
                    work_announced=announced_image(event, settings.input_prefix),
                    announced_at=announcement_time(event, now),
                )
                paused = bool(answer.get("paused"))
                if answer["stop"] and paused:
                    world.guard_stops.append(world.stops[-1])
            except Exception as error:
                errors.append(f"{world.now:.1f}s: {type(error).__name__}: {error}")
        world.now = float(second)
        world.running_seconds += world.model_status == "RUNNING"
        day = second // DAY
        world.running_by_day[day] = world.running_by_day.get(day, 0) + (world.model_status == "RUNNING")
        world.guard_paused_seconds += paused
        world.up_seconds += world.model_status in ("STARTING", "RUNNING", "STOPPING")

    return Outcome(
        profile.name,
        announcements,
        config,
        len(profile.uploads),
        results,
        profile.uploads,
        world.running_seconds,
        world.up_seconds,
        world.starts,
        world.stops,
        world.queued_at_stops,
        world.received_while_not_running,
        len(world.dead_letters),
        runs,
        dropped,
        errors,
        world.model_status,
        sum(world.counts()),
        world.in_flight_at_stops,
        world.guard_stops,
        world.running_by_day,
        world.guard_paused_seconds,
    )


# --- the report ------------------------------------------------------------------------------------------


def minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:,.1f}"


def unit_hours_per_1000(outcome: Outcome) -> str:
    """What the profile costs per 1,000 images in inference-unit hours, against the physical minimum."""
    if not outcome.images:
        return "-"
    units = outcome.config.max_inference_units
    billed, minimum = (
        seconds / 3600 * units / outcome.images * 1000
        for seconds in (outcome.running_seconds, outcome.minimum_running_seconds)
    )
    return f"{billed:.3f} / {minimum:.3f}"


def first(outcome: Outcome) -> str:
    """Minutes from the first upload to its result."""
    return minutes(outcome.latencies[0]) if outcome.latencies else "-"


def table(pairs: list[tuple[Outcome, Outcome]]) -> list[str]:
    """Markdown rows: each profile as deployed (on-upload trigger + schedule), and with the schedule alone."""
    rows = [
        "| profile | images | starts | billed min (RUNNING) | minimum billed (processing at capacity) | "
        "up min (STARTING to STOPPED) | minimum up (start + processing) | stop after last result (min) | "
        "first image's result (min) | worst result (min) | schedule alone: billed min / starts / first / worst | "
        "inference-unit hours per 1,000 images: billed / minimum (images / capacity) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for ours, alone in pairs:
        rows.append(
            f"| {ours.profile} | {ours.images:,} | {len(ours.starts)} | {minutes(ours.running_seconds)} | "
            f"{minutes(ours.minimum_running_seconds)} | {minutes(ours.up_seconds)} | "
            f"{minutes(ours.minimum_up_seconds)} | {minutes(ours.stop_after_last_result)} | "
            f"{first(ours)} | {minutes(max(ours.latencies, default=None))} | "
            f"{minutes(alone.running_seconds)} / {len(alone.starts)} / {first(alone)} / "
            f"{minutes(max(alone.latencies, default=None))} | {unit_hours_per_1000(ours)} |"
        )
    return rows


PRICE_PER_INFERENCE_UNIT_HOUR = 4.0
"""USD, the README's order of magnitude (check the Rekognition pricing page)."""


def spend_table(outcomes: list[Outcome]) -> list[str]:
    """Markdown rows: billed model hours per UTC day and what happened to the images, for each budget."""
    rows = [
        "| profile | budget (h/day) | billed h, day 1 | billed h, day 2 (first 2 h) | USD day 1 (1 IU at "
        f"{PRICE_PER_INFERENCE_UNIT_HOUR:.2f}) | images | answered | still queued at the end | in the DLQ | "
        "guard stops | alarm raised (h) | worst wait (h) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for outcome in outcomes:
        budget = outcome.config.effective_max_model_hours_per_day
        day_one = outcome.running_by_day.get(0, 0) / 3600
        rows.append(
            f"| {outcome.profile} | {budget or 'none'} | {day_one:.2f} | "
            f"{outcome.running_by_day.get(1, 0) / 3600:.2f} | "
            f"{day_one * outcome.config.max_inference_units * PRICE_PER_INFERENCE_UNIT_HOUR:.2f} | "
            f"{outcome.images:,} | {len(outcome.results):,} | {outcome.end_queued:,} | {outcome.dead_letters} | "
            f"{len(outcome.guard_stops)} | {outcome.guard_paused_seconds / 3600:.2f} | "
            f"{max(outcome.latencies, default=0) / 3600:.2f} |"
        )
    return rows


def flood_outcomes() -> list[Outcome]:
    """The flood with the default budget (12 h on demand) and without one (24)."""
    return [simulate(FLOOD), simulate(FLOOD, config=PipelineConfig(MODEL_ARN_EXAMPLE, max_model_hours_per_day=24))]


def run_all() -> list[tuple[Outcome, Outcome]]:
    return [(simulate(profile), simulate(profile, announcements=False)) for profile in PROFILES]


def assumptions() -> str:
    config = PipelineConfig(MODEL_ARN_EXAMPLE)
    return (
        f"idle_minutes {config.idle_minutes}, manager every {config.manager_interval_minutes} min, "
        f"{config.max_inference_units} inference unit ({TPS_PER_INFERENCE_UNIT} images/s), start "
        f"{START_SECONDS // 60} min, stop {STOP_SECONDS // 60} min, maxReceiveCount {config.max_receive_count}, "
        f"announcements: async, reserved concurrency 1, 0 retries, dropped after {MAX_EVENT_AGE_SECONDS} s"
    )


def main() -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    pairs = run_all()
    print(f"Model lifecycle simulation ({assumptions()})")
    print("\n".join(table(pairs)))
    print("\nThe spend guard on the flood")
    print("\n".join(spend_table(flood_outcomes())))
    return 0 if all(not a.manager_errors and not s.manager_errors for a, s in pairs) else 1


if __name__ == "__main__":
    sys.exit(main())
