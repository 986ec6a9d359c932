"""The bundled demo: an invented news site served on 127.0.0.1, and its source config.

``scraper demo`` serves the site, crawls it with ``demo.toml`` and checks the results
against ``expected.json``; tests use the same pieces.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files

from ..config import Config, parse_config
from ..errors import ConfigError
from .expected import Expectations, ExpectedArticle, check_rows, expectations
from .server import DemoServer

__all__ = [
    "PREFERRED_PORT",
    "DemoServer",
    "Expectations",
    "ExpectedArticle",
    "check_rows",
    "config",
    "config_text",
    "expectations",
    "serve",
    "wait_forever",
]

PREFERRED_PORT = 8765
CONFIG_NAME = "demo.toml"


@contextmanager
def serve(port: int | None = None) -> Iterator[str]:
    """Serve the demo site for the duration of a ``with`` block; yield its base URL.

    With no ``port``, :data:`PREFERRED_PORT` is tried first (so stored URLs stay the same
    from run to run), then any free port.  Raises ConfigError (naming ``--port``) when an
    explicitly chosen port cannot be bound.
    """
    server = _started(port)
    try:
        yield server.base_url
    finally:
        server.stop()


def _started(port: int | None) -> DemoServer:
    for candidate in (PREFERRED_PORT, 0) if port is None else (port,):
        server = DemoServer(candidate)
        try:
            server.start()
            return server
        except OSError as exc:
            reason = exc.strerror or str(exc)
    raise ConfigError(
        f"cannot listen on 127.0.0.1:{port} ({reason}); choose another port, or 0 for any",
        key="--port",
    )


def config_text(base_url: str) -> str:
    """The demo source config (``demo.toml``) pointed at ``base_url``."""
    text = (files("scraper.demo") / CONFIG_NAME).read_text(encoding="utf-8")
    return text.replace("{base_url}", base_url.rstrip("/"))


def config(base_url: str) -> Config:
    """The demo source config, parsed and validated."""
    return parse_config(config_text(base_url), path=f"scraper/demo/{CONFIG_NAME}")


def wait_forever() -> None:
    """Block the calling thread until it is interrupted (Ctrl-C)."""
    stop = threading.Event()
    while not stop.wait(3600):
        pass
