"""Streaming reads: iterating every article of a large store takes memory that does not grow
with the number of rows (``changed_articles`` and the export records)."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

import pytest

from scraper.export import export_records
from scraper.store import SQLiteStore, StoredArticle

ROWS = 100_000
STAMP = "2026-01-14T09:00:00+00:00"

# One story per article, then the articles: every column the schema requires, a unique
# change_seq, a body_hash, JSON columns as the store writes them (the FTS trigger runs).
FILL = f"""
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows)
INSERT INTO stories (id, representative, members, first_seen, last_seen)
SELECT i, i, 1, '{STAMP}', '{STAMP}' FROM n;

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows)
INSERT INTO articles (
  id, url, source, title, published, date_precision, body, authors, language,
  body_hash, first_seen, last_fetched, last_changed, version, extraction_errors,
  provenance, duplicate_count, change_seq, story_id
)
SELECT i, 'https://s' || (i % 7) || '.example/news/' || i, 's' || (i % 7), 'Story ' || i,
  '2026-01-14T10:00:00+01:00', 'datetime',
  'Story ' || i || ' begins here.' || char(10, 10) || printf('%.150c', 'x') || ' ends.',
  '["A. Writer"]', 'en', printf('%064x', i), '{STAMP}', '{STAMP}', '{STAMP}', 1, '{{}}',
  '{{"title": "og:title"}}', 0, i, i
FROM n;
"""


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SQLiteStore]:
    path = tmp_path_factory.mktemp("stream") / "big.db"
    store = SQLiteStore(path)
    try:
        with store.db.conn:  # one transaction: the whole fill takes a few seconds
            for statement in FILL.split(";\n\n"):
                store.db.conn.execute(statement, {"rows": ROWS})
        yield store
    finally:
        store.close()


def peaks(items: Iterator[object], marks: set[int]) -> dict[int, int]:
    """Consume ``items``, keeping none; the traced peak (bytes above the start) at each mark."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        seen: dict[int, int] = {}
        count = 0
        for _ in items:
            count += 1
            if count in marks:
                seen[count] = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert set(seen) == marks, f"only {count} items"
    return seen


def test_changed_articles_streams_in_flat_memory(big_store: SQLiteStore) -> None:
    first = next(big_store.changed_articles())
    assert isinstance(first, StoredArticle) and first.change_seq == 1 and first.story_id == 1
    seen = peaks(big_store.changed_articles(), {20_000, ROWS})
    # a batch of rows at a time: the same peak after 20,000 rows as after 100,000
    assert seen[ROWS] < 4_000_000, seen
    assert seen[ROWS] - seen[20_000] < 256_000, seen


def test_export_records_stream_in_flat_memory(big_store: SQLiteStore) -> None:
    """Each record costs two lookups (story, URLs): 10,000 of them, compared with 2,000."""
    records = export_records(big_store, after=ROWS - 10_000)
    seen = peaks(records, {2_000, 10_000})
    assert seen[10_000] < 4_000_000, seen
    assert seen[10_000] - seen[2_000] < 256_000, seen
    last = next(export_records(big_store, after=ROWS - 1))
    assert last["change_seq"] == ROWS and last["urls"] == [
        f"https://s{ROWS % 7}.example/news/{ROWS}"
    ]
    assert last["representative"] is True
