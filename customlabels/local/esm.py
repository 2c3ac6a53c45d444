"""An emulated SQS event source mapping: pollers that hand the real handler Lambda-shaped batches.

Each poller is a process of its own, like a Lambda execution environment (`lambda_runtime`): it imports the
handler module once (its cold start), long-polls the queue, invokes the handler with up to `batch_size` records,
deletes what succeeded and leaves the reported `batchItemFailures` to reappear after the visibility timeout, so
SQS counts receives and moves exhausted messages to the DLQ itself. The mapping can be disabled and enabled
through the Lambda API (`lambda_api`), which is how the model manager gates it.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from customlabels.local.lambda_events import sqs_event
from customlabels.local.lambda_runtime import (
    INFERENCE_HANDLER,
    LambdaContext,
    Reports,
    become_environment,
    interrupts_not_inherited,
    load_handler,
    stop_processes,
)


@dataclass(frozen=True)
class Invocation:
    """One handler invocation, for Lambda GB-second and throughput accounting."""

    environment: int
    duration_seconds: float
    records: int
    failed: int
    error: str | None = None
    cpu_seconds: float = 0.0
    """CPU time of the execution environment's process during the invocation (the handler's own work)."""
    started_at: float = 0.0
    """Wall-clock time (`time.time()`) the invocation started: with `duration_seconds`, the gaps between them."""
    request_id: str = ""
    """The invocation's `aws_request_id`, which the function's log lines carry as `function_request_id`."""


@dataclass(frozen=True)
class Poller:
    """What each execution environment of the mapping is given (pickled into its process)."""

    environment: dict[str, str]
    queue_url: str
    queue_arn: str
    region: str
    batch_size: int
    memory_mb: int
    timeout_seconds: int
    log_path: str
    handler: str = INFERENCE_HANDLER
    """The function's handler as the stack names it (the onnx backend's is another)."""


def _environment_main(index: int, poller: Poller, stop: Any, enabled: Any, invocations: Any) -> None:
    """One execution environment: poll, invoke, delete successes, report the invocation."""
    become_environment(poller.environment, poller.log_path)
    import boto3

    sqs = boto3.client("sqs", region_name=poller.region)
    handler = load_handler(poller.handler)
    parent = os.getppid()
    while not stop.is_set() and os.getppid() == parent:  # an orphaned environment stops by itself
        if not enabled.is_set():
            time.sleep(0.1)
            continue
        messages = _receive(sqs, poller, index, stop)
        if messages:
            invocations.put(_invoke(handler, sqs, messages, poller, index))


def _receive(sqs: Any, poller: Poller, index: int, stop: Any) -> list[dict[str, Any]]:
    """Up to a batch of messages, after a long poll of one second; none when the receive failed."""
    try:
        return sqs.receive_message(
            QueueUrl=poller.queue_url,
            MaxNumberOfMessages=poller.batch_size,
            WaitTimeSeconds=1,
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
    except Exception as error:  # the emulated AWS is going away at shutdown
        if not stop.is_set():
            print(f"poller {index}: receive failed: {error}")
            time.sleep(0.5)
        return []


def _invoke(handler: Any, sqs: Any, messages: list[dict[str, Any]], poller: Poller, index: int) -> Invocation:
    """One invocation with the batch, as Lambda makes it: the records it did not report failed are deleted, the
    others reappear after the visibility timeout; a crashed invocation fails its whole batch."""
    context = LambdaContext(
        memory_limit_in_mb=poller.memory_mb,
        aws_request_id=str(uuid.uuid4()),
        timeout_seconds=poller.timeout_seconds,
        started=time.monotonic(),
    )
    started_at, started, cpu_started = time.time(), time.perf_counter(), time.process_time()
    error_name = None
    try:
        response = handler(sqs_event(messages, poller.queue_arn, poller.region), context)
        failed = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
    except Exception as error:  # a crashed invocation fails its whole batch, as in Lambda
        error_name, failed = type(error).__name__, {m["MessageId"] for m in messages}
    duration, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    done = [m for m in messages if m["MessageId"] not in failed]
    if done:
        sqs.delete_message_batch(
            QueueUrl=poller.queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
        )
    return Invocation(index, duration, len(messages), len(failed), error_name, cpu, started_at, context.aws_request_id)


class EventSourceMapping:
    """Starts `max_concurrency` pollers; `stop()` ends them; `invocations` lists what they did."""

    def __init__(
        self,
        *,
        environment: dict[str, str],
        queue_url: str,
        queue_arn: str,
        region: str,
        batch_size: int,
        max_concurrency: int,
        memory_mb: int,
        timeout_seconds: int,
        log_path: Path,
        enabled: bool = True,
        handler: str = INFERENCE_HANDLER,
    ) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._stop = self._context.Event()
        self._enabled = self._context.Event()
        if enabled:
            self._enabled.set()
        self.uuid = str(uuid.uuid4())
        self.queue_arn = queue_arn
        self.batch_size = batch_size
        self._reports = Reports(self._context)
        self._poller = Poller(
            environment, queue_url, queue_arn, region, batch_size, memory_mb, timeout_seconds, str(log_path), handler
        )
        self.max_concurrency = max_concurrency
        self._processes: list[Any] = []

    def start(self) -> EventSourceMapping:
        for index in range(self.max_concurrency):
            process = self._context.Process(
                target=_environment_main,
                name=f"lambda-environment-{index}",
                args=(index, self._poller, self._stop, self._enabled, self._reports.queue),
                daemon=True,
            )
            with interrupts_not_inherited():
                process.start()
            self._processes.append(process)
        return self

    @property
    def enabled(self) -> bool:
        return self._enabled.is_set()

    def set_enabled(self, enabled: bool) -> None:
        (self._enabled.set if enabled else self._enabled.clear)()

    def describe(self) -> dict[str, Any]:
        """The mapping as the Lambda API describes it."""
        return {
            "UUID": self.uuid,
            "State": "Enabled" if self.enabled else "Disabled",
            "EventSourceArn": self.queue_arn,
            "BatchSize": self.batch_size,
            "FunctionArn": LambdaContext.invoked_function_arn,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "ScalingConfig": {"MaximumConcurrency": self.max_concurrency},
        }

    @property
    def invocations(self) -> list[Invocation]:
        """The invocations reported so far; all of them once `stop()` returned."""
        return self._reports.items

    def stop(self) -> None:
        self._stop.set()
        stop_processes(self._processes, timeout=30)
        self._reports.close()
