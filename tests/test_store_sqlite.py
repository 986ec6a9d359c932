"""What only the SQLite backend has: the file, its schema and migrations, indexes, FTS, kill -9.

Behaviour every backend shares is tested through the contract in tests/test_store.py.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlite_utils import Database
from test_store import article, story, syndicated, text

from scraper.errors import StoreError
from scraper.models import Article
from scraper.store import ArticleWrite, SaveResult, SQLiteStore
from scraper.store.fingerprint import body_hash
from scraper.store.sqlite_schema import MIGRATIONS, SCHEMA_VERSION

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
CEST = timezone(timedelta(hours=2))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(tmp_path / "news.db") as opened:
        yield opened


def save(store: SQLiteStore, url: str, art: Article) -> SaveResult:
    return store.save_article(ArticleWrite(source="a", url=url, article=art, fetched_at=T0))


# -- schema ---------------------------------------------------------------------------------


def test_schema_is_created_on_first_use_and_reopening_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "news.db"
    with SQLiteStore(path) as store:
        tables = set(store.db.table_names())
        assert {"articles", "article_urls", "article_versions", "runs", "fetches"} <= tables
        assert {"shingle_bands", "articles_fts"} <= tables
        assert "simhash_bands" not in tables
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.db.journal_mode == "wal"
        assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
        indexed = {tuple(i.columns) for i in store.db.table("articles").indexes}
        assert {("url",), ("published",), ("source",), ("first_seen",), ("body_hash",)} <= indexed
        assert {tuple(i.columns) for i in store.db.table("fetches").indexes} >= {
            ("source", "fetched_at"),
            ("run_id",),
        }
        schema = store.db.schema
        save(store, "https://a.example/1", article(text(1)))
    with SQLiteStore(path) as again:
        assert again.db.schema == schema
        assert again.count_articles() == 1
        assert again.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_non_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    content = b"these are my notes, not a database\n" * 50
    path.write_bytes(content)
    with pytest.raises(StoreError) as info:
        SQLiteStore(path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "news.db"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer") as info:
        SQLiteStore(path)
    assert str(path) in str(info.value)


def test_corrupt_database_gives_store_error(tmp_path: Path) -> None:
    path = tmp_path / "news.db"
    SQLiteStore(path).close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # wipe the schema page after the header
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as info:
        SQLiteStore(path)
    assert str(path) in str(info.value)


# -- SQLite specifics ----------------------------------------------------------------------


def test_full_text_search_finds_stored_and_updated_articles(store: SQLiteStore) -> None:
    url = "https://a.example/fts"
    save(store, url, article(text(7) + " Zeppelin sighted over harbour.", title="Airships"))
    hits = list(store.db.table("articles").search("zeppelin"))
    assert [hit["url"] for hit in hits] == [url]
    save(store, url, article(text(7) + " Balloon sighted over harbour.", title="Airships"))
    assert list(store.db.table("articles").search("zeppelin")) == []
    assert len(list(store.db.table("articles").search("balloon"))) == 1


# -- crash safety ---------------------------------------------------------------------------

WRITER = """
import os, random, sys
from datetime import UTC, datetime
from scraper.models import Article
from scraper.store import ArticleWrite, FetchRecord, SQLiteStore

path, limit = sys.argv[1], int(sys.argv[2])
with SQLiteStore(path) as store:
    run = store.start_run(["bulk"], pid=os.getpid())
    for i in range(limit):
        rng = random.Random(i)
        body = " ".join(f"w{rng.randrange(100000)}" for _ in range(80))
        url = f"https://bulk.example/{i}"
        now = datetime.now(UTC)
        result = store.save_article(ArticleWrite(
            source="bulk", url=url, aliases=(url + "?amp",), fetched_at=now,
            article=Article(url=None, title=f"Story {i}", published=None, body=body),
        ))
        store.record_fetch(FetchRecord(run, "bulk", url, "article", "ok", now, status=200))
        print(i, result.outcome, flush=True)
    store.finish_run(run, status="ok", counts={"saved": limit})
print("done", flush=True)
"""


def run_writer(path: Path, limit: int) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(limit)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=path.parent,
    )


def test_kill_9_mid_write_leaves_a_consistent_database(tmp_path: Path) -> None:
    path = tmp_path / "news.db"
    with run_writer(path, 1_000_000) as child:
        assert child.stdout is not None
        written = [child.stdout.readline() for _ in range(40)]
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    assert all(line.endswith(" new\n") for line in written)

    with SQLiteStore(path) as store:
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store.db.execute("PRAGMA foreign_key_check").fetchall() == []
        saved = store.count_articles()
        assert saved >= 40
        assert store.abort_stale_runs() == 1
        mapped = store.db.execute("SELECT count(*) FROM article_urls").fetchone()[0]
        assert mapped == 2 * saved  # every article came with both its URLs, or not at all

    limit = saved + 20
    with run_writer(path, limit) as second:
        out, _ = second.communicate(timeout=30)
    assert second.returncode == 0
    lines = out.splitlines()
    assert lines[-1] == "done"
    assert {line.split()[1] for line in lines[:saved]} == {"unchanged"}
    assert {line.split()[1] for line in lines[saved:-1]} == {"new"}
    with SQLiteStore(path) as store:
        assert store.count_articles() == limit
        statuses = [r["status"] for r in store.db.query("SELECT status FROM runs ORDER BY id")]
        assert statuses == ["aborted", "ok"]


# -- near-duplicate recall and precision ----------------------------------------------------


def test_duplicate_lookups_use_indexes(store: SQLiteStore) -> None:
    first = save(store, "https://a.example/1", article("\n\n".join(story(1, 400))))
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    try:
        copy = save(store, "https://b.example/1", article(syndicated(story(1, 400), 5)))
    finally:
        store.db.conn.set_trace_callback(None)
    assert (copy.outcome, copy.story_id) == ("new", first.story_id)
    selects = [
        s
        for s in statements
        if s.lstrip().upper().startswith("SELECT") and "sqlite_master" not in s
    ]
    assert any("shingle_bands" in s for s in selects)
    for sql in selects:
        plan = " ".join(row[3] for row in store.db.execute("EXPLAIN QUERY PLAN " + sql))
        assert "SCAN" not in plan.replace("SCAN CONSTANT ROW", ""), (sql, plan)


def version_2_database(path: Path, bodies: list[str]) -> None:
    """A store as the simhash version left it (rows carry a simhash column)."""
    old = Database(path)
    MIGRATIONS[0](old)
    MIGRATIONS[1](old)
    for i, body in enumerate(bodies):
        stamp = T0.isoformat()
        old.table("articles").insert(
            {
                "url": f"https://a.example/old/{i}",
                "source": "a",
                "body": body,
                "body_hash": body_hash(body),
                "simhash": 12345,
                "first_seen": stamp,
                "last_fetched": stamp,
                "last_changed": stamp,
            }
        )
        old.table("simhash_bands").insert({"band": 0, "value": i, "article_id": i + 1})
    old.execute("PRAGMA user_version = 2")
    old.close()


def test_version_2_database_is_migrated_and_backfilled(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    bodies = ["\n\n".join(story(seed, 400)) for seed in range(3)] + ["too short"]
    version_2_database(path, bodies)
    with SQLiteStore(path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert "simhash" not in store.db.table("articles").columns_dict
        assert "simhash_bands" not in store.db.table_names()
        per_article = dict(
            store.db.execute("SELECT article_id, count(*) FROM shingle_bands GROUP BY article_id")
        )
        assert set(per_article) == {1, 2, 3} and min(per_article.values()) >= 20
        copy = save(store, "https://b.example/copy", article(syndicated(story(2, 400), 4)))
        third = store.article(3)
        assert third is not None and copy.story_id == third.story_id
        before = store.db.execute("SELECT count(*) FROM shingle_bands").fetchone()[0]
        MIGRATIONS[2](store.db)  # idempotent: running it again changes nothing
        assert store.db.execute("SELECT count(*) FROM shingle_bands").fetchone()[0] == before


def test_interrupted_migration_leaves_version_2_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    version_2_database(path, ["\n\n".join(story(seed, 400)) for seed in range(3)])
    calls: list[int] = []

    def crash(*args: object) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # stands in for a kill mid-backfill

    monkeypatch.setattr("scraper.store.sqlite_schema.set_band_keys", crash)
    with pytest.raises(KeyboardInterrupt):
        SQLiteStore(path)
    monkeypatch.undo()
    check = Database(path)
    assert check.execute("PRAGMA user_version").fetchone()[0] == 2
    assert "shingle_bands" not in check.table_names()
    assert "simhash" in check.table("articles").columns_dict
    check.close()
    with SQLiteStore(path) as store:
        banded = store.db.execute("SELECT count(DISTINCT article_id) FROM shingle_bands")
        assert banded.fetchone()[0] == 3


def test_the_full_text_index_follows_edits_only(store: SQLiteStore) -> None:
    """Updates that leave the text alone (a 304, a story link) do not touch the index."""
    saved = save(store, "https://a.example/fts-edit", article(text(7) + " Zeppelin aloft."))
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    try:
        store.touch(saved.article_id, fetched_at=T0, etag='"x"', last_modified=None)
    finally:
        store.db.conn.set_trace_callback(None)
    assert statements and not any("articles_fts" in s for s in statements)
    save(store, "https://a.example/fts-edit", article(text(7) + " Balloon aloft.", title="B"))
    assert list(store.db.table("articles").search("zeppelin")) == []
    assert len(list(store.db.table("articles").search("balloon"))) == 1
