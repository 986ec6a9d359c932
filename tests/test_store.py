"""The store contract: what every backend does, tested through the ``Store`` interface only.

Each test takes the ``store`` fixture (tests/conftest.py), parametrized over every
backend, and never looks at tables or SQL: a second backend passes these as they are.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from conftest import StepClock

from scraper.errors import StoreError
from scraper.models import Article, ListingItem, Validators
from scraper.store import (
    ArticleFilter,
    ArticleWrite,
    FetchRecord,
    SaveResult,
    SourceRun,
    Store,
    StoredArticle,
)
from scraper.store.fingerprint import SAME_TEXT, Fingerprint, Profile, body_hash, resemblance

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
CEST = timezone(timedelta(hours=2))


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


def save(
    store: Store,
    url: str,
    art: Article,
    *,
    source: str = "a",
    aliases: tuple[str, ...] = (),
    etag: str | None = None,
    hints: ListingItem | None = None,
    when: datetime | None = None,
) -> SaveResult:
    write = ArticleWrite(
        source=source,
        url=url,
        article=art,
        fetched_at=when or T0,
        aliases=aliases,
        hints=hints,
        validators=Validators(etag=etag),
    )
    return store.save_article(write)


def get(store: Store, article_id: int) -> StoredArticle:
    found = store.article(article_id)
    assert found is not None
    return found


# -- save_article outcomes ------------------------------------------------------------------


def test_new_then_unchanged_then_updated(store: Store, clock: StepClock) -> None:
    url = "https://a.example/story"
    first = save(store, url, article(text(1)), etag='"v1"', when=clock.now)
    assert first.outcome == "new"
    row = get(store, first.article_id)
    assert (row.version, row.first_seen, row.etag) == (1, T0, '"v1"')
    assert row.published is not None
    assert row.published.isoformat() == "2024-05-01T06:30:00+02:00"  # the site's offset kept

    later = clock.tick()
    again = save(store, url, article(text(1)), etag='"v2"', when=later)
    assert (again.outcome, again.article_id) == ("unchanged", first.article_id)
    row = get(store, first.article_id)
    assert (row.version, row.last_fetched, row.etag, row.last_changed) == (1, later, '"v2"', T0)

    edited = text(1) + " A correction was appended."
    changed_at = clock.tick()
    assert save(store, url, article(edited), when=changed_at).outcome == "updated"
    row = get(store, first.article_id)
    assert (row.version, row.body, row.last_changed) == (2, edited, changed_at)
    assert row.etag == '"v2"'  # a response without validators keeps the known ones
    assert save(store, url, article(edited, title="New title"), when=clock.tick()).outcome == (
        "updated"
    )
    versions = store.versions(first.article_id)
    assert [(v.version, v.title) for v in versions] == [(1, "Title"), (2, "Title")]
    assert (versions[0].body, versions[0].fetched_at) == (text(1), later)
    assert versions[1].body == edited
    assert get(store, first.article_id).title == "New title"


def test_refetch_missing_fields_never_erases_stored_values(store: Store) -> None:
    url = "https://a.example/story"
    full = article(text(2), authors=("Ann Author",), description="About it")
    art_id = save(store, url, full).article_id
    degraded = Article(url=None, title=None, published=None, body="  ")
    assert save(store, url, degraded).outcome == "unchanged"
    (row,) = store.articles()
    assert (row.id, row.title, row.body) == (art_id, "Title", text(2))
    assert (row.authors, row.description) == (("Ann Author",), "About it")
    assert row.published == datetime(2024, 5, 1, 6, 30, tzinfo=CEST)
    assert store.versions(art_id) == []


def test_listing_hints_are_kept_as_the_listing_gave_them(store: Store) -> None:
    hint = ListingItem("https://a.example/h", title="Listing headline", published=T0)
    art_id = save(store, "https://a.example/h", article(text(3)), hints=hint).article_id
    row = get(store, art_id)
    assert (row.hint_title, row.hint_published, row.title) == ("Listing headline", T0, "Title")


def test_same_article_under_several_urls_is_stored_once(store: Store) -> None:
    canonical = "https://a.example/story"
    requested = "https://a.example/story?utm_source=feed"
    first = save(store, canonical, article(text(3)), aliases=(requested, canonical))
    # Found again by the alias alone, even with a different canonical URL claimed.
    second = save(store, "https://a.example/amp/story", article(text(3)), aliases=(requested,))
    assert (second.outcome, second.article_id) == ("unchanged", first.article_id)
    assert store.count_articles() == 1
    assert store.articles()[0].url == canonical  # the stored canonical URL wins
    for url in (canonical, requested, "https://a.example/amp/story"):
        known = store.known("a", [url])
        assert known is not None and known.article_id == first.article_id
        assert store.known("b", [url]) is None  # URLs are known within their source
    known = store.known("a", ["https://elsewhere.example/x", "https://a.example/amp/story"])
    assert known is not None
    assert (known.article_id, known.last_fetched) == (first.article_id, T0)
    assert store.known("a", ["https://a.example/other"]) is None


def test_same_body_on_another_site_is_its_own_row_in_the_same_story(store: Store) -> None:
    body = text(4)
    original = save(store, "https://a.example/news/1", article(body))
    copy = article("  " + body.upper().replace(". ", ".\n\n"), title="Other title")
    syndicated = save(
        store,
        "https://b.example/wire/77",
        copy,
        source="b",
        aliases=("https://b.example/wire/77?ref=rss",),
    )
    assert syndicated.outcome == "new" and syndicated.article_id != original.article_id
    assert syndicated.story_id == original.story_id is not None
    assert store.count_articles() == 2
    ours, theirs = get(store, original.article_id), get(store, syndicated.article_id)
    assert (ours.source, ours.title, ours.version) == ("a", "Title", 1)
    assert (theirs.source, theirs.title, theirs.version) == ("b", "Other title", 1)
    known = store.known("b", ["https://b.example/wire/77?ref=rss"])
    assert known is not None and known.article_id == syndicated.article_id
    story = store.story(original.story_id or 0)
    assert story is not None and (story.members, story.representative) == (
        2,
        original.article_id,
    )
    assert [a.source for a in store.story_members(story.id)] == ["a", "b"]


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
    copy = save(store, "https://b.example/copy", article(edited), source="b")
    assert (copy.outcome, copy.story_id) == ("new", original.story_id)
    other = save(store, "https://b.example/other", article(text(6, words=1200)), source="b")
    assert other.outcome == "new" and other.story_id != original.story_id
    assert store.count_articles() == 3


def test_naive_datetimes_are_rejected(store: Store) -> None:
    naive = datetime(2024, 5, 1, 8, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        save(store, "https://a.example/n", article(text(9), published=naive))
    assert store.count_articles() == 0


def test_touch_records_a_304(store: Store, clock: StepClock) -> None:
    art_id = save(store, "https://a.example/t", article(text(8)), etag='"e1"').article_id
    checked = clock.tick(60)
    store.touch(art_id, fetched_at=checked, etag=None, last_modified="Wed, 01 May 2024 08:00 GMT")
    known = store.known("a", ["https://a.example/t"])
    assert known is not None
    assert known.last_fetched == checked
    assert known.validators == Validators('"e1"', "Wed, 01 May 2024 08:00 GMT")
    with pytest.raises(StoreError, match="no article with id 999"):
        store.touch(999, fetched_at=checked, etag=None, last_modified=None)


def test_only_real_edits_write_versions(store: Store, clock: StepClock) -> None:
    paragraphs = [text(50 + i, words=60) for i in range(4)]
    teaser = "Most read: Ferry timetable changes for the winter season announced by the council."
    others = [f"https://a.example/other/{n}" for n in range(2)]
    for n, url in enumerate(others):  # the outlet's other pages carry the same box
        save(store, url, article(text(60 + n) + "\n\n" + teaser))
    url = "https://a.example/story"
    first = save(store, url, article("\n\n".join([*paragraphs, teaser])))
    furniture = [
        "\n\n".join([*paragraphs, "Updated 5 minutes ago"]),  # a short stamp
        "\n\n".join(paragraphs),  # the box the outlet's other pages share went away
    ]
    for body in furniture:
        result = save(store, url, article(body), when=clock.tick())
        assert result.outcome == "unchanged", body[-60:]
    stored = get(store, first.article_id)
    assert (stored.version, stored.body) == (1, "\n\n".join([*paragraphs, teaser]))
    assert stored.last_fetched == clock.now  # the fetch is recorded all the same
    edited = "\n\n".join(
        [*paragraphs[:3], paragraphs[3] + " The mayor resigned on Friday.", teaser]
    )
    assert save(store, url, article(edited), when=clock.tick()).outcome == "updated"
    assert [v.version for v in store.versions(first.article_id)] == [1]
    assert get(store, first.article_id).body == edited


def test_a_collapsed_or_shared_text_never_replaces_the_stored_one(
    store: Store, clock: StepClock
) -> None:
    url = "https://a.example/story"
    first = save(store, url, article(text(70, words=400)))
    blocked = article("Access denied. Please verify that you are a human to continue here.")
    result = save(store, url, blocked, when=clock.tick())
    assert result.outcome == "suspect" and "collapsed" in result.note
    stored = get(store, first.article_id)
    assert (stored.version, stored.body, stored.title) == (1, text(70, words=400), "Title")
    assert store.versions(first.article_id) == []
    assert [a.id for a in store.changed_articles()] == [first.article_id]  # nothing to export
    wall = text(71, words=300)  # a long interstitial many of the site's URLs now serve
    for n in range(2):
        save(store, f"https://a.example/other/{n}", article(text(72 + n, words=300)))
        save(store, f"https://a.example/other/{n}", article(wall), when=clock.tick())
    other = save(store, "https://a.example/third", article(text(80, words=300)))
    assert save(store, "https://a.example/third", article(wall)).outcome == "suspect"
    assert get(store, other.article_id).body == text(80, words=300)


def test_a_story_is_represented_by_its_earliest_published_member(store: Store) -> None:
    body = text(90, words=300)
    late = save(store, "https://a.example/1", article(body, published=T0))
    early = save(store, "https://b.example/1", article(body, published=T0 - timedelta(days=1)),
                 source="b", when=T0 + timedelta(hours=1))  # fmt: skip
    assert late.story_id == early.story_id
    story_ = store.story(late.story_id or 0)
    assert story_ is not None
    assert (story_.representative, story_.members) == (early.article_id, 2)
    assert (story_.first_seen, story_.last_seen) == (T0, T0 + timedelta(hours=1))
    assert store.count_same_text("a", body) == 1 and store.count_same_text("c", body) == 0


def test_articles_come_due_for_a_recheck_on_a_decaying_schedule(store: Store) -> None:
    ages = (3600.0, 6 * 3600.0, 24 * 3600.0)
    save(store, "https://a.example/old", article(text(100)), when=T0)
    save(store, "https://a.example/new", article(text(101)), when=T0 + timedelta(minutes=50))
    save(store, "https://b.example/x", article(text(102)), source="b", when=T0)

    def due(hours: float) -> list[str]:
        return store.due_for_recheck("a", ages, T0 + timedelta(hours=hours), 10)

    assert due(0.5) == []
    assert due(1) == ["https://a.example/old"]
    assert due(2) == ["https://a.example/old", "https://a.example/new"]
    save(store, "https://a.example/old", article(text(100)), when=T0 + timedelta(hours=2))
    assert due(2.5) == ["https://a.example/new"]  # checked: due again at 6 h
    assert due(7)[:1] == ["https://a.example/old"]
    assert store.due_for_recheck("a", ages, T0 + timedelta(hours=7), 1) == ["https://a.example/old"]
    assert store.due_for_recheck("a", (), T0 + timedelta(hours=7), 10) == []
    assert due(24 * 30) == []  # past the last age: never again


# -- reading --------------------------------------------------------------------------------


def test_articles_are_listed_newest_first_and_filtered(store: Store, clock: StepClock) -> None:
    dates = {
        "early": datetime(2024, 4, 30, 23, 0, tzinfo=UTC),
        "late-local": datetime(2024, 5, 1, 1, 30, tzinfo=CEST),  # 23:30 UTC on 30 April
        "latest": datetime(2024, 5, 2, 9, 0, tzinfo=UTC),
    }
    for seed, (name, when) in enumerate(dates.items()):
        save(store, f"https://a.example/{name}", article(text(10 + seed), published=when),
             when=clock.tick())  # fmt: skip
    save(store, "https://b.example/undated", article("x", published=None), source="b",
         when=clock.tick())  # fmt: skip
    names = [row.url.rsplit("/", 1)[1] for row in store.articles()]
    assert names == ["latest", "late-local", "early", "undated"]
    assert [row.url for row in store.articles(source="b")] == ["https://b.example/undated"]
    since = datetime(2024, 4, 30, 23, 15, tzinfo=UTC)
    assert [row.url.rsplit("/", 1)[1] for row in store.articles(since=since)] == [
        "latest",
        "late-local",
        "undated",
    ]
    assert len(store.articles(limit=2)) == 2
    counts = (store.count_articles(), store.count_articles("a"), store.count_articles("c"))
    assert counts == (4, 3, 0)
    with pytest.raises(ValueError, match="limit"):
        store.articles(limit=-1)


def test_changed_articles_streams_new_and_edited_in_commit_order(store: Store) -> None:
    first = save(store, "https://a.example/1", article(text(20))).article_id
    second = save(store, "https://b.example/2", article(text(21)), source="b").article_id
    save(store, "https://a.example/1", article(text(20) + " Edited."))
    save(store, "https://b.example/2", article(text(21)), source="b")  # unchanged: no change
    changes = list(store.changed_articles())
    assert [(a.id, a.version) for a in changes] == [(second, 1), (first, 2)]
    seqs = [a.change_seq for a in changes]
    assert seqs == sorted(seqs) and len(set(seqs)) == 2
    assert list(store.changed_articles(after=seqs[0])) == changes[1:]
    assert [a.id for a in store.changed_articles(where=ArticleFilter(source="b"))] == [second]
    assert len(list(store.changed_articles(limit=1))) == 1


def test_article_samples_describe_the_latest_articles_of_a_source(
    store: Store, clock: StepClock
) -> None:
    save(store, "https://a.example/1", article(text(30)), when=clock.tick())
    untitled = Article(url=None, title=None, published=None, body="short",
                       errors={"title": "no title found"})  # fmt: skip
    save(store, "https://a.example/2", untitled, when=clock.tick())
    save(store, "https://b.example/3", article(text(31)), source="b", when=clock.tick())
    newest, oldest = store.article_samples("a", 10)
    assert (newest.body_length, newest.has_title, newest.has_date) == (5, False, False)
    assert newest.errors == {"title": "no title found"}
    assert (oldest.has_title, oldest.has_date, oldest.body_length > 500) == (True, True, True)
    assert len(store.article_samples("a", 1)) == 1


# -- runs, fetches, source runs, robots.txt copies ------------------------------------------


def test_runs_and_fetches_are_recorded(store: Store, clock: StepClock) -> None:
    run_id = store.start_run(["a", "b"], pid=os.getpid())
    record = FetchRecord(run_id, "a", "https://a.example/", "listing", "ok", T0, status=200,
                         bytes=512)  # fmt: skip
    failed = FetchRecord(run_id, "b", "https://b.example/robots.txt", "robots", "error", T0,
                         error_kind="timeout", attempts=3)  # fmt: skip
    store.record_fetch(record)
    store.record_fetch(failed)
    assert store.fetches(run_id) == [record, failed]
    finished = clock.tick()
    store.finish_run(run_id, status="partial", counts={"new": 3, "failed": 1}, error="b failed")
    run = store.run_record(run_id)
    assert run is not None
    assert (run.status, run.error, run.pid, run.sources) == (
        "partial",
        "b failed",
        os.getpid(),
        ("a", "b"),
    )
    assert (dict(run.counts), run.started_at, run.finished_at) == (
        {"new": 3, "failed": 1},
        T0,
        finished,
    )
    with pytest.raises(ValueError, match="kind"):
        FetchRecord(run_id, "a", "https://a.example/", "page", "ok", T0)
    with pytest.raises(ValueError, match="status"):
        store.finish_run(run_id, status="done", counts={})
    with pytest.raises(StoreError, match="no run with id 404"):
        store.finish_run(404, status="ok", counts={})
    assert store.run_record(404) is None


def test_abort_stale_runs_closes_only_runs_whose_process_is_gone(store: Store) -> None:
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = store.start_run(["a"], pid=int(finished.stdout))
    unknown = store.start_run(["a"])
    alive = store.start_run(["a"], pid=os.getpid())
    assert store.abort_stale_runs() == 2
    runs = {run_id: store.run_record(run_id) for run_id in (dead, unknown, alive)}
    assert {k: r.status for k, r in runs.items() if r} == {
        dead: "aborted",
        unknown: "aborted",
        alive: "running",
    }
    assert runs[dead] is not None and runs[dead].finished_at is not None  # type: ignore[union-attr]
    assert store.abort_stale_runs() == 0


def test_source_runs_newest_first_filtered_by_status(store: Store) -> None:
    runs = [
        SourceRun("a", status, T0 + timedelta(minutes=i), counts={"new": i})
        for i, status in enumerate(("ok", "failed", "skipped", "partial"))
    ]
    store.record_source_runs(runs)
    store.record_source_runs([])
    store.record_source_runs([SourceRun("b", "ok", T0)])
    assert store.recent_source_runs("a") == runs[::-1]
    assert [r.status for r in store.recent_source_runs("a", statuses={"ok", "failed"})] == [
        "failed",
        "ok",
    ]
    assert [r.new for r in store.recent_source_runs("a", 2)] == [3, 2]
    with pytest.raises(ValueError, match="limit"):
        store.recent_source_runs("a", 0)


def test_robots_copies_are_remembered_per_url(store: Store) -> None:
    url = "https://a.example/robots.txt"
    assert store.recall_robots(url) is None
    store.remember_robots(url, b"User-agent: *\nDisallow: /private/\n")
    store.remember_robots(url, b"User-agent: *\nDisallow: /admin/\n")
    assert store.recall_robots(url) == b"User-agent: *\nDisallow: /admin/\n"
    assert store.recall_robots("https://b.example/robots.txt") is None


def test_a_reopened_store_has_everything(
    open_test_store: Callable[..., Store], clock: StepClock
) -> None:
    with open_test_store(clock) as first:
        art_id = save(first, "https://a.example/keep", article(text(40))).article_id
        run_id = first.start_run(["a"])
    with open_test_store(clock) as again:
        assert again.count_articles() == 1
        assert get(again, art_id).body == text(40)
        run = again.run_record(run_id)
        assert run is not None and run.status == "running"


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
    stories = {result.story_id for _, result in originals.values()}
    assert len(stories) == 30  # 0 false copies
    caught = sum(
        save(
            store,
            f"https://b.example/{seed}",
            article(syndicated(paragraphs, seed + 100)),
            source="b",
        ).story_id
        == result.story_id
        for seed, (paragraphs, result) in originals.items()
    )
    assert caught / len(originals) >= 0.95  # the simhash store caught about 1 in 10
    more = [
        save(store, f"https://c.example/{seed}", article("\n\n".join(story(seed, 500))), source="c")
        for seed in range(1000, 1030)
    ]
    assert not {r.story_id for r in more} & stories
    assert len({r.story_id for r in more}) == 30
    assert store.count_articles() == 90


def test_follow_up_and_shared_boilerplate_stay_separate_articles(store: Store) -> None:
    earlier = story(1, 800)
    first = save(store, "https://a.example/earlier", article("\n\n".join(earlier)))
    follow_up = story(2, 800)
    follow_up[3] = earlier[5]  # one of the eight paragraphs reused
    later = save(store, "https://a.example/later", article("\n\n".join(follow_up)))
    assert later.story_id != first.story_id
    rewrite = story(5, 800)
    rewrite[::2] = earlier[::2]  # half the paragraphs reused: a candidate, yet another story
    shared = set(Fingerprint.of("\n\n".join(earlier)).band_keys) & set(
        Fingerprint.of("\n\n".join(rewrite)).band_keys
    )
    assert shared  # the premise: the body comparison, not the index, tells them apart
    rewritten = save(store, "https://a.example/rewrite", article("\n\n".join(rewrite)))
    assert rewritten.story_id not in (first.story_id, later.story_id)
    boilerplate = (
        "Subscribe to our newsletter for the latest local news. "
        "Our journalism depends on readers like you, so please consider a donation today. "
        "Comments are moderated and may take a while to appear."
    )
    for seed in (3, 4):
        body = "\n\n".join(story(seed, 300)) + "\n\n" + boilerplate
        saved = save(store, f"https://a.example/b{seed}", article(body))
        assert (store.story(saved.story_id or 0) or saved).members == 1  # type: ignore[union-attr]
    assert store.count_articles() == 5


def test_templated_stories_with_other_figures_are_new(store: Store) -> None:
    template = " ".join(story(11, 400)[:6])
    report = "Results for round {n}: the home side won {a} to {b} before {c} spectators. "
    bodies = [
        report.format(n=n, a=a, b=b, c=c) + template + f" Next match in round {n + 1}."
        for n, a, b, c in ((7, 3, 1, 4200), (8, 0, 2, 3900), (9, 2, 2, 5100))
    ]
    saved = [save(store, f"https://a.example/r{i}", article(b)) for i, b in enumerate(bodies)]
    assert len({result.story_id for result in saved}) == 3
    dateline = "Updated 2 May 2024 10:32. " + bodies[0]
    copy = save(store, "https://b.example/r0", article(dateline), source="b")
    assert copy.story_id == saved[0].story_id


def test_near_duplicate_picks_the_most_similar_stored_article(store: Store) -> None:
    base = story(7, 600)
    variant = list(base)
    variant[6] = sentence(random.Random(1)) + " " + sentence(random.Random(2))
    first = save(store, "https://a.example/base", article("\n\n".join(base)))
    second = save(store, "https://a.example/variant", article("\n\n".join(variant)))
    assert second.story_id == first.story_id  # one paragraph rewritten: the same story
    sibling = story(8, 600)
    sibling[::2] = base[::2]  # shares half of base: stored, and a candidate for copies of both
    third = save(store, "https://a.example/sibling", article("\n\n".join(sibling)))
    assert third.story_id != first.story_id
    for original, result in ((base, first), (sibling, third)):
        body = syndicated(original, 9)
        copy = save(store, f"https://b.example/{result.article_id}", article(body), source="b")
        assert copy.story_id == result.story_id
    assert 0.5 < SAME_TEXT < 1


# -- search, stories, consumers, runs ---------------------------------------------------


def test_search_ranks_filters_and_survives_bad_syntax(store: Store, clock: StepClock) -> None:
    zeppelin = text(200) + " Zeppelin sighted over the harbour; the zeppelin landed."
    one = save(store, "https://a.example/z", article(zeppelin, title="Zeppelin", language="en"))
    two = save(store, "https://b.example/z", article(text(201) + " A zeppelin.", title="Other",
               language="de", published=T0 - timedelta(days=3)), source="b")  # fmt: skip
    hits = store.search("zeppelin")
    assert [h.article.id for h in hits] == [one.article_id, two.article_id]  # bm25: more hits
    assert "[Zeppelin]" in hits[0].snippet or "[zeppelin]" in hits[0].snippet
    assert hits[0].rank > hits[1].rank
    assert [h.article.id for h in store.search("zeppelin", where=ArticleFilter(source="b"))] == [
        two.article_id
    ]
    assert [h.article.source for h in store.search("zeppelin", where=ArticleFilter(
        language="en"))] == ["a"]  # fmt: skip
    recent = ArticleFilter(since=T0 - timedelta(days=1))
    assert [h.article.id for h in store.search("zeppelin", where=recent)] == [one.article_id]
    for odd in ('"zeppelin', "zeppelin AND", "- zeppelin", "zeppelin*)", "NEAR(zeppelin"):
        assert {h.article.id for h in store.search(odd)} >= {one.article_id}, odd
    for empty in ("", "-", '"', "()"):
        with pytest.raises(ValueError, match="nothing to search for"):
            store.search(empty)


def test_stories_carried_by_several_sources_newest_first(store: Store, clock: StepClock) -> None:
    old_body, new_body = text(210, words=300), text(211, words=300)
    first = save(store, "https://a.example/old", article(old_body), when=clock.tick())
    save(store, "https://b.example/old", article(old_body), source="b", when=clock.tick())
    alone = save(store, "https://a.example/alone", article(text(212)), when=clock.tick())
    newer = save(store, "https://b.example/new", article(new_body), source="b", when=clock.tick())
    save(store, "https://c.example/new", article(new_body), source="c", when=clock.tick())
    save(store, "https://a.example/new-again", article(new_body), when=clock.tick())
    views = store.stories()
    assert [v.story.id for v in views] == [newer.story_id, first.story_id]
    assert views[0].sources == ("b", "c", "a") and views[0].story.members == 3
    assert store.stories(min_sources=3)[0].story.id == newer.story_id
    assert all(v.story.id != alone.story_id for v in views)
    reps = {a.id for a in store.changed_articles(where=ArticleFilter(representatives=True))}
    assert reps == {first.article_id, alone.article_id, newer.article_id}


def test_consumers_keep_checkpoints_and_see_their_lag(store: Store) -> None:
    for n in range(3):
        save(store, f"https://a.example/{n}", article(text(220 + n)))
    assert store.checkpoint("nightly") == 0 and store.consumers() == []
    store.save_checkpoint("nightly", 2)
    store.save_checkpoint("search-index", 3)
    (nightly, index) = store.consumers()
    assert (nightly.name, nightly.checkpoint, nightly.lag) == ("nightly", 2, 1)
    assert (index.checkpoint, index.lag) == (3, 0) and index.updated_at is not None
    assert store.checkpoint("nightly") == 2
    with pytest.raises(ValueError):
        store.save_checkpoint("nightly", -1)


def test_urls_article_by_url_and_runs(store: Store) -> None:
    canonical = "https://a.example/story"
    saved = save(store, canonical, article(text(230)), aliases=("https://a.example/story?amp=1",))
    assert store.urls(saved.article_id) == (canonical, "https://a.example/story?amp=1")
    found = store.article_by_url("https://a.example/story?amp=1")
    assert found is not None and found.id == saved.article_id
    assert store.article_by_url("https://nowhere.example/") is None
    first, second = store.start_run(["a"]), store.start_run(["a"])
    assert [r.id for r in store.runs()] == [second, first]
