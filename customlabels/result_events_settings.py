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


OFF_LOOKALIKES = frozenset({"false", "none", "null", "nil", "no", "n", "0", "disabled", "disable", "off"})
DEFAULT_LOOKALIKES = frozenset({"true", "yes", "y", "1", "on", "enabled", "enable", "default"})
"""Words (in any case) that mean off or default but would name a bus of that name: bus names are exact, so
`Default` or `OFF` name buses that do not exist, and `false` would be granted as event-bus/false."""


def meant_setting(value: Any) -> str | None:
    """`off` or `default` when `value` looks like one of them without being it exactly (`false`, `OFF`, `Default`,
    a JSON false, true or null); None otherwise."""
    if value is None or value is False:
        return OFF
    if value is True:
        return DEFAULT_BUS
    if not isinstance(value, str) or value in (OFF, DEFAULT_BUS):
        return None
    word = value.strip().lower()
    return OFF if word in OFF_LOOKALIKES else DEFAULT_BUS if word in DEFAULT_LOOKALIKES else None


BUS_ARN = re.compile(r"arn:[^:]+:events:[^:]*:[^:]*:event-bus/(?P<name>.+)")


def result_events_problems(value: Any, flag: str | None = None) -> list[str]:
    """What is wrong with `result_events` (empty when nothing), naming the fix the way the user gave it: as a CDK
    context value (`-c result_events=...`, the default) or as a command's `flag` (`--result-events ...`)."""
    spell = f"{flag} {{}}".format if flag else "-c result_events={}".format
    given = f"{flag} {value!r}" if flag else f"result_events={value!r}"
    choices = (
        f"{spell(DEFAULT_BUS)} (the account's default bus), {spell('<bus name>')} (letters, digits, '.', '-', '_'; "
        f"at most 256; not starting with 'aws.'), or {spell(OFF)} to put no events"
    )
    if meant := meant_setting(value):
        return [
            f"{given} looks like {meant} but would be taken as the name of a bus (bus names are exact): did you "
            f"mean {meant}? Fix: {spell(meant)}"
        ]
    if isinstance(value, str) and (arn := BUS_ARN.fullmatch(value)):
        return [
            f"{given} is an ARN: give the bus's name, not its ARN. Fix: {spell(arn['name'])} (a bus in the "
            "stack's account and region; a bus of another account is not supported)"
        ]
    if not isinstance(value, str) or not BUS_NAME.fullmatch(value) or value.startswith("aws."):
        return [f"{given} is not an EventBridge bus name. Fix: {choices}"]
    return []
