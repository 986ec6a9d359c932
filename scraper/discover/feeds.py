"""Article links in feeds (RSS 2.0, RSS 1.0/RDF, Atom) and sitemaps (incl. Google News).

XML is parsed with defusedxml, which refuses entity expansion and external entities;
anything that is not a well-formed document of the expected kind raises ExtractError
naming the URL and the problem.
"""

from __future__ import annotations

import html.entities
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ..errors import ExtractError
from ..fetch.body import CorruptCompressed, InflatedTooLarge, inflate_capped
from ..models import Listing, ListingItem
from ..urls import host_of, normalize_url, same_site
from .linkrules import DateReader, LinkRules, clean_text, looks_like_article, merge, resolve

MAX_XML_BYTES = 50_000_000  # the sitemap protocol's limit for one uncompressed file

_ATOM = {"http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#"}
_RSS1 = {"http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/"}
_DC = "http://purl.org/dc/elements/1.1/"
_FEEDBURNER = "http://rssnamespace.org/feedburner/ext/1.0"
_NEWS = "http://www.google.com/schemas/sitemap-news/0.9"
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
_ENTITY = re.compile(rb"&([A-Za-z][A-Za-z0-9]{1,31});")


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
    matching its pattern are skipped.
    """
    root = _parse_xml(data, url, "feed")
    return _listing(url, _feed_entries(root, url), rules, shape_check=False)


def parse_sitemap(data: bytes, url: str, rules: LinkRules) -> tuple[Listing, tuple[str, ...]]:
    """A sitemap's article URLs, and the child sitemaps of a sitemap index.

    Plain ``<url>`` entries must look like articles (see ``looks_like_article``);
    Google News entries (``news:news``) always count and give title and date hints.
    ``lastmod`` is a modification time, so it is not used as a date hint.  A feed
    given as a sitemap is read as a feed.  Data may be gzip-compressed.
    """
    root = _parse_xml(data, url, "sitemap")
    kind = _local(root.tag)
    if kind == "sitemapindex":
        children = [resolve(_text(_child(s, "loc")), url) for s in _children(root, "sitemap")]
        domains = rules.domains or (host_of(url),)
        kept = dict.fromkeys(c for c in children if c and same_site(c, domains))
        return Listing(url=normalize_url(url), items=()), tuple(kept)
    if kind == "urlset":
        return _listing(url, _sitemap_entries(root), rules, shape_check=True), ()
    if kind in ("rss", "RDF", "feed"):
        return _listing(url, _feed_entries(root, url), rules, shape_check=False), ()
    raise ExtractError(f"{url}: not a sitemap (root element <{kind}>, expected <urlset>)")


def _listing(
    url: str, entries: Iterable[_Entry], rules: LinkRules, *, shape_check: bool
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
        published = _feed_date(entry.date, rules, dates) if entry.date else None
        merge(items, ListingItem(url=link, title=clean_text(entry.title), published=published))
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


# -- XML ----------------------------------------------------------------------------------


def _parse_xml(data: bytes, url: str, what: str) -> Element:
    data = _gunzip(data, url, what).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not data:
        raise ExtractError(f"{url}: the {what} is empty")
    try:
        try:
            return _fromstring(data)
        except ParseError as exc:
            if "undefined entity" not in str(exc):
                raise
            return _fromstring(_ENTITY.sub(_numeric_entity, data))  # HTML entities, e.g. &nbsp;
    except ParseError as exc:
        raise ExtractError(f"{url}: the {what} is not well-formed XML ({exc})") from None
    except DefusedXmlException as exc:
        raise ExtractError(f"{url}: the {what} uses a forbidden XML feature ({exc})") from None
    except (ValueError, LookupError) as exc:  # e.g. an unknown encoding in the declaration
        raise ExtractError(f"{url}: the {what} cannot be decoded ({exc})") from None


def _fromstring(data: bytes) -> Element:
    root: Element = fromstring(data)
    return root


def _numeric_entity(match: re.Match[bytes]) -> bytes:
    name = match.group(1).decode("ascii")
    codepoint = html.entities.name2codepoint.get(name)
    if name in _XML_ENTITIES or codepoint is None:
        return match.group(0)
    return f"&#{codepoint};".encode("ascii")


def _gunzip(data: bytes, url: str, what: str) -> bytes:
    if not data.startswith(b"\x1f\x8b"):
        return data
    try:
        return inflate_capped(data, MAX_XML_BYTES)
    except CorruptCompressed as exc:
        raise ExtractError(f"{url}: the {what} is corrupt gzip data ({exc})") from None
    except InflatedTooLarge:
        raise ExtractError(
            f"{url}: the {what} is larger than {MAX_XML_BYTES} bytes uncompressed"
        ) from None


def _split(tag: object) -> tuple[str, str]:
    if not isinstance(tag, str):  # comments and processing instructions
        return "#", "#"
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _local(tag: object) -> str:
    return _split(tag)[1]


def _children(el: Element, local: str, ns: Iterable[str] | None = None) -> Iterator[Element]:
    allowed = None if ns is None else set(ns)
    for child in el:
        child_ns, child_local = _split(child.tag)
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


def _feed_entries(root: Element, url: str) -> Iterator[_Entry]:
    ns, kind = _split(root.tag)
    if kind == "rss":
        yield from (_rss2_entry(item) for item in root.iter("item"))
    elif kind == "RDF":
        yield from (_rss1_entry(item) for item in root if _split(item.tag)[0] in _RSS1
                    and _local(item.tag) == "item")  # fmt: skip
    elif kind == "feed" and ns in _ATOM:
        base = urljoin(url, root.get(_XML_BASE) or "")
        yield from (_atom_entry(entry, base, ns) for entry in _children(root, "entry", _ATOM))
    else:
        raise ExtractError(f"{url}: not an RSS or Atom feed (root element <{kind}>)")


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


def _sitemap_entries(root: Element) -> Iterator[_Entry]:
    for node in _children(root, "url"):
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
