"""The emulator's errors: `ServiceError`, what Rekognition answers when it refuses a call (a code and a message),
and `OptionError`, an emulator option refused before anything starts.

The front end's checks (`validation`), the image rules (`images`), the datasets and the model operations all raise
`ServiceError`, and the HTTP server (`server`) answers it as the service does; the options (`options`, `faults`,
`backends`) raise `OptionError`. This module imports nothing of the project, so that every part of the emulator can
raise them without importing another.
"""

from __future__ import annotations

from collections.abc import Callable

SERVER_ERRORS = {"InternalServerError", "ThrottlingException"}
"""Answered with HTTP 500, as the API reference lists them; every other error is 400."""


class ServiceError(Exception):
    """An error answered the way Rekognition answers it: a code (the exception name) and a message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def http_status(self) -> int:
        return 500 if self.code in SERVER_ERRORS else 400


class OptionError(ValueError):
    """An emulator option refused before anything starts (a fault spec, a noise level, inference units, ...).

    The message names options as `{name}` fields (`{max_inference_units}`), given no value, so that each caller
    shows them in its own words: `str()` gives the name itself, for Python callers; the CLI passes its flags
    (`--max-inference-units`) to `spelled`. The values the message shows are given as keywords."""

    def __init__(self, template: str, **values: object) -> None:
        self.template, self.values = template, values
        super().__init__(self.spelled())

    def spelled(self, spell: Callable[[str], str] = str) -> str:
        return self.template.format_map(_OptionNames(self.values, spell))


class _OptionNames(dict):
    """The values of a message; any other field is an option's name, spelled by the caller."""

    def __init__(self, values: dict[str, object], spell: Callable[[str], str]) -> None:
        super().__init__(values)
        self.spell = spell

    def __missing__(self, name: str) -> str:
        return self.spell(name)
