"""Article links in feeds (RSS 2.0, RSS 1.0/RDF, Atom) and sitemaps (incl. Google News).

Documents are read incrementally (:mod:`.xmlstream`): one entry at a time, and only
until ``LinkRules.max_links`` article links are taken, so a sitemap of 100,000 URLs
costs what one of ``max_links`` does.  Anything that is not a well-formed document of
the expected kind raises ExtractError naming the URL and the problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin
from xml.etree.ElementTree import Element

from ..errors import ExtractError
from ..models import Listing, ListingItem
from ..urls import host_of, normalize_url, same_site
from .linkrules import DateReader, LinkRules, clean_text, looks_like_article, merge, resolve
from .xmlstream import MAX_XML_BYTES, XmlStream, local_name, read_xml, split_tag

__all__ = ["MAX_XML_BYTES", "parse_feed", "parse_sitemap"]

_ATOM = {"http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#"}
_RSS1 = {"http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/"}
_DC = "http://purl.org/dc/elements/1.1/"
_FEEDBURNER = "http://rssnamespace.org/feedburner/ext/1.0"
_NEWS = "http://www.google.com/schemas/sitemap-news/0.9"
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
_FEED_ROOTS = frozenset({"rss", "RDF", "feed"})


@dataclass(frozen=True)
class _Entry:
    """One feed or sitemap entry before filtering."""

    link: str | None
    title: str | None = None
    date: str | None = None
    base: str | None = None  # xml:base in force, if any
    is_news: bool = False  # a Google News entry: an article whatever its URL shape


def parse_feed(data: bytes, url: str, rules: LinkRules) -> Listing:
    """The items of an RSS 2.0, RSS 1.0 (RDF) or Atom feed, with title and date hints.

    The date hint is the publication date (RSS ``pubDate``, Atom ``published``,
    ``dc:date``), never Atom's ``updated``.  Items off the source's site or not
    matching its pattern are skipped; reading stops at ``rules.max_links`` items.
    """
    return read_xml(data, url, "feed", lambda xml: _feed_listing(xml, rules))


def parse_sitemap(data: bytes, url: str, rules: LinkRules) -> tuple[Listing, tuple[str, ...]]:
    """A sitemap's article URLs, and the child sitemaps of a sitemap index.

    Plain ``<url>`` entries must look like articles (see ``looks_like_article``);
    Google News entries (``news:news``) always count and give title and date hints
    (``origin`` "news-sitemap").  ``lastmod`` is a modification time, so it is not used
    as a date hint.  A feed given as a sitemap is read as a feed.  Data may be
    gzip-compressed.  Reading stops at ``rules.max_links`` URLs (or child sitemaps).
    """
    return read_xml(data, url, "sitemap", lambda xml: _sitemap(xml, rules))


def _sitemap(xml: XmlStream, rules: LinkRules) -> tuple[Listing, tuple[str, ...]]:
    kind = local_name(xml.root.tag)
    if kind == "sitemapindex":
        return Listing(url=normalize_url(xml.url), items=()), _index_children(xml, rules)
    if kind == "urlset":
        entries = _sitemap_entries(xml)
        return _listing(xml.url, entries, rules, origin="sitemap", shape_check=True), ()
    if kind in _FEED_ROOTS:
        return _feed_listing(xml, rules), ()
    raise ExtractError(f"{xml.url}: not a sitemap (root element <{kind}>, expected <urlset>)")


def _index_children(xml: XmlStream, rules: LinkRules) -> tuple[str, ...]:
    domains = rules.domains or (host_of(xml.url),)
    kept: dict[str, None] = {}
    for node, depth in xml.ends(prune_depth=1):
        if depth != 1 or local_name(node.tag) != "sitemap":
            continue
        child = resolve(_text(_child(node, "loc")), xml.url)
        if child and same_site(child, domains):
            kept[child] = None
            if len(kept) >= rules.max_links:
                break
    return tuple(kept)


def _feed_listing(xml: XmlStream, rules: LinkRules) -> Listing:
    return _listing(xml.url, _feed_entries(xml), rules, origin="feed", shape_check=False)


def _listing(
    url: str, entries: Iterable[_Entry], rules: LinkRules, *, origin: str, shape_check: bool
) -> Listing:
    page_url = normalize_url(url)
    dates = DateReader(rules)
    items: dict[str, ListingItem] = {}
    for entry in entries:
        link = resolve(entry.link, entry.base or page_url)
        if link is None or not rules.accepts(link, page_url):
            continue
        if shape_check and not entry.is_news and not looks_like_article(link):
            continue
        if len(items) >= rules.max_links and link not in items:
            break
        published = _feed_date(entry.date, rules, dates) if entry.date else None
        item = ListingItem(
            url=link,
            title=clean_text(entry.title),
            published=published,
            origin="news-sitemap" if entry.is_news else origin,
        )
        merge(items, item)
    return Listing(url=page_url, items=tuple(items.values()))


def _feed_date(text: str, rules: LinkRules, dates: DateReader) -> datetime | None:
    """RFC 2822 (RSS) or ISO 8601 (Atom, dc:date, sitemaps), else the shared parser."""
    text = text.strip()
    try:
        found = parsedate_to_datetime(text)
        return found if found.tzinfo else found.replace(tzinfo=UTC)  # "-0000": UTC
    except (TypeError, ValueError, IndexError):
        pass
    try:
        found = datetime.fromisoformat(text)
        return found if found.tzinfo else found.replace(tzinfo=rules.tz)
    except ValueError:
        return dates.parse(text)


# -- XML elements ---------------------------------------------------------------------


def _children(el: Element, local: str, ns: Iterable[str] | None = None) -> Iterator[Element]:
    allowed = None if ns is None else set(ns)
    for child in el:
        child_ns, child_local = split_tag(child.tag)
        if child_local == local and (allowed is None or child_ns in allowed):
            yield child


def _child(el: Element, local: str, ns: Iterable[str] | None = None) -> Element | None:
    return next(_children(el, local, ns), None)


def _text(el: Element | None) -> str | None:
    if el is None:
        return None
    text = "".join(el.itertext()).strip()
    return text or None


# -- formats ------------------------------------------------------------------------------


def _feed_entries(xml: XmlStream) -> Iterator[_Entry]:
    ns, kind = split_tag(xml.root.tag)
    if kind == "rss":  # <item> under <channel>, or wherever it is
        for node, _ in xml.ends(prune_depth=2):
            if node.tag == "item":
                yield _rss2_entry(node)
    elif kind == "RDF":
        for node, depth in xml.ends(prune_depth=1):
            node_ns, local = split_tag(node.tag)
            if depth == 1 and local == "item" and node_ns in _RSS1:
                yield _rss1_entry(node)
    elif kind == "feed" and ns in _ATOM:
        base = urljoin(xml.url, xml.root.get(_XML_BASE) or "")
        for node, depth in xml.ends(prune_depth=1):
            node_ns, local = split_tag(node.tag)
            if depth == 1 and local == "entry" and node_ns in _ATOM:
                yield _atom_entry(node, base, ns)
    else:
        raise ExtractError(f"{xml.url}: not an RSS or Atom feed (root element <{kind}>)")


def _rss2_entry(item: Element) -> _Entry:
    link = _text(_child(item, "origLink", [_FEEDBURNER])) or _text(_child(item, "link", [""]))
    guid = _child(item, "guid", [""])
    if link is None and guid is not None and guid.get("isPermaLink", "true").lower() != "false":
        link = _text(guid)
    date = _text(_child(item, "pubDate", [""])) or _text(_child(item, "date", [_DC]))
    return _Entry(link=link, title=_text(_child(item, "title", [""])), date=date)


def _rss1_entry(item: Element) -> _Entry:
    link = _text(_child(item, "link", _RSS1))
    if link is None:
        link = item.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
    title = _text(_child(item, "title", _RSS1))
    return _Entry(link=link, title=title, date=_text(_child(item, "date", [_DC])))


def _atom_entry(entry: Element, base: str, ns: str) -> _Entry:
    base = urljoin(base, entry.get(_XML_BASE) or "")
    links = [
        ln for ln in _children(entry, "link", [ns]) if ln.get("rel", "alternate") == "alternate"
    ]
    html_links = [ln for ln in links if "html" in ln.get("type", "text/html")]
    chosen = next(iter(html_links or links), None)
    date = (
        _text(_child(entry, "published", [ns]))
        or _text(_child(entry, "issued", [ns]))
        or _text(_child(entry, "date", [_DC]))
    )
    link = chosen.get("href") if chosen is not None else None
    return _Entry(link=link, title=_text(_child(entry, "title", [ns])), date=date, base=base)


def _sitemap_entries(xml: XmlStream) -> Iterator[_Entry]:
    for node, depth in xml.ends(prune_depth=1):
        if depth != 1 or local_name(node.tag) != "url":
            continue
        news = _child(node, "news", [_NEWS])
        if news is None:
            yield _Entry(link=_text(_child(node, "loc")))
            continue
        yield _Entry(
            link=_text(_child(node, "loc")),
            title=_text(_child(news, "title", [_NEWS])),
            date=_text(_child(news, "publication_date", [_NEWS])),
            is_news=True,
        )
