"""Loopback HTTP servers that answer the way broken upstreams do: 500, 401, an HTML login
page, truncated JSON, or a very slow answer. Tests point shiftdeck's real clients at them:
`FaultServer` answers everything itself; `FaultProxy` stands in front of a real upstream and
forwards to it whenever no fault is set."""

from __future__ import annotations

import http.client
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

FAULTS = {
    "500": (500, "text/plain", b"internal error"),
    "401": (401, "text/plain", b"Unauthorized"),
    "html": (200, "text/html", b"<!doctype html><html><body><form>Login</form></body></html>"),
    "truncated": (200, "application/json", b'[{"labels": {"alertname": "X"}, "startsAt": "20'),
    "not-a-list": (200, "application/json", b'{"unexpected": true}'),
}


Respond = Callable[[str, str, bytes, Mapping[str, str]], tuple[int, str, bytes]]
"""(method, path, body, headers) -> (status, content type, body)."""


class _Loopback:
    """A loopback HTTP server handing every request to `respond`; started and stopped as a
    context manager."""

    def __init__(self, respond: Respond) -> None:
        owner = self
        self._busy = 0
        self._idle = threading.Condition()

        class Handler(BaseHTTPRequestHandler):
            def handle_any(self) -> None:
                with owner._idle:
                    owner._busy += 1
                try:
                    self.answer()
                finally:
                    with owner._idle:
                        owner._busy -= 1
                        owner._idle.notify_all()

            def answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, kind, payload = respond(self.command, self.path, body, self.headers)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Basic realm="alertmanager"')
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first (a timeout)

            do_GET = do_POST = do_PUT = do_DELETE = handle_any

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no request is being handled (held, forwarded or answered); False after
        `timeout`. Once a client is done, every request it sent has then been dealt with,
        including ones it gave up waiting for."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)


class FaultServer(_Loopback):
    """Answers every request with the current fault (`fault = None`: 200 with `body_ok`), or
    with `answer` (status, content type, body) when set; records (method, path) in `requests`."""

    def __init__(self, answer: tuple[int, str, bytes] | None = None) -> None:
        super().__init__(self.respond)
        self.fault: str | None = "500"
        self.answer = answer
        self.delay = 0.0
        self.body_ok = b"[]"
        self.requests: list[tuple[str, str]] = []

    def respond(self, method: str, path: str, body: bytes,
                headers: Mapping[str, str]) -> tuple[int, str, bytes]:
        self.requests.append((method, path))
        if self.delay:
            time.sleep(self.delay)
        return self.answer or FAULTS.get(self.fault or "", (200, "application/json", self.body_ok))


PROXY_FAULTS = ("500", "401", "html", "truncated", "slow")


class FaultProxy(_Loopback):
    """A loopback HTTP proxy in front of one real upstream (a real Alertmanager, say).

    With `fault = None` every request is forwarded and the upstream's own answer returned, so a
    test sees the real alerts; an unreachable upstream is a 502. With a fault set, requests are
    answered the way a broken upstream (or a proxy in front of it) answers:

    - "500", "401", "html": as in FAULTS (the 401 also carries a WWW-Authenticate header);
    - "truncated": reads get the upstream's real answer cut in half; writes get cut JSON;
    - "slow": reads are held `delay` seconds, then forwarded (a late, real answer); writes are
      held as long, then answered 504.

    A faulted write never reaches the upstream, so nothing is stored behind the client's back
    and a failed ack really changed nothing. Clearing the fault releases held requests at once.
    `requests` records (method, path, fault or None) for every request, in arrival order.
    """

    def __init__(self, upstream: str, delay: float = 10.0) -> None:
        super().__init__(self.respond)
        self.upstream = upstream.rstrip("/")
        self.delay = delay
        self._fault: str | None = None
        self._released = threading.Event()
        self._released.set()
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str, str | None]] = []

    @property
    def fault(self) -> str | None:
        return self._fault

    @fault.setter
    def fault(self, value: str | None) -> None:
        if value is not None and value not in PROXY_FAULTS:
            raise ValueError(f"unknown fault {value!r} (known: {', '.join(PROXY_FAULTS)})")
        if value is None:
            self._fault = None
            self._released.set()  # held requests go on now
        else:
            self._released.clear()
            self._fault = value

    def count(self, path: str, fault: str | None = None) -> int:
        """Requests for `path` (query string ignored) answered with `fault`."""
        with self._lock:
            return sum(1 for _m, p, f in self.requests if p.split("?")[0] == path and f == fault)

    def respond(self, method: str, path: str, body: bytes,
                headers: Mapping[str, str]) -> tuple[int, str, bytes]:
        """(status, content type, body) for one request under the current fault."""
        fault = self.fault
        with self._lock:
            self.requests.append((method, path, fault))
        write = method != "GET"
        if fault == "slow":
            self._released.wait(self.delay)
            if write:
                return 504, "text/plain", b"gateway timeout"
            fault = None  # late, but the real answer
        if fault is None:
            return self.forward(method, path, body, headers)
        if fault == "truncated" and not write:
            status, kind, real = self.forward(method, path, body, headers)
            return status, kind, real[:len(real) // 2]
        return FAULTS[fault]

    def forward(self, method: str, path: str, body: bytes,
                headers: Mapping[str, str]) -> tuple[int, str, bytes]:
        url = urllib.parse.urlsplit(self.upstream)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        try:
            keep = {k: v for k, v in headers.items()
                    if k.lower() in ("content-type", "accept", "authorization")}
            connection.request(method, path, body=body or None, headers=keep)
            response = connection.getresponse()
            return (response.status, response.getheader("Content-Type", "application/json"),
                    response.read())
        except OSError as err:
            return 502, "text/plain", f"upstream unreachable: {err}".encode()
        finally:
            connection.close()

    def __exit__(self, *exc: object) -> None:
        self._released.set()
        super().__exit__(*exc)
