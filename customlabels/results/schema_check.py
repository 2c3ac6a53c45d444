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
    errors = sorted(_validator(name).iter_errors(document), key=lambda error: [str(part) for part in error.path])
    return [f"{_where(error.absolute_path)}: {error.message}" for error in errors]


def _where(path) -> str:
    """`CustomLabels[0].Confidence` for the path ["CustomLabels", 0, "Confidence"]; `(the document)` for []."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(the document)"
