"""A small threaded HTTP/1.1 server on 127.0.0.1 whose routes can misbehave on purpose.

Each path is served by a *handler* ``(request, conn) -> None`` that writes raw bytes to the
client socket, so tests can produce faults no framework would: resets, truncated bodies,
drip-fed bytes, compression bombs.  Handler factories (``ok``, ``status``, ``reset``, ...)
cover the usual cases; ``FaultServer.sequence`` serves the n-th request with the n-th handler
(the last one repeats), e.g. ``server.sequence("/x", status(503), ok(b"<p>hi"))``.

The server counts requests per path (``hits``), keeps them in order (``requests``) and tracks
how many requests per path are received but not yet answered (``max_in_flight``).  Every
response closes its connection.  ``close()`` stops slow handlers and joins every thread.
"""

from __future__ import annotations

import itertools
import socket
import socketserver
import struct
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from types import TracebackType

HTML = "text/html; charset=utf-8"
_MAX_HEAD = 64 * 1024


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # path and query as sent
    path: str  # without the query
    headers: Mapping[str, str]  # lower-cased names


class Conn:
    """The client socket a handler writes to."""

    def __init__(
        self, sock: socket.socket, stopping: threading.Event, answered: Callable[[], None]
    ) -> None:
        self._sock = sock
        self._stopping = stopping
        self._answered = answered

    def send(self, data: bytes) -> None:
        self._answered()
        self._sock.sendall(data)

    def respond(
        self, status: int = 200, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> None:
        """Send a whole response; ``Content-Length`` is added unless ``headers`` has one."""
        self.send(head(status, {"Content-Length": str(len(body)), **(headers or {})}) + body)

    def reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0)."""
        self._answered()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._sock.close()

    def wait(self, seconds: float) -> bool:
        """Sleep; False when the server is stopping (the handler should return)."""
        return not self._stopping.wait(seconds)


Handler = Callable[[Request, Conn], None]


def head(status: int, headers: Mapping[str, str]) -> bytes:
    """A status line and headers; adds ``Date`` (unless given) and ``Connection: close``."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}"]
    if "Date" not in headers:
        lines.append(f"Date: {formatdate(usegmt=True)}")
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


# -- handler factories ------------------------------------------------------------------------


def ok(
    body: bytes = b"<html><body><p>hello</p></body></html>",
    *,
    content_type: str | None = HTML,
    headers: Mapping[str, str] | None = None,
) -> Handler:
    extra = {"Content-Type": content_type} if content_type else {}
    return lambda req, conn: conn.respond(200, body, {**extra, **(headers or {})})


def status(code: int, *, headers: Mapping[str, str] | None = None, body: bytes = b"") -> Handler:
    return lambda req, conn: conn.respond(code, body, headers)


def redirect(location: str, code: int = 302) -> Handler:
    return status(code, headers={"Location": location})


def reset() -> Handler:
    return lambda req, conn: conn.reset()


def truncated(body: bytes = b"<html><p>cut", claimed: int = 10_000) -> Handler:
    """Promise ``claimed`` bytes, send ``body`` and close."""

    def handle(req: Request, conn: Conn) -> None:
        conn.send(head(200, {"Content-Type": HTML, "Content-Length": str(claimed)}) + body)

    return handle


def drip(interval: float = 0.1, total: int = 10_000) -> Handler:
    """Send headers, then one body byte every ``interval`` s until the client goes away."""

    def handle(req: Request, conn: Conn) -> None:
        conn.send(head(200, {"Content-Type": HTML, "Content-Length": str(total)}))
        for _ in range(total):
            if not conn.wait(interval):
                return
            conn.send(b"x")  # raises OSError once the client has closed

    return handle


def hold(seconds: float, body: bytes = b"<p>held</p>") -> Handler:
    """Keep the request in flight for ``seconds`` before answering."""

    def handle(req: Request, conn: Conn) -> None:
        if conn.wait(seconds):
            conn.respond(200, body, {"Content-Type": HTML})

    return handle


def huge(size: int, *, declare_length: bool = True, chunk: int = 64 * 1024) -> Handler:
    """An HTML page of ``size`` bytes, written in chunks (with or without Content-Length)."""

    def handle(req: Request, conn: Conn) -> None:
        headers = {"Content-Type": HTML}
        if declare_length:
            headers["Content-Length"] = str(size)
        conn.send(head(200, headers) + b"<html>")
        sent = 6
        while sent < size:
            part = min(chunk, size - sent)
            conn.send(b"a" * part)
            sent += part

    return handle


def compressed(body: bytes, coding: str = "gzip", *, content_type: str = HTML) -> Handler:
    """``body`` sent with Content-Encoding gzip, deflate (zlib) or raw-deflate (as "deflate")."""
    wbits = {"gzip": 31, "deflate": 15, "raw-deflate": -15}[coding]
    packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
    data = packer.compress(body) + packer.flush()
    name = "deflate" if coding == "raw-deflate" else coding
    return ok(data, content_type=content_type, headers={"Content-Encoding": name})


def gzip_bomb(size: int = 50 * 1024 * 1024) -> Handler:
    """A small gzip body that expands to ``size`` zero bytes."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1024 * 1024)
    parts = [packer.compress(block) for _ in range(size // len(block))]
    data = b"".join(parts) + packer.compress(bytes(size % len(block))) + packer.flush()
    return ok(data, headers={"Content-Encoding": "gzip"})


# -- the server -------------------------------------------------------------------------------


class FaultServer:
    """``with FaultServer() as server: server.route("/", ok()); fetch(server.url("/"))``."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()
        self.requests: list[Request] = []
        self._in_flight: Counter[str] = Counter()
        self._running = 0
        self._routes: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _TCPServer(("127.0.0.1", 0), _RequestHandler)
        self._server.fault = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def handlers_running(self) -> int:
        with self._lock:
            return self._running

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, handler: Handler) -> str:
        """Serve ``path`` (query ignored) with ``handler``; returns its URL."""
        with self._lock:
            self._routes[path] = handler
        return self.url(path)

    def sequence(self, path: str, *handlers: Handler) -> str:
        """Serve the n-th request to ``path`` with ``handlers[n]``; the last one repeats."""
        served = itertools.count()
        lock = threading.Lock()

        def handle(req: Request, conn: Conn) -> None:
            with lock:
                n = next(served)
            handlers[min(n, len(handlers) - 1)](req, conn)

        return self.route(path, handle)

    def page(
        self, path: str, body: bytes = b"<html><p>hello</p></html>", content_type: str = HTML
    ) -> str:
        return self.route(path, ok(body, content_type=content_type))

    def robots(self, text: str, code: int = 200) -> str:
        return self.route("/robots.txt", status(code, body=text.encode(), headers=_TEXT))

    def close(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()  # joins the handler threads
        self._thread.join()

    def __enter__(self) -> FaultServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- called from handler threads ------------------------------------------------------

    def _serve(self, sock: socket.socket) -> None:
        request = _read_request(sock)
        if request is None:
            return
        with self._lock:
            handler = self._routes.get(request.path, status(404, body=b"not found"))
        with self._tracking(request) as answered:
            try:
                handler(request, Conn(sock, self._stopping, answered))
            except OSError:
                pass  # the client went away: what drip and huge handlers wait for

    @contextmanager
    def _tracking(self, request: Request) -> Iterator[Callable[[], None]]:
        path = request.path
        done = False

        def answered() -> None:
            nonlocal done
            with self._lock:
                if not done:
                    done = True
                    self._in_flight[path] -= 1

        with self._lock:
            self.hits[path] += 1
            self.requests.append(request)
            self._running += 1
            self._in_flight[path] += 1
            self.max_in_flight[path] = max(self.max_in_flight[path], self._in_flight[path])
        try:
            yield answered
        finally:
            answered()
            with self._lock:
                self._running -= 1


_TEXT = {"Content-Type": "text/plain"}


class _TCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = False
    block_on_close = True
    fault: FaultServer


class _RequestHandler(socketserver.BaseRequestHandler):
    server: _TCPServer
    request: socket.socket

    def handle(self) -> None:
        self.request.settimeout(5)
        self.server.fault._serve(self.request)


def _read_request(sock: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = sock.recv(4096)
        except OSError:
            return None
        if not chunk or len(data) > _MAX_HEAD:
            return None
        data += chunk
    lines = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Request(method, target, target.split("?", 1)[0], headers)
