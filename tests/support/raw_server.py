"""Loopback TCP stubs for what no real server does on purpose: an answer dripped a byte at a
time, an endless body, redirects to another origin, and a tiny SOCKS5 proxy. Each runs its
connections in daemon threads and records what happened, for the tests to assert on."""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Self

Handler = Callable[[socket.socket, bytes], None]
"""(connection, the request head as received) -> None; the stub closes the connection after."""


class RawServer:
    """Accepts connections on 127.0.0.1 and hands each, with its request head, to `handler`."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.heads: list[bytes] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._closing = threading.Event()

    def __enter__(self) -> Self:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self._sock.close()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            head = _read_head(conn)
            self.heads.append(head)
            try:
                self.handler(conn, head)
            except OSError:
                pass


def _read_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


class Drip:
    """A 200 answer whose `body` is sent one byte every `interval` seconds."""

    def __init__(self, body: bytes, interval: float = 1.0) -> None:
        self.body, self.interval = body, interval

    def __call__(self, conn: socket.socket, head: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(self.body))
        for byte in self.body:
            time.sleep(self.interval)
            conn.sendall(bytes([byte]))


class Endless:
    """A 200 answer without a length whose body never ends; records the bytes it got out and
    sets `closed` when the client hung up."""

    def __init__(self) -> None:
        self.sent = 0
        self.closed = threading.Event()

    def __call__(self, conn: socket.socket, head: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Connection: close\r\n\r\n[")
        chunk = b'{"labels": {"alertname": "Flood"}},' * 2000
        try:
            while True:
                conn.sendall(chunk)
                self.sent += len(chunk)
        except OSError:
            self.closed.set()


def answer(status: int, headers: dict[str, str], body: bytes = b"") -> Handler:
    """A fixed answer."""
    def handle(conn: socket.socket, head: bytes) -> None:
        lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: close",
                 *(f"{k}: {v}" for k, v in headers.items())]
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    return handle


class Socks5Server:
    """A SOCKS5 proxy (no authentication, CONNECT only) relaying to loopback targets.
    `targets` records each (host, port) asked for: a name for socks5h, an address for socks5."""

    def __init__(self) -> None:
        self.targets: list[tuple[str, int]] = []
        self._raw = RawServer(self._handle)
        self.port = self._raw.port
        self._raw._serve = self._serve  # SOCKS has no HTTP head: take the connection raw

    def __enter__(self) -> Self:
        self._raw.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._raw.__exit__()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                self._handle(conn, b"")
            except OSError:
                pass

    def _handle(self, conn: socket.socket, _head: bytes) -> None:
        version, methods = _exactly(conn, 2)
        _exactly(conn, methods)
        conn.sendall(b"\x05\x00")  # no authentication
        _ver, command, _rsv, kind = _exactly(conn, 4)
        if kind == 1:
            host = socket.inet_ntoa(_exactly(conn, 4))
        elif kind == 3:
            host = _exactly(conn, _exactly(conn, 1)[0]).decode()
        else:
            host = socket.inet_ntop(socket.AF_INET6, _exactly(conn, 16))
        (port,) = struct.unpack("!H", _exactly(conn, 2))
        self.targets.append((host, port))
        if version != 5 or command != 1:
            conn.sendall(b"\x05\x07\x00\x01" + bytes(6))
            return
        with socket.create_connection((host, port), timeout=10) as upstream:
            conn.sendall(b"\x05\x00\x00\x01" + bytes(6))
            _relay(conn, upstream)


def _exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _relay(a: socket.socket, b: socket.socket) -> None:
    while True:
        ready, _, _ = select.select([a, b], [], [], 10)
        if not ready:
            return
        for source in ready:
            data = source.recv(65536)
            if not data:
                return
            (b if source is a else a).sendall(data)
