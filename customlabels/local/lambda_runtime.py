"""What an emulated Lambda execution environment is, shared by the event source mapping (`esm`) and the schedule
(`scheduler`): a spawned process that imports the real handler once (its cold start) with the function's
environment, its output sent to the log as Lambda sends it to CloudWatch, Ctrl-C left to its owner, and its reports
read back by the parent as they arrive.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

INFERENCE_HANDLER = "customlabels_runtime.inference.handler.handler"
ONNX_INFERENCE_HANDLER = "customlabels_runtime.onnx_inference.handler.handler"
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


def become_environment(environment: dict[str, str], log_path: str) -> None:
    """Set the function's environment and send its output to the log file, as Lambda does with CloudWatch. Ctrl-C
    is for the parent (see `interrupts_not_inherited`); the stop event ends the function's loop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.update(environment)
    log = open(log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    sys.stdout = sys.stderr = log
