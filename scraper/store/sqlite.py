"""The SQLite store: one file, WAL mode, one ``BEGIN IMMEDIATE`` transaction per write.

A process killed at any point leaves a consistent database; :meth:`abort_stale_runs`
then closes the run it left open.  Opening, migrations and error translation live in
:mod:`.sqlite_schema`; the near-duplicate index in :mod:`.sqlite_dedup`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlite_utils import Database
from sqlite_utils.db import Table

from ..clock import Clock, utc_now
from ..errors import StoreError
from ..models import Validators
from .fingerprint import Fingerprint, is_substantial
from .records import (
    RUN_STATUSES,
    SOURCE_RUN_STATUSES,
    ArticleSample,
    ArticleWrite,
    FetchRecord,
    Known,
    RunRecord,
    SaveResult,
    SourceRun,
    StoredArticle,
    StoredVersion,
)
from .rows import (
    VERSIONED,
    article_columns,
    fetch_columns,
    fetch_record,
    iso_utc,
    merge_columns,
    run_record,
    source_run,
    source_run_columns,
    stored_article,
    stored_version,
    to_json,
)
from .sqlite_dedup import closest_article, same_body, set_band_keys
from .sqlite_schema import open_database, translate_errors, write_transaction

__all__ = ["SQLiteStore"]

MAX_CANDIDATES = 20  # stored bodies compared per save, those sharing the most band keys first
_BATCH = 500  # rows read at a time by streaming queries


class SQLiteStore:
    """The article database in the SQLite file at ``path``: created, switched to WAL and
    migrated on open.  Implements :class:`~scraper.store.base.Store`."""

    def __init__(self, path: str | Path, *, now: Clock = utc_now) -> None:
        self.path = Path(path)
        self._now = now
        self.db: Database = open_database(self.path)

    @property
    def location(self) -> str:
        return str(self.path)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _reading(self, action: str) -> AbstractContextManager[None]:
        return translate_errors(self.path, action)

    def _writing(self, action: str) -> AbstractContextManager[Database]:
        return write_transaction(self.db, self.path, action)

    def _inserted_id(self, table: Table) -> int:
        if table.last_rowid is None:
            raise StoreError(f"insert into {table.name} returned no id", path=str(self.path))
        return table.last_rowid

    def _stamp(self, value: datetime | None = None) -> str:
        return iso_utc(value if value is not None else self._now(), "timestamp")

    # -- articles -------------------------------------------------------------------------

    def known(self, urls: Iterable[str]) -> Known | None:
        with self._reading("looking up known URLs"):
            row = self._find(tuple(dict.fromkeys(urls)))
        if row is None:
            return None
        return Known(
            article_id=int(row["id"]),
            last_fetched=datetime.fromisoformat(row["last_fetched"]),
            validators=Validators(row["etag"], row["last_modified"]),
        )

    def save_article(self, write: ArticleWrite) -> SaveResult:
        """Outcomes: "unchanged" or "updated" when any of the write's URLs is known (an
        update keeps the previous content in ``article_versions``; a value missing from
        this extraction never erases a stored one); "duplicate" when a substantial body
        equals, or nearly equals (see :mod:`.fingerprint`), a stored article's, whose
        URLs then include these; otherwise "new".
        """
        columns = article_columns(write)
        fingerprint = Fingerprint.of(write.article.body)
        when = self._stamp(write.fetched_at)
        with self._writing(f"saving article {write.url}"):
            existing = self._find(write.urls)
            if existing is not None:
                return self._refresh(existing, columns, fingerprint, write, when)
            duplicate = self._find_duplicate(columns, fingerprint)
            if duplicate is not None:
                self._add_urls(duplicate, write.urls, when)
                self.db.execute(
                    "UPDATE articles SET duplicate_count = duplicate_count + 1 WHERE id = ?",
                    [duplicate],
                )
                return SaveResult("duplicate", duplicate)
            return SaveResult("new", self._insert(write, columns, fingerprint, when))

    def touch(
        self, article_id: int, *, fetched_at: datetime, etag: str | None, last_modified: str | None
    ) -> None:
        when = self._stamp(fetched_at)
        with self._writing(f"touching article {article_id}"):
            cursor = self.db.execute(
                "UPDATE articles SET last_fetched = ?, etag = COALESCE(?, etag),"
                " last_modified = COALESCE(?, last_modified) WHERE id = ?",
                [when, etag, last_modified, article_id],
            )
            if cursor.rowcount != 1:
                raise StoreError(f"no article with id {article_id}", path=str(self.path))

    def articles(
        self, *, limit: int = 20, source: str | None = None, since: datetime | None = None
    ) -> list[StoredArticle]:
        """Newest first (by published, then first_seen).

        ``since`` (UTC if naive) is compared with ``published``, or with ``first_seen``
        for articles without a date.
        """
        if limit < 0:
            raise ValueError(f"limit: must be >= 0, got {limit}")
        where, params = _filters(source)
        if since is not None:
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            where.append("julianday(COALESCE(published, first_seen)) >= julianday(?)")
            params.append(since.astimezone(UTC).isoformat())
        sql = (
            "SELECT * FROM articles"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY julianday(published) DESC, first_seen DESC, id DESC LIMIT ?"
        )
        with self._reading("listing articles"):
            rows = list(self.db.query(sql, [*params, limit]))
        return [self._decode(row) for row in rows]

    def article(self, article_id: int) -> StoredArticle | None:
        with self._reading(f"reading article {article_id}"):
            rows = list(self.db.query("SELECT * FROM articles WHERE id = ?", [article_id]))
        return self._decode(rows[0]) if rows else None

    def count_articles(self, source: str | None = None) -> int:
        where, params = _filters(source)
        sql = "SELECT count(*) FROM articles" + (" WHERE " + where[0] if where else "")
        with self._reading("counting articles"):
            return int(self.db.execute(sql, params).fetchone()[0])

    def changed_articles(
        self, *, after: int = 0, source: str | None = None, limit: int | None = None
    ) -> Iterator[StoredArticle]:
        """Read in batches, so memory does not grow with the number of rows."""
        cursor, left = after, limit
        while left is None or left > 0:
            size = _BATCH if left is None else min(_BATCH, left)
            where, params = _filters(source)
            where.append("change_seq > ?")
            sql = f"SELECT * FROM articles WHERE {' AND '.join(where)} ORDER BY change_seq LIMIT ?"
            with self._reading("exporting articles"):
                rows = list(self.db.query(sql, [*params, cursor, size]))
            if not rows:
                return
            for row in rows:
                yield self._decode(row)
            cursor = int(rows[-1]["change_seq"])
            if left is not None:
                left -= len(rows)

    def versions(self, article_id: int) -> list[StoredVersion]:
        sql = "SELECT * FROM article_versions WHERE article_id = ? ORDER BY version, id"
        with self._reading(f"reading the versions of article {article_id}"):
            return [stored_version(row) for row in self.db.query(sql, [article_id])]

    def article_samples(self, source: str, limit: int) -> list[ArticleSample]:
        sql = (
            "SELECT length(trim(body)) AS body_length, trim(coalesce(title, '')) != ''"
            " AS has_title, published IS NOT NULL AS has_date, extraction_errors FROM articles"
            " WHERE source = ? ORDER BY last_fetched DESC, id DESC LIMIT ?"
        )
        with self._reading(f"reading the articles of source {source!r}"):
            rows = list(self.db.query(sql, [source, limit]))
        return [
            ArticleSample(
                body_length=int(row["body_length"] or 0),
                has_title=bool(row["has_title"]),
                has_date=bool(row["has_date"]),
                errors=json.loads(row["extraction_errors"] or "{}"),
            )
            for row in rows
        ]

    def _decode(self, row: Mapping[str, Any]) -> StoredArticle:
        try:
            return stored_article(row)
        except (TypeError, ValueError) as exc:  # a hand-edited row
            message = f"article {row.get('id')}: unreadable row: {exc}"
            raise StoreError(message, path=str(self.path)) from exc

    def _find(self, urls: Sequence[str]) -> dict[str, Any] | None:
        if not urls:
            return None
        marks = ", ".join("?" * len(urls))
        mapped = dict(
            self.db.execute(
                f"SELECT url, article_id FROM article_urls WHERE url IN ({marks})", list(urls)
            ).fetchall()
        )
        found = next((mapped[url] for url in urls if url in mapped), None)
        if found is None:  # a row whose URL mapping is missing (hand-edited database)
            row = self.db.execute(
                f"SELECT id FROM articles WHERE url IN ({marks}) ORDER BY id LIMIT 1", list(urls)
            ).fetchone()
            found = row[0] if row else None
        return None if found is None else dict(self.db.table("articles").get(found))

    def _find_duplicate(self, columns: Mapping[str, Any], fingerprint: Fingerprint) -> int | None:
        """An article with the same or nearly the same substantial body, by indexed lookups."""
        if not is_substantial(str(columns["body"])):
            return None
        same = same_body(self.db, str(columns["body_hash"]))
        if same is not None:
            return same
        return closest_article(self.db, fingerprint, MAX_CANDIDATES)

    def _insert(
        self, write: ArticleWrite, columns: Mapping[str, Any], fingerprint: Fingerprint, when: str
    ) -> int:
        stamps = dict.fromkeys(("first_seen", "last_fetched", "last_changed"), when)
        table = self.db.table("articles")
        seq = self._next_change_seq()
        table.insert({"url": write.url, **columns, **stamps, "version": 1, "change_seq": seq})
        article_id = self._inserted_id(table)
        set_band_keys(self.db, article_id, write.article.body, fingerprint)
        self._add_urls(article_id, write.urls, when)
        return article_id

    def _refresh(
        self,
        row: Mapping[str, Any],
        columns: Mapping[str, Any],
        fingerprint: Fingerprint,
        write: ArticleWrite,
        when: str,
    ) -> SaveResult:
        """Update a known article; keep the previous content in article_versions if it changed."""
        article_id = int(row["id"])
        merged = merge_columns(row, columns)
        merged["source"] = row["source"]  # the site that first had it keeps it
        merged["last_fetched"] = when
        changed = any(merged[key] != row[key] for key in VERSIONED)
        if changed:
            self.db.table("article_versions").insert(
                {
                    "article_id": article_id,
                    **{key: row[key] for key in ("version", "title", "published", "body")},
                    "body_hash": row["body_hash"],
                    "fetched_at": row["last_fetched"],
                }
            )
            merged |= {
                "version": int(row["version"]) + 1,
                "last_changed": when,
                "change_seq": self._next_change_seq(),
            }
        self.db.table("articles").update(article_id, merged)
        if changed:
            body = str(merged["body"])
            same = body == write.article.body
            set_band_keys(self.db, article_id, body, fingerprint if same else Fingerprint.of(body))
        self._add_urls(article_id, write.urls, when)
        return SaveResult("updated" if changed else "unchanged", article_id)

    def _add_urls(self, article_id: int, urls: Iterable[str], when: str) -> None:
        self.db.table("article_urls").insert_all(
            ({"url": url, "article_id": article_id, "first_seen": when} for url in urls),
            ignore=True,
        )

    def _next_change_seq(self) -> int:
        """The change number for the next article write (inside the write transaction)."""
        row = self.db.execute("SELECT COALESCE(MAX(change_seq), 0) + 1 FROM articles").fetchone()
        return int(row[0])

    # -- runs, fetches and source runs ------------------------------------------------------

    def start_run(self, sources: Sequence[str], *, pid: int | None = None) -> int:
        """Open a run as 'running'; pass ``pid`` so abort_stale_runs can tell if it died."""
        table = self.db.table("runs")
        with self._writing("starting a run"):
            table.insert(
                {
                    "started_at": self._stamp(),
                    "status": "running",
                    "sources": to_json(list(sources)),
                    "pid": pid,
                    "counts": "{}",
                }
            )
            return self._inserted_id(table)

    def finish_run(
        self, run_id: int, *, status: str, counts: Mapping[str, int], error: str | None = None
    ) -> None:
        if status not in RUN_STATUSES - {"running"}:
            raise ValueError(f"status: unknown final run status {status!r}")
        with self._writing(f"finishing run {run_id}"):
            cursor = self.db.execute(
                "UPDATE runs SET finished_at = ?, status = ?, counts = ?, error = ? WHERE id = ?",
                [self._stamp(), status, to_json(dict(counts)), error, run_id],
            )
            if cursor.rowcount != 1:
                raise StoreError(f"no run with id {run_id}", path=str(self.path))

    def abort_stale_runs(self) -> int:
        """Mark 'running' runs whose process is gone (or unknown: no pid) as 'aborted'.

        Call it while holding the run lock: a run started without a pid counts as stale.
        """
        with self._writing("aborting stale runs"):
            rows = self.db.execute("SELECT id, pid FROM runs WHERE status = 'running'").fetchall()
            stale = [run_id for run_id, pid in rows if not _process_alive(pid)]
            for run_id in stale:
                self.db.execute(
                    "UPDATE runs SET status = 'aborted', finished_at = ?,"
                    " error = COALESCE(error, ?) WHERE id = ?",
                    [self._stamp(), "the process ended without finishing the run", run_id],
                )
        return len(stale)

    def run_record(self, run_id: int) -> RunRecord | None:
        with self._reading(f"reading run {run_id}"):
            rows = list(self.db.query("SELECT * FROM runs WHERE id = ?", [run_id]))
        return run_record(rows[0]) if rows else None

    def fetches(self, run_id: int) -> list[FetchRecord]:
        with self._reading(f"reading the fetches of run {run_id}"):
            rows = self.db.query("SELECT * FROM fetches WHERE run_id = ? ORDER BY id", [run_id])
            return [fetch_record(row) for row in rows]

    def record_fetch(self, record: FetchRecord) -> None:
        with self._writing(f"recording fetch of {record.url}"):
            self.db.table("fetches").insert(fetch_columns(record))

    def record_source_runs(self, runs: Iterable[SourceRun]) -> None:
        rows = [source_run_columns(run) for run in runs]
        if not rows:
            return
        with self._writing("recording source runs"):
            self.db.table("source_runs").insert_all(rows)

    def recent_source_runs(
        self, source: str, limit: int = 20, *, statuses: Collection[str] | None = None
    ) -> list[SourceRun]:
        if limit < 1:
            raise ValueError(f"limit: must be >= 1, got {limit}")
        wanted = sorted(statuses if statuses is not None else SOURCE_RUN_STATUSES)
        marks = ", ".join("?" * len(wanted))
        sql = (
            f"SELECT * FROM source_runs WHERE source = ? AND status IN ({marks})"
            " ORDER BY id DESC LIMIT ?"
        )
        with self._reading(f"reading the runs of source {source!r}"):
            return [source_run(row) for row in self.db.query(sql, [source, *wanted, limit])]

    # -- robots.txt copies ------------------------------------------------------------------

    def recall_robots(self, url: str) -> bytes | None:
        with self._reading(f"reading the stored copy of {url}"):
            row = self.db.execute("SELECT content FROM robots WHERE url = ?", [url]).fetchone()
        if row is None or row[0] is None:
            return None
        content = row[0]
        return content if isinstance(content, bytes) else str(content).encode("utf-8")

    def remember_robots(self, url: str, content: bytes) -> None:
        with self._writing(f"storing {url}"):
            self.db.execute(
                "INSERT OR REPLACE INTO robots (url, content, fetched_at) VALUES (?, ?, ?)",
                [url, content, self._stamp()],
            )


def _filters(source: str | None) -> tuple[list[str], list[Any]]:
    return (["source = ?"], [source]) if source is not None else ([], [])


def _process_alive(pid: int | None) -> bool:
    """Whether ``pid`` names a live process (POSIX only; unknown counts as gone)."""
    if pid is None or pid <= 0 or os.name != "posix":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
