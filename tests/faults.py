"""A loopback HTTP server that answers the way broken upstreams do: 500, 401, an HTML login
page, truncated JSON, or a very slow answer. Tests point shiftdeck's real clients at it."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = {
    "500": (500, "text/plain", b"internal error"),
    "401": (401, "text/plain", b"Unauthorized"),
    "html": (200, "text/html", b"<!doctype html><html><body><form>Login</form></body></html>"),
    "truncated": (200, "application/json", b'[{"labels": {"alertname": "X"}, "startsAt": "20'),
    "not-a-list": (200, "application/json", b'{"unexpected": true}'),
}


class FaultServer:
    """Answers every request with the current fault (`fault = None`: 200 with `body_ok`), or
    with `answer` (status, content type, body) when set; records (method, path) in `requests`."""

    def __init__(self, answer: tuple[int, str, bytes] | None = None) -> None:
        self.fault: str | None = "500"
        self.answer = answer
        self.delay = 0.0
        self.body_ok = b"[]"
        self.requests: list[tuple[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def respond(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.requests.append((self.command, self.path))
                if server.delay:
                    time.sleep(server.delay)
                status, kind, body = server.answer or FAULTS.get(
                    server.fault or "", (200, "application/json", server.body_ok))
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first (the timeout test does exactly that)

            do_GET = do_POST = do_PUT = do_DELETE = respond

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
