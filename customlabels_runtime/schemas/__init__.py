"""The published JSON Schemas (draft 2020-12) of what the pipeline writes: `result.schema.json` (a result JSON) and
`event.schema.json` (a result event as a rule's target receives it). Shipped in the function's package and the
tool's; docs/result-contract.md links them and says how they are versioned. Standard library only: the function
ships them, the tool and the tests validate with `jsonschema`."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

RESULT = "result"
EVENT = "event"


@cache
def _text(name: str) -> str:
    return resources.files(__package__).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")


def schema(name: str) -> dict[str, Any]:
    """The schema `result` or `event`, as a fresh dict."""
    return json.loads(_text(name))
