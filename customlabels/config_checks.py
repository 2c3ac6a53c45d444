"""The building blocks of the configuration's checks, shared by config.py and its groups of checks in modules of
their own (config_model_manager.py): each returns the problems it found, each naming the key and the fix."""

from __future__ import annotations

from typing import Any


def check_range(config: Any, name: str, low: int, high: int, why: str) -> list[str]:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return [f"{name}={value!r} is out of range: {why} accepts {low}-{high}. Fix: -c {name}=<{low}-{high}>"]
    return []
