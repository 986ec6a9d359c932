"""Feeds out: Atom and RSS that a real feed parser reads back, field for field."""

from __future__ import annotations

import html
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from scraper.export.feed import FeedOptions, entry_id, feed_articles, write_feed
from scraper.models import Article
from scraper.store import ArticleWrite, SQLiteStore, StoredArticle

feedparser = pytest.importorskip("feedparser")

TRICKY = "Ärger <&> 'Hafen' \"Kai\" — 北京"
SEEN = datetime(2026, 1, 14, 9, 0, tzinfo=UTC)
BERLIN = timezone(timedelta(hours=1))
SELF = "https://feeds.example.org/news.xml?source=demo&limit=2"


def stored(n: int, **changes: object) -> StoredArticle:
    values: dict[str, object] = {
        "id": n,
        "url": f"https://news.example.com/{n}?ref=a&b=<c>",
        "source": "demo",
        "title": f"Story {n}",
        "published": datetime(2026, 1, 14, 8, n, tzinfo=BERLIN),
        "body": f"First paragraph of story {n}.\n\nSecond paragraph.",
        "first_seen": SEEN,
        "last_fetched": SEEN,
        "last_changed": SEEN,
        "version": 1,
        "change_seq": n,
        **changes,
    }
    return StoredArticle(**values)  # type: ignore[arg-type]


TRICKY_ARTICLE = stored(
    1,
    title=TRICKY,
    body=f"{TRICKY}\n\nA second <b>paragraph</b> & more.\n- one item\n- another",
    authors=("Jö <Doe>", "B & C"),
)
PLAIN_ARTICLE = stored(2, published=None, authors=(), description="What it is about.")


def render(articles: list[StoredArticle], fmt: str, **options: object) -> str:
    out = io.StringIO()
    settings: dict[str, object] = {
        "title": f"News {TRICKY}",
        "self_url": SELF,
        "updated": datetime(2026, 1, 15, 12, 0, tzinfo=UTC),
        "fmt": fmt,
        **options,
    }
    count = write_feed(articles, out, FeedOptions(**settings))  # type: ignore[arg-type]
    assert count == len(articles)
    return out.getvalue()


def parse(text: str | bytes) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(text)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def test_atom_reads_back_with_every_field() -> None:
    text = render([TRICKY_ARTICLE, PLAIN_ARTICLE], "atom", link="https://news.example.com/")
    parsed = parse(text)
    assert parsed.version == "atom10"
    assert parsed.feed.title == f"News {TRICKY}"
    assert parsed.feed.updated == "2026-01-15T12:00:00+00:00"
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links == {"self": SELF, "alternate": "https://news.example.com/"}
    first, second = parsed.entries
    assert first.title == TRICKY
    assert first.link == TRICKY_ARTICLE.url
    assert first.id == "tag:feeds.example.org,2026-01-14:article/1"
    assert first.published == "2026-01-14T08:01:00+01:00"
    assert [a.name for a in first.authors] == ["Jö <Doe>", "B & C"]
    assert first.summary.startswith(TRICKY + " A second <b>paragraph</b> & more.")
    content = first.content[0]
    assert content.type == "text/html"
    assert content.value.count("<p>") == 2
    assert TRICKY in html.unescape(content.value)
    assert "<b>" not in content.value  # the body's own markup is text, escaped
    assert "- one item<br />- another" in content.value
    assert [tag.term for tag in first.tags] == ["demo"]
    # no date: no <published>, updated from the first sighting; the outlet as author
    assert "published" not in second and second.updated == "2026-01-14T09:00:00+00:00"
    assert [a.name for a in second.authors] == ["demo"]
    assert second.summary == "What it is about."


def test_rss_reads_back_with_every_field() -> None:
    parsed = parse(render([TRICKY_ARTICLE, PLAIN_ARTICLE], "rss"))
    assert parsed.version == "rss20"
    assert parsed.feed.title == f"News {TRICKY}"
    assert parsed.feed.link == SELF  # no page given: the channel links to the feed
    assert parsed.feed.updated_parsed[:5] == (2026, 1, 15, 12, 0)
    first, second = parsed.entries
    assert first.title == TRICKY
    assert first.link == TRICKY_ARTICLE.url
    assert first.id == "tag:feeds.example.org,2026-01-14:article/1"
    assert first.guidislink is False
    assert first.published == "Wed, 14 Jan 2026 08:01:00 +0100"
    assert first.published_parsed[:5] == (2026, 1, 14, 7, 1)  # in UTC
    assert [a.name for a in first.authors] == ["Jö <Doe>", "B & C"]
    assert html.unescape(first.summary).startswith(TRICKY + " A second <b>paragraph</b>")
    assert first.content[0].value.count("<p>") == 2
    assert TRICKY in html.unescape(first.content[0].value)
    assert second.published == "Wed, 14 Jan 2026 09:00:00 +0000"  # first seen, undated
    assert "authors" not in second


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_ids_are_stable_across_writes_and_selections(fmt: str) -> None:
    articles = [TRICKY_ARTICLE, PLAIN_ARTICLE]
    once = [e.id for e in parse(render(articles, fmt)).entries]
    again = [e.id for e in parse(render(articles, fmt, title="Another")).entries]
    alone = [e.id for e in parse(render([PLAIN_ARTICLE], fmt)).entries]
    assert once == again and alone == once[1:] and len(set(once)) == 2
    edited = stored(2, title="Story 2, corrected", version=2, last_changed=SEEN + timedelta(1))
    assert parse(render([edited], fmt)).entries[0].id == once[1]
    assert entry_id(PLAIN_ARTICLE, "https://Feeds.Example.org./x") == once[1]


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_characters_xml_cannot_carry_are_dropped(fmt: str) -> None:
    dirty = stored(3, title="Bell\x07 and form\x0c feed", body="Null\x00 here\ud800.\x0b")
    entry = parse(render([dirty], fmt)).entries[0]
    assert entry.title == "Bell and form feed"
    assert "Null here." in entry.content[0].value


def test_a_long_body_is_summarized_at_a_word() -> None:
    long = stored(4, body="word " * 200)
    summary = parse(render([long], "atom")).entries[0].summary
    assert summary.endswith("word…") and 150 < len(summary) <= 301


def test_entries_are_written_as_they_come() -> None:
    out = io.StringIO()
    seen: list[str] = []

    def articles() -> Iterator[StoredArticle]:
        for n in range(1, 4):
            seen.append(out.getvalue())
            yield stored(n)

    options = FeedOptions(title="T", self_url=SELF, updated=SEEN)
    assert write_feed(articles(), out, options) == 3
    assert [text.count("<entry>") for text in seen] == [0, 1, 2]


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="fmt"):
        FeedOptions(title="T", self_url=SELF, updated=SEEN, fmt="json")
    with pytest.raises(ValueError, match="timezone-aware"):
        FeedOptions(title="T", self_url=SELF, updated=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="title"):
        FeedOptions(title=" ", self_url=SELF, updated=SEEN)


def save(store: SQLiteStore, source: str, n: int, title: str, day: int) -> None:
    body = f"{title}. " + f"Paragraph {n} of {source} about its own story number {n}. " * 10
    when = datetime(2026, 1, day, 9, 0, tzinfo=UTC)
    article = Article(url=None, title=title, published=when, body=body)
    url = f"https://{source}.example/{n}"
    store.save_article(ArticleWrite(source=source, url=url, article=article, fetched_at=SEEN))


def test_feed_articles_by_source_search_or_everything(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "news.db") as store:
        save(store, "alpha", 1, "Ferry timetable changes", 10)
        save(store, "alpha", 2, "Harbour crane arrives", 12)
        save(store, "beta", 3, "Ferry strike called off", 11)
        save(store, "beta", 4, "Council budget passed", 13)
        titles = lambda articles: [a.title for a in articles]  # noqa: E731
        assert titles(feed_articles(store, limit=3)) == [
            "Council budget passed",
            "Harbour crane arrives",
            "Ferry strike called off",
        ]
        assert titles(feed_articles(store, source="alpha")) == [
            "Harbour crane arrives",
            "Ferry timetable changes",
        ]
        assert titles(feed_articles(store, query="ferry")) == [
            "Ferry strike called off",
            "Ferry timetable changes",
        ]
        assert titles(feed_articles(store, query="ferry", source="alpha")) == [
            "Ferry timetable changes"
        ]
        with pytest.raises(ValueError, match="limit"):
            feed_articles(store, limit=0)
        parsed = parse(render(feed_articles(store, query="ferry"), "atom"))
        assert [e.title for e in parsed.entries] == [
            "Ferry strike called off",
            "Ferry timetable changes",
        ]


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_a_feed_file_is_utf8_as_it_declares(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"feed.{fmt}"
    with path.open("w", encoding="utf-8") as out:
        options = FeedOptions(title=TRICKY, self_url=SELF, updated=SEEN, fmt=fmt)
        write_feed([TRICKY_ARTICLE], out, options)
    assert path.read_bytes().startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    parsed = parse(path.read_bytes())
    assert parsed.feed.title == TRICKY and parsed.entries[0].title == TRICKY
