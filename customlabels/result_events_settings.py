"""The configuration of the result events (issue 31): `result_events` is `default` (the account's default event
bus, the default), the name of another bus in the stack's account and region, or `off`. Its own check, beside
the configuration that calls it (`customlabels.config`)."""

from __future__ import annotations

import re
from typing import Any

from customlabels_runtime.result_events import DEFAULT_BUS, EVENT_BUS_VARIABLE

OFF = "off"
BUS_NAME = re.compile(r"[.\-_A-Za-z0-9]{1,256}")
"""A bus name as PutEvents takes it (botocore's NonPartnerEventBusNameOrArn, without the ARN; CreateEventBus: at
most 256 characters)."""


def result_event_bus(value: str) -> str | None:
    """The bus that `result_events=value` puts events on; None when they are off."""
    return None if value == OFF else value


def result_events_environment(value: str) -> dict[str, str]:
    """The inference function's environment for `result_events=value`: the bus, or empty for none."""
    return {EVENT_BUS_VARIABLE: result_event_bus(value) or ""}


def result_events_problems(value: Any) -> list[str]:
    """What is wrong with `result_events` (empty when nothing), naming the fix."""
    if not isinstance(value, str) or not BUS_NAME.fullmatch(value) or value.startswith("aws."):
        return [
            f"result_events={value!r} is not an EventBridge bus name. Fix: -c result_events={DEFAULT_BUS} (the "
            "account's default bus), -c result_events=<bus name> (letters, digits, '.', '-', '_'; at most 256; "
            f"not starting with 'aws.'), or -c result_events={OFF} to put no events"
        ]
    return []
