"""Incremental exports: each new or edited article once, after the consumer's cursor."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import run_cli

from scraper.errors import ConfigError
from scraper.export import ExportOptions, changed_articles, read_cursor, save_cursor, write
from scraper.models import Article
from scraper.store import ArticleWrite, SQLiteStore, Store

WHEN = datetime(2026, 1, 14, 9, 0, tzinfo=UTC)


def save(store: Store, n: int, title: str, body: str | None = None) -> None:
    text = body or f"Paragraph one of story {n} about the harbour and its ferries. " * 12
    article = Article(url=None, title=title, published=WHEN, body=text)
    url = f"https://a.example/{n}"
    store.save_article(ArticleWrite(source="s", url=url, article=article, fetched_at=WHEN))


def seqs(store: Store, after: int = 0, **kw: object) -> list[tuple[int, str]]:
    rows = changed_articles(store, ExportOptions(after=after, **kw))  # type: ignore[arg-type]
    return [(row["change_seq"], row["title"]) for row in rows]


def test_new_and_edited_articles_come_once_after_the_cursor(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "n.db") as store:
        for n in range(3):
            save(store, n, f"Story {n}")
        assert seqs(store) == [(1, "Story 0"), (2, "Story 1"), (3, "Story 2")]
        save(store, 1, "Story 1")  # fetched again, unchanged: not a change
        assert seqs(store, after=3) == []
        save(store, 0, "Story 0, corrected")  # edited: exported again, after the cursor
        assert seqs(store, after=3) == [(4, "Story 0, corrected")]
        assert seqs(store, after=0, limit=2) == [(2, "Story 1"), (3, "Story 2")]


def test_jsonl_and_csv_output(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "n.db") as store:
        save(store, 1, "Story, with a comma")
        out = io.StringIO()
        assert write(changed_articles(store, ExportOptions()), out, "jsonl") == 1
        assert json.loads(out.getvalue())["title"] == "Story, with a comma"
        out = io.StringIO()
        write(changed_articles(store, ExportOptions()), out, "csv")
        (row,) = csv.DictReader(io.StringIO(out.getvalue()))
        assert row["title"] == "Story, with a comma" and row["change_seq"] == "1"


def test_cursor_file_round_trip_and_bad_content(tmp_path: Path) -> None:
    cursor = tmp_path / "state" / "cursor"
    assert read_cursor(cursor) == 0
    save_cursor(cursor, 42)
    assert read_cursor(cursor) == 42
    cursor.write_text("yesterday")
    with pytest.raises(ConfigError, match="expected a change number"):
        read_cursor(cursor)


def test_export_command_with_a_cursor_file(tmp_path: Path) -> None:
    db, cursor = tmp_path / "n.db", tmp_path / "cursor"
    with SQLiteStore(db) as store:
        save(store, 1, "Story 1")
        save(store, 2, "Story 2")
    first = run_cli("export", "--db", str(db), "--cursor-file", str(cursor))
    assert first.returncode == 0, first.stderr
    assert [json.loads(x)["title"] for x in first.stdout.splitlines()] == ["Story 1", "Story 2"]
    assert cursor.read_text().strip() == "2"
    again = run_cli("export", "--db", str(db), "--cursor-file", str(cursor))
    assert again.returncode == 0 and again.stdout == ""
    with SQLiteStore(db) as store:
        save(store, 3, "Story 3")
    third = run_cli("export", "--db", str(db), "--cursor-file", str(cursor), "--format", "csv")
    assert "Story 3" in third.stdout and "Story 1" not in third.stdout
    assert cursor.read_text().strip() == "3"
