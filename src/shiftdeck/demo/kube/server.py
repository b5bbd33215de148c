"""The API on a loopback socket: KubeApiServer, served by a daemon thread; it never writes
to stderr (the demo runs under a full-screen TUI)."""

from __future__ import annotations

import os
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import TracebackType

from ..server import QuietServer
from .answers import Answer, status_answer
from .api import KubeApi
from .kubeconfig import DEFAULT_USER, write_kubeconfig
from .objects import Obj
from .store import KubeWorld

MAX_BODY = 1 << 20


class _Server(QuietServer):
    api: KubeApi


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "shiftdeck-demo-kube"
    sys_version = ""
    timeout = 30
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Silence: the default writes every request to stderr, under the TUI."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            self._send(status_answer(413, "RequestEntityTooLarge", "request body too large"))
            return
        if length:
            self.rfile.read(length)
        url = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            answer = self.server.api.handle(method, urllib.parse.unquote(url.path), query, headers)
        except Exception as err:  # a bug in the fixture server must not kill the thread
            answer = status_answer(500, "InternalError", f"demo API error: {type(err).__name__}: {err}")
        self._send(answer)

    def _send(self, answer: Answer) -> None:
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.send_header("Cache-Control", "no-cache, private")
            self.end_headers()
            self.wfile.write(answer.body)
        except OSError:  # the client gave up (its timeout)
            self.close_connection = True


class KubeApiServer:
    """The API on 127.0.0.1 and a free port (bound at construction), served by a daemon thread.

        with KubeApiServer() as server:
            server.add(pod("backend-x", "qawave"))
            server.kubeconfig(tmp_path / "kubeconfig", contexts=("prod", "staging"))

    `api` replaces the plain KubeApi (a test server passes one that injects faults).
    """

    def __init__(self, clock: Callable[[], datetime] | None = None, *, api: KubeApi | None = None) -> None:
        self.api = api if api is not None else KubeApi(clock)
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.api = self.api
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return self._httpd.url

    def start(self) -> KubeApiServer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                            name="shiftdeck-demo-kube", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()
        self._httpd.close_connections()

    def __enter__(self) -> KubeApiServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    # -- fixtures -------------------------------------------------------------- #

    def add(self, *objects: Obj) -> None:
        self.api.store.add(*objects)

    def set_logs(self, namespace: str, pod: str, lines: Iterable[str], container: str = "",
                 previous: bool = False) -> None:
        self.api.store.set_logs(namespace, pod, lines, container, previous)

    def load(self, world: KubeWorld) -> None:
        self.add(*world.objects)
        for (ns, pod_name, container, previous), lines in world.logs.items():
            self.set_logs(ns, pod_name, lines, container, previous)

    # -- kubeconfig ------------------------------------------------------------ #

    def kubeconfig(self, path: str | os.PathLike[str], contexts: Sequence[str] = ("demo",),
                   current: str | None = None, namespace: str = "default",
                   user: str = DEFAULT_USER) -> Path:
        """Write a kubeconfig with one context (and cluster, and token user) per name, all
        served here at `<url>/clusters/<context>`, so requests say which context they used."""
        tokens = {}
        self.api.user = user
        for context in contexts:
            token = f"shiftdeck-demo.{uuid.uuid5(uuid.NAMESPACE_URL, self.url + '/' + context).hex}"
            self.api.tokens[token] = user
            tokens[context] = token
        return write_kubeconfig(path, {c: self.cluster_url(c) for c in contexts}, current or contexts[0],
                                tokens, namespace, user)

    def cluster_url(self, context: str) -> str:
        """The server URL of `context` in kubeconfigs written here."""
        return f"{self.url}/clusters/{urllib.parse.quote(context, safe='')}"
