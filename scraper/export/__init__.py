"""Incremental exports for downstream tools: every article written since a cursor.

Each article write (a new article, or a stored one whose text, title or date changed)
takes the next ``change_seq`` number inside its transaction, so the numbers only ever
grow, in commit order.  A cursor is the last number a consumer has seen: asking for what
came after it returns new and edited articles exactly once each, however the crawls
interleave.  A cursor file is rewritten only after the export was written in full.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import ConfigError
from ..store import Store, StoredArticle

FORMATS = ("jsonl", "csv")
COLUMNS = (
    "change_seq", "id", "url", "source", "title", "published", "date_precision", "body",
    "authors", "language", "description", "image", "modified", "version", "first_seen",
    "last_fetched", "last_changed",
)  # fmt: skip


@dataclass(frozen=True)
class ExportOptions:
    after: int = 0  # export articles with change_seq greater than this
    source: str | None = None
    limit: int | None = None


def changed_articles(store: Store, options: ExportOptions) -> Iterator[dict[str, Any]]:
    """Articles written after ``options.after``, oldest change first, as export rows."""
    for article in store.changed_articles(
        after=options.after, source=options.source, limit=options.limit
    ):
        yield export_row(article)


def export_row(article: StoredArticle) -> dict[str, Any]:
    """The documented export fields of one article, JSON-ready."""
    data = article.to_dict()
    return {column: data[column] for column in COLUMNS}


def write(rows: Iterator[dict[str, Any]], out: IO[str], fmt: str) -> int | None:
    """Write rows as JSON lines or CSV; return the last change_seq written (None: none)."""
    last: int | None = None
    writer = csv.DictWriter(out, fieldnames=COLUMNS) if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    for row in rows:
        if writer is not None:
            writer.writerow(
                {k: json.dumps(v) if isinstance(v, list) else v for k, v in row.items()}
            )
        else:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        last = int(row["change_seq"])
    return last


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
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(f"{value}\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
