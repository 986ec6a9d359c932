"""A browsable database: datasette over the store, with descriptions and canned queries.

:func:`metadata` (:mod:`.datasette_metadata`) describes every table and column of the
store and adds canned queries (the latest articles per source, stories carried by several
sources, sources that need a look, articles without a date, and a ranked search page).
:func:`serve` starts ``python -m datasette`` on it in a child process, so datasette stays
an optional extra (``pip install 'newsscraper[serve]'``).

Read-only, and live: datasette opens a database file named on its command line through
read-only connections (``?mode=ro``), and no canned query here writes, so nothing it
serves can change the store, while articles a running crawl stores show up at once.
Its ``-i``/``--immutable`` mode is not used: it tells SQLite the file never changes,
which makes it skip the write-ahead log, where the store's latest commits live until a
checkpoint (and a file changing under it may give wrong results).
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from ..errors import ConfigError, ScraperError
from .datasette_metadata import QUERIES, TABLES, metadata

__all__ = [
    "QUERIES",
    "SETTINGS",
    "TABLES",
    "DatasetteServer",
    "database_name",
    "metadata",
    "serve",
]

INSTALL = "pip install 'newsscraper[serve]'"
# Datasette stops a query after 1 s by default: ranking a search for a word that most
# articles hold takes longer in a large archive (0.5-2.6 s for "the" in 100,000 articles).
# Its facet suggestions try every column of a table: 2.5 s per page of 'articles' there
# (each column after the body reads the texts), 40 ms without.
SETTINGS = {"sql_time_limit_ms": "5000", "suggest_facets": "off"}


def database_name(db_path: str | Path) -> str:
    """The name datasette gives the database: its file name without the suffix."""
    return Path(db_path).stem


class DatasetteServer:
    """A running ``python -m datasette`` child process; stop it with :meth:`stop` (or use
    it as a context manager)."""

    def __init__(self, process: subprocess.Popen[bytes], path: Path, host: str, port: int):
        self.process = process
        self.path = path
        self.host = host
        self.port = port
        self.database = database_name(path)
        netloc = f"[{host}]" if ":" in host else host
        self.url = f"http://{netloc}:{port}/"

    @property
    def database_url(self) -> str:
        """The database's page (its canned queries are at ``<database_url>/<query>``)."""
        return self.url + _tilde_encode(self.database)

    def wait(self, timeout: float | None = None) -> int:
        """Wait for datasette to exit (Ctrl-C stops it); returns its exit code."""
        return self.process.wait(timeout)

    def stop(self, timeout: float = 10.0) -> int:
        """Ask datasette to stop (SIGTERM), kill it after ``timeout`` seconds."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(
    db_path: str | Path, port: int = 8001, host: str = "127.0.0.1", *, ready_timeout: float = 30.0
) -> DatasetteServer:
    """Start datasette on the store at ``db_path``, read-only, with :func:`metadata`;
    return once it accepts connections on ``host``:``port`` (``port`` 0: a free one).

    Raises :class:`ConfigError` when datasette is not installed, the file does not exist,
    the port is taken or datasette exits at start (its own message is on stderr), and
    :class:`ScraperError` when it does not answer within ``ready_timeout`` seconds.
    """
    path = Path(db_path)
    if importlib.util.find_spec("datasette") is None:
        raise ConfigError(f"datasette is not installed; install it: {INSTALL}", key="serve")
    if not path.is_file():
        raise ConfigError("no such database file", path=str(path))
    port = _free_port(host, port)
    command = [sys.executable, "-m", "datasette", "serve", str(path), "--host", host]
    command += ["--port", str(port), "--metadata", "-"]  # the metadata comes on stdin
    for name, value in SETTINGS.items():
        command += ["--setting", name, value]
    process = subprocess.Popen(command, stdin=subprocess.PIPE)
    server = DatasetteServer(process, path, host, port)
    try:
        _send_metadata(process, metadata(server.database))
        _wait_until_ready(server, ready_timeout)
    except BaseException:
        server.stop()
        raise
    return server


def _send_metadata(process: subprocess.Popen[bytes], data: dict[str, Any]) -> None:
    assert process.stdin is not None
    try:
        process.stdin.write(json.dumps(data).encode("ascii"))
        process.stdin.close()
    except BrokenPipeError:  # it exited at once: _wait_until_ready says so
        pass


def _wait_until_ready(server: DatasetteServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    target = _connect_host(server.host)
    while True:
        code = server.process.poll()
        if code is not None:
            message = f"datasette exited with code {code} before serving (see its message above)"
            raise ConfigError(message, path=str(server.path))
        try:
            with socket.create_connection((target, server.port), timeout=1.0):
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise ScraperError(f"datasette did not answer on {server.url} within {timeout:g} s")
        time.sleep(0.05)


def _free_port(host: str, port: int) -> int:
    """``port`` when nothing listens on it (a free one for 0); ConfigError when taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port}: {exc.strerror}", key="port"
            ) from None
        return int(probe.getsockname()[1])


def _connect_host(host: str) -> str:
    """Where to check a server listening on ``host`` (any address: the loopback one)."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def _tilde_encode(name: str) -> str:
    """A database name as datasette writes it in URLs (its 'tilde encoding')."""
    return "".join(
        c if c in _SAFE else "+" if c == " " else "".join(f"~{b:02X}" for b in c.encode())
        for c in name
    )
