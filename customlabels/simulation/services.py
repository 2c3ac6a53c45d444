"""The services around the model manager, simulated on a clock the simulation moves (lifecycle.py): SQS with its
counts, receive counts and redrive rule, Rekognition's model states, the event source mapping's states, and SSM's
parameter. The manager calls them through the same methods and arguments as boto3's clients.

- S3 (lifecycle.py) puts each upload's notification in the queue one second later; the deploy leaves S3's
  `s3:TestEvent` in the queue at time 0.
- SQS: visible and in-flight messages, receive counts, the redrive policy (a receive of a message already
  received `max_receive_count` times moves it to the DLQ), the visibility timeout.
- Rekognition: `StartProjectVersion` takes `start_seconds` (10 minutes) to RUNNING, `StopProjectVersion` 3 minutes
  to STOPPED. Billing counts RUNNING seconds (AWS bills a model from RUNNING to the stop); each RUNNING period is
  kept, for a per-start minimum bill (AWS documents none: a parameter of the report).
- The event source mapping: enabling or disabling takes effect after 5 seconds.
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from customlabels.config import PipelineConfig

START_SECONDS = 600
STOP_SECONDS = 180
MAPPING_SECONDS = 5


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
    start_seconds: float = START_SECONDS
    """How long a start takes (the manager learns it from its own starts)."""
    running_periods: list = field(default_factory=list)
    """[RUNNING from, stopped at (None: still running)] per start, in simulated seconds."""

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
            self.running_periods.append([self.now, None])
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
    def __init__(self, world: World, model_arn: str) -> None:
        self.world, self.model_arn = world, model_arn

    def describe_projects(self, ProjectNames: list[str]) -> dict:
        return {"ProjectDescriptions": [{"ProjectArn": f"arn:aws:rekognition:::project/{ProjectNames[0]}/1"}]}

    def describe_project_versions(self, ProjectArn: str, VersionNames: list[str]) -> dict:
        return {
            "ProjectVersionDescriptions": [{"ProjectVersionArn": self.model_arn, "Status": self.world.model_status}]
        }

    def start_project_version(self, ProjectVersionArn: str, MinInferenceUnits: int, **_: Any) -> dict:
        if self.world.model_status not in ("STOPPED", "TRAINING_COMPLETED"):
            raise client_error("ResourceInUseException", "StartProjectVersion")
        self.world.model_status, self.world.model_until = "STARTING", self.world.now + self.world.start_seconds
        self.world.starts.append(self.world.now)
        return {"Status": "STARTING"}

    def stop_project_version(self, ProjectVersionArn: str) -> dict:
        if self.world.model_status != "RUNNING":
            raise client_error("ResourceInUseException", "StopProjectVersion")
        self.world.model_status, self.world.model_until = "STOPPING", self.world.now + STOP_SECONDS
        self.world.running_periods[-1][1] = self.world.now
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
