"""The emulator behind an HTTP endpoint speaking Rekognition's JSON 1.1 protocol, so that any boto3 client reaches
it with `endpoint_url` (or `AWS_ENDPOINT_URL_REKOGNITION`) and no code of its own.

Every request gets an answer with an `x-amzn-RequestId`: a `ServiceError` is answered with its code and status,
unreadable JSON is SerializationException (400), and any failure the emulator did not foresee is
InternalServerError (500), never a dropped connection.
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from customlabels.local.emulator.errors import ServiceError
from customlabels.local.emulator.rekognition import CustomLabelsService


class EmulatorServer(ThreadingHTTPServer):
    """The endpoint of one `CustomLabelsService`; `server_address` tells its port."""

    daemon_threads = True

    def __init__(self, service: CustomLabelsService, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self.service = service

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-request (a killed command) is no error of the service: no traceback for it;
        anything else is reported as socketserver does."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EmulatorServer

    def do_POST(self) -> None:
        try:
            status, body = 200, self.server.service.dispatch(self._operation(), self._request())
        except ServiceError as error:
            status, body = error.http_status, {"__type": error.code, "Message": error.message}
        except Exception as error:  # the boundary: whatever went wrong, the caller gets an answer
            status, body = (
                500,
                {"__type": "InternalServerError", "Message": f"The emulator failed: {type(error).__name__}: {error}"},
            )
        self._send(status, body)

    def _operation(self) -> str:
        """`X-Amz-Target: RekognitionService.DetectCustomLabels` -> `DetectCustomLabels`."""
        return self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]

    def _request(self) -> Any:
        """The JSON body; SerializationException for a body that is not JSON or a length that is not a length."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if length < 0:
                raise ValueError(length)
        except ValueError:
            self.close_connection = True
            raise ServiceError("SerializationException", "Content-Length is not a length") from None
        body = self.rfile.read(length)
        try:
            return json.loads(body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise ServiceError("SerializationException", "The request body is not valid JSON") from None

    def _send(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_args: Any) -> None:  # quiet: the pipeline logs what matters
        pass


def serve(service: CustomLabelsService, host: str = "127.0.0.1", port: int = 0) -> EmulatorServer:
    """Start the JSON 1.1 endpoint in a daemon thread; `server.server_address` tells the port."""
    server = EmulatorServer(service, (host, port))
    # A short poll interval: shutdown() returns within 50 ms instead of half a second.
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="rekognition-emulator", daemon=True
    ).start()
    return server
