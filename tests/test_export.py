"""Exports: each new or edited article once per consumer, in every format, field by field."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import run_cli

from scraper.errors import ConfigError
from scraper.export import FIELDS, ExportOptions, export, export_records, read_cursor, save_cursor
from scraper.models import Article, ListingItem
from scraper.store import ArticleFilter, ArticleWrite, SQLiteStore, Store

WHEN = datetime(2026, 1, 14, 9, 0, tzinfo=UTC)


def save(store: Store, n: int, title: str, *, source: str = "s", body: str | None = None) -> None:
    text = body or f"Paragraph one of story {n} about the harbour and its ferries. " * 12
    article = Article(
        url=None,
        title=title,
        published=WHEN,
        body=text,
        authors=("Ann Author",),
        language="en",
        provenance={"title": "h1"},
        errors={"image": "no image found"},
    )
    url = f"https://{source}.example/{n}"
    store.save_article(
        ArticleWrite(
            source=source,
            url=url,
            article=article,
            fetched_at=WHEN,
            aliases=(f"{url}?utm_source=x",),
            hints=ListingItem(url, title=f"Hint {n}", published=WHEN),
        )
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(tmp_path / "n.db") as opened:
        yield opened


def titles(out: str) -> list[str]:
    return [json.loads(line)["title"] for line in out.splitlines()]


def test_new_and_edited_articles_reach_a_consumer_once(store: SQLiteStore) -> None:
    for n in range(3):
        save(store, n, f"Story {n}")
    out = io.StringIO()
    assert export(store, ExportOptions(consumer="nightly"), out) == 3
    assert titles(out.getvalue()) == ["Story 0", "Story 1", "Story 2"]
    save(store, 1, "Story 1")  # fetched again, unchanged: not a change
    out = io.StringIO()
    assert export(store, ExportOptions(consumer="nightly"), out) == 3 and out.getvalue() == ""
    save(store, 0, "Story 0, corrected")  # a real edit: sent again, once
    out = io.StringIO()
    export(store, ExportOptions(consumer="nightly"), out)
    assert titles(out.getvalue()) == ["Story 0, corrected"]
    other = io.StringIO()  # another consumer has its own checkpoint
    export(store, ExportOptions(consumer="search-index", limit=2), other)
    assert titles(other.getvalue()) == ["Story 1", "Story 2"]
    assert {c.name: c.lag for c in store.consumers()} == {"nightly": 0, "search-index": 1}


def test_a_consumer_killed_mid_export_gets_the_same_batch_again(store: SQLiteStore) -> None:
    for n in range(5):
        save(store, n, f"Story {n}")

    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            if "Story 3" in text:
                raise BrokenPipeError("the reader went away")
            return super().write(text)

    with pytest.raises(BrokenPipeError):
        export(store, ExportOptions(consumer="c"), Broken())
    assert store.checkpoint("c") == 0  # nothing moved: no gap
    out = io.StringIO()
    export(store, ExportOptions(consumer="c"), out)
    assert titles(out.getvalue()) == [f"Story {n}" for n in range(5)]  # and no duplicate later
    assert export(store, ExportOptions(consumer="c"), io.StringIO()) == 5


def test_the_record_has_the_documented_fields(store: SQLiteStore) -> None:
    save(store, 1, "Story 1")
    (record,) = export_records(store, 0)
    assert tuple(record) == FIELDS
    assert record["urls"] == ["https://s.example/1", "https://s.example/1?utm_source=x"]
    assert (record["hint_title"], record["hint_published"]) == ("Hint 1", WHEN.isoformat())
    assert record["provenance"] == {"title": "h1"}
    assert record["extraction_errors"] == {"image": "no image found"}
    assert record["representative"] is True and record["story_id"] is not None


def test_filters_choose_the_articles(store: SQLiteStore) -> None:
    save(store, 1, "Harbour story", source="a")
    save(store, 2, "Ferry story", source="b", body="The ferry to Ternholm sails again. " * 20)
    by_source = [r["title"] for r in export_records(store, 0, ArticleFilter(source="b"))]
    by_query = [r["title"] for r in export_records(store, 0, ArticleFilter(query="Ternholm"))]
    assert by_source == ["Ferry story"] == by_query


def round_trip(store: SQLiteStore, fmt: str, tmp_path: Path) -> list[dict[str, object]]:
    output = tmp_path / f"out.{fmt}"
    export(store, ExportOptions(fmt=fmt), io.StringIO(), output)
    if fmt == "jsonl":
        return [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    if fmt == "csv":
        with output.open(encoding="utf-8", newline="") as handle:
            return [_from_csv(row) for row in csv.DictReader(handle)]
    import pyarrow.parquet as pq

    rows = pq.read_table(output).to_pylist()
    for row in rows:
        for name in ("provenance", "extraction_errors"):
            row[name] = json.loads(row[name])
    return rows


def _from_csv(row: dict[str, str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, value in row.items():
        if name in ("urls", "authors", "provenance", "extraction_errors"):
            out[name] = json.loads(value)
        elif name in ("change_seq", "id", "story_id", "version"):
            out[name] = int(value)
        elif name == "representative":
            out[name] = value == "True"
        else:
            out[name] = value or None
    return out


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_exports_read_back_equal_to_the_stored_rows(
    store: SQLiteStore, tmp_path: Path, fmt: str
) -> None:
    save(store, 1, 'Ärger <&> "Hafen", 北京')
    save(store, 2, "Story 2")
    expected = list(export_records(store, 0))
    assert round_trip(store, fmt, tmp_path) == expected


def test_parquet_needs_a_file(store: SQLiteStore) -> None:
    save(store, 1, "Story 1")
    with pytest.raises(ConfigError, match="--output"):
        export(store, ExportOptions(fmt="parquet"), io.StringIO())


def test_cursor_file_round_trip_and_bad_content(tmp_path: Path) -> None:
    cursor = tmp_path / "state" / "cursor"
    assert read_cursor(cursor) == 0
    save_cursor(cursor, 42)
    assert read_cursor(cursor) == 42
    cursor.write_text("yesterday")
    with pytest.raises(ConfigError, match="expected a change number"):
        read_cursor(cursor)


def test_export_command_with_a_cursor_file_and_a_consumer(tmp_path: Path) -> None:
    db, cursor = tmp_path / "n.db", tmp_path / "cursor"
    with SQLiteStore(db) as store:
        save(store, 1, "Story 1")
        save(store, 2, "Story 2")
    first = run_cli("export", "--db", str(db), "--cursor-file", str(cursor))
    assert first.returncode == 0, first.stderr
    assert titles(first.stdout) == ["Story 1", "Story 2"]
    assert cursor.read_text().strip() == "2"
    again = run_cli("export", "--db", str(db), "--cursor-file", str(cursor))
    assert again.returncode == 0 and again.stdout == ""
    with SQLiteStore(db) as store:
        save(store, 3, "Story 3")
    third = run_cli("export", "--db", str(db), "--cursor-file", str(cursor), "--format", "csv")
    assert "Story 3" in third.stdout and "Story 1" not in third.stdout
    assert cursor.read_text().strip() == "3"
    named = run_cli("export", "--db", str(db), "--consumer", "nightly", "--source", "s")
    assert titles(named.stdout) == ["Story 1", "Story 2", "Story 3"]
    listed = run_cli("consumers", "--db", str(db), "--json")
    assert [json.loads(line)["name"] for line in listed.stdout.splitlines()] == ["nightly"]
    both = run_cli("export", "--db", str(db), "--consumer", "x", "--cursor-file", str(cursor))
    assert both.returncode == 2 and both.stderr.startswith("Error:")
