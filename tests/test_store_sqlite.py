"""The SQLite store on real files: schema, dedupe outcomes, versions, runs, crash safety."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlite_utils import Database

from scraper.errors import StoreError
from scraper.models import Article
from scraper.store import FetchRecord, SaveResult, Store, body_hash
from scraper.store.fingerprint import SAME_TEXT, Fingerprint, Profile, resemblance
from scraper.store.schema import MIGRATIONS, SCHEMA_VERSION

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
CEST = timezone(timedelta(hours=2))


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def tick(self, minutes: int = 5) -> datetime:
        self.now += timedelta(minutes=minutes)
        return self.now


def text(seed: int, words: int = 120) -> str:
    """Deterministic prose-like text; different seeds give unrelated texts."""
    rng = random.Random(seed)
    vocab = [f"{a}{b}" for a in ("ka", "lo", "mi", "ne", "ru", "so", "ti") for b in range(400)]
    sentences = []
    for _ in range(words // 12):
        sentences.append(" ".join(rng.choice(vocab) for _ in range(12)).capitalize() + ".")
    return " ".join(sentences)


def article(body: str, *, title: str | None = "Title", **fields: object) -> Article:
    published = fields.pop("published", datetime(2024, 5, 1, 6, 30, tzinfo=CEST))
    return Article(url=None, title=title, published=published, body=body, **fields)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[Store]:
    with Store(tmp_path / "news.db", now=clock) as opened:
        yield opened


def save(store: Store, url: str, art: Article, **kwargs: object) -> SaveResult:
    aliases = kwargs.pop("aliases", ())
    return store.save_article(source="a", url=url, aliases=aliases, article=art, **kwargs)  # type: ignore[arg-type]


# -- schema ---------------------------------------------------------------------------------


def test_schema_is_created_on_first_use_and_reopening_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "news.db"
    with Store(path) as store:
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
    with Store(path) as again:
        assert again.db.schema == schema
        assert again.count_articles() == 1
        assert again.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_non_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    content = b"these are my notes, not a database\n" * 50
    path.write_bytes(content)
    with pytest.raises(StoreError) as info:
        Store(path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "news.db"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer") as info:
        Store(path)
    assert str(path) in str(info.value)


def test_corrupt_database_gives_store_error(tmp_path: Path) -> None:
    path = tmp_path / "news.db"
    Store(path).close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # wipe the schema page after the header
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as info:
        Store(path)
    assert str(path) in str(info.value)


# -- save_article outcomes ------------------------------------------------------------------


def test_new_then_unchanged_then_updated(store: Store, clock: Clock) -> None:
    url = "https://a.example/story"
    first = save(store, url, article(text(1)), etag='"v1"')
    assert first.outcome == "new"
    row = store.db.table("articles").get(first.article_id)
    assert (row["version"], row["first_seen"], row["etag"]) == (1, T0.isoformat(), '"v1"')
    assert row["published"] == "2024-05-01T06:30:00+02:00"  # the site's own offset is kept

    later = clock.tick()
    again = save(store, url, article(text(1)), etag='"v2"')
    assert again == SaveResult("unchanged", first.article_id)
    row = store.db.table("articles").get(first.article_id)
    assert (row["version"], row["last_fetched"], row["etag"]) == (1, later.isoformat(), '"v2"')
    assert row["last_changed"] == T0.isoformat()

    edited = text(1) + " A correction was appended."
    changed_at = clock.tick()
    assert save(store, url, article(edited)).outcome == "updated"
    row = store.db.table("articles").get(first.article_id)
    assert (row["version"], row["body"], row["last_changed"]) == (2, edited, changed_at.isoformat())
    assert row["etag"] == '"v2"'  # a response without validators keeps the known ones
    assert save(store, url, article(edited, title="New title")).outcome == "updated"
    versions = list(store.db.query("SELECT * FROM article_versions ORDER BY id"))
    assert [(v["version"], v["title"]) for v in versions] == [(1, "Title"), (2, "Title")]
    assert versions[0]["body"] == text(1)
    assert versions[0]["body_hash"] == body_hash(text(1))
    assert versions[0]["fetched_at"] == later.isoformat()


def test_refetch_missing_fields_never_erases_stored_values(store: Store) -> None:
    url = "https://a.example/story"
    full = article(text(2), authors=("Ann Author",), description="About it")
    art_id = save(store, url, full).article_id
    degraded = Article(url=None, title=None, published=None, body="  ")
    assert save(store, url, degraded).outcome == "unchanged"
    row = store.articles()[0]
    assert (row["id"], row["title"], row["body"]) == (art_id, "Title", text(2))
    assert (row["authors"], row["description"]) == (["Ann Author"], "About it")
    assert row["published"] == "2024-05-01T06:30:00+02:00"


def test_same_article_under_several_urls_is_stored_once(store: Store) -> None:
    canonical = "https://a.example/story"
    requested = "https://a.example/story?utm_source=feed"
    first = save(store, canonical, article(text(3)), aliases=[requested, canonical])
    # Found again by the alias alone, even with a different canonical URL claimed.
    second = save(store, "https://a.example/amp/story", article(text(3)), aliases=[requested])
    assert second == SaveResult("unchanged", first.article_id)
    assert store.count_articles() == 1
    assert store.articles()[0]["url"] == canonical  # the stored canonical URL wins
    urls = {r["url"] for r in store.db.query("SELECT url FROM article_urls")}
    assert urls == {canonical, requested, "https://a.example/amp/story"}
    known = store.known(["https://elsewhere.example/x", "https://a.example/amp/story"])
    assert known is not None
    assert (known.article_id, known.url, known.last_fetched) == (first.article_id, canonical, T0)
    assert known.body_hash == body_hash(text(3))
    assert store.known(["https://a.example/other"]) is None


def test_same_body_on_another_site_is_a_duplicate(store: Store) -> None:
    body = text(4)
    original = save(store, "https://a.example/news/1", article(body))
    syndicated = store.save_article(
        source="b",
        url="https://b.example/wire/77",
        aliases=["https://b.example/wire/77?ref=rss"],
        article=article("  " + body.upper().replace(". ", ".\n\n"), title="Other title"),
    )
    assert syndicated == SaveResult("duplicate", original.article_id)
    assert store.count_articles() == 1
    row = store.articles()[0]
    assert (row["duplicate_count"], row["source"]) == (1, "a")
    known = store.known(["https://b.example/wire/77?ref=rss"])
    assert known is not None and known.article_id == original.article_id


def test_short_identical_bodies_are_not_deduplicated(store: Store) -> None:
    body = "Markets closed higher today."
    assert save(store, "https://a.example/m/1", article(body)).outcome == "new"
    assert save(store, "https://a.example/m/2", article(body)).outcome == "new"
    assert store.count_articles() == 2


def test_near_duplicate_is_caught_and_a_different_article_is_new(store: Store) -> None:
    body = text(5, words=1200)
    words = body.split(" ")
    words[500] = "altered"
    edited = " ".join(words)
    assert body_hash(edited) != body_hash(body)
    assert resemblance(Profile.of(body).shingles, Profile.of(edited).shingles) < 1  # premise
    original = save(store, "https://a.example/long", article(body))
    copy = save(store, "https://b.example/copy", article(edited))
    assert copy == SaveResult("duplicate", original.article_id)
    other = save(store, "https://b.example/other", article(text(6, words=1200)))
    assert other.outcome == "new"
    assert store.count_articles() == 2


# -- reading --------------------------------------------------------------------------------


def test_articles_are_listed_newest_first_and_filtered(store: Store, clock: Clock) -> None:
    dates = {
        "early": datetime(2024, 4, 30, 23, 0, tzinfo=UTC),
        "late-local": datetime(2024, 5, 1, 1, 30, tzinfo=CEST),  # 23:30 UTC on 30 April
        "latest": datetime(2024, 5, 2, 9, 0, tzinfo=UTC),
    }
    for seed, (name, when) in enumerate(dates.items()):
        clock.tick()
        save(store, f"https://a.example/{name}", article(text(10 + seed), published=when))
    clock.tick()
    store.save_article(
        source="b",
        url="https://b.example/undated",
        aliases=(),
        article=article("x", published=None),
    )
    names = [row["url"].rsplit("/", 1)[1] for row in store.articles()]
    assert names == ["latest", "late-local", "early", "undated"]
    assert [row["url"] for row in store.articles(source="b")] == ["https://b.example/undated"]
    since = [row["url"].rsplit("/", 1)[1] for row in store.articles(since="2024-04-30T23:15Z")]
    assert since == ["latest", "late-local", "undated"]
    assert len(store.articles(limit=2)) == 2
    assert (store.count_articles(), store.count_articles("a"), store.count_articles("c")) == (
        4,
        3,
        0,
    )
    with pytest.raises(ValueError, match="since"):
        store.articles(since="yesterday")


def test_full_text_search_finds_stored_and_updated_articles(store: Store) -> None:
    url = "https://a.example/fts"
    save(store, url, article(text(7) + " Zeppelin sighted over harbour.", title="Airships"))
    hits = list(store.db.table("articles").search("zeppelin"))
    assert [hit["url"] for hit in hits] == [url]
    save(store, url, article(text(7) + " Balloon sighted over harbour.", title="Airships"))
    assert list(store.db.table("articles").search("zeppelin")) == []
    assert len(list(store.db.table("articles").search("balloon"))) == 1


def test_touch_records_a_304(store: Store, clock: Clock) -> None:
    art_id = save(store, "https://a.example/t", article(text(8)), etag='"e1"').article_id
    checked = clock.tick(60)
    store.touch(art_id, fetched_at=checked, etag=None, last_modified="Wed, 01 May 2024 08:00 GMT")
    known = store.known(["https://a.example/t"])
    assert known is not None
    assert (known.last_fetched, known.etag) == (checked, '"e1"')
    assert known.last_modified == "Wed, 01 May 2024 08:00 GMT"
    with pytest.raises(StoreError, match="no article with id 999"):
        store.touch(999, fetched_at=checked, etag=None, last_modified=None)


def test_naive_datetimes_are_rejected(store: Store) -> None:
    naive = datetime(2024, 5, 1, 8, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        save(store, "https://a.example/n", article(text(9), published=naive))
    assert store.count_articles() == 0


# -- runs and fetches -----------------------------------------------------------------------


def test_runs_and_fetches_are_recorded(store: Store, clock: Clock) -> None:
    run_id = store.start_run(["a", "b"], pid=os.getpid())
    record = FetchRecord(run_id, "a", "https://a.example/", "listing", "ok", status=200, bytes=512)
    store.record_fetch(record)
    failed = FetchRecord(
        run_id, "b", "https://b.example/", "robots", "error", error_kind="timeout", attempts=3
    )
    store.record_fetch(failed)
    clock.tick()
    store.finish_run(run_id, status="partial", counts={"new": 3, "errors": 1}, error="b failed")
    run = store.db.table("runs").get(run_id)
    assert (run["status"], run["error"], run["pid"]) == ("partial", "b failed", os.getpid())
    assert json.loads(run["sources"]) == ["a", "b"]
    assert json.loads(run["counts"]) == {"errors": 1, "new": 3}
    assert (run["started_at"], run["finished_at"]) == (T0.isoformat(), clock.now.isoformat())
    rows = list(store.db.query("SELECT * FROM fetches ORDER BY id"))
    assert [(r["kind"], r["outcome"], r["status"], r["attempts"]) for r in rows] == [
        ("listing", "ok", 200, 1),
        ("robots", "error", None, 3),
    ]
    assert (rows[0]["bytes"], rows[1]["error_kind"]) == (512, "timeout")
    assert rows[0]["fetched_at"] == T0.isoformat()
    with pytest.raises(ValueError, match="kind"):
        store.record_fetch(FetchRecord(run_id, "a", "https://a.example/", "page", "ok"))
    with pytest.raises(ValueError, match="status"):
        store.finish_run(run_id, status="done", counts={})
    with pytest.raises(StoreError, match="no run with id 404"):
        store.finish_run(404, status="ok", counts={})


def test_abort_stale_runs_closes_only_runs_whose_process_is_gone(store: Store) -> None:
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(finished.stdout)
    dead = store.start_run(["a"], pid=dead_pid)
    unknown = store.start_run(["a"])
    alive = store.start_run(["a"], pid=os.getpid())
    assert store.abort_stale_runs() == 2
    status = {r["id"]: r["status"] for r in store.db.query("SELECT id, status FROM runs")}
    assert status == {dead: "aborted", unknown: "aborted", alive: "running"}
    assert store.db.table("runs").get(dead)["finished_at"] is not None
    assert store.abort_stale_runs() == 0


# -- crash safety ---------------------------------------------------------------------------

WRITER = """
import os, random, sys
from scraper.models import Article
from scraper.store import FetchRecord, Store

path, limit = sys.argv[1], int(sys.argv[2])
with Store(path) as store:
    run = store.start_run(["bulk"], pid=os.getpid())
    for i in range(limit):
        rng = random.Random(i)
        body = " ".join(f"w{rng.randrange(100000)}" for _ in range(80))
        url = f"https://bulk.example/{i}"
        result = store.save_article(
            source="bulk", url=url, aliases=[url + "?amp"],
            article=Article(url=None, title=f"Story {i}", published=None, body=body),
        )
        store.record_fetch(FetchRecord(run, "bulk", url, "article", "ok", status=200))
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

    with Store(path) as store:
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
    with Store(path) as store:
        assert store.count_articles() == limit
        statuses = [r["status"] for r in store.db.query("SELECT status FROM runs ORDER BY id")]
        assert statuses == ["aborted", "ok"]


# -- near-duplicate recall and precision ----------------------------------------------------

SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "so", "ti", "va", "pe", "du")
VOCAB = [a + b + c for a in SYLLABLES for b in SYLLABLES for c in ("", *SYLLABLES)][:1500]
ZIPF = [1 / (rank + 1) for rank in range(len(VOCAB))]  # a few very common words, like prose


def sentence(rng: random.Random) -> str:
    words = rng.choices(VOCAB, ZIPF, k=rng.randint(8, 20))
    return " ".join(words).capitalize() + rng.choice(".....?!")


def story(seed: int, words: int) -> list[str]:
    """Eight paragraphs of about ``words`` words in total."""
    rng = random.Random(seed)
    sentences: list[str] = []
    while sum(len(s.split()) for s in sentences) < words:
        sentences.append(sentence(rng))
    per = -(-len(sentences) // 8)
    return [" ".join(sentences[i : i + per]) for i in range(0, len(sentences), per)]


def syndicated(paragraphs: list[str], seed: int) -> str:
    """Another site's copy: new byline and first sentence, 3-5 words changed, a trailer,
    typographic quotes and different whitespace."""
    rng = random.Random(seed)
    lead = paragraphs[0].split(". ", 1)
    first = sentence(rng) + " " + (lead[1] if len(lead) > 1 else "")
    words = "\n\n".join([first, *paragraphs[1:]]).split(" ")
    for _ in range(rng.randint(3, 5)):
        words[rng.randrange(len(words))] = rng.choice(VOCAB)
    body = "  ".join(words).replace("'", "\u2019").replace(". ", ".\u00a0")
    return f"By Other Writer, Wire Service\n\n{body}\n\nThis story first appeared on B News."


def test_syndicated_copies_are_caught_and_different_articles_are_not(store: Store) -> None:
    originals = {}
    for seed in range(30):
        paragraphs = story(seed, 300 + seed * 30)  # 300 to 1170 words
        saved = save(store, f"https://a.example/{seed}", article("\n\n".join(paragraphs)))
        originals[seed] = (paragraphs, saved)
    assert {result.outcome for _, result in originals.values()} == {"new"}  # 0 false duplicates
    caught = sum(
        save(store, f"https://b.example/{seed}", article(syndicated(paragraphs, seed + 100)))
        == SaveResult("duplicate", result.article_id)
        for seed, (paragraphs, result) in originals.items()
    )
    assert caught / len(originals) >= 0.95  # the simhash store caught about 1 in 10
    more = [
        save(store, f"https://c.example/{seed}", article("\n\n".join(story(seed, 500))))
        for seed in range(1000, 1030)
    ]
    assert [r.outcome for r in more] == ["new"] * 30
    assert store.count_articles() == 60


def test_follow_up_and_shared_boilerplate_stay_separate_articles(store: Store) -> None:
    earlier = story(1, 800)
    assert save(store, "https://a.example/earlier", article("\n\n".join(earlier))).outcome == "new"
    follow_up = story(2, 800)
    follow_up[3] = earlier[5]  # one of the eight paragraphs reused
    assert save(store, "https://a.example/later", article("\n\n".join(follow_up))).outcome == "new"
    rewrite = story(5, 800)
    rewrite[::2] = earlier[::2]  # half the paragraphs reused: a candidate, yet another story
    shared = set(Fingerprint.of("\n\n".join(earlier)).band_keys) & set(
        Fingerprint.of("\n\n".join(rewrite)).band_keys
    )
    assert shared  # the premise: the body comparison, not the index, tells them apart
    assert save(store, "https://a.example/rewrite", article("\n\n".join(rewrite))).outcome == "new"
    boilerplate = (
        "Subscribe to our newsletter for the latest local news. "
        "Our journalism depends on readers like you, so please consider a donation today. "
        "Comments are moderated and may take a while to appear."
    )
    for seed in (3, 4):
        body = "\n\n".join(story(seed, 300)) + "\n\n" + boilerplate
        assert save(store, f"https://a.example/b{seed}", article(body)).outcome == "new"
    assert store.count_articles() == 5


def test_templated_stories_with_other_figures_are_new(store: Store) -> None:
    template = " ".join(story(11, 400)[:6])
    report = "Results for round {n}: the home side won {a} to {b} before {c} spectators. "
    bodies = [
        report.format(n=n, a=a, b=b, c=c) + template + f" Next match in round {n + 1}."
        for n, a, b, c in ((7, 3, 1, 4200), (8, 0, 2, 3900), (9, 2, 2, 5100))
    ]
    outcomes = [
        save(store, f"https://a.example/r{i}", article(b)).outcome for i, b in enumerate(bodies)
    ]
    assert outcomes == ["new"] * 3
    dateline = "Updated 2 May 2024 10:32. " + bodies[0]
    assert save(store, "https://b.example/r0", article(dateline)).outcome == "duplicate"


def test_near_duplicate_picks_the_most_similar_stored_article(store: Store) -> None:
    base = story(7, 600)
    variant = list(base)
    variant[6] = sentence(random.Random(1)) + " " + sentence(random.Random(2))
    first = save(store, "https://a.example/base", article("\n\n".join(base)))
    second = save(store, "https://a.example/variant", article("\n\n".join(variant)))
    assert (first.outcome, second.outcome) == ("new", "duplicate")  # one paragraph rewritten
    sibling = story(8, 600)
    sibling[::2] = base[::2]  # shares half of base: stored, and a candidate for copies of both
    third = save(store, "https://a.example/sibling", article("\n\n".join(sibling)))
    assert third.outcome == "new"
    for original, result in ((base, first), (sibling, third)):
        body = syndicated(original, 9)
        copy = save(store, f"https://b.example/{result.article_id}", article(body))
        assert copy == SaveResult("duplicate", result.article_id)
    assert 0.5 < SAME_TEXT < 1


def test_duplicate_lookups_use_indexes(store: Store) -> None:
    save(store, "https://a.example/1", article("\n\n".join(story(1, 400))))
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    try:
        copy = save(store, "https://b.example/1", article(syndicated(story(1, 400), 5)))
    finally:
        store.db.conn.set_trace_callback(None)
    assert copy.outcome == "duplicate"
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
    with Store(path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert "simhash" not in store.db.table("articles").columns_dict
        assert "simhash_bands" not in store.db.table_names()
        per_article = dict(
            store.db.execute("SELECT article_id, count(*) FROM shingle_bands GROUP BY article_id")
        )
        assert set(per_article) == {1, 2, 3} and len(set(per_article.values())) == 1
        copy = save(store, "https://b.example/copy", article(syndicated(story(2, 400), 4)))
        assert copy == SaveResult("duplicate", 3)
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

    monkeypatch.setattr("scraper.store.schema.set_band_keys", crash)
    with pytest.raises(KeyboardInterrupt):
        Store(path)
    monkeypatch.undo()
    check = Database(path)
    assert check.execute("PRAGMA user_version").fetchone()[0] == 2
    assert "shingle_bands" not in check.table_names()
    assert "simhash" in check.table("articles").columns_dict
    check.close()
    with Store(path) as store:
        banded = store.db.execute("SELECT count(DISTINCT article_id) FROM shingle_bands")
        assert banded.fetchone()[0] == 3
