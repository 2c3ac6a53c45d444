"""The Lambda API's Get/UpdateEventSourceMapping for the emulated event source mapping, on 127.0.0.1: how the
model manager enables and disables the inference function's pollers (`AWS_ENDPOINT_URL_LAMBDA`), as deployed.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from customlabels.local.esm import EventSourceMapping


def serve_mapping_api(mapping: EventSourceMapping) -> ThreadingHTTPServer:
    """The Lambda API's Get/UpdateEventSourceMapping for `mapping`, on 127.0.0.1 (AWS_ENDPOINT_URL_LAMBDA)."""
    path = f"/2015-03-31/event-source-mappings/{mapping.uuid}"

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any], error: str | None = None) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if error:
                self.send_header("x-amzn-ErrorType", error)
            self.end_headers()
            self.wfile.write(payload)

        def _route(self) -> bool:
            if self.path.split("?")[0].rstrip("/") == path:
                return True
            self._answer(
                404,
                {"Type": "User", "Message": f"The resource {self.path} does not exist."},
                "ResourceNotFoundException",
            )
            return False

        def do_GET(self) -> None:
            if self._route():
                self._answer(200, mapping.describe())

        def do_PUT(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            if self._route():
                if "Enabled" in request:
                    mapping.set_enabled(bool(request["Enabled"]))
                self._answer(202, mapping.describe())

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="lambda-api-emulator", daemon=True).start()
    return server
