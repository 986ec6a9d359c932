"""The commands that read the database, as a user runs them: search, stories, history, feed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from helpers import run_cli

from scraper.models import Article
from scraper.store import ArticleWrite, SQLiteStore

T0 = datetime(2026, 1, 14, 9, 0, tzinfo=UTC)
WIRE = "The harbour board approved the tidal barrier after a decade of argument. " * 12


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "n.db"
    with SQLiteStore(path) as store:

        def save(source: str, url: str, title: str, body: str, when: datetime) -> None:
            article = Article(url=None, title=title, published=T0, body=body, language="en")
            store.save_article(ArticleWrite(source, url, article, when))

        save("wire", "https://wire.example/1", "Barrier approved", WIRE, T0)
        save("paper", "https://paper.example/1", "Board backs barrier <&> Ärger", WIRE, T0)
        edited = WIRE + " The mayor welcomed the decision."
        save("wire", "https://wire.example/1", "Barrier approved", edited, T0 + timedelta(1))
        save("paper", "https://paper.example/2", "Ferry news", "The ferry sails. " * 30, T0)
    return path


def test_search_with_filters_json_and_odd_queries(db: Path) -> None:
    found = run_cli("search", "barrier", "--db", str(db), "--json")
    assert found.returncode == 0, found.stderr
    rows = [json.loads(line) for line in found.stdout.splitlines()]
    assert {r["source"] for r in rows} == {"wire", "paper"}
    assert all("[barrier]" in r["snippet"].lower() for r in rows)
    one = run_cli("search", "barrier", "--db", str(db), "--source", "paper", "--representatives")
    assert one.returncode == 0 and "(no rows)" in one.stdout  # the wire's copy represents it
    table = run_cli("search", "ferry", "--db", str(db))
    assert "Ferry news" in table.stdout
    for odd in ['"barrier', "barrier AND", "-", "NEAR(", "*"]:
        done = run_cli("search", odd, "--db", str(db))
        assert done.returncode in (0, 2), (odd, done.stderr)
        assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) <= 1, odd


def test_stories_and_history(db: Path) -> None:
    stories = run_cli("stories", "--db", str(db), "--json")
    (story,) = [json.loads(line) for line in stories.stdout.splitlines()]
    assert [m["source"] for m in story["members"]] == ["wire", "paper"]
    shown = run_cli("stories", "--db", str(db))
    assert "wire, paper" in shown.stdout
    history = run_cli("history", "https://wire.example/1", "--db", str(db))
    assert history.returncode == 0, history.stderr
    assert "version 1" in history.stdout and "version 2" in history.stdout
    assert "{+The mayor welcomed the decision.+}" in history.stdout
    missing = run_cli("history", "https://nowhere.example/", "--db", str(db))
    assert missing.returncode == 2 and "no stored article" in missing.stderr


@pytest.mark.parametrize("rss", [False, True])
def test_feed_reads_back_without_a_bozo_flag(db: Path, rss: bool) -> None:
    args = ["feed", "--db", str(db), "--source", "paper", *(["--rss"] if rss else [])]
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    parsed = feedparser.parse(done.stdout)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    titles = {entry.title for entry in parsed.entries}
    assert titles == {"Board backs barrier <&> Ärger", "Ferry news"}
    again = feedparser.parse(run_cli(*args).stdout)
    assert [e.id for e in again.entries] == [e.id for e in parsed.entries]  # stable ids


def test_serve_without_a_database_is_one_line(tmp_path: Path) -> None:
    done = run_cli("serve", "--db", str(tmp_path / "none.db"))
    assert done.returncode == 2 and done.stderr.startswith("Error:")
