"""What the tests' HTTP doubles (the ZeroTier controller, the Authentik server) share: a quiet
HTTP/1.1 handler that reads a request's body and sends one answer."""
from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import Any


class DoubleHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args: Any) -> None:
        pass

    def body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def answer(self, code: int, payload: bytes, ctype: str | None) -> None:
        try:
            self.send_response(code)
            if ctype is not None:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            self.close_connection = True
