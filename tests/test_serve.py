"""A browsable database: datasette's metadata matches the schema, and a real server on
127.0.0.1 answers the canned queries and the search page over HTTP."""

from __future__ import annotations

import importlib.util
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from scraper.errors import ConfigError
from scraper.export.datasette import (
    QUERIES,
    SETTINGS,
    TABLES,
    DatasetteServer,
    metadata,
    serve,
)
from scraper.models import Article
from scraper.store import ArticleWrite, SourceRun, SQLiteStore

HAS_DATASETTE = importlib.util.find_spec("datasette") is not None
needs_datasette = pytest.mark.skipif(not HAS_DATASETTE, reason="datasette is not installed")
WHEN = datetime(2026, 1, 14, 9, 0, tzinfo=UTC)
FERRY = "The harbour ferry timetable changes from Monday, the port authority said. "


def save(store: SQLiteStore, source: str, n: int, title: str, body: str, dated: bool) -> None:
    errors = {} if dated else {"published": "no date found on the page"}
    article = Article(
        url=None, title=title, published=WHEN if dated else None, body=body, errors=errors
    )
    write = ArticleWrite(
        source=source,
        url=f"https://{source}.example/{n}",
        article=article,
        fetched_at=WHEN + timedelta(minutes=n),
    )
    store.save_article(write)


def fill(path: Path) -> None:
    """Two outlets carry one ferry story; a third has an undated crane story; runs."""
    with SQLiteStore(path) as store:
        save(store, "alpha", 1, "Ferry timetable changes", "Ferry news. " + FERRY * 8, True)
        save(store, "gamma", 2, "Ferry timetable changes", "Ferry item. " + FERRY * 8, True)
        crane = "A new crane arrived at the harbour on a barge from Rotterdam. " * 8
        save(store, "beta", 3, "Harbour crane arrives", crane, False)
        day = timedelta(days=1)
        store.record_source_runs(
            [
                SourceRun(source="alpha", status="ok", started_at=WHEN),
                SourceRun(source="beta", status="ok", started_at=WHEN),
                SourceRun(source="beta", status="failed", started_at=WHEN + day, error="dns"),
                SourceRun(source="beta", status="skipped", started_at=WHEN + 2 * day),
                SourceRun(source="gamma", status="partial", started_at=WHEN),
            ]
        )


def schema(path: Path) -> dict[str, list[str]]:
    with sqlite3.connect(path) as conn:
        names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: [row[1] for row in conn.execute(f"PRAGMA table_info([{n}])")] for n in names}


def test_metadata_describes_every_table_and_column_of_the_store(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "news.db").close()
    tables = {
        name: columns
        for name, columns in schema(tmp_path / "news.db").items()
        if not re.fullmatch(r"articles_fts_\w+", name)  # FTS5's own shadow tables
    }
    assert set(TABLES) == set(tables)
    for name, (description, columns) in TABLES.items():
        assert description and list(columns) == tables[name], name
        assert all(text.strip() for text in columns.values()), name
    served = metadata("news")["databases"]["news"]
    assert set(served["queries"]) == set(QUERIES)
    assert served["tables"]["articles"]["columns"]["published"].startswith("Publication date")


def test_canned_queries_run_read_only_on_a_real_store(tmp_path: Path) -> None:
    """Every query is valid SQL for the schema (datasette supplies escape_fts itself)."""
    fill(tmp_path / "news.db")
    conn = sqlite3.connect(f"file:{tmp_path / 'news.db'}?mode=ro", uri=True)
    conn.create_function("escape_fts", 1, lambda q: " ".join(f'"{w}"' for w in q.split()))
    try:
        for name, query in QUERIES.items():
            params = dict.fromkeys(re.findall(r":(\w+)", query["sql"]), "")
            assert conn.execute(query["sql"], {**params, "q": "ferry"}).fetchall(), name
    finally:
        conn.close()


# -- a real datasette on 127.0.0.1 ------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatasetteServer]:
    if not HAS_DATASETTE:
        pytest.skip("datasette is not installed")
    path = tmp_path_factory.mktemp("serve") / "news.db"
    fill(path)
    started = serve(path, port=0)
    try:
        yield started
    finally:
        assert started.stop() is not None
        assert started.process.poll() is not None


def rows(server: DatasetteServer, query: str, **params: str) -> list[dict[str, Any]]:
    url = f"{server.database_url}/{query}.json"
    response = httpx.get(url, params={**params, "_shape": "objects"}, timeout=10)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data.get("ok", True) and not data.get("error"), data
    result: list[dict[str, Any]] = data["rows"]
    return result


@needs_datasette
def test_it_listens_on_loopback_with_the_metadata(server: DatasetteServer) -> None:
    assert server.url.startswith("http://127.0.0.1:") and server.database == "news"
    served = httpx.get(server.url + "-/metadata.json", timeout=10).json()
    assert served == metadata("news")
    settings = httpx.get(server.url + "-/settings.json", timeout=10).json()
    assert settings["sql_time_limit_ms"] == int(SETTINGS["sql_time_limit_ms"])
    assert settings["suggest_facets"] is False


@needs_datasette
def test_canned_queries_answer_over_http(server: DatasetteServer) -> None:
    latest = rows(server, "latest_per_source")
    assert {(r["source"], r["title"]) for r in latest} == {
        ("alpha", "Ferry timetable changes"),
        ("beta", "Harbour crane arrives"),
        ("gamma", "Ferry timetable changes"),
    }
    assert rows(server, "latest_per_source", per_source="0") == []
    (story,) = rows(server, "stories_across_sources")
    assert story["sources"] == 2 and sorted(story["outlets"].split(",")) == ["alpha", "gamma"]
    looks = rows(server, "sources_needing_a_look")
    assert [(r["source"], r["status"]) for r in looks] == [("beta", "failed"), ("gamma", "partial")]
    assert looks[0]["failures_in_a_row"] == 1 and looks[0]["error"] == "dns"
    (undated,) = rows(server, "articles_without_date")
    assert undated["title"] == "Harbour crane arrives"
    assert undated["why"] == "no date found on the page"


@needs_datasette
def test_the_search_page_ranks_matches_with_snippets(server: DatasetteServer) -> None:
    hits = rows(server, "search", q="ferry timetable")
    assert {h["source"] for h in hits} == {"alpha", "gamma"}
    assert all("[ferry]" in h["snippet"].lower() for h in hits)
    assert hits[0]["rank"] >= hits[-1]["rank"]
    assert [h["source"] for h in rows(server, "search", q="ferry", source="gamma")] == ["gamma"]
    assert [h["title"] for h in rows(server, "search", q="Rotterdam")] == ["Harbour crane arrives"]
    assert rows(server, "search") == []  # no words: an empty page, not an error
    assert rows(server, "search", q='crane" OR (') == []  # quotes and operators are words
    page = httpx.get(f"{server.database_url}/search", params={"q": "crane"}, timeout=10)
    assert page.status_code == 200 and "Harbour crane arrives" in page.text


@needs_datasette
def test_articles_stored_while_it_serves_show_up(server: DatasetteServer) -> None:
    """The store's write-ahead log is read: an immutable open would miss this."""
    with SQLiteStore(server.path) as store:
        body = "The lighthouse keeper retired after forty years on the island. " * 8
        save(store, "delta", 4, "Lighthouse keeper retires", body, True)
        assert [h["source"] for h in rows(server, "search", q="lighthouse")] == ["delta"]


@needs_datasette
def test_a_taken_port_or_a_missing_file_is_a_config_error(
    server: DatasetteServer, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"cannot listen on 127\.0\.0\.1:\d+"):
        serve(server.path, port=server.port)
    with pytest.raises(ConfigError, match="no such database file"):
        serve(tmp_path / "missing.db", port=0)


def test_without_datasette_it_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "datasette" else real(name)
    )
    with pytest.raises(ConfigError) as raised:
        serve(tmp_path / "news.db", port=0)
    message = str(raised.value)
    assert "install it: pip install 'newsscraper[serve]'" in message and "\n" not in message
