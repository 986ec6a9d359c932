"""A database made by release 0.1 (schema 5) moves to stories without losing a row or a version."""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scraper.models import Article
from scraper.store import ArticleWrite, SQLiteStore
from scraper.store.sqlite_schema import SCHEMA_VERSION

FIXTURE = Path(__file__).parent / "fixtures" / "release-0.1-v5.db"
WIRE = "https://wire.example/story/1"
PAPER = "https://paper.example/news/harbour-plan"


@pytest.fixture
def old_db(tmp_path: Path) -> Path:
    path = tmp_path / "news.db"
    shutil.copyfile(FIXTURE, path)
    return path


def test_merged_rows_are_split_back_and_nothing_is_lost(
    old_db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="scraper.store"), SQLiteStore(old_db) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.count_articles() == 3  # two rows of 0.1, and the paper's copy split out
        wire = store.known("wire", [WIRE])
        paper = store.known("paper", [PAPER])
        assert wire is not None and paper is not None and wire.article_id != paper.article_id
        assert store.known("wire", [PAPER]) is None  # the paper's URL left the wire's row
        original, copy = store.article(wire.article_id), store.article(paper.article_id)
        assert original is not None and copy is not None
        assert (original.source, copy.source, copy.url) == ("wire", "paper", PAPER)
        assert original.story_id == copy.story_id is not None
        assert copy.body == original.body and copy.version == 0  # the best text there is
        assert "split from article" in copy.extraction_errors["migration"]
        # the versions 0.1 wrote (the churn between the two titles) are all still there
        assert [v.version for v in store.versions(wire.article_id)] == [1, 2]
        story = store.story(original.story_id or 0)
        assert story is not None and (story.members, story.representative) == (2, original.id)
        alone = store.known("wire", ["https://wire.example/story/2?utm_source=x"])
        assert alone is not None  # its alias kept
        single = store.article(alone.article_id)
        assert single is not None and single.story_id is not None
        keys = dict(
            store.db.execute("SELECT article_id, count(*) FROM shingle_bands GROUP BY article_id")
        )
        assert keys[wire.article_id] > 20  # the body's 20 band keys and its lead's (v8)
    assert "split into 1 row(s)" in caplog.text


def test_the_split_copy_takes_the_real_text_on_its_next_fetch_without_a_version(
    old_db: Path,
) -> None:
    with SQLiteStore(old_db) as store:
        paper = store.known("paper", [PAPER])
        assert paper is not None
        real = Article(url=None, title="Council says yes", published=None, body="Paper text. " * 60)
        write = ArticleWrite("paper", PAPER, real, datetime(2026, 2, 1, tzinfo=UTC))
        result = store.save_article(write)
        assert (result.outcome, result.article_id) == ("updated", paper.article_id)
        copy = store.article(paper.article_id)
        assert copy is not None and (copy.version, copy.title) == (1, "Council says yes")
        assert store.versions(paper.article_id) == []  # the migration's copy was no edition
        wire = store.known("wire", [WIRE])
        assert wire is not None
        again = store.save_article(
            ArticleWrite("wire", WIRE, _as_stored(store, wire.article_id), write.fetched_at)
        )
        assert again.outcome == "unchanged"  # quiet runs add no versions any more


def _as_stored(store: SQLiteStore, article_id: int) -> Article:
    row = store.article(article_id)
    assert row is not None
    return Article(url=None, title=row.title, published=row.published, body=row.body)


def test_migrating_twice_changes_nothing(old_db: Path) -> None:
    with SQLiteStore(old_db) as store:
        schema = store.db.schema
        count = store.count_articles()
    with SQLiteStore(old_db) as again:
        assert again.db.schema == schema and again.count_articles() == count
