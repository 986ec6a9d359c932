"""Feeds out: stored articles as Atom 1.0 (the default) or RSS 2.0, streamed to a text file.

Every value goes through an XML serializer (:class:`xml.sax.saxutils.XMLGenerator`), never
through string concatenation, so ``<``, ``&``, quotes and any script come out escaped,
and characters XML 1.0 cannot carry (control characters a scraped page may hold) are
dropped.  The body goes out twice over: as the entry's summary (the article's
description, or the start of its body, as plain text) and as its content, each paragraph
an HTML ``<p>`` (lines within a paragraph, such as list items, joined by ``<br>``) with
the text HTML-escaped before the XML escaping.

An entry's id is a ``tag:`` URI (RFC 4151) minted from the feed's host, the day the
article was first seen and its row id: the same article keeps the same id however often
the feed is written, and whichever selection (a source, a search, everything) it is in.
Dates are RFC 3339 in Atom and RFC 822 (with a four-digit year) in RSS.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import IO
from urllib.parse import urlsplit
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesImpl

from ..store import ArticleFilter, Store, StoredArticle

__all__ = ["FEED_FORMATS", "FeedOptions", "entry_id", "feed_articles", "write_feed"]

FEED_FORMATS = ("atom", "rss")
SUMMARY_CHARS = 300  # a summary taken from the body stops at a word near this length
GENERATOR = "newsscraper"

ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class FeedOptions:
    """The feed's own fields: ``self_url`` is where the feed itself is served (its id,
    and the host its entry ids are minted from), ``link`` the page it is about."""

    title: str
    self_url: str
    updated: datetime  # timezone-aware: when the feed last changed
    fmt: str = "atom"
    link: str | None = None
    subtitle: str | None = None

    def __post_init__(self) -> None:
        if self.fmt not in FEED_FORMATS:
            raise ValueError(f"fmt: one of {', '.join(FEED_FORMATS)}, got {self.fmt!r}")
        if not self.title.strip():
            raise ValueError("title: a feed needs a title")
        if not self.self_url.strip():
            raise ValueError("self_url: a feed needs the URL it is served at")
        if self.updated.utcoffset() is None:
            raise ValueError(f"updated: must be timezone-aware, got {self.updated.isoformat()}")


def feed_articles(
    store: Store, *, source: str | None = None, query: str | None = None, limit: int = 50
) -> list[StoredArticle]:
    """The articles for a feed, newest first: a source's, everything's, or (with ``query``)
    the ``limit`` best matches of a full-text search (``ValueError`` for an empty one)."""
    if limit < 1:
        raise ValueError(f"limit: must be >= 1, got {limit}")
    if query is None:
        return store.articles(limit=limit, source=source)
    hits = store.search(query, where=ArticleFilter(source=source), limit=limit)
    articles = [hit.article for hit in hits]
    articles.sort(key=lambda a: (a.published or a.first_seen, a.first_seen, a.id), reverse=True)
    return articles


def write_feed(articles: Iterable[StoredArticle], out: IO[str], options: FeedOptions) -> int:
    """Write the feed to ``out`` (a text file written as UTF-8), one entry per article in
    the order given, each as soon as it comes; returns the number of entries."""
    xml = _Writer(out)
    xml.startDocument()
    if options.fmt == "atom":
        count = _write_atom(xml, articles, options)
    else:
        count = _write_rss(xml, articles, options)
    xml.endDocument()
    return count


def entry_id(article: StoredArticle, self_url: str) -> str:
    """The entry's stable id: ``tag:<feed host>,<first seen day>:article/<row id>``."""
    authority = (urlsplit(self_url).hostname or "localhost").rstrip(".").lower()
    return f"tag:{authority},{article.first_seen.date().isoformat()}:article/{article.id}"


# -- Atom 1.0 (RFC 4287) ------------------------------------------------------------------


def _write_atom(xml: _Writer, articles: Iterable[StoredArticle], options: FeedOptions) -> int:
    xml.start("feed", {"xmlns": ATOM})
    xml.leaf("title", options.title, {"type": "text"})
    if options.subtitle:
        xml.leaf("subtitle", options.subtitle, {"type": "text"})
    xml.leaf("id", options.self_url)
    xml.leaf("updated", _rfc3339(options.updated))
    xml.leaf(
        "link", None, {"rel": "self", "type": "application/atom+xml", "href": options.self_url}
    )
    if options.link:
        xml.leaf("link", None, {"rel": "alternate", "type": "text/html", "href": options.link})
    xml.leaf("generator", GENERATOR)
    count = 0
    for article in articles:
        xml.start("entry")
        xml.leaf("id", entry_id(article, options.self_url))
        xml.leaf("title", article.title or article.hint_title or article.url, {"type": "text"})
        xml.leaf("link", None, {"rel": "alternate", "type": "text/html", "href": article.url})
        if article.published is not None:
            xml.leaf("published", _rfc3339(article.published))
        xml.leaf("updated", _rfc3339(_updated(article)))
        for name in article.authors or (article.source,):  # the outlet stands in for a byline
            xml.start("author")
            xml.leaf("name", name)
            xml.end("author")
        xml.leaf("category", None, {"term": article.source})
        xml.leaf("summary", summary(article), {"type": "text"})
        xml.leaf("content", body_html(article.body), {"type": "html"})
        xml.end("entry")
        count += 1
    xml.end("feed")
    return count


# -- RSS 2.0 (with Atom's self link, content:encoded and dc:creator) ------------------------


def _write_rss(xml: _Writer, articles: Iterable[StoredArticle], options: FeedOptions) -> int:
    namespaces = {"xmlns:atom": ATOM, "xmlns:content": CONTENT, "xmlns:dc": DC}
    xml.start("rss", {"version": "2.0", **namespaces})
    xml.start("channel")
    xml.leaf("title", options.title)
    xml.leaf("link", options.link or options.self_url)
    xml.leaf("description", options.subtitle or options.title)
    self_link = {"rel": "self", "type": "application/rss+xml", "href": options.self_url}
    xml.leaf("atom:link", None, self_link)
    xml.leaf("lastBuildDate", _rfc822(options.updated))
    xml.leaf("generator", GENERATOR)
    count = 0
    for article in articles:
        xml.start("item")
        xml.leaf("title", article.title or article.hint_title or article.url)
        xml.leaf("link", article.url)
        xml.leaf("guid", entry_id(article, options.self_url), {"isPermaLink": "false"})
        xml.leaf("pubDate", _rfc822(article.published or _updated(article)))
        for name in article.authors:
            xml.leaf("dc:creator", name)
        xml.leaf("category", article.source)
        # RSS readers take <description> as HTML: the plain summary is escaped for it.
        xml.leaf("description", html.escape(summary(article), quote=False))
        xml.leaf("content:encoded", body_html(article.body))
        xml.end("item")
        count += 1
    xml.end("channel")
    xml.end("rss")
    return count


# -- values --------------------------------------------------------------------------------


def summary(article: StoredArticle) -> str:
    """The description, else the body's first words (about ``SUMMARY_CHARS``), plain text."""
    if article.description and article.description.strip():
        return " ".join(article.description.split())
    text = " ".join(article.body.split())
    if len(text) <= SUMMARY_CHARS:
        return text
    cut = text.rfind(" ", 0, SUMMARY_CHARS)
    return text[: cut if cut > SUMMARY_CHARS // 2 else SUMMARY_CHARS].rstrip(" ,;:") + "…"


def body_html(body: str) -> str:
    """The body as HTML: a ``<p>`` per paragraph (blank-line separated), its lines joined
    by ``<br>``, every character of the text escaped."""
    paragraphs = (part.strip() for part in re.split(r"\n\s*\n", body))
    return "\n".join(
        "<p>" + "<br>".join(html.escape(line.strip()) for line in part.split("\n")) + "</p>"
        for part in paragraphs
        if part
    )


def _updated(article: StoredArticle) -> datetime:
    """When the entry last changed: the page's own dates, or the store's stamp of an edit
    it recorded (or of the first sighting, for an article with no date at all)."""
    stamps = [d for d in (article.published, article.modified) if d is not None]
    if article.version > 1 or not stamps:
        stamps.append(article.last_changed)
    return max(stamps)


def _rfc3339(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _rfc822(value: datetime) -> str:
    return format_datetime(value)


class _TextSink(io.TextIOBase):
    """Any text file as the ``TextIOBase`` XMLGenerator writes text to (it would take
    another kind of object for a binary one)."""

    def __init__(self, out: IO[str]) -> None:
        super().__init__()
        self._out = out

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return self._out.write(text)


class _Writer(XMLGenerator):
    """An XMLGenerator with one-line helpers; text it cannot carry in XML 1.0 is dropped."""

    def __init__(self, out: IO[str]) -> None:
        super().__init__(_TextSink(out), encoding="utf-8", short_empty_elements=True)

    def start(self, name: str, attrs: dict[str, str] | None = None, *, line: bool = True) -> None:
        clean = {key: _NOT_XML.sub("", value) for key, value in (attrs or {}).items()}
        self.startElement(name, AttributesImpl(clean))
        if line:
            self.ignorableWhitespace("\n")

    def end(self, name: str) -> None:
        self.endElement(name)
        self.ignorableWhitespace("\n")

    def leaf(self, name: str, text: str | None, attrs: dict[str, str] | None = None) -> None:
        self.start(name, attrs, line=False)
        if text:
            self.characters(_NOT_XML.sub("", text))
        self.end(name)
