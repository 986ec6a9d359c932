"""The SQLite database file: opening it safely, transactions, error translation, migrations.

The schema version lives in ``PRAGMA user_version``; each migration runs in its own
``BEGIN IMMEDIATE`` transaction together with the version bump, so a crash leaves
the database at the previous version, never half-migrated.  The database is in WAL
mode with ``synchronous = NORMAL``: a committed transaction survives a killed process.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from ..errors import StoreError
from .fingerprint import Fingerprint
from .sqlite_dedup import set_band_keys

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 30.0

_BACKFILL_BATCH = 500  # articles read at a time when a migration computes fingerprints


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
            db.conn.execute("COMMIT")
        except BaseException:
            db.rollback()
            raise


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


def _columns(spec: str) -> dict[str, type]:
    """``"id:int url title"`` -> ``{"id": int, "url": str, "title": str}`` (order kept)."""
    types = {"int": int, "str": str}
    return {
        name: types[kind or "str"]
        for name, _, kind in (item.partition(":") for item in spec.split())
    }


_ARTICLE_COLUMNS = _columns(
    "id:int url source title published date_precision body authors language description"
    " image modified body_hash simhash:int first_seen last_fetched last_changed version:int"
    " etag last_modified hint_title hint_published extraction_errors provenance"
    " duplicate_count:int"
)
_ARTICLE_FK = [("article_id", "articles", "id")]


def _v1_initial(db: Database) -> None:
    articles = db.create_table(
        "articles",
        _ARTICLE_COLUMNS,
        pk="id",
        not_null=set(
            "url source body body_hash first_seen last_fetched last_changed version"
            " duplicate_count".split()
        ),
        defaults={"version": 1, "duplicate_count": 0},
        ignore=True,
    )
    articles.create_index(["url"], unique=True, if_not_exists=True)
    for column in ("published", "source", "first_seen", "body_hash"):
        articles.create_index([column], if_not_exists=True)
    # Offsets differ between sites, so ordering and `since` go through julianday().
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_articles_published_jd ON articles (julianday(published))"
    )
    _create_article_side_tables(db)
    _create_run_tables(db)
    articles.enable_fts(["title", "body"], create_triggers=True, replace=True)


def _create_article_side_tables(db: Database) -> None:
    db.create_table(
        "article_urls",
        _columns("url article_id:int first_seen"),
        pk="url",
        not_null={"article_id", "first_seen"},
        foreign_keys=_ARTICLE_FK,
        ignore=True,
    ).create_index(["article_id"], if_not_exists=True)
    db.create_table(
        "simhash_bands",
        _columns("band:int value:int article_id:int"),
        pk=("band", "value", "article_id"),
        foreign_keys=_ARTICLE_FK,
        ignore=True,
    ).create_index(["article_id"], if_not_exists=True)
    db.create_table(
        "article_versions",
        _columns("id:int article_id:int version:int title published body body_hash fetched_at"),
        pk="id",
        not_null={"article_id", "version"},
        foreign_keys=_ARTICLE_FK,
        ignore=True,
    ).create_index(["article_id"], if_not_exists=True)


def _create_run_tables(db: Database) -> None:
    db.create_table(
        "runs",
        _columns("id:int started_at finished_at status sources pid:int counts error"),
        pk="id",
        not_null={"started_at", "status"},
        defaults={"sources": "[]", "counts": "{}"},
        ignore=True,
    ).create_index(["status"], if_not_exists=True)
    fetches = db.create_table(
        "fetches",
        _columns(
            "id:int run_id:int source url kind outcome status:int final_url error_kind error"
            " elapsed_ms:int bytes:int attempts:int fetched_at"
        ),
        pk="id",
        not_null={"run_id", "source", "url", "kind", "outcome", "fetched_at"},
        defaults={"attempts": 1},
        foreign_keys=[("run_id", "runs", "id")],
        ignore=True,
    )
    fetches.create_index(["source", "fetched_at"], if_not_exists=True)
    fetches.create_index(["run_id"], if_not_exists=True)


def _v2_source_runs(db: Database) -> None:
    """One row per source per run (and per scheduler event): what source health reads."""
    db.create_table(
        "source_runs",
        _columns(
            "id:int run_id:int source started_at finished_at status counts new:int failed:int"
            " found:int pages_ok:int pages_failed:int error"
        ),
        pk="id",
        not_null={"source", "started_at", "status"},
        defaults={
            "counts": "{}",
            **dict.fromkeys(("new", "failed", "found", "pages_ok", "pages_failed"), 0),
        },
        foreign_keys=[("run_id", "runs", "id")],
        ignore=True,
    ).create_index(["source", "id"], if_not_exists=True)
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_articles_source_fetched ON articles (source, last_fetched)"
    )


def _v3_shingle_bands(db: Database) -> None:
    """MinHash band keys replace the simhash (too coarse for edited copies); backfilled."""
    db.create_table(
        "shingle_bands",
        _columns("band_key:int article_id:int"),
        pk=("band_key", "article_id"),
        foreign_keys=_ARTICLE_FK,
        ignore=True,
    ).create_index(["article_id"], if_not_exists=True)
    last_id = -1
    while batch := db.execute(
        "SELECT id, body FROM articles WHERE id > ? ORDER BY id LIMIT ?",
        [last_id, _BACKFILL_BATCH],
    ).fetchall():
        for article_id, body in batch:
            set_band_keys(db, article_id, body, Fingerprint.of(body))
        last_id = batch[-1][0]
    db.execute("DROP TABLE IF EXISTS simhash_bands")
    if "simhash" in db.table("articles").columns_dict:
        db.execute("ALTER TABLE articles DROP COLUMN simhash")


def _v4_robots(db: Database) -> None:
    """The last robots.txt read from each URL, for when it is unreachable later (RFC 9309)."""
    db.create_table(
        "robots", _columns("url content fetched_at"), pk="url", not_null={"url"}, ignore=True
    )


def _v5_change_seq(db: Database) -> None:
    """A strictly increasing change number per article write, for incremental exports."""
    if "change_seq" not in db.table("articles").columns_dict:
        db.execute("ALTER TABLE articles ADD COLUMN change_seq INTEGER")
    db.execute(
        "UPDATE articles SET change_seq = (SELECT n FROM (SELECT id, row_number() OVER "
        "(ORDER BY last_changed, id) AS n FROM articles) AS ranked WHERE ranked.id = articles.id)"
    )
    db.execute("CREATE UNIQUE INDEX IF NOT EXISTS idx_articles_change_seq ON articles (change_seq)")


def next_change_seq(db: Database) -> int:
    """The change number for the next article write (call inside the write transaction)."""
    return int(db.execute("SELECT COALESCE(MAX(change_seq), 0) + 1 FROM articles").fetchone()[0])


MIGRATIONS: tuple[Callable[[Database], None], ...] = (
    _v1_initial,
    _v2_source_runs,
    _v3_shingle_bands,
    _v4_robots,
    _v5_change_seq,
)
SCHEMA_VERSION = len(MIGRATIONS)
