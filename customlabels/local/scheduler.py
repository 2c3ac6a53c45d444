"""The model manager as Lambda runs it here: `ScheduledFunction`, a process invoking its real handler on a schedule
and once for each event that the stack's own upload rule matched (moto's EventBridge evaluates it and delivers
the matches to a queue standing in for Lambda's asynchronous invocations), one at a time, dropping events older
than the function's maximum event age.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from customlabels.local.lambda_runtime import (
    LambdaContext,
    Reports,
    become_environment,
    function_name,
    interrupts_not_inherited,
    load_handler,
    stop_processes,
)


@dataclass(frozen=True)
class ManagerInvocation:
    """One run of the model manager: by its schedule, or by the upload rule for one object (`key`)."""

    trigger: str
    """`Scheduled Event`, `Object Created`, or `expired` for an upload event dropped at its maximum age."""
    key: str | None = None


def is_expired(sent_at: float, now: float, max_event_age: float) -> bool:
    """Lambda drops an asynchronous event that waited longer than the function's maximum event age."""
    return now - sent_at > max_event_age


SCHEDULED_EVENT = {"source": "aws.events", "detail-type": "Scheduled Event"}
"""What EventBridge's schedule sends the function (the fields the manager reads)."""


def _scheduled_main(
    handler_path: str,
    environment: dict[str, str],
    log_path: str,
    interval: float,
    stop: Any,
    invocations_url: str,
    max_event_age: float,
    reports: Any,
) -> None:
    """Invoke the handler every `interval` seconds, and once for each event the upload rule delivered, one at a
    time (reserved concurrency 1), dropping events older than `max_event_age`, as Lambda does."""
    become_environment(environment, log_path)
    import boto3

    sqs = boto3.client("sqs")
    invoke = _invoker(handler_path)
    parent = os.getppid()
    next_tick = time.monotonic() + interval
    while not stop.is_set() and os.getppid() == parent:
        if time.monotonic() >= next_tick:
            invoke(dict(SCHEDULED_EVENT))
            reports.put(ManagerInvocation("Scheduled Event"))
            next_tick = time.monotonic() + interval
        elif (message := _next_event(sqs, invocations_url, function_name(handler_path), stop)) is not None:
            reports.put(_run_for_event(message, invoke, max_event_age))
        else:
            stop.wait(min(0.05, max(0.0, next_tick - time.monotonic())))


def _invoker(handler_path: str) -> Callable[[dict[str, Any]], None]:
    """The handler, invoked as Lambda invokes it asynchronously with no retries: a failed run is logged, and the
    next tick runs again."""
    handler, name = load_handler(handler_path), function_name(handler_path)

    def invoke(event: dict[str, Any]) -> None:
        try:
            handler(
                event, LambdaContext(function_name=name, aws_request_id=str(uuid.uuid4()), started=time.monotonic())
            )
        except Exception as error:  # a failed run is not retried (0 retries); the next tick runs again
            print(f"{name}: invocation failed: {type(error).__name__}: {error}")

    return invoke


def _next_event(sqs: Any, invocations_url: str, name: str, stop: Any) -> dict[str, Any] | None:
    """The next event the upload rule delivered, taken off the queue (Lambda takes an asynchronous event once), or
    None when there is none or the receive failed."""
    try:
        messages = sqs.receive_message(
            QueueUrl=invocations_url,
            MaxNumberOfMessages=1,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["SentTimestamp"],
        ).get("Messages", [])
    except Exception as error:  # the emulated AWS is going away at shutdown
        if not stop.is_set():
            print(f"{name}: receive failed: {error}")
        return None
    if not messages:
        return None
    [message] = messages
    sqs.delete_message(QueueUrl=invocations_url, ReceiptHandle=message["ReceiptHandle"])
    return message


def _run_for_event(
    message: dict[str, Any], invoke: Callable[[dict[str, Any]], None], max_event_age: float
) -> ManagerInvocation:
    """Invoke the handler with the event, unless it waited longer than the maximum event age: then it is dropped."""
    event = json.loads(message["Body"])
    key = event.get("detail", {}).get("object", {}).get("key")
    if is_expired(int(message["Attributes"]["SentTimestamp"]) / 1000, time.time(), max_event_age):
        return ManagerInvocation("expired", key)
    invoke(event)
    return ManagerInvocation(event.get("detail-type", ""), key)


class ScheduledFunction:
    """The model manager in a process of its own, invoked on a schedule and by the upload rule's events."""

    def __init__(
        self,
        handler: str,
        *,
        environment: dict[str, str],
        log_path: Path,
        interval: float,
        invocations_url: str,
        max_event_age: float,
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._reports = Reports(context)
        self._process = context.Process(
            target=_scheduled_main,
            name=f"scheduled-{function_name(handler)}",
            daemon=True,
            args=(
                handler,
                environment,
                str(log_path),
                interval,
                self._stop,
                invocations_url,
                max_event_age,
                self._reports.queue,
            ),
        )

    def start(self) -> ScheduledFunction:
        with interrupts_not_inherited():
            self._process.start()
        return self

    @property
    def invocations(self) -> list[ManagerInvocation]:
        """The runs reported so far; all of them once `stop()` returned."""
        return self._reports.items

    def stop(self) -> None:
        self._stop.set()
        stop_processes([self._process], timeout=30)
        self._reports.close()
