"""The result events in the local twin (issue 31): moto's EventBridge receives what the function puts (it reads
`AWS_ENDPOINT_URL_EVENTBRIDGE`, as every client does), and a watch rule with the stack's own pattern
(`result_event_pattern`, the stack's ResultEventPattern output) delivers them to a queue, where `local run` collects
them into events.jsonl and `local serve` says how to read them. Any rule a user adds on the bus gets them too."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
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


def watch_result_events(
    events: Any, sqs: Any, config: PipelineConfig, bucket: str, queue_arn: Callable
) -> EventWatch | None:
    """The configured bus (created unless it is the default one, as the user's own would exist), a queue, and a
    rule with the stack's pattern of this bucket's result events delivering to it; None with result_events=off."""
    bus = config.result_event_bus
    if bus is None:
        return None
    if bus != DEFAULT_BUS:
        events.create_event_bus(Name=bus)
    queue_url = sqs.create_queue(QueueName=f"{bucket}-result-events")["QueueUrl"]
    rule = f"{bucket}-result-events"
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(result_event_pattern(bucket)))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "watch", "Arn": queue_arn(sqs, queue_url)}])
    return EventWatch(bus, queue_url, rule)


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
