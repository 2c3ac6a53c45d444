"""Checking documents against the published schemas (`customlabels_runtime.schemas`) with `jsonschema`, each
problem named by where it is (`CustomLabels[0].Confidence`) and what is wrong: `results --check`, and the tests that
validate every result and event they produce."""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from customlabels_runtime.schemas import EVENT, RESULT, schema

EVENT_DETAIL = "event-detail"
"""The event's `detail` alone, as the function puts it (PutEvents' Detail): `event.schema.json`'s `$defs/detail`."""


@cache
def _validator(name: str) -> Draft202012Validator:
    if name == EVENT_DETAIL:
        event = schema(EVENT)
        registry = Registry().with_resource(event["$id"], Resource.from_contents(event))
        return Draft202012Validator({"$ref": f"{event['$id']}#/$defs/detail"}, registry=registry)
    return Draft202012Validator(schema(name))


def schema_problems(document: Any, name: str = RESULT) -> list[str]:
    """What is wrong with `document` by schema `name` (result, event or event-detail), one line each, in the
    document's order; empty when it is valid."""
    validator = _validator(name)
    errors = sorted(validator.iter_errors(document), key=lambda error: [str(part) for part in error.path])
    return [f"{_where(error.absolute_path)}: {_message(error, validator.schema)}" for error in errors]


LONGEST_VALUE = 80
"""Characters of a value a problem quotes whole; a longer one is abbreviated (`4 item(s)`), as a whole array of
labels would hide what is wrong."""


def _message(error, schema: dict) -> str:
    """jsonschema's message, with a long value abbreviated; `CustomLabels: 4 item(s), expected none with Error`
    for the schema's rule that a result with an Error has no labels (its `if` / `then`)."""
    path = list(error.absolute_schema_path)
    if error.validator == "maxItems" and error.validator_value == 0:
        condition = schema.get("if", {}).get("required", []) if path[:1] == ["then"] else []
        return f"{_abbreviated(error.instance)}, expected none" + (f" with {', '.join(condition)}" if condition else "")
    quoted = repr(error.instance)
    if len(quoted) > LONGEST_VALUE and error.message.startswith(quoted):
        return _abbreviated(error.instance) + error.message[len(quoted) :]
    return error.message


def _abbreviated(value: Any) -> str:
    """`4 item(s)`, `an object of 3 key(s)`, or the value's start and length."""
    if isinstance(value, list):
        return f"{len(value)} item(s)"
    if isinstance(value, dict):
        return f"an object of {len(value)} key(s)"
    if isinstance(value, str) and len(value) > LONGEST_VALUE // 2:
        return f"{value[: LONGEST_VALUE // 2]!r}... ({len(value)} characters)"
    quoted = repr(value)
    return quoted if len(quoted) <= LONGEST_VALUE else quoted[:LONGEST_VALUE] + "..."


def _where(path) -> str:
    """`CustomLabels[0].Confidence` for the path ["CustomLabels", 0, "Confidence"]; `(the document)` for []."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(the document)"
