"""A document the function reads from an SSM parameter at runtime (the thresholds, the version in service): cached
up to `max_age` seconds by the reader (Powertools Parameters), the last good value kept when a read fails or a value
is rejected. Standard library only."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class RuntimeParameter(Generic[T]):
    """The current value of one parameter, parsed by `parse` (which raises ValueError naming the problem and the fix).

    A failed read or a rejected value keeps the last good value (the fallback first) in force; it is reported once per
    distinct problem (`on_invalid(message, code)`, code `unreadable_code` or `invalid_code`), so a typo or an SSM
    outage never stops the pipeline and never floods its logs.
    """

    unreadable_code = "Unreadable"
    invalid_code = "Invalid"

    def __init__(
        self,
        parameter_name: str | None,
        get_parameter: Callable[..., str],
        fallback: T,
        on_invalid: Callable[[str, str], None],
        max_age: int = 60,
    ) -> None:
        self.parameter_name, self.max_age = parameter_name, max_age
        self._get, self._on_invalid = get_parameter, on_invalid
        self._current, self._last_value, self._last_bad = fallback, None, None
        self._lock = threading.Lock()

    def parse(self, value: str) -> T:
        raise NotImplementedError

    def current(self) -> T:
        if not self.parameter_name:
            return self._current
        with self._lock:
            try:
                value = self._get(self.parameter_name, max_age=self.max_age)
            except Exception as error:  # any failure to read keeps the value in force
                self._report(f"read failed: {type(error).__name__}: {error}", self.unreadable_code)
                return self._current
            if value != self._last_value:
                try:
                    self._current = self.parse(value)
                    self._last_value = value
                except ValueError as error:
                    self._report(f"{self.parameter_name}: {error}", self.invalid_code)
            return self._current

    def _report(self, message: str, code: str) -> None:
        if message != self._last_bad:
            self._last_bad = message
            self._on_invalid(message, code)
