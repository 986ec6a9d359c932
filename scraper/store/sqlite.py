"""The SQLite store: one file, WAL mode, one ``BEGIN IMMEDIATE`` transaction per write.

A process killed at any point leaves a consistent database; :meth:`abort_stale_runs`
then closes the run it left open.  Opening, migrations and error translation live in
:mod:`.sqlite_schema`; the near-duplicate index in :mod:`.sqlite_dedup`.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from sqlite_utils.db import Table

from ..clock import Clock, utc_now
from ..errors import StoreError
from ..models import Validators
from .base import Store
from .edits import collapsed, is_edit
from .fingerprint import Fingerprint, body_hash, is_substantial
from .records import (
    EVERY_ARTICLE,
    RUN_STATUSES,
    SOURCE_RUN_STATUSES,
    ArticleFilter,
    ArticleSample,
    ArticleWrite,
    ConsumerRecord,
    FetchRecord,
    Known,
    RunRecord,
    SaveResult,
    SearchHit,
    SourceRun,
    StoredArticle,
    StoredVersion,
    StoryRecord,
    StoryView,
)
from .rows import (
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
    story_record,
    to_json,
)
from .sqlite_dedup import closest_article, same_body, set_band_keys
from .sqlite_schema import open_database, translate_errors, write_transaction

__all__ = ["SQLiteStore"]

MAX_CANDIDATES = 20  # stored bodies compared per save, those sharing the most band keys first
FURNITURE_SAMPLE = 50  # recent articles of an outlet searched for a changed paragraph
# What a refetch that is no real edit still updates (the text itself stays as stored).
KEPT_ON_REFETCH = ("etag", "last_modified", "hint_title", "hint_published")
_BATCH = 500  # rows read at a time by streaming queries


class SQLiteStore(Store):
    """The article database in the SQLite file at ``path``: created, switched to WAL and
    migrated on open."""

    def __init__(self, path: str | Path, *, now: Clock = utc_now) -> None:
        self.path = Path(path)
        self._now = now
        self.db: Database = open_database(self.path)

    @property
    def location(self) -> str:
        return str(self.path)

    def close(self) -> None:
        self.db.close()

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

    def known(self, source: str, urls: Iterable[str]) -> Known | None:
        with self._reading("looking up known URLs"):
            row = self._find(source, tuple(dict.fromkeys(urls)))
        if row is None:
            return None
        return Known(
            article_id=int(row["id"]),
            last_fetched=datetime.fromisoformat(row["last_fetched"]),
            validators=Validators(row["etag"], row["last_modified"]),
        )

    def save_article(self, write: ArticleWrite) -> SaveResult:
        """Store one outlet's article, all in one transaction.

        A URL of the write known for the same source refreshes that row: "updated" for a
        real edit (the previous text becomes a version; see :mod:`.edits`), "suspect"
        when the text collapsed (nothing written), else "unchanged" (validators and the
        fetch time are kept up to date; a value missing from this extraction never erases
        a stored one).  Otherwise the article is "new": its own row, in the story of the
        stored copy (from any outlet) whose substantial text is the same or nearly so,
        or in a story of its own.
        """
        columns = article_columns(write)
        fingerprint = Fingerprint.of(write.article.body)
        when = self._stamp(write.fetched_at)
        with self._writing(f"saving article {write.url}"):
            existing = self._find(write.source, write.urls)
            if existing is not None:
                return self._refresh(existing, columns, fingerprint, write, when)
            story = self._story_of_copy(columns, fingerprint)
            article_id = self._insert(write, columns, fingerprint, when)
            story_id = self._join_story(story, article_id, when)
            return SaveResult("new", article_id, story_id)

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
        where, params = self._where(ArticleFilter(source=source, since=since))
        sql = (
            f"SELECT a.* FROM articles a WHERE {' AND '.join(where)}"
            " ORDER BY julianday(a.published) DESC, a.first_seen DESC, a.id DESC LIMIT ?"
        )
        with self._reading("listing articles"):
            rows = list(self.db.query(sql, [*params, limit]))
        return [self._decode(row) for row in rows]

    def article(self, article_id: int) -> StoredArticle | None:
        with self._reading(f"reading article {article_id}"):
            rows = list(self.db.query("SELECT * FROM articles WHERE id = ?", [article_id]))
        return self._decode(rows[0]) if rows else None

    def count_same_text(self, source: str, body: str) -> int:
        sql = "SELECT count(*) FROM articles WHERE body_hash = ? AND source = ?"
        with self._reading(f"looking up a text of {source!r}"):
            return int(self.db.execute(sql, [body_hash(body), source]).fetchone()[0])

    def count_articles(self, source: str | None = None) -> int:
        where, params = self._where(ArticleFilter(source=source))
        sql = f"SELECT count(*) FROM articles a WHERE {' AND '.join(where)}"
        with self._reading("counting articles"):
            return int(self.db.execute(sql, params).fetchone()[0])

    def changed_articles(
        self,
        *,
        after: int = 0,
        where: ArticleFilter = EVERY_ARTICLE,
        limit: int | None = None,
    ) -> Iterator[StoredArticle]:
        """Read in batches, so memory does not grow with the number of rows."""
        cursor, left = after, limit
        clauses, params = self._where(where)
        while left is None or left > 0:
            size = _BATCH if left is None else min(_BATCH, left)
            sql = (
                f"SELECT a.* FROM articles a WHERE {' AND '.join([*clauses, 'a.change_seq > ?'])}"
                " ORDER BY a.change_seq LIMIT ?"
            )
            with self._reading("exporting articles"):
                rows = list(self.db.query(sql, [*params, cursor, size]))
            if not rows:
                return
            for row in rows:
                yield self._decode(row)
            cursor = int(rows[-1]["change_seq"])
            if left is not None:
                left -= len(rows)

    def article_by_url(self, url: str) -> StoredArticle | None:
        sql = (
            "SELECT a.* FROM articles a WHERE a.id = (SELECT article_id FROM article_urls"
            " WHERE url = ? ORDER BY article_id LIMIT 1) OR a.url = ? ORDER BY a.id LIMIT 1"
        )
        with self._reading(f"looking up {url}"):
            rows = list(self.db.query(sql, [url, url]))
        return self._decode(rows[0]) if rows else None

    def urls(self, article_id: int) -> tuple[str, ...]:
        sql = (
            "SELECT u.url FROM article_urls u JOIN articles a ON a.id = u.article_id"
            " WHERE u.article_id = ? ORDER BY u.url != a.url, u.first_seen, u.url"
        )
        with self._reading(f"reading the URLs of article {article_id}"):
            return tuple(url for (url,) in self.db.execute(sql, [article_id]).fetchall())

    def search(
        self, query: str, *, where: ArticleFilter = EVERY_ARTICLE, limit: int = 20
    ) -> list[SearchHit]:
        if limit < 1:
            raise ValueError(f"limit: must be >= 1, got {limit}")
        clauses, params = self._where(ArticleFilter(**{**vars(where), "query": None}))
        sql = (
            "SELECT a.*, -bm25(articles_fts) AS _rank,"
            " snippet(articles_fts, -1, '[', ']', '…', 16) AS _snippet"
            " FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid"
            f" WHERE {' AND '.join(['articles_fts MATCH ?', *clauses])}"
            " ORDER BY bm25(articles_fts) LIMIT ?"
        )
        rows = self._fts(sql, query, [*params, limit])
        return [
            SearchHit(self._decode(row), float(row["_rank"]), str(row["_snippet"] or ""))
            for row in rows
        ]

    def _fts(self, sql: str, query: str, params: list[Any]) -> list[dict[str, Any]]:
        """Run a full-text query; search syntax that FTS5 refuses is searched as words."""
        words = fts_words(query)
        if not words:
            raise ValueError(f"nothing to search for in {query!r}")
        try:
            with self._reading("searching"):
                return [dict(row) for row in self.db.query(sql, [query, *params])]
        except StoreError as exc:
            if not isinstance(exc.__cause__, sqlite3.OperationalError):
                raise
        with self._reading("searching"):
            return [dict(row) for row in self.db.query(sql, [words, *params])]

    def stories(
        self, *, min_sources: int = 2, since: datetime | None = None, limit: int = 20
    ) -> list[StoryView]:
        clauses: list[str] = ["s.members >= ?"]
        params: list[Any] = [min_sources]
        if since is not None:
            clauses.append("julianday(s.first_seen) >= julianday(?)")
            params.append(_utc_text(since))
        sql = (
            f"SELECT s.* FROM stories s WHERE {' AND '.join(clauses)}"
            " AND (SELECT count(DISTINCT source) FROM articles WHERE story_id = s.id) >= ?"
            " ORDER BY s.first_seen DESC, s.id DESC LIMIT ?"
        )
        with self._reading("listing stories"):
            rows = list(self.db.query(sql, [*params, min_sources, limit]))
        return [
            StoryView(story_record(row), tuple(self.story_members(int(row["id"])))) for row in rows
        ]

    def _where(self, where: ArticleFilter) -> tuple[list[str], list[Any]]:
        """SQL conditions on ``articles a`` for a filter."""
        clauses: list[str] = []
        params: list[Any] = []
        if where.source is not None:
            clauses.append("a.source = ?")
            params.append(where.source)
        if where.language is not None:
            clauses.append("a.language = ?")
            params.append(where.language)
        day = "julianday(COALESCE(a.published, a.first_seen))"
        if where.since is not None:
            clauses.append(f"{day} >= julianday(?)")
            params.append(_utc_text(where.since))
        if where.until is not None:
            clauses.append(f"{day} < julianday(?)")
            params.append(_utc_text(where.until))
        if where.representatives:
            clauses.append("a.id = (SELECT representative FROM stories WHERE id = a.story_id)")
        if where.query is not None:
            words = fts_words(where.query)
            if not words:
                raise ValueError(f"nothing to search for in {where.query!r}")
            clauses.append("a.rowid IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)")
            params.append(words)
        return clauses or ["1"], params

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

    def _find(self, source: str, urls: Sequence[str]) -> dict[str, Any] | None:
        if not urls:
            return None
        marks = ", ".join("?" * len(urls))
        mapped = dict(
            self.db.execute(
                f"SELECT url, article_id FROM article_urls WHERE source = ? AND url IN ({marks})",
                [source, *urls],
            ).fetchall()
        )
        found = next((mapped[url] for url in urls if url in mapped), None)
        if found is None:  # a row whose URL mapping is missing (hand-edited database)
            row = self.db.execute(
                f"SELECT id FROM articles WHERE source = ? AND url IN ({marks}) ORDER BY id"
                " LIMIT 1",
                [source, *urls],
            ).fetchone()
            found = row[0] if row else None
        return None if found is None else dict(self.db.table("articles").get(found))

    def _story_of_copy(self, columns: Mapping[str, Any], fingerprint: Fingerprint) -> int | None:
        """The story of a stored article with the same or nearly the same substantial body."""
        if not is_substantial(str(columns["body"])):
            return None
        copy = same_body(self.db, str(columns["body_hash"]))
        if copy is None:
            copy = closest_article(self.db, fingerprint, MAX_CANDIDATES)
        if copy is None:
            return None
        row = self.db.execute("SELECT story_id FROM articles WHERE id = ?", [copy]).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def _join_story(self, story_id: int | None, article_id: int, when: str) -> int:
        """Put the article in ``story_id`` (None: a new story); the earliest published member
        represents the story."""
        stories = self.db.table("stories")
        if story_id is None:
            stories.insert(
                {"representative": article_id, "members": 1, "first_seen": when, "last_seen": when}
            )
            story_id = self._inserted_id(stories)
        else:
            self.db.execute(
                "UPDATE stories SET members = members + 1, last_seen = max(last_seen, ?),"
                " first_seen = min(first_seen, ?) WHERE id = ?",
                [when, when, story_id],
            )
        self.db.execute("UPDATE articles SET story_id = ? WHERE id = ?", [story_id, article_id])
        self.db.execute(
            "UPDATE stories SET representative = (SELECT id FROM articles WHERE story_id = ?"
            " ORDER BY published IS NULL, julianday(published), julianday(first_seen), id"
            " LIMIT 1) WHERE id = ?",
            [story_id, story_id],
        )
        return story_id

    def _insert(
        self, write: ArticleWrite, columns: Mapping[str, Any], fingerprint: Fingerprint, when: str
    ) -> int:
        stamps = dict.fromkeys(("first_seen", "last_fetched", "last_changed"), when)
        table = self.db.table("articles")
        seq = self._next_change_seq()
        table.insert({"url": write.url, **columns, **stamps, "version": 1, "change_seq": seq})
        article_id = self._inserted_id(table)
        set_band_keys(self.db, article_id, write.article.body, fingerprint)
        self._add_urls(write.source, article_id, write.urls, when)
        return article_id

    def _refresh(
        self,
        row: Mapping[str, Any],
        columns: Mapping[str, Any],
        fingerprint: Fingerprint,
        write: ArticleWrite,
        when: str,
    ) -> SaveResult:
        """Update a known article: a real edit keeps the previous text as a version."""
        article_id, story_id = int(row["id"]), row["story_id"]
        self._add_urls(write.source, article_id, write.urls, when)
        self._touch_story(story_id, when)
        merged = merge_columns(row, columns)
        provisional = int(row["version"]) == 0  # a copy made by a migration: replace it
        if not provisional:
            shared = self._shared_body(row, str(merged["body_hash"]))
            why = collapsed(str(row["body"]), str(merged["body"]), shared)
            if why is not None:
                return SaveResult("suspect", article_id, story_id, note=why)
            if not is_edit(row, merged, lambda p: self._shared_paragraph(row, p)):
                self._keep_text(row, merged, when)
                return SaveResult("unchanged", article_id, story_id)
            self.db.table("article_versions").insert(
                {
                    "article_id": article_id,
                    **{key: row[key] for key in ("version", "title", "published", "body")},
                    "body_hash": row["body_hash"],
                    "fetched_at": row["last_fetched"],
                }
            )
        merged |= {
            "source": row["source"],
            "last_fetched": when,
            "version": int(row["version"]) + 1,
            "last_changed": when,
            "change_seq": self._next_change_seq(),
        }
        self.db.table("articles").update(article_id, merged)
        body = str(merged["body"])
        same = body == write.article.body
        set_band_keys(self.db, article_id, body, fingerprint if same else Fingerprint.of(body))
        return SaveResult("updated", article_id, story_id)

    def _keep_text(self, row: Mapping[str, Any], merged: Mapping[str, Any], when: str) -> None:
        """No real edit: keep the stored text; record the fetch, validators and metadata."""
        kept = {key: merged[key] for key in KEPT_ON_REFETCH}
        self.db.table("articles").update(int(row["id"]), {**kept, "last_fetched": when})

    def _shared_body(self, row: Mapping[str, Any], body_hash: str) -> bool:
        """Whether other articles of the outlet now carry exactly this text (a block page)."""
        if body_hash == row["body_hash"]:
            return False
        found = self.db.execute(
            "SELECT count(*) FROM (SELECT 1 FROM articles WHERE body_hash = ? AND source = ?"
            " AND id != ? LIMIT 2)",
            [body_hash, row["source"], row["id"]],
        ).fetchone()
        return int(found[0]) >= 2

    def _shared_paragraph(self, row: Mapping[str, Any], paragraph: str) -> bool:
        """Whether two or more of the outlet's recent other articles carry ``paragraph``."""
        found = self.db.execute(
            "SELECT count(*) FROM (SELECT body FROM articles WHERE source = ? AND id != ?"
            " ORDER BY last_fetched DESC LIMIT ?) WHERE instr(body, ?) > 0",
            [row["source"], row["id"], FURNITURE_SAMPLE, paragraph],
        ).fetchone()
        return int(found[0]) >= 2

    def _touch_story(self, story_id: int | None, when: str) -> None:
        if story_id is not None:
            self.db.execute(
                "UPDATE stories SET last_seen = max(last_seen, ?) WHERE id = ?", [when, story_id]
            )

    def _add_urls(self, source: str, article_id: int, urls: Iterable[str], when: str) -> None:
        self.db.table("article_urls").insert_all(
            (
                {"source": source, "url": url, "article_id": article_id, "first_seen": when}
                for url in urls
            ),
            ignore=True,
        )

    def _next_change_seq(self) -> int:
        """The change number for the next article write (inside the write transaction)."""
        row = self.db.execute("SELECT COALESCE(MAX(change_seq), 0) + 1 FROM articles").fetchone()
        return int(row[0])

    # -- stories and rechecks -----------------------------------------------------------

    def story(self, story_id: int) -> StoryRecord | None:
        with self._reading(f"reading story {story_id}"):
            rows = list(self.db.query("SELECT * FROM stories WHERE id = ?", [story_id]))
        return story_record(rows[0]) if rows else None

    def story_members(self, story_id: int) -> list[StoredArticle]:
        sql = (
            "SELECT * FROM articles WHERE story_id = ?"
            " ORDER BY published IS NULL, julianday(published), julianday(first_seen), id"
        )
        with self._reading(f"reading the members of story {story_id}"):
            rows = list(self.db.query(sql, [story_id]))
        return [self._decode(row) for row in rows]

    def due_for_recheck(
        self, source: str, ages: Sequence[float], now: datetime, limit: int
    ) -> list[str]:
        """URLs of the source's articles past one of ``ages`` (seconds after first seen)
        since their last fetch, oldest first seen first."""
        if not ages or limit < 1:
            return []
        now_text = iso_utc(now, "now")
        # whole seconds (strftime '%s'): julianday differences carry rounding errors
        age_of = (
            "(CAST(strftime('%s', ?) AS INTEGER) - CAST(strftime('%s', first_seen) AS INTEGER))"
        )
        fetched_at = (
            "(CAST(strftime('%s', last_fetched) AS INTEGER)"
            " - CAST(strftime('%s', first_seen) AS INTEGER))"
        )
        passed = " OR ".join(f"({fetched_at} < ? AND {age_of} >= ?)" for _ in ages)
        params: list[Any] = []
        for age in ages:
            params += [age, now_text, age]
        horizon = iso_utc(now - timedelta(seconds=max(ages) + 86400), "horizon")
        sql = (
            f"SELECT url FROM articles WHERE source = ? AND first_seen >= ? AND ({passed})"
            " ORDER BY first_seen, id LIMIT ?"
        )
        with self._reading(f"finding the articles of {source!r} due for a recheck"):
            rows = self.db.execute(sql, [source, horizon, *params, limit]).fetchall()
        return [str(url) for (url,) in rows]

    # -- consumers of exports ---------------------------------------------------------

    def checkpoint(self, consumer: str) -> int:
        with self._reading(f"reading the checkpoint of consumer {consumer!r}"):
            row = self.db.execute(
                "SELECT checkpoint FROM consumers WHERE name = ?", [consumer]
            ).fetchone()
        return int(row[0]) if row else 0

    def save_checkpoint(self, consumer: str, change_seq: int) -> None:
        if change_seq < 0:
            raise ValueError(f"change_seq: must be >= 0, got {change_seq}")
        with self._writing(f"saving the checkpoint of consumer {consumer!r}"):
            self.db.execute(
                "INSERT INTO consumers (name, checkpoint, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET checkpoint = excluded.checkpoint,"
                " updated_at = excluded.updated_at",
                [consumer, change_seq, self._stamp()],
            )

    def consumers(self) -> list[ConsumerRecord]:
        sql = (
            "SELECT name, checkpoint, updated_at, (SELECT count(*) FROM articles"
            " WHERE change_seq > c.checkpoint) AS lag FROM consumers c ORDER BY name"
        )
        with self._reading("listing consumers"):
            rows = self.db.execute(sql).fetchall()
        return [
            ConsumerRecord(
                name=str(name),
                checkpoint=int(checkpoint),
                updated_at=datetime.fromisoformat(updated) if updated else None,
                lag=int(lag),
            )
            for name, checkpoint, updated, lag in rows
        ]

    # -- runs, fetches and source runs ------------------------------------------------------

    def runs(self, *, limit: int = 20) -> list[RunRecord]:
        with self._reading("listing runs"):
            rows = list(self.db.query("SELECT * FROM runs ORDER BY id DESC LIMIT ?", [limit]))
        return [run_record(row) for row in rows]

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


def fts_words(query: str) -> str:
    """A query's words, each quoted (FTS5 syntax that matches them as plain words); the
    operators AND, OR, NOT and NEAR of a malformed query are dropped."""
    words = [w for w in re.findall(r"\w+", query) if w not in _FTS_OPERATORS]
    return " ".join(f'"{word}"' for word in words)


_FTS_OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR"})


def _utc_text(value: datetime) -> str:
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat()


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
