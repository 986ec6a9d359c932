"""Incremental exports for downstream tools: every article written since a checkpoint.

Each article write (a new article, or a stored one with a real edit) takes the next
``change_seq`` number inside its transaction, so the numbers only ever grow, in commit
order.  A checkpoint is the last number a consumer took completely: asking for what came
after it returns new and edited articles exactly once each, in a stable order, however
the crawls interleave.  A named consumer keeps its checkpoint in the database
(``--consumer``); a cursor file works the same way outside it (``--cursor-file``).
Either moves only after the whole output was written (and flushed, or renamed into
place), so a consumer killed mid-export gets the same batch again: no gap, and no
article skipped.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import ConfigError
from ..store import EVERY_ARTICLE, ArticleFilter, Store
from .fields import FIELDS, export_record
from .formats import FORMATS, write_csv, write_jsonl, write_parquet

__all__ = [
    "FIELDS",
    "FORMATS",
    "ExportOptions",
    "export",
    "export_records",
    "read_cursor",
    "save_cursor",
]


@dataclass(frozen=True)
class ExportOptions:
    """What to export, and where the checkpoint lives (at most one of the two)."""

    fmt: str = "jsonl"
    after: int | None = None  # an explicit checkpoint; else the consumer's or cursor's
    where: ArticleFilter = EVERY_ARTICLE
    limit: int | None = None
    consumer: str | None = None  # a named consumer's checkpoint, kept in the database
    cursor_file: Path | None = None  # a checkpoint kept in a file

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise ValueError(f"fmt: one of {', '.join(FORMATS)}, got {self.fmt!r}")
        if self.consumer is not None and self.cursor_file is not None:
            raise ValueError("a consumer or a cursor file, not both")


def export_records(
    store: Store, after: int, where: ArticleFilter = EVERY_ARTICLE, limit: int | None = None
) -> Iterator[dict[str, Any]]:
    """The export records of the articles written after ``after``, oldest change first."""
    for article in store.changed_articles(after=after, where=where, limit=limit):
        yield export_record(store, article)


def export(store: Store, options: ExportOptions, out: IO[str], output: Path | None = None) -> int:
    """Write the records to ``output`` (a file, replaced atomically) or ``out``; then move
    the checkpoint.  Returns the new checkpoint (the old one when nothing was new)."""
    start = _start(store, options)
    records = export_records(store, start, options.where, options.limit)
    last = start
    if options.fmt == "parquet":
        if output is None:
            raise ConfigError("Parquet is written to a file: give --output FILE", key="--format")
        with _replacing(output) as temporary:
            for record in write_parquet(records, temporary):
                last = int(record["change_seq"])
    elif output is not None:
        with _replacing(output) as temporary, temporary.open("w", encoding="utf-8") as handle:
            last = _write_text(records, handle, options.fmt, last)
            handle.flush()
            os.fsync(handle.fileno())
    else:
        last = _write_text(records, out, options.fmt, last)
        out.flush()
    if last != start:
        _save(store, options, last)
    return last


def _write_text(records: Iterator[dict[str, Any]], out: IO[str], fmt: str, last: int) -> int:
    write = write_csv if fmt == "csv" else write_jsonl
    for record in write(records, out):
        last = int(record["change_seq"])
    return last


def _start(store: Store, options: ExportOptions) -> int:
    if options.after is not None:
        return options.after
    if options.consumer is not None:
        return store.checkpoint(options.consumer)
    if options.cursor_file is not None:
        return read_cursor(options.cursor_file)
    return 0


def _save(store: Store, options: ExportOptions, last: int) -> None:
    if options.consumer is not None:
        store.save_checkpoint(options.consumer, last)
    elif options.cursor_file is not None:
        save_cursor(options.cursor_file, last)


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` that replaces it only when the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, path)


def read_cursor(path: Path) -> int:
    """The cursor saved in ``path`` (0 when the file does not exist yet)."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return 0
    except OSError as exc:
        raise ConfigError(f"cannot read cursor file: {exc.strerror}", path=str(path)) from None
    if not text.isdigit():
        raise ConfigError(f"expected a change number, found {text[:40]!r}", path=str(path))
    return int(text)


def save_cursor(path: Path, value: int) -> None:
    """Replace the cursor file atomically (a crash leaves the old or the new value)."""
    with _replacing(path) as temporary:
        with temporary.open("w", encoding="utf-8") as out:
            out.write(f"{value}\n")
            out.flush()
            os.fsync(out.fileno())
