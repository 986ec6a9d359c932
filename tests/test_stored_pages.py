"""Real news pages stored in tests/pages: the extractor's output is pinned, and checked
against the annotated title and date (`python tests/pages/regenerate.py` rewrites the pins
after a deliberate change)."""

from __future__ import annotations

import gzip
import json
import unicodedata
from pathlib import Path

import pytest

from scraper import extract

PAGES = sorted((Path(__file__).parent / "pages").glob("*/*.html.gz"))


def _norm(title: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", title or "").replace("’", "'").split())


@pytest.mark.parametrize("page", PAGES, ids=lambda p: f"{p.parent.name}/{p.name[:-8]}")
def test_stored_page(page: Path) -> None:
    expected = json.loads(page.with_name(page.name[:-8] + ".json").read_text(encoding="utf-8"))
    article = extract(gzip.decompress(page.read_bytes()), expected["url"])
    published = article.published.isoformat() if article.published else None
    assert article.title == expected["title"]
    assert published == expected["published"]
    assert article.body == expected["body"]
    assert article.language == expected["language"]
    truth = expected["annotated"]
    assert _norm(article.title).casefold() == _norm(truth["title"]).casefold()
    assert (published or "")[:10] == truth["published"]


def test_pages_are_stored() -> None:
    assert len(PAGES) >= 8
