"""A tiny HTTP server on loopback that hands every request to a plain function.

The APIs (alertmanager_api, prometheus_api) are functions Request -> Response, so they can
be tested without sockets; this module only moves bytes. It never writes to stderr: the
demo runs under a full-screen TUI, and one stray log line would corrupt the screen.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20  # 1 MiB is plenty for a silence


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Request headers, names lower-cased (PagerDuty's Authorization and From)."""

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def params(self, name: str) -> list[str]:
        return self.query.get(name, [])


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)
    """More answer headers (e.g. Retry-After on a 429)."""


App = Callable[[Request], Response]


def json_response(payload: object, status: int = 200) -> Response:
    """JSON the way Go's encoder writes it: compact, newline-terminated."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return Response(status, (text + "\n").encode())


def text_response(text: str, status: int = 200) -> Response:
    return Response(status, text.encode(), "text/plain; charset=utf-8")


def not_found(_request: Request | None = None) -> Response:
    return text_response("404 page not found\n", 404)


class QuietServer(ThreadingHTTPServer):
    """A loopback server that never prints and can end its kept-alive connections on stop
    (shared by the demo's Alertmanager/Prometheus and its Kubernetes API)."""

    daemon_threads = True
    request_queue_size = 128  # the default 5 drops SYNs under a burst: 1 s retransmit stalls
    app: App | None = None

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    @property
    def url(self) -> str:
        """http://127.0.0.1:<the port bound>."""
        host, port = self.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def get_request(self) -> tuple[socket.socket, object]:
        connection, address = super().get_request()
        with self._connections_lock:
            self._connections.add(connection)
        return connection, address

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End kept-alive connections too, so a stopped server really stops answering."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up mid-answer is not news; never print a traceback."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "shiftdeck-demo"
    sys_version = ""
    timeout = 30  # idle keep-alive connections go away eventually
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall
    server: QuietServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Silence: the default writes every request to stderr, under the TUI."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def _serve(self, method: str) -> None:
        body = self._read_body()
        if body is None:
            self._send(text_response("request body too large\n", 413))
            return
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = Request(method, urllib.parse.unquote(url.path), query, body, headers)
        app = self.server.app
        try:
            response = app(request) if app is not None else text_response("starting\n", 503)
        except Exception as err:  # a bug in the demo must not kill the connection thread
            response = json_response(f"demo server error: {type(err).__name__}: {err}", 500)
        self._send(response)

    def _read_body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)


class LoopbackServer:
    """One ThreadingHTTPServer on 127.0.0.1 and a free port, served by a daemon thread.

    The port is bound at construction, so the URL is known before the app is (the
    Alertmanager app needs Prometheus' URL for generatorURL).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._httpd = QuietServer(("127.0.0.1", 0), _Handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return self._httpd.url

    def start(self, app: App) -> None:
        self._httpd.app = app
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"shiftdeck-demo-{self.name}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.app = None
        self._httpd.server_close()
        self._httpd.close_connections()
