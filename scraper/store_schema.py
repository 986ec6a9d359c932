"""Opening the SQLite store: file checks, connection settings, transactions and migrations.

The schema version lives in ``PRAGMA user_version``; each migration runs in its own
``BEGIN IMMEDIATE`` transaction together with the version bump, so a crash leaves
the database at the previous version, never half-migrated.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from scraper.errors import StoreError

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 30.0

RUN_STATUSES = frozenset({"running", "ok", "partial", "failed", "aborted", "interrupted", "skipped"})
FETCH_KINDS = frozenset({"listing", "article", "robots", "feed", "sitemap"})
FETCH_OUTCOMES = frozenset({"ok", "not-modified", "error", "skipped"})


def open_database(path: Path) -> Database:
    """Open (creating if needed) and migrate the store at ``path``; StoreError names the path."""
    _check_file(path)
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open database: {exc}", path=str(path)) from exc
    try:
        db = Database(conn)
        _configure(db, path)
        migrate(db, path)
    except BaseException:
        conn.close()
        raise
    return db


def _check_file(path: Path) -> None:
    """Refuse anything that is not a SQLite file before SQLite (or WAL) can touch it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise StoreError("is a directory, not a database file", path=str(path))
        if not path.exists():
            return
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"cannot open database: {exc}", path=str(path)) from exc
    if header and header != SQLITE_HEADER:
        raise StoreError("not a SQLite database (left untouched)", path=str(path))


def _configure(db: Database, path: Path) -> None:
    with translate_errors(path, "opening database"):
        version = schema_version(db)
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"schema version {version} is newer than this program knows "
                f"({SCHEMA_VERSION}); upgrade the scraper",
                path=str(path),
            )
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        db.execute("PRAGMA foreign_keys = ON")
        db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")


def schema_version(db: Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


@contextmanager
def translate_errors(path: Path, action: str) -> Iterator[None]:
    """Re-raise any sqlite3 error as StoreError naming the file and what was being done."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(f"{action}: {exc}", path=str(path)) from exc


@contextmanager
def write_transaction(db: Database, path: Path, action: str) -> Iterator[Database]:
    """One ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on any exception.

    IMMEDIATE takes the write lock up front, so a read-then-write never fails with a
    stale snapshot when another process writes concurrently (it waits up to the busy
    timeout instead).
    """
    with translate_errors(path, action):
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.rollback()
            raise
        db.conn.execute("COMMIT")


def migrate(db: Database, path: Path) -> None:
    """Apply every migration newer than the database's ``user_version``, one transaction each."""
    for version, step in enumerate(MIGRATIONS, start=1):
        if schema_version(db) >= version:
            continue
        with write_transaction(db, path, f"migrating schema to version {version}"):
            if schema_version(db) >= version:  # another process got there first
                continue
            step(db)
            db.execute(f"PRAGMA user_version = {version}")


_ARTICLES_NOT_NULL = frozenset(
    "url source body body_hash first_seen last_fetched last_changed version duplicate_count".split()
)


def _v1_initial(db: Database) -> None:
    articles = db.create_table(
        "articles",
        {
            "id": int,
            "url": str,
            "source": str,
            "title": str,
            "published": str,
            "date_precision": str,
            "body": str,
            "authors": str,
            "language": str,
            "description": str,
            "image": str,
            "modified": str,
            "body_hash": str,
            "simhash": int,
            "first_seen": str,
            "last_fetched": str,
            "last_changed": str,
            "version": int,
            "etag": str,
            "last_modified": str,
            "hint_title": str,
            "hint_published": str,
            "extraction_errors": str,
            "provenance": str,
            "duplicate_count": int,
        },
        pk="id",
        not_null=_ARTICLES_NOT_NULL,
        defaults={"version": 1, "duplicate_count": 0},
        ignore=True,
    )
    articles.create_index(["url"], unique=True, if_not_exists=True)
    for column in ("published", "source", "first_seen", "body_hash"):
        articles.create_index([column], if_not_exists=True)
    # Offsets differ between sites, so ordering and filtering go through julianday().
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_articles_published_jd ON articles (julianday(published))"
    )
    _create_side_tables(db)
    articles.enable_fts(["title", "body"], create_triggers=True, replace=True)


def _create_side_tables(db: Database) -> None:
    article_fk = [("article_id", "articles", "id")]
    db.create_table(
        "article_urls",
        {"url": str, "article_id": int, "first_seen": str},
        pk="url",
        not_null={"article_id", "first_seen"},
        foreign_keys=article_fk,
        ignore=True,
    ).create_index(["article_id"], if_not_exists=True)
    db.create_table(
        "simhash_bands",
        {"band": int, "value": int, "article_id": int},
        pk=("band", "value", "article_id"),
        foreign_keys=article_fk,
        ignore=True,
    ).create_index(["article_id"], if_not_exists=True)
    db.create_table(
        "article_versions",
        {
            "id": int,
            "article_id": int,
            "version": int,
            "title": str,
            "published": str,
            "body": str,
            "body_hash": str,
            "fetched_at": str,
        },
        pk="id",
        not_null={"article_id", "version"},
        foreign_keys=article_fk,
        ignore=True,
    ).create_index(["article_id"], if_not_exists=True)
    runs = db.create_table(
        "runs",
        {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "sources": str,
            "pid": int,
            "counts": str,
            "error": str,
        },
        pk="id",
        not_null={"started_at", "status"},
        defaults={"sources": "[]", "counts": "{}"},
        ignore=True,
    )
    runs.create_index(["status"], if_not_exists=True)
    db.create_table(
        "fetches",
        {
            "id": int,
            "run_id": int,
            "source": str,
            "url": str,
            "kind": str,
            "outcome": str,
            "status": int,
            "final_url": str,
            "error_kind": str,
            "error": str,
            "elapsed_ms": int,
            "bytes": int,
            "attempts": int,
            "fetched_at": str,
        },
        pk="id",
        not_null={"run_id", "source", "url", "kind", "outcome", "fetched_at"},
        defaults={"attempts": 1},
        foreign_keys=[("run_id", "runs", "id")],
        ignore=True,
    )
    fetches = db.table("fetches")
    fetches.create_index(["source", "fetched_at"], if_not_exists=True)
    fetches.create_index(["run_id"], if_not_exists=True)


MIGRATIONS: tuple[Callable[[Database], None], ...] = (_v1_initial,)
SCHEMA_VERSION = len(MIGRATIONS)
