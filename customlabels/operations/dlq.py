"""The dead-letter queue: see which images failed every retry, and send them back once the cause is fixed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from customlabels.operations.stack_outputs import stack_outputs
from customlabels_runtime.contract import TEST_EVENT, UNREADABLE, read_queue_message  # the functions' own reader

EMPTY_ROUNDS = 3
"""Peeking with VisibilityTimeout=0 samples the queue: stop after this many rounds bring nothing new."""


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    keys: tuple[str, ...]
    receive_count: int
    first_received: datetime | None
    problem: str | None = None
    """Why the inference function could not read the message (not an S3 object-created event); None if it could."""
    test_event: bool = False

    @property
    def what(self) -> str:
        """The image column of `dlq list`: the keys, or what the message is when it names none."""
        if self.keys:
            return ", ".join(self.keys)
        if self.problem:
            return f"(unreadable message: {self.problem})"
        return "(S3 test event)" if self.test_event else "(no image record)"


@dataclass(frozen=True)
class Queues:
    queue_url: str
    dead_letter_queue_url: str


def stack_queues(cloudformation: Any, stack_name: str) -> Queues:
    outputs = stack_outputs(cloudformation, stack_name)
    return Queues(outputs["QueueUrl"], outputs["DeadLetterQueueUrl"])


def peek(sqs: Any, dead_letter_queue_url: str, limit: int = 10_000) -> list[DeadLetter]:
    """The messages in the DLQ, left in place (read with a zero visibility timeout)."""
    seen: dict[str, dict] = {}
    empty = 0
    while empty < EMPTY_ROUNDS and len(seen) < limit:
        messages = sqs.receive_message(
            QueueUrl=dead_letter_queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in seen]
        empty = 0 if fresh else empty + 1
        seen.update((m["MessageId"], m) for m in fresh)
    return [_dead_letter(message) for message in seen.values()]


def _dead_letter(message: dict) -> DeadLetter:
    attributes = message.get("Attributes", {})
    first = attributes.get("ApproximateFirstReceiveTimestamp")
    read = read_queue_message(message.get("Body"))
    return DeadLetter(
        message_id=message["MessageId"],
        keys=tuple(item.key for item in read.objects),
        receive_count=int(attributes.get("ApproximateReceiveCount", 0)),
        first_received=datetime.fromtimestamp(int(first) / 1000, UTC) if first else None,
        problem=read.problem if read.kind == UNREADABLE else None,
        test_event=read.kind == TEST_EVENT,
    )


def redrive(sqs: Any, queues: Queues, on_moved: Callable[[int], None] | None = None) -> int:
    """Move every DLQ message back to the work queue; a message is deleted only once it was sent."""
    moved = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=queues.dead_letter_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60, WaitTimeSeconds=1
        ).get("Messages", [])
        if not messages:
            return moved
        sent = sqs.send_message_batch(
            QueueUrl=queues.queue_url,
            Entries=[{"Id": str(index), "MessageBody": message["Body"]} for index, message in enumerate(messages)],
        )
        if sent.get("Failed"):
            raise RuntimeError(f"could not send {len(sent['Failed'])} message(s) back: {sent['Failed'][0]}")
        sqs.delete_message_batch(
            QueueUrl=queues.dead_letter_queue_url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]} for index, message in enumerate(messages)
            ],
        )
        moved += len(messages)
        if on_moved:
            on_moved(len(messages))
