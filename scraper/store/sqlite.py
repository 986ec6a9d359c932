"""The SQLite store: articles deduplicated across URLs and sites, their edits, runs and fetches.

Every write is one ``BEGIN IMMEDIATE`` transaction in WAL mode, so a process killed at
any point leaves a consistent database; :meth:`Store.abort_stale_runs` then closes the
run it left open.  Schema and migrations live in :mod:`scraper.store_schema`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlite_utils import Database
from sqlite_utils.db import Table

from ..errors import StoreError
from ..models import Article
from .fingerprint import Fingerprint
from .schema import (
    FETCH_KINDS,
    FETCH_OUTCOMES,
    RUN_STATUSES,
    article_record,
    body_hash,
    closest_article,
    decode_row,
    is_substantial,
    iso_or_none,
    iso_utc,
    merge_record,
    next_change_seq,
    open_database,
    set_band_keys,
    to_json,
    translate_errors,
    write_transaction,
)

__all__ = ["FetchRecord", "Known", "SaveResult", "Store", "body_hash"]

MAX_CANDIDATES = 20  # stored bodies compared per save, those sharing the most band keys first


@dataclass(frozen=True)
class Known:
    """What the store knows about a URL, for refresh policy and conditional GET."""

    article_id: int
    url: str
    last_fetched: datetime
    etag: str | None
    last_modified: str | None
    body_hash: str


@dataclass(frozen=True)
class FetchRecord:
    """One fetch attempt (after retries) of any kind of URL, as stored in ``fetches``."""

    run_id: int
    source: str
    url: str
    kind: str  # "listing" | "article" | "robots" | "feed" | "sitemap"
    outcome: str  # "ok" | "not-modified" | "error" | "skipped"
    status: int | None = None
    final_url: str | None = None
    error_kind: str | None = None
    error: str | None = None
    elapsed_ms: int | None = None
    bytes: int | None = None
    attempts: int = 1
    fetched_at: datetime | None = None


@dataclass(frozen=True)
class SaveResult:
    outcome: str  # "new" | "updated" | "unchanged" | "duplicate"
    article_id: int


@dataclass(frozen=True)
class _Incoming:
    """One save_article call, its values already in column form."""

    url: str
    urls: tuple[str, ...]
    when: str
    record: Mapping[str, Any]  # article columns (content, metadata, validators, hints)
    fingerprint: Fingerprint  # of record["body"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _since_utc(since: str) -> str:
    try:
        value = datetime.fromisoformat(since)
    except ValueError as exc:
        raise ValueError(f"since: not an ISO 8601 date or time: {since!r}") from exc
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


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


class Store:
    """The article database at ``path``: created, switched to WAL and migrated on open."""

    def __init__(self, path: str | Path, *, now: Callable[[], datetime] = _utc_now) -> None:
        self.path = Path(path)
        self._now = now
        self.db: Database = open_database(self.path)

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

    def _inserted_id(self, table: Table) -> int:
        if table.last_rowid is None:
            raise StoreError(f"insert into {table.name} returned no id", path=str(self.path))
        return table.last_rowid

    def _stamp(self, value: datetime | None = None) -> str:
        return iso_utc(value if value is not None else self._now(), "timestamp")

    # -- articles -------------------------------------------------------------------------

    def known(self, urls: Iterable[str]) -> Known | None:
        """The article stored under any of ``urls`` (the first one that matches), or None."""
        with translate_errors(self.path, "looking up known URLs"):
            row = self._find(tuple(dict.fromkeys(urls)))
        if row is None:
            return None
        return Known(
            article_id=int(row["id"]),
            url=str(row["url"]),
            last_fetched=datetime.fromisoformat(row["last_fetched"]),
            etag=row["etag"],
            last_modified=row["last_modified"],
            body_hash=str(row["body_hash"]),
        )

    def save_article(
        self,
        *,
        source: str,
        url: str,
        aliases: Iterable[str],
        article: Article,
        etag: str | None = None,
        last_modified: str | None = None,
        hint_title: str | None = None,
        hint_published: datetime | None = None,
        fetched_at: datetime | None = None,
    ) -> SaveResult:
        """Store one extracted article, all in one transaction.

        ``url`` is the canonical URL; ``aliases`` (requested, final URL...) are recorded
        too, all pointing at the one article (``article.url`` is not: the caller decides).
        Outcomes: "unchanged" or "updated" when any of those URLs is known (an update
        keeps the previous content in ``article_versions``; a value missing from this
        extraction never erases a stored one); "duplicate" when a substantial body
        equals, or nearly equals (same text give or take a few edits, see
        :mod:`scraper.fingerprint`), a stored article's, whose URLs then include these;
        otherwise "new".
        """
        record = article_record(article) | {
            "source": source,
            "etag": etag,
            "last_modified": last_modified,
            "hint_title": hint_title,
            "hint_published": iso_or_none(hint_published, "hint_published"),
        }
        incoming = _Incoming(
            url=url,
            urls=tuple(dict.fromkeys((url, *aliases))),
            when=self._stamp(fetched_at),
            record=record,
            fingerprint=Fingerprint.of(article.body),
        )
        with write_transaction(self.db, self.path, f"saving article {url}"):
            existing = self._find(incoming.urls)
            if existing is not None:
                return self._refresh(existing, incoming)
            duplicate = self._find_duplicate(incoming)
            if duplicate is not None:
                self._add_urls(duplicate, incoming)
                self.db.execute(
                    "UPDATE articles SET duplicate_count = duplicate_count + 1 WHERE id = ?",
                    [duplicate],
                )
                return SaveResult("duplicate", duplicate)
            return SaveResult("new", self._insert(incoming))

    def touch(
        self,
        article_id: int,
        *,
        fetched_at: datetime,
        etag: str | None,
        last_modified: str | None,
    ) -> None:
        """Record a 304 Not Modified: the article was checked and is as stored."""
        when = self._stamp(fetched_at)
        with write_transaction(self.db, self.path, f"touching article {article_id}"):
            cursor = self.db.execute(
                "UPDATE articles SET last_fetched = ?, etag = COALESCE(?, etag),"
                " last_modified = COALESCE(?, last_modified) WHERE id = ?",
                [when, etag, last_modified, article_id],
            )
            if cursor.rowcount != 1:
                raise StoreError(f"no article with id {article_id}", path=str(self.path))

    def articles(
        self, *, limit: int = 20, source: str | None = None, since: str | None = None
    ) -> list[dict[str, Any]]:
        """Newest first (by published, then first_seen); JSON columns decoded.

        ``since`` is an ISO 8601 date or time (UTC if it has no offset) compared with
        ``published``, or with ``first_seen`` for articles without a date.
        """
        if limit < 0:
            raise ValueError(f"limit: must be >= 0, got {limit}")
        where, params = self._filters(source)
        if since is not None:
            where.append("julianday(COALESCE(published, first_seen)) >= julianday(?)")
            params.append(_since_utc(since))
        sql = (
            "SELECT * FROM articles"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY julianday(published) DESC, first_seen DESC, id DESC LIMIT ?"
        )
        with translate_errors(self.path, "listing articles"):
            return [decode_row(row) for row in self.db.query(sql, [*params, limit])]

    def count_articles(self, source: str | None = None) -> int:
        where, params = self._filters(source)
        sql = "SELECT count(*) FROM articles" + (" WHERE " + where[0] if where else "")
        with translate_errors(self.path, "counting articles"):
            return int(self.db.execute(sql, params).fetchone()[0])

    @staticmethod
    def _filters(source: str | None) -> tuple[list[str], list[Any]]:
        return (["source = ?"], [source]) if source is not None else ([], [])

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

    def _find_duplicate(self, incoming: _Incoming) -> int | None:
        """An article with the same or nearly the same substantial body, by indexed lookups."""
        body = str(incoming.record["body"])
        if not is_substantial(body):
            return None
        row = self.db.execute(
            "SELECT id FROM articles WHERE body_hash = ? ORDER BY id LIMIT 1",
            [incoming.record["body_hash"]],
        ).fetchone()
        if row is not None:
            return int(row[0])
        return closest_article(self.db, incoming.fingerprint, MAX_CANDIDATES)

    def _insert(self, incoming: _Incoming) -> int:
        stamps = {key: incoming.when for key in ("first_seen", "last_fetched", "last_changed")}
        table = self.db.table("articles")
        seq = next_change_seq(self.db)
        table.insert(
            {"url": incoming.url, **incoming.record, **stamps, "version": 1, "change_seq": seq}
        )
        article_id = self._inserted_id(table)
        set_band_keys(self.db, article_id, str(incoming.record["body"]), incoming.fingerprint)
        self._add_urls(article_id, incoming)
        return article_id

    def _refresh(self, row: Mapping[str, Any], incoming: _Incoming) -> SaveResult:
        """Update a known article; keep the previous content in article_versions if it changed."""
        article_id = int(row["id"])
        merged = merge_record(row, incoming.record)
        merged["source"] = row["source"]  # the site that first had it keeps it
        merged["last_fetched"] = incoming.when
        changed = any(merged[key] != row[key] for key in ("body_hash", "title", "published"))
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
                "last_changed": incoming.when,
                "change_seq": next_change_seq(self.db),
            }
        self.db.table("articles").update(article_id, merged)
        if changed:
            body = str(merged["body"])
            same = body == incoming.record["body"]
            fingerprint = incoming.fingerprint if same else Fingerprint.of(body)
            set_band_keys(self.db, article_id, body, fingerprint)
        self._add_urls(article_id, incoming)
        return SaveResult("updated" if changed else "unchanged", article_id)

    def _add_urls(self, article_id: int, incoming: _Incoming) -> None:
        self.db.table("article_urls").insert_all(
            (
                {"url": url, "article_id": article_id, "first_seen": incoming.when}
                for url in incoming.urls
            ),
            ignore=True,
        )

    # -- runs and fetches -----------------------------------------------------------------

    def start_run(self, sources: Sequence[str], *, pid: int | None = None) -> int:
        """Open a run as 'running'; pass ``pid`` so abort_stale_runs can tell if it died."""
        table = self.db.table("runs")
        with write_transaction(self.db, self.path, "starting a run"):
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
        self,
        run_id: int,
        *,
        status: str,
        counts: Mapping[str, int],
        error: str | None = None,
    ) -> None:
        if status not in RUN_STATUSES - {"running"}:
            raise ValueError(f"status: unknown final run status {status!r}")
        with write_transaction(self.db, self.path, f"finishing run {run_id}"):
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
        with write_transaction(self.db, self.path, "aborting stale runs"):
            rows = self.db.execute("SELECT id, pid FROM runs WHERE status = 'running'").fetchall()
            stale = [run_id for run_id, pid in rows if not _process_alive(pid)]
            for run_id in stale:
                self.db.execute(
                    "UPDATE runs SET status = 'aborted', finished_at = ?,"
                    " error = COALESCE(error, ?) WHERE id = ?",
                    [self._stamp(), "the process ended without finishing the run", run_id],
                )
        return len(stale)

    def record_fetch(self, record: FetchRecord) -> None:
        if record.kind not in FETCH_KINDS:
            raise ValueError(f"kind: unknown fetch kind {record.kind!r} for {record.url}")
        if record.outcome not in FETCH_OUTCOMES:
            raise ValueError(f"outcome: unknown fetch outcome {record.outcome!r} for {record.url}")
        row = asdict(record) | {"fetched_at": self._stamp(record.fetched_at)}
        with write_transaction(self.db, self.path, f"recording fetch of {record.url}"):
            self.db.table("fetches").insert(row)
