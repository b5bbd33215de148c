"""Loopback servers that record what shiftdeck sent them."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .faults import FaultServer

BODY = b"# Runbook\n\n```bash\nkubectl get pods -n {{ $labels.namespace }}\n```\n"


class Recorder:
    """A loopback server recording each request's headers; `redirect_to` answers 302."""

    def __init__(self, redirect_to: str = "") -> None:
        self.headers: list[dict[str, str]] = []
        owner = self
        self.redirect_to = redirect_to

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                owner.headers.append({k.lower(): v for k, v in self.headers.items()})
                if owner.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", owner.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/markdown")
                self.send_header("Content-Length", str(len(BODY)))
                self.end_headers()
                self.wfile.write(BODY)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def recording_server(status: int = 500, body: bytes = b'"internal error"') -> FaultServer:
    """Where a real Alertmanager cannot show the point: counting the requests a read-only
    shiftdeck sends (none), or an upstream answering 500 to writes."""
    return FaultServer(answer=(status, "application/json", body))
