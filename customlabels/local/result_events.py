"""The result events in the local twin (issue 31): moto's EventBridge receives what the function puts (it reads
`AWS_ENDPOINT_URL_EVENTBRIDGE`, as every client does), and a watch rule with the stack's own pattern
(`result_event_pattern`, the stack's ResultEventPattern output) delivers them to a queue, where `local run` collects
them into events.jsonl and `local serve` says how to read them. Any rule a user adds on the bus gets them too."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from customlabels.config import PipelineConfig
from customlabels_runtime.result_events import DEFAULT_BUS, result_event_pattern


@dataclass(frozen=True)
class EventWatch:
    """Where the twin's result events go: the bus the function puts them on and the queue its watch rule fills."""

    bus: str
    queue_url: str
    rule: str
    created_bus: bool = False
    """The twin created the named bus, which on AWS the user must create before deploying (created_bus_note)."""


def watch_result_events(
    events: Any, sqs: Any, config: PipelineConfig, bucket: str, queue_arn: Callable
) -> EventWatch | None:
    """The configured bus (created unless it is the default one: the stack does not create it, so `local run` and
    `local serve` say that AWS needs it created, created_bus_note), a queue, and a rule with the stack's pattern of
    this bucket's result events delivering to it; None with result_events=off."""
    bus = config.result_event_bus
    if bus is None:
        return None
    if bus != DEFAULT_BUS:
        events.create_event_bus(Name=bus)
    queue_url = sqs.create_queue(QueueName=f"{bucket}-result-events")["QueueUrl"]
    rule = f"{bucket}-result-events"
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(result_event_pattern(bucket)))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "watch", "Arn": queue_arn(sqs, queue_url)}])
    return EventWatch(bus, queue_url, rule, created_bus=bus != DEFAULT_BUS)


def created_bus_note(bus: str) -> str:
    """What to do on AWS for a named bus the twin created: the stack only grants PutEvents on it, and PutEvents
    accepts events for a bus that does not exist and drops them with no error (aws/aws-cli#9186,
    localstack/localstack#8264), so neither the function's retries nor ResultEventsFailed would notice."""
    return (
        f"The twin created the bus {bus}; on AWS it must exist before you deploy: aws events create-event-bus "
        f"--name {bus} (the stack does not create it, and PutEvents accepts events for a missing bus and drops "
        "them without an error)"
    )


def collect_events(
    sqs: Any,
    queue_url: str,
    result_keys: set[str],
    timeout: float = 30.0,
    clock: Callable[[], float] = time.monotonic,
) -> list[dict[str, Any]]:
    """Every event the watch queue holds, taken off it, in the order received: until each of `result_keys` has
    one (the function puts it right after writing the result, so it may still be on its way) or `timeout`, then
    whatever else has arrived (a duplicate would show)."""
    collected: list[dict[str, Any]] = []
    deadline = clock() + timeout
    while True:
        announced = {event["detail"]["Result"]["Key"] for event in collected}
        waiting = bool(result_keys - announced) and clock() < deadline
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1 if waiting else 0)
        messages = batch.get("Messages", [])
        for message in messages:
            collected.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if not messages and not waiting:
            return collected


def event_account(events: list[dict[str, Any]], result_keys: Iterable[str]) -> dict[str, Any]:
    """summary.json's `result_events`: the events delivered for the results written, checked by result key (one
    each): the results without an event, those with more than one (EventBridge delivers at least once), and events
    that announce no result of this run."""
    per_key = Counter(event["detail"]["Result"]["Key"] for event in events)
    keys = sorted(set(result_keys))
    return {
        "events": len(events),
        "results": len(keys),
        "without_event": [key for key in keys if not per_key[key]],
        "more_than_one": sorted(key for key, count in per_key.items() if count > 1),
        "not_a_result": sorted(set(per_key) - set(keys)),
    }
