"""Logging setup: one event per line, as text or JSON."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from ..fetch import FetchEvent

_FIELDS = ("source", "url", "status", "elapsed_ms", "attempt", "outcome", "kind")


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, event message and any structured fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for name in _FIELDS:
            if hasattr(record, name):
                data[name] = getattr(record, name)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is when a record is emitted, not when it was set up.

    So output lands where the process's stderr points now, e.g. in a test runner's capture.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # handle() holds the handler's lock around emit()
        super().emit(record)


def setup_logging(verbosity: int, fmt: str = "text") -> None:
    """Configure the ``scraper`` logger: warnings by default, -v info, -vv debug."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = StderrHandler()
    if fmt == "json":
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    for name, floor in (("scraper", level), ("apscheduler", max(level, logging.INFO))):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(floor)
        logger.propagate = False


def log_fetch_event(event: FetchEvent) -> None:
    """Log what the fetcher reports (retries, responses, errors) with structured fields."""
    logger = logging.getLogger("scraper.fetch")
    # Failures reach the user once, from the pipeline; here they are detail.
    level = logging.INFO if event.kind in ("retry", "error") else logging.DEBUG
    logger.log(
        level,
        "%s %s %s%s",
        event.kind,
        event.url,
        event.status if event.status is not None else "-",
        f" ({event.message})" if event.message else "",
        extra={
            "url": event.url,
            "status": event.status,
            "attempt": event.attempt,
            "kind": event.kind,
        },
    )
