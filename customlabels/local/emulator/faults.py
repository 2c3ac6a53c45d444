"""Faults the emulated model answers with: rates drawn from a seeded generator, and plans that fire for certain.

`--faults throttle=0.1,internal=0.02` and `--fault-plan throttle:3,internal@*/bad.jpg` are read here
(`parse_faults`, `parse_fault_plan`), and `injected_fault` decides, call by call, which error (if any) a
DetectCustomLabels call gets.
"""

from __future__ import annotations

import fnmatch
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass

from customlabels.local.emulator.errors import OptionError, ServiceError

FAULT_ALIASES = {
    "throttle": "ThrottlingException",
    "throughput": "ProvisionedThroughputExceededException",
    "internal": "InternalServerError",
    "not-ready": "ResourceNotReadyException",
}


@dataclass(frozen=True)
class PlannedFault:
    """Answer DetectCustomLabels with `code` for each image whose key matches `keys` (a glob): its first
    `calls` calls, or every call when `calls` is None. Unlike a rate, a plan fires for certain, so a test
    that says "the retry path ran" is true on every run."""

    code: str
    calls: int | None = None
    keys: str = "*"

    def fires(self, key: str, call_number: int) -> bool:
        return fnmatch.fnmatchcase(key, self.keys) and (self.calls is None or call_number <= self.calls)


def fault_code(name: str, spec: str) -> str:
    """An alias (`throttle`, ...) or an error code in Rekognition's style (`...Exception`, `...Error`)."""
    name = name.strip()
    if name in FAULT_ALIASES:
        return FAULT_ALIASES[name]
    if re.fullmatch(r"[A-Z][A-Za-z]+(Exception|Error)", name):
        return name
    raise OptionError(
        "{spec!r}: unknown error {name!r}; use {aliases} or an error code such as ImageTooLargeException",
        spec=spec,
        name=name,
        aliases=", ".join(FAULT_ALIASES),
    )


def parse_faults(spec: str | Mapping[str, float] | None) -> dict[str, float]:
    """`throttle=0.1,internal=0.02` (aliases or real error codes) -> {error code: rate 0-1}."""
    if not spec:
        return {}
    if isinstance(spec, Mapping):
        items = [(name, str(rate)) for name, rate in spec.items()]
    else:
        items = [part.partition("=")[::2] for part in spec.split(",") if part.strip()]
    faults = {}
    for name, rate in items:
        try:
            value = float(rate)
        except ValueError:
            raise OptionError(
                "fault {name}={rate!r}: use NAME=RATE with a rate from 0 to 1, e.g. throttle=0.1",
                name=name.strip(),
                rate=rate,
            ) from None
        if not 0 <= value <= 1:
            raise OptionError("fault rate for {name} must be between 0 and 1, got {value}", name=name, value=value)
        faults[fault_code(name, f"{name}={rate}")] = value
    return faults


def parse_fault_plan(spec: str | None) -> list[PlannedFault]:
    """`throttle:5` (the first 5 calls for each image), `internal@*/bad.jpg` (every call for matching keys),
    `not-ready:1@test_images/a*`; several separated by commas; aliases as in `parse_faults` or error codes. Without
    a number of calls, every call fails."""
    return [_planned_fault(part.strip()) for part in (spec or "").split(",") if part.strip()]


def _planned_fault(part: str) -> PlannedFault:
    """`NAME[:CALLS][@KEYS]` -> a PlannedFault."""
    head, at, keys = part.partition("@")
    name, _, calls = head.partition(":")
    if calls and not (calls.isdigit() and int(calls) > 0):
        raise OptionError(
            "fault plan {part!r}: the number of calls must be a whole number above 0, e.g. throttle:5", part=part
        )
    if not name.strip():
        raise OptionError("fault plan {part!r}: name an error, e.g. throttle:5 or internal@*/bad.jpg", part=part)
    if at and not keys.strip():
        raise OptionError("fault plan {part!r}: give a key pattern after @, e.g. internal@*/bad.jpg", part=part)
    return PlannedFault(fault_code(name, part), int(calls) if calls else None, keys.strip() or "*")


def injected_fault(
    key: str, call_number: int, plan: list[PlannedFault], rates: Mapping[str, float], draw: random.Random
) -> ServiceError | None:
    """The fault for the `call_number`th call for the image `key`: the plan first (certain), then the rates (drawn
    from the seeded generator, one draw per rate); None when the call goes through."""
    for planned in plan:
        if planned.fires(key, call_number):
            return ServiceError(planned.code, f"Planned fault: {planned.code} (call {call_number} for {key!r})")
    for code, rate in rates.items():
        if draw.random() < rate:
            return ServiceError(code, f"Injected fault: {code}")
    return None
