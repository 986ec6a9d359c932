"""Serve the bundled demo site (``scraper/demo/site``) on 127.0.0.1 from a background thread.

Files are read once with importlib.resources, so the server works from an installed
wheel.  ``{{base_url}}`` in text files becomes the server's base URL (feeds, sitemaps and
canonical links need absolute URLs).  Responses carry ETag and Last-Modified and answer
conditional GETs with 304; query strings are ignored, so ``/news/?utm_source=x`` is
``/news/``.  An HTML file that is not UTF-8 is served as ``text/html`` with no charset,
like a legacy site whose encoding is declared only in a ``<meta>`` tag.
"""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from importlib.resources.abc import Traversable
from types import MappingProxyType, TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = ["ALIASES", "DemoServer", "LAST_MODIFIED", "load_site"]

BASE_URL_MARKER = b"{{base_url}}"
LAST_MODIFIED = "Thu, 15 Jan 2026 12:00:00 GMT"  # every file: the site is a fixed snapshot
ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "/": "/news/",  # the home page is the news listing
        "/stories/4417/": "/news/herring-season-breaks-records/",  # short link; canonical differs
    }
)
_TYPES = {
    ".html": "text/html",
    ".xml": "application/xml",
    ".txt": "text/plain",
    ".css": "text/css",
    ".json": "application/json",
    ".svg": "image/svg+xml",
}
_SPECIAL_TYPES = {"/feed.xml": "application/rss+xml"}
_TEXT = (".html", ".xml", ".txt", ".css", ".json", ".svg")


@dataclass(frozen=True)
class Resource:
    """One servable file."""

    body: bytes
    content_type: str
    etag: str


def load_site(base_url: str) -> Mapping[str, Resource]:
    """Every file of the site by URL path (``/news/`` for ``news/index.html`` too)."""
    root = files("scraper.demo") / "site"
    routes: dict[str, Resource] = {}
    for path, node in _walk(root, ""):
        resource = _resource(path, node.read_bytes(), base_url)
        routes[path] = resource
        if path.endswith("/index.html"):
            routes[path[: -len("index.html")]] = resource
    return MappingProxyType(routes)


def _walk(node: Traversable, prefix: str) -> Iterator[tuple[str, Traversable]]:
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        path = f"{prefix}/{child.name}"
        if child.is_dir():
            yield from _walk(child, path)
        elif not child.name.startswith("."):
            yield path, child


def _resource(path: str, body: bytes, base_url: str) -> Resource:
    suffix = path[path.rfind(".") :] if "." in path.rsplit("/", 1)[-1] else ""
    if suffix in _TEXT:
        body = body.replace(BASE_URL_MARKER, base_url.encode("ascii"))
    content_type = _SPECIAL_TYPES.get(path) or _TYPES.get(suffix, "application/octet-stream")
    if suffix in _TEXT and _is_utf8(body):
        content_type += "; charset=utf-8"
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    return Resource(body=body, content_type=content_type, etag=etag)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class _HTTPServer(ThreadingHTTPServer):
    """Tracks open connections so stop() can end idle keep-alive ones at once."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int]) -> None:
        self.resources: Mapping[str, Resource] = MappingProxyType({})
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._lock:
            connections = list(self._open)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the client


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MeridianDemo/1.0"
    sys_version = ""
    timeout = 30  # an idle keep-alive connection is dropped after this many seconds

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the demo must not print a line per request."""

    def do_HEAD(self) -> None:
        self.respond(send_body=False)

    def do_GET(self) -> None:
        self.respond(send_body=True)

    def respond(self, *, send_body: bool) -> None:
        assert isinstance(self.server, _HTTPServer)
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        path = ALIASES.get(path, path)
        resource = self.server.resources.get(path)
        if resource is None and f"{path}/" in self.server.resources:
            location = f"{path}/" + (f"?{parts.query}" if parts.query else "")
            self.send_simple(HTTPStatus.MOVED_PERMANENTLY, b"", {"Location": location}, send_body)
        elif resource is None:
            body = b"<!DOCTYPE html><title>Not found</title><h1>404: no such page</h1>\n"
            self.send_simple(HTTPStatus.NOT_FOUND, body, {}, send_body)
        elif self.not_modified(resource):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", resource.etag)
            self.send_header("Last-Modified", LAST_MODIFIED)
            self.end_headers()
        else:
            headers = {
                "Content-Type": resource.content_type,
                "ETag": resource.etag,
                "Last-Modified": LAST_MODIFIED,
                "Cache-Control": "no-cache",
            }
            self.send_simple(HTTPStatus.OK, resource.body, headers, send_body)

    def not_modified(self, resource: Resource) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return "*" in tags or resource.etag in tags
        if_modified_since = self.headers.get("If-Modified-Since")
        if not if_modified_since:
            return False
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        return since.tzinfo is not None and since >= parsedate_to_datetime(LAST_MODIFIED)

    def send_simple(
        self, status: HTTPStatus, body: bytes, headers: Mapping[str, str], send_body: bool
    ) -> None:
        self.send_response(status)
        if status != HTTPStatus.OK:
            self.send_header("Content-Type", "text/html; charset=utf-8")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)


class DemoServer:
    """The demo site on 127.0.0.1 (an ephemeral port by default), in a daemon thread.

    Use as a context manager, or call :meth:`start` and :meth:`stop`::

        with DemoServer() as server:
            httpx.get(server.base_url + "/news/")
    """

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.base_url = ""
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Bind, load the site and serve; return the base URL (no trailing slash).

        Raises ``OSError`` when the port cannot be bound.
        """
        if self._server is not None:
            raise RuntimeError(f"the demo server is already running at {self.base_url}")
        server = _HTTPServer(("127.0.0.1", self.port))
        try:
            self.base_url = f"http://127.0.0.1:{server.server_address[1]}"
            server.resources = load_site(self.base_url)
        except BaseException:
            server.server_close()
            raise
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="demo-site-server",
            daemon=True,
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving, close every connection and the socket; safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()  # joins the request threads
        if thread is not None:
            thread.join()

    def __enter__(self) -> DemoServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
