"""An emulated SQS event source mapping: pollers that hand the real handler Lambda-shaped batches.

Each poller is a process of its own, like a Lambda execution environment: it imports the handler
module once (its cold start), long-polls the queue, invokes the handler with up to `batch_size`
records, deletes what succeeded and leaves the reported `batchItemFailures` to reappear after the
visibility timeout, so SQS counts receives and moves exhausted messages to the DLQ itself.
"""

from __future__ import annotations

import contextlib
import importlib.util
import multiprocessing
import os
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from queue import Empty
from typing import Any

from customlabels.lambda_events import sqs_event

INFERENCE_DIR = Path(__file__).resolve().parents[2] / "lambdas" / "inference"


@dataclass(frozen=True)
class Invocation:
    """One handler invocation, for Lambda GB-second and throughput accounting."""

    environment: int
    duration_seconds: float
    records: int
    failed: int
    error: str | None = None


@dataclass
class LambdaContext:
    function_name: str = "customlabels-inference-local"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:customlabels-inference-local"
    aws_request_id: str = ""
    timeout_seconds: int = 60
    started: float = 0.0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.started + self.timeout_seconds - time.monotonic()) * 1000))


def handler_modules_on_path() -> None:
    """Make the function's own modules (`inference`) importable, as they are in Lambda."""
    if str(INFERENCE_DIR) not in sys.path:
        sys.path.insert(0, str(INFERENCE_DIR))


def load_handler(path: Path = INFERENCE_DIR / "app.py") -> Any:
    """The function's `app.handler`, loaded as Lambda loads it (its folder first on the path)."""
    handler_modules_on_path()
    spec = importlib.util.spec_from_file_location("customlabels_inference_app", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


def _environment_main(index: int, environment: dict[str, str], queue_url: str, queue_arn: str, region: str,
                      batch_size: int, memory_mb: int, timeout_seconds: int, log_path: str,
                      stop: Any, invocations: Any) -> None:
    """One execution environment: poll, invoke, delete successes, report the invocation."""
    os.environ.update(environment)
    log = open(log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    sys.stdout = sys.stderr = log
    import boto3

    sqs = boto3.client("sqs", region_name=region)
    handler = load_handler()
    parent = os.getppid()
    while not stop.is_set() and os.getppid() == parent:  # an orphaned environment stops by itself
        try:
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=batch_size, WaitTimeSeconds=1,
                                           MessageSystemAttributeNames=["All"]).get("Messages", [])
        except Exception as error:  # the emulated AWS is going away at shutdown
            if stop.is_set():
                break
            print(f"poller {index}: receive failed: {error}")
            time.sleep(0.5)
            continue
        if not messages:
            continue
        context = LambdaContext(memory_limit_in_mb=memory_mb, aws_request_id=str(uuid.uuid4()),
                                timeout_seconds=timeout_seconds, started=time.monotonic())
        started = time.perf_counter()
        error_name = None
        try:
            response = handler(sqs_event(messages, queue_arn, region), context)
            failed = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
        except Exception as error:  # a crashed invocation fails its whole batch, as in Lambda
            error_name, failed = type(error).__name__, {m["MessageId"] for m in messages}
        duration = time.perf_counter() - started
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
        invocations.put(Invocation(index, duration, len(messages), len(failed), error_name))


class EventSourceMapping:
    """Starts `max_concurrency` pollers; `stop()` ends them; `invocations` lists what they did."""

    def __init__(self, *, environment: dict[str, str], queue_url: str, queue_arn: str, region: str,
                 batch_size: int, max_concurrency: int, memory_mb: int, timeout_seconds: int, log_path: Path) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._stop = self._context.Event()
        self._reports = self._context.Queue()
        self._arguments = (environment, queue_url, queue_arn, region, batch_size, memory_mb, timeout_seconds,
                           str(log_path))
        self.max_concurrency = max_concurrency
        self.invocations: list[Invocation] = []
        self._processes: list[Any] = []

    def start(self) -> EventSourceMapping:
        for index in range(self.max_concurrency):
            environment, *rest = self._arguments
            process = self._context.Process(target=_environment_main, name=f"lambda-environment-{index}",
                                            args=(index, environment, *rest, self._stop, self._reports),
                                            daemon=True)
            process.start()
            self._processes.append(process)
        return self

    def collect(self) -> list[Invocation]:
        """Move the invocations reported so far into `self.invocations`."""
        with contextlib.suppress(Empty):
            while True:
                self.invocations.append(self._reports.get_nowait())
        return self.invocations

    def stop(self) -> None:
        self._stop.set()
        for process in self._processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
        self.collect()
