"""An emulated SQS event source mapping: pollers that hand the real handler Lambda-shaped batches.

Each poller is a process of its own, like a Lambda execution environment: it imports the handler
module once (its cold start), long-polls the queue, invokes the handler with up to `batch_size`
records, deletes what succeeded and leaves the reported `batchItemFailures` to reappear after the
visibility timeout, so SQS counts receives and moves exhausted messages to the DLQ itself.

The mapping can be disabled and enabled through the Lambda API (`GetEventSourceMapping`,
`UpdateEventSourceMapping`) that `serve_mapping_api` answers, which is how the model manager gates it.
The model manager itself runs as `ScheduledFunction`: a process invoking its real handler on a schedule
and once for each event that the stack's own upload rule matched (moto's EventBridge evaluates it).
"""

from __future__ import annotations

import importlib
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from customlabels.local.lambda_events import sqs_event

INFERENCE_HANDLER = "customlabels_runtime.inference.handler.handler"
MANAGER_HANDLER = "customlabels_runtime.model_manager.handler.handler"
"""The functions' handlers as the stack names them (module path and function), for `load_handler`."""


class Reports:
    """What child processes report, read by a thread of the parent as it arrives. Read only at the end, a
    long run would fill the pipe, and a child exiting with reports still to flush would block there for ever
    (and a child terminated mid-write would leave a half message that blocks any later read)."""

    def __init__(self, context: Any) -> None:
        self.queue = context.Queue()
        self.items: list[Any] = []
        self._reader = threading.Thread(target=self._read, name="child-reports", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while (item := self.queue.get()) is not None:
            self.items.append(item)

    def close(self, timeout: float = 10.0) -> None:
        """After the children have exited: everything they flushed is read before this end mark."""
        self.queue.put(None)
        self._reader.join(timeout)


def stop_processes(processes: list[Any], timeout: float) -> None:
    """Wait for processes told to stop; terminate one that does not within `timeout` seconds."""
    for process in processes:
        process.join(timeout=timeout)
        if process.is_alive():
            process.terminate()
            process.join(timeout=5)


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


def load_handler(handler: str = INFERENCE_HANDLER) -> Any:
    """The function named by its dotted handler path (`package.module.function`), imported as Lambda imports it.
    Each emulated execution environment is a spawned process, so each imports the module afresh (a cold start)."""
    module, _, function = handler.rpartition(".")
    return getattr(importlib.import_module(module), function)


def function_name(handler: str) -> str:
    """`customlabels_runtime.model_manager.handler.handler` -> `model_manager`."""
    return handler.split(".")[1]


@contextmanager
def interrupts_not_inherited():
    """Processes started inside start with SIGINT ignored (an ignored signal stays ignored across exec, and Python
    then installs no KeyboardInterrupt handler). Ctrl-C reaches a terminal's whole process group: the emulated
    functions must not die with a traceback in the log mid-invocation, but be stopped by their owner, which saves
    what is done first. Outside the main thread (where no signal is delivered) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _become_environment(environment: dict[str, str], log_path: str) -> None:
    """Set the function's environment and send its output to the log file, as Lambda does with CloudWatch. Ctrl-C
    is for the parent (see `interrupts_not_inherited`); the stop event ends the function's loop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.update(environment)
    log = open(log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    sys.stdout = sys.stderr = log


def _environment_main(
    index: int,
    environment: dict[str, str],
    queue_url: str,
    queue_arn: str,
    region: str,
    batch_size: int,
    memory_mb: int,
    timeout_seconds: int,
    log_path: str,
    stop: Any,
    enabled: Any,
    invocations: Any,
) -> None:
    """One execution environment: poll, invoke, delete successes, report the invocation."""
    _become_environment(environment, log_path)
    import boto3

    sqs = boto3.client("sqs", region_name=region)
    handler = load_handler()
    parent = os.getppid()
    while not stop.is_set() and os.getppid() == parent:  # an orphaned environment stops by itself
        if not enabled.is_set():
            time.sleep(0.1)
            continue
        try:
            messages = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=batch_size,
                WaitTimeSeconds=1,
                MessageSystemAttributeNames=["All"],
            ).get("Messages", [])
        except Exception as error:  # the emulated AWS is going away at shutdown
            if stop.is_set():
                break
            print(f"poller {index}: receive failed: {error}")
            time.sleep(0.5)
            continue
        if not messages:
            continue
        context = LambdaContext(
            memory_limit_in_mb=memory_mb,
            aws_request_id=str(uuid.uuid4()),
            timeout_seconds=timeout_seconds,
            started=time.monotonic(),
        )
        started_at, started, cpu_started = time.time(), time.perf_counter(), time.process_time()
        error_name = None
        try:
            response = handler(sqs_event(messages, queue_arn, region), context)
            failed = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
        except Exception as error:  # a crashed invocation fails its whole batch, as in Lambda
            error_name, failed = type(error).__name__, {m["MessageId"] for m in messages}
        duration, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        invocations.put(
            Invocation(index, duration, len(messages), len(failed), error_name, cpu, started_at, context.aws_request_id)
        )


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
        self._arguments = (
            environment,
            queue_url,
            queue_arn,
            region,
            batch_size,
            memory_mb,
            timeout_seconds,
            str(log_path),
        )
        self.max_concurrency = max_concurrency
        self._processes: list[Any] = []

    def start(self) -> EventSourceMapping:
        for index in range(self.max_concurrency):
            environment, *rest = self._arguments
            process = self._context.Process(
                target=_environment_main,
                name=f"lambda-environment-{index}",
                args=(index, environment, *rest, self._stop, self._enabled, self._reports.queue),
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


def serve_mapping_api(mapping: EventSourceMapping) -> ThreadingHTTPServer:
    """The Lambda API's Get/UpdateEventSourceMapping for `mapping`, on 127.0.0.1 (AWS_ENDPOINT_URL_LAMBDA)."""
    path = f"/2015-03-31/event-source-mappings/{mapping.uuid}"

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any], error: str | None = None) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if error:
                self.send_header("x-amzn-ErrorType", error)
            self.end_headers()
            self.wfile.write(payload)

        def _route(self) -> bool:
            if self.path.split("?")[0].rstrip("/") == path:
                return True
            self._answer(
                404,
                {"Type": "User", "Message": f"The resource {self.path} does not exist."},
                "ResourceNotFoundException",
            )
            return False

        def do_GET(self) -> None:
            if self._route():
                self._answer(200, mapping.describe())

        def do_PUT(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            if self._route():
                if "Enabled" in request:
                    mapping.set_enabled(bool(request["Enabled"]))
                self._answer(202, mapping.describe())

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="lambda-api-emulator", daemon=True).start()
    return server


@dataclass(frozen=True)
class ManagerInvocation:
    """One run of the model manager: by its schedule, or by the upload rule for one object (`key`)."""

    trigger: str
    """`Scheduled Event`, `Object Created`, or `expired` for an upload event dropped at its maximum age."""
    key: str | None = None


def is_expired(sent_at: float, now: float, max_event_age: float) -> bool:
    """Lambda drops an asynchronous event that waited longer than the function's maximum event age."""
    return now - sent_at > max_event_age


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
    _become_environment(environment, log_path)
    import boto3

    sqs = boto3.client("sqs")
    handler = load_handler(handler_path)
    name = function_name(handler_path)
    parent = os.getppid()

    def invoke(event: dict[str, Any]) -> None:
        try:
            handler(
                event, LambdaContext(function_name=name, aws_request_id=str(uuid.uuid4()), started=time.monotonic())
            )
        except Exception as error:  # a failed run is not retried (0 retries); the next tick runs again
            print(f"{name}: invocation failed: {type(error).__name__}: {error}")

    next_tick = time.monotonic() + interval
    while not stop.is_set() and os.getppid() == parent:
        if time.monotonic() >= next_tick:
            invoke({"source": "aws.events", "detail-type": "Scheduled Event"})
            reports.put(ManagerInvocation("Scheduled Event"))
            next_tick = time.monotonic() + interval
            continue
        try:
            messages = sqs.receive_message(
                QueueUrl=invocations_url,
                MaxNumberOfMessages=1,
                WaitTimeSeconds=0,
                MessageSystemAttributeNames=["SentTimestamp"],
            ).get("Messages", [])
        except Exception as error:  # the emulated AWS is going away at shutdown
            if stop.is_set():
                break
            print(f"{name}: receive failed: {error}")
            messages = []
        if not messages:
            stop.wait(min(0.05, max(0.0, next_tick - time.monotonic())))
            continue
        [message] = messages
        sqs.delete_message(QueueUrl=invocations_url, ReceiptHandle=message["ReceiptHandle"])
        event = json.loads(message["Body"])
        key = event.get("detail", {}).get("object", {}).get("key")
        if is_expired(int(message["Attributes"]["SentTimestamp"]) / 1000, time.time(), max_event_age):
            reports.put(ManagerInvocation("expired", key))
            continue
        invoke(event)
        reports.put(ManagerInvocation(event.get("detail-type", ""), key))


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
