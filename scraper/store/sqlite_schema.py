"""The SQLite database file: opening it safely, transactions, error translation, migrations.

The schema version lives in ``PRAGMA user_version``; each migration runs in its own
``BEGIN IMMEDIATE`` transaction together with the version bump, so a crash leaves
the database at the previous version, never half-migrated.  The database is in WAL
mode with ``synchronous = NORMAL``: a committed transaction survives a killed process.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
import struct
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from ..errors import StoreError
from .fingerprint import Fingerprint
from .sqlite_dedup import set_band_keys

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 30.0

log = logging.getLogger("scraper.store")

_BACKFILL_BATCH = 500  # articles read at a time when a migration computes fingerprints


def open_database(path: Path) -> Database:
    """Open (creating if needed) and migrate the store at ``path``; StoreError names the path.

    A database that was not closed cleanly (see :func:`_not_closed_cleanly`) is checked
    with ``PRAGMA quick_check`` first, and a damaged one is refused (exit code 3) with a
    hint, never used.
    """
    _check_file(path)
    unclean = _not_closed_cleanly(path)
    try:
        # one thread at a time (a crawl makes every call on its store lane)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open database: {exc}", path=str(path)) from exc
    try:
        db = Database(conn)
        if unclean:
            _quick_check(db, path)
        _configure(db, path)
        migrate(db, path)
    except BaseException:
        conn.close()
        raise
    return db


def _check_file(path: Path) -> None:
    """Refuse anything that is not a writable SQLite file before SQLite (or WAL) can touch it.

    Creates the folder and an empty file (SQLite's own failure would be "unable to open
    database file", without the reason), and reads the header of an existing file.
    Every failure is one StoreError naming the path and what was attempted.
    """
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _file_error(path, f"cannot create the folder {folder} for it", exc) from exc
    if path.is_dir():
        raise StoreError("is a directory, not a database file", path=str(path))
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        action = "cannot open the database file for writing"
        if not path.exists():
            action = "cannot create the database file"
        raise _file_error(path, action, exc) from exc
    try:
        header = os.pread(fd, len(SQLITE_HEADER), 0)
    except OSError as exc:
        raise _file_error(path, "cannot read the database file", exc) from exc
    finally:
        os.close(fd)
    if header and header != SQLITE_HEADER:
        raise StoreError("not a SQLite database (left untouched)", path=str(path))


def _file_error(path: Path, action: str, exc: OSError) -> StoreError:
    """``<path>: <action>: <why>``, where why names a file standing in for a folder."""
    why = exc.strerror or type(exc).__name__
    if isinstance(exc, FileExistsError | NotADirectoryError):
        for candidate in path.parents:
            if candidate.exists():
                if not candidate.is_dir():
                    why = f"{candidate} is a file, not a folder"
                break
    return StoreError(f"{action}: {why[:1].lower()}{why[1:]}", path=str(path))


def _configure(db: Database, path: Path) -> None:
    try:
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
            # checkpoint the WAL every ~40 MB, not 4 MB: fewer random writes per article
            db.execute("PRAGMA wal_autocheckpoint = 10000")
    except StoreError as exc:
        cause = exc.__cause__
        code = getattr(cause, "sqlite_errorcode", None)
        if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            message = f"opening database: {cause}; {_damaged_hint(path)}"
        elif code == _SQLITE_CANTOPEN:  # the -wal and -shm files go beside the database
            message = f"opening database: {cause} (can its folder {path.parent} be written to?)"
        else:
            raise
        raise StoreError(message, path=str(path)) from cause


# -- was it closed cleanly? is it damaged? ------------------------------------------------

_SQLITE_CANTOPEN, _SQLITE_CORRUPT, _SQLITE_NOTADB = 14, 11, 26
_SHM_DMS_BYTE = 128  # unix VFS: every open connection holds a shared lock on this -shm byte
_FLOCK = "hhqqi4x"  # struct flock on 64-bit Linux: type, whence, start, len, pid


def _not_closed_cleanly(path: Path) -> bool:
    """True when the last process that had ``path`` open died with it open.

    The marker is SQLite's own: in WAL mode the last connection to close removes
    ``<db>-wal``, so a ``-wal`` file left beside the database means a connection ended
    without closing (a crash, ``kill -9``, a power cut) -- or that someone has the
    database open right now.  The two are told apart by the lock every open connection
    holds on byte 128 of ``<db>-shm`` (the unix VFS's "DMS" slot): an open-file-description
    lock test (``F_OFD_GETLK``, Linux) sees it whichever process holds it, this one
    included, so a second connection of the scheduler is not taken for a crash.  Where
    that test is unavailable, a ``-wal`` file alone counts: an unneeded check, never a
    missed one.
    """
    wal = Path(f"{path}-wal")
    if not wal.exists() or not path.exists() or path.stat().st_size == 0:
        return False
    return not _held_open(Path(f"{path}-shm"))


def _held_open(shm: Path) -> bool:
    """Whether some connection (of any process) has the WAL index ``shm`` open."""
    getlk = getattr(fcntl, "F_OFD_GETLK", None)
    if getlk is None or sys.platform != "linux" or struct.calcsize("l") != 8:
        return False
    try:
        fd = os.open(shm, os.O_RDONLY)
    except OSError:  # no -shm file: nobody has the database open
        return False
    try:
        probe = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, _SHM_DMS_BYTE, 1, 0)
        answer = fcntl.fcntl(fd, getlk, probe)
    except OSError:
        return False
    finally:
        os.close(fd)
    return bool(struct.unpack(_FLOCK, answer)[0] != fcntl.F_UNLCK)


def _quick_check(db: Database, path: Path) -> None:
    """``PRAGMA quick_check`` (page structure of every table and index, O(size), no
    index-against-table comparison): a damaged database raises StoreError, exit code 3."""
    try:
        problems = [str(row[0]) for row in db.execute("PRAGMA quick_check(3)").fetchall()]
    except sqlite3.DatabaseError as exc:  # too damaged to walk at all
        problems = [str(exc)]
    if problems != ["ok"]:
        found = " ".join(" ".join(problems).split())  # its rows hold line breaks
        if len(found) > 160:
            found = found[:159] + "…"
        raise StoreError(
            f"the database is damaged (checked because it was not closed cleanly: {found}); "
            + _damaged_hint(path),
            path=str(path),
        )


def _damaged_hint(path: Path) -> str:
    recovered = path.with_name(f"{path.stem}-recovered{path.suffix or '.db'}")
    return (
        "it was not used: restore it from a backup, or salvage what is readable with "
        f"'sqlite3 {path} .recover | sqlite3 {recovered}' and use that file"
    )


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
    _backfill_band_keys(db)
    db.execute("DROP TABLE IF EXISTS simhash_bands")
    if "simhash" in db.table("articles").columns_dict:
        db.execute("ALTER TABLE articles DROP COLUMN simhash")


def _backfill_band_keys(db: Database) -> None:
    """(Re)compute every article's indexed band keys, a batch of articles at a time."""
    last_id = -1
    while batch := db.execute(
        "SELECT id, body FROM articles WHERE id > ? ORDER BY id LIMIT ?",
        [last_id, _BACKFILL_BATCH],
    ).fetchall():
        for article_id, body in batch:
            set_band_keys(db, article_id, body, Fingerprint.of(body))
        last_id = batch[-1][0]


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


def _v6_stories(db: Database) -> None:
    """One row per outlet's article, copies grouped in stories; URLs remember their source.

    Release 0.1 merged another outlet's copy of a story into the first outlet's row
    (its URLs joined that row).  Those rows are split back: each other source whose
    fetches name one of the row's URLs gets its own row, holding those URLs and, until
    its next fetch, the merged row's text (``version`` 0 marks such a copy: its first
    fetch replaces it without writing a version).  Every article then belongs to a
    story: the split rows to their original's, every other row to a story of its own.
    """
    db.create_table(
        "stories",
        _columns("id:int representative:int members:int first_seen last_seen"),
        pk="id",
        not_null={"representative", "members", "first_seen", "last_seen"},
        defaults={"members": 1},
        ignore=True,
    )
    articles = db.table("articles")
    if "story_id" not in articles.columns_dict:
        db.execute("ALTER TABLE articles ADD COLUMN story_id INTEGER REFERENCES stories(id)")
    db.execute("CREATE INDEX IF NOT EXISTS idx_articles_story ON articles (story_id)")
    db.execute("DROP INDEX IF EXISTS idx_articles_url")
    db.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS idx_articles_source_url ON articles (source, url)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_articles_url ON articles (url)")
    _v6_source_urls(db)
    split = _v6_split_merged(db)
    db.execute(
        "INSERT INTO stories (id, representative, members, first_seen, last_seen)"
        " SELECT id, id, 1, first_seen, last_fetched FROM articles WHERE story_id IS NULL"
    )
    db.execute("UPDATE articles SET story_id = id WHERE story_id IS NULL")
    if split:
        log.warning(
            "schema version 6: %d article row(s) that held other outlets' copies were split"
            " into %d row(s) of their own (their text is the merged row's until refetched)",
            len({original for original, _ in split}),
            len(split),
        )


def _v6_source_urls(db: Database) -> None:
    """``article_urls`` keyed by (source, url): a URL maps to an article within a source."""
    db.execute("ALTER TABLE article_urls RENAME TO article_urls_v5")
    db.create_table(
        "article_urls",
        _columns("source url article_id:int first_seen"),
        pk=("source", "url"),
        not_null={"article_id", "first_seen"},
        foreign_keys=_ARTICLE_FK,
    ).create_index(["article_id"], if_not_exists=True)
    db.execute("CREATE INDEX IF NOT EXISTS idx_article_urls_url ON article_urls (url)")
    # The source that fetched a URL, where the fetch log knows it; else the row's source.
    db.execute(
        "INSERT OR IGNORE INTO article_urls (source, url, article_id, first_seen)"
        " SELECT COALESCE((SELECT f.source FROM fetches f WHERE f.kind = 'article'"
        "   AND (f.url = u.url OR f.final_url = u.url) ORDER BY f.id LIMIT 1), a.source),"
        " u.url, u.article_id, u.first_seen"
        " FROM article_urls_v5 u JOIN articles a ON a.id = u.article_id"
    )
    db.execute("DROP TABLE article_urls_v5")


def _v6_split_merged(db: Database) -> list[tuple[int, int]]:
    """Give each other outlet's URLs of a merged row a row of its own; (original, new) ids."""
    merged = db.execute(
        "SELECT DISTINCT u.article_id, u.source FROM article_urls u"
        " JOIN articles a ON a.id = u.article_id WHERE u.source != a.source"
        " ORDER BY u.article_id, u.source"
    ).fetchall()
    split: list[tuple[int, int]] = []
    for original, source in merged:
        row = dict(db.table("articles").get(original))
        if row["story_id"] is None:
            db.execute(
                "INSERT INTO stories (id, representative, members, first_seen, last_seen)"
                " VALUES (?, ?, 1, ?, ?)",
                [original, original, row["first_seen"], row["last_fetched"]],
            )
            db.execute("UPDATE articles SET story_id = ? WHERE id = ?", [original, original])
        url, first_seen = db.execute(
            "SELECT url, first_seen FROM article_urls WHERE article_id = ? AND source = ?"
            " ORDER BY first_seen, url LIMIT 1",
            [original, source],
        ).fetchone()
        seq = db.execute("SELECT COALESCE(MAX(change_seq), 0) + 1 FROM articles").fetchone()[0]
        copy = {k: v for k, v in row.items() if k not in ("id", "duplicate_count")}
        errors = {"migration": f"split from article {original}; text copied until refetched"}
        copy |= {
            "source": source,
            "url": url,
            "first_seen": first_seen,
            "last_fetched": first_seen,
            "last_changed": first_seen,
            "version": 0,
            "change_seq": seq,
            "story_id": original,
            "extraction_errors": json.dumps(errors),
        }
        new_id = int(db.table("articles").insert(copy).last_rowid or 0)
        db.execute(
            "UPDATE article_urls SET article_id = ? WHERE article_id = ? AND source = ?",
            [new_id, original, source],
        )
        db.execute("UPDATE stories SET members = members + 1 WHERE id = ?", [original])
        set_band_keys(db, int(new_id), str(copy["body"]), Fingerprint.of(str(copy["body"])))
        split.append((original, int(new_id)))
    return split


def _v7_consumers(db: Database) -> None:
    """Named consumers of exports and the last change number each took completely."""
    db.create_table(
        "consumers",
        _columns("name checkpoint:int updated_at"),
        pk="name",
        not_null={"checkpoint"},
        defaults={"checkpoint": 0},
        ignore=True,
    )


def _v8_lead_keys(db: Database) -> None:
    """Band keys of each body's lead (its first half) join the index, so a copy cut to
    its first part finds its original: stored articles get theirs."""
    _backfill_band_keys(db)


def _v9_fts_on_text_only(db: Database) -> None:
    """The full-text index is rewritten when an article's title or body is, not on every
    update (a 304, a refetch without edit, a story link): that cost a whole re-index."""
    db.execute("DROP TRIGGER IF EXISTS articles_au")
    db.execute(
        "CREATE TRIGGER articles_au AFTER UPDATE OF title, body ON articles BEGIN"
        " INSERT INTO articles_fts (articles_fts, rowid, title, body)"
        " VALUES ('delete', old.rowid, old.title, old.body);"
        " INSERT INTO articles_fts (rowid, title, body) VALUES (new.rowid, new.title, new.body);"
        " END"
    )


MIGRATIONS: tuple[Callable[[Database], None], ...] = (
    _v1_initial,
    _v2_source_runs,
    _v3_shingle_bands,
    _v4_robots,
    _v5_change_seq,
    _v6_stories,
    _v7_consumers,
    _v8_lead_keys,
    _v9_fts_on_text_only,
)
SCHEMA_VERSION = len(MIGRATIONS)
