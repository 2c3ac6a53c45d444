"""Announcing each written result on EventBridge (`customlabels_runtime.result_events` says what an event is).

Called after the result is written, so an event never announces a result that is not there yet. Publishing never
fails nor retries the image: a put that fails is retried here (botocore retries the call itself; the entries that
PutEvents answers with a retryable ErrorCode are put again), then counted by the `ResultEventsFailed` metric, which
the `ResultEventsFailed` alarm reads, and logged with the result's key; the result stays written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from customlabels_runtime.contract import error_code
from customlabels_runtime.inference.metrics import PipelineMetrics
from customlabels_runtime.result_events import EVENT_BUS_VARIABLE, event_detail, put_events_entry

RETRYABLE_ENTRY_ERRORS = frozenset({"InternalFailure", "ThrottlingException"})
"""The ErrorCodes of a failed PutEvents entry that the API reference calls retryable (PutEventsResultEntry); the
others (AccessDeniedException, InvalidArgument, MalformedDetail, NotAuthorizedForSourceException ...) fail the same
way however often they are tried."""

PUT_ATTEMPTS = 3
"""How many times an entry that failed with a retryable ErrorCode is put, the first time included."""

RETRY_PAUSE_SECONDS = 0.2
"""The pause before the second attempt, doubled before each further one."""


class NoResultEvents:
    """Publishing turned off (`-c result_events=off`): nothing is put."""

    def announce(self, document: Mapping[str, Any], result_key: str) -> bool:
        return False

    def announce_stored(self, bucket: str, result_key: str, s3: Any) -> bool:
        return False


class ResultEvents:
    """Puts one event per written result on `bus`, retrying what PutEvents calls retryable."""

    def __init__(
        self,
        client: Any,
        bus: str,
        metrics: PipelineMetrics,
        logger: Any,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client, self.bus, self.metrics, self.logger, self.sleep = client, bus, metrics, logger, sleep

    def announce(self, document: Mapping[str, Any], result_key: str) -> bool:
        """Put the event of `document` (just written at `result_key`); False, counted and logged, when it failed."""
        entry = put_events_entry(event_detail(document, result_key), self.bus)
        code, message = self._put(entry)
        if code is None:
            return True
        self.logger.error(
            "Result event not put; the result is written, consumers of the events miss it",
            extra={"result_key": result_key, "event_bus": self.bus, "error_code": code, "error_message": message},
        )
        self.metrics.result_event_failed()
        return False

    def announce_stored(self, bucket: str, result_key: str, s3: Any) -> bool:
        """Announce again a result found already written (a message delivered again): the invocation that wrote it
        may have ended before its event was put, so consumers get it at least once."""
        try:
            document = json.loads(s3.get_object(Bucket=bucket, Key=result_key)["Body"].read())
        except Exception as error:  # an unreadable result is not this function's to fix: count it, carry on
            code = _failure_code(error)
            self.logger.error(
                "Result event not put: the stored result could not be read",
                extra={"result_key": result_key, "error_code": code},
            )
            self.metrics.result_event_failed()
            return False
        return self.announce(document, result_key)

    def _put(self, entry: dict) -> tuple[str | None, str]:
        """(None, "") once PutEvents accepted the entry, else the last ErrorCode and message."""
        code, message = "Unknown", ""
        for attempt in range(PUT_ATTEMPTS):
            if attempt:
                self.sleep(RETRY_PAUSE_SECONDS * 2 ** (attempt - 1))
            try:
                answer = self.client.put_events(Entries=[entry])
            except Exception as error:  # botocore already retried the call (its standard mode)
                return _failure_code(error), str(error)
            if not answer.get("FailedEntryCount"):
                return None, ""
            [failed] = answer["Entries"]
            code, message = failed.get("ErrorCode") or "Unknown", failed.get("ErrorMessage") or ""
            if code not in RETRYABLE_ENTRY_ERRORS:
                break
        return code, message


def _failure_code(error: Exception) -> str:
    """AWS's error code for an answer (ClientError), else the exception's name (a timeout, a refused connection)."""
    return error_code(error) if hasattr(error, "response") else type(error).__name__


def result_events_from_environ(
    environ: Mapping[str, str], client: Callable[[], Any], metrics: PipelineMetrics, logger: Any
) -> ResultEvents | NoResultEvents:
    """ResultEvents on the bus the stack named (`RESULT_EVENT_BUS`), or NoResultEvents when it named none.
    `client` builds the EventBridge client only when it is needed."""
    bus = environ.get(EVENT_BUS_VARIABLE, "")
    if not bus:
        return NoResultEvents()
    return ResultEvents(client(), bus, metrics, logger)
