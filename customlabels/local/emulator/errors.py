"""The one error of the emulator: what Rekognition answers when it refuses a call, a code and a message.

The front end's checks (`validation`), the image rules (`images`), the datasets and the model operations all raise
it, and the HTTP server (`server`) answers it as the service does. It imports nothing of the project, so that every
part of the emulator can raise it without importing another.
"""

from __future__ import annotations

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
