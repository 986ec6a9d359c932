"""What every discovery parser shares: the link rules, URL filters, date hints, merging."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cached_property
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..config import Source
from ..models import ListingItem
from ..urls import host_of, normalize_url, same_site

DateParser = Callable[..., "tuple[datetime, bool] | None"]

# First path segments (or any segment) that name a page about many articles, an account
# page or a machine endpoint rather than an article.
_NOT_ARTICLE_SEGMENTS = frozenset(
    {
        "tag", "tags", "category", "categories", "topic", "topics", "author", "authors",
        "page", "search", "login", "logout", "signin", "sign-in", "register", "signup",
        "sign-up", "subscribe", "account", "profile", "feed", "feeds", "rss", "atom",
        "wp-admin", "wp-login.php", "wp-content", "wp-json", "cdn-cgi", "static", "assets",
        "about", "about-us", "contact", "privacy", "terms", "imprint", "impressum", "cart",
        "newsletter", "newsletters", "archive", "archives", "sitemap", "amp",
    }
)  # fmt: skip
_STATIC_EXTENSIONS = frozenset(
    {
        "jpg", "jpeg", "png", "gif", "webp", "svg", "ico", "bmp", "avif", "css", "js", "json",
        "xml", "rss", "atom", "txt", "pdf", "zip", "gz", "mp3", "mp4", "m4a", "webm", "ogg",
        "wav", "avi", "mov", "woff", "woff2", "ttf", "eot", "doc", "docx", "xls", "xlsx",
        "ppt", "pptx", "csv", "epub", "apk", "exe", "dmg",
    }
)  # fmt: skip
# Query keys of a paged, searched or sorted listing (not ``p`` or ``id``: post ids).
_LISTING_QUERY_KEYS = frozenset(
    {"page", "paged", "pg", "offset", "start", "q", "s", "query", "search", "sort", "order"}
)
_INDEX = re.compile(r"(?:index|default|home)\.(?:html?|php|aspx?|jsp)", re.IGNORECASE)
_READ_MORE = frozenset(
    {
        "read more", "more", "continue reading", "full story", "read the full story",
        "read full article", "read article", "подробнее", "читать далее", "далее",
        "weiterlesen", "mehr", "lire la suite", "leer más", "czytaj więcej",
    }
)  # fmt: skip
# "Read 12 comments", "3 replies", "Leave a comment": links to a part of an article.
_COMMENTS = re.compile(
    r"^(?:read|view|show|add|leave|post|see|join)?\s*(?:an?|the|all|\d+)?\s*"
    r"(?:comments?|replies|reactions|discussion)$",
    re.IGNORECASE,
)
# Links to other listings: "More from Business", "See all stories", "Older posts", "Page 2".
_NAV_TEXT = re.compile(
    r"^(?:(?:more|all|other)\s+(?:from|in|on|of|about)\b"
    r"|(?:see|view|show|browse|load|read)\s+(?:all|more)\b"
    r"|all\s+(?:stories|news|articles|posts|headlines)\b"
    r"|(?:older|newer|previous|prev|next|earlier|later)\s+"
    r"(?:posts?|stories|articles|entries|news|page)\b"
    r"|(?:go\s+to\s+)?page\s+\d+"
    r"|back\s+to\b)",
    re.IGNORECASE,
)
_ID = re.compile(r"\d{3,}")
_DATED = re.compile(r"/(?:19|20)\d\d/[01]?\d/(?:[0-3]?\d/)?[^/]+")  # /2026/01/14/slug
_YEAR = re.compile(r"(?:19|20)\d\d")  # /2026/ is an archive, not an article id
_WORDS = re.compile(r"[^\W_]+")
MAX_LINKS = 5000  # article links taken from one page when the source says nothing


@dataclass(frozen=True)
class LinkRules:
    """How to recognise a source's article links; built from a config ``Source``.

    ``domains`` are the hosts whose links count (subdomains included; when empty, the
    page's own host).  ``selector`` picks links on listing pages instead of the generic
    rule; ``pattern`` (``re.search`` on the normalized URL) filters every link found;
    ``next_selector`` picks the "next page" link.  ``timezone`` and ``date_format``
    interpret listing dates that carry no zone.  ``max_links`` caps the article links
    (and announced feeds) taken from one listing page, feed or sitemap: parsers stop
    reading once they have that many.  Raises ``ValueError`` when the pattern or the
    time zone is invalid, or ``max_links`` is below 1.
    """

    domains: tuple[str, ...]
    selector: str | None = None
    pattern: str | None = None
    next_selector: str | None = None
    timezone: str = "UTC"
    date_format: str | None = None
    max_links: int = MAX_LINKS

    def __post_init__(self) -> None:
        if self.max_links < 1:
            raise ValueError(f"max_links must be at least 1, got {self.max_links}")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"invalid link pattern {self.pattern!r}: {exc}") from None
        _zone(self.timezone)

    @cached_property
    def tz(self) -> tzinfo:
        return _zone(self.timezone)

    @classmethod
    def of(cls, source: Source) -> LinkRules:
        """The rules of a configured source (build them once per source and run)."""
        return cls(
            domains=source.domains,
            selector=source.link_selector,
            pattern=source.link_pattern,
            next_selector=source.next_selector,
            timezone=source.rules.timezone,
            date_format=source.rules.date_format,
            max_links=source.max_links_per_page,
        )

    def accepts(self, url: str, page_url: str) -> bool:
        """True for a same-site URL that matches the pattern (if any)."""
        domains = self.domains or (host_of(page_url),)
        if not same_site(url, domains):
            return False
        return self.pattern is None or re.search(self.pattern, url) is not None


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def resolve(href: str | None, base: str) -> str | None:
    """The normalized absolute URL of a link, or None for a non-http(s) or broken one."""
    if not href or not href.strip() or href.strip().startswith("#"):
        return None
    try:
        return normalize_url(href, base)
    except ValueError:
        return None


def non_article(url: str) -> bool:
    """True for a URL that is never an article, whatever links to it.

    That is the home page (``/``, ``/index.html``), a path with a tag/category/author/
    pagination/search/login/feed/about/... segment, a static file, or a query that pages,
    searches or sorts (``?page=2``, ``?q=x``).
    """
    parts = urlsplit(url)
    segments = [unquote(s) for s in parts.path.split("/") if s]
    keys = {key.lower() for key, _, _ in _query_pairs(parts.query) if key}
    if keys & _LISTING_QUERY_KEYS:
        return True
    if not segments or (len(segments) == 1 and _INDEX.fullmatch(segments[0])):
        return not parts.query
    if any(s.lower() in _NOT_ARTICLE_SEGMENTS for s in segments):
        return True
    stem, dot, extension = segments[-1].rpartition(".")
    return bool(dot) and extension.lower() in _STATIC_EXTENSIONS


def looks_like_article(url: str) -> bool:
    """True when a URL's shape is that of an article rather than a section or a tool.

    The URL must not be a :func:`non_article`, and its last path segment must be
    slug-like (three or more words joined by ``-`` or ``_``) or carry a numeric id (three
    digits or more), or follow a date path (``/2026/01/14/slug``); an id in the query
    (``?id=1234``) counts too.
    """
    parts = urlsplit(url)
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if not segments or non_article(url):
        return False
    last = segments[-1]
    stem, dot, _ = last.rpartition(".")
    stem = stem if dot else last
    if len(_WORDS.findall(stem.replace("_", "-"))) >= 3 and re.search(r"[-_]", stem):
        return True
    if _ID.search(stem) and not _YEAR.fullmatch(stem):
        return True
    if _DATED.search(parts.path) and not stem.isdigit():
        return True
    return any(_ID.fullmatch(value) for _, _, value in _query_pairs(parts.query))


def path_key(url: str) -> str:
    """A URL's path without its trailing slash (``/news`` for ``/news/``)."""
    return "/" + "/".join(s for s in urlsplit(url).path.split("/") if s)


def path_family(url: str) -> str | None:
    """The "folder" a URL sits in, shared by the articles of one scheme.

    ``/news`` for ``/news/drip``; the path and the query's keys for a query
    (``/story?id`` for ``/story?id=12``); None for a top-level path (``/business/``).
    """
    parts = urlsplit(url)
    if parts.query:
        keys = sorted({key for key, _, _ in _query_pairs(parts.query)})
        return f"{parts.path}?{'&'.join(keys)}"
    segments = [s for s in parts.path.split("/") if s]
    return "/" + "/".join(segments[:-1]) if len(segments) >= 2 else None


def title_like(text: str | None) -> bool:
    """False for no text, "read more", a comment count or a navigation phrase ("More
    from Business", "See all", "Older posts", "Page 2")."""
    text = clean_text(text)
    if not text or text.lower() in _READ_MORE or _COMMENTS.match(text):
        return False
    return _NAV_TEXT.match(text) is None


def title_strength(text: str | None) -> int:
    """How much a link text reads like a headline: 2, 1 (two words) or 0.

    2 for a :func:`title_like` text of three words or more, or a long unspaced one
    (scripts written without spaces); 1 for two words; 0 otherwise.
    """
    if not title_like(text):
        return 0
    words = (clean_text(text) or "").split()
    if len(words) >= 3 or (len(words) == 1 and len(words[0]) >= 12):
        return 2
    return 1 if len(words) == 2 else 0


def _query_pairs(query: str) -> Iterable[tuple[str, str, str]]:
    for pair in query.split("&"):
        key, sep, value = pair.partition("=")
        yield key, sep, value


def clean_text(text: str | None) -> str | None:
    """Collapse whitespace (and drop stray markup and entities); None when empty."""
    if text is None:
        return None
    if "<" in text:
        text = re.sub(r"<[^>]*>", " ", text)
    text = " ".join(html.unescape(text).split())
    return text or None


class DateReader:
    """Parses date hints with the extractor's date parser, in the source's zone."""

    def __init__(self, rules: LinkRules, now: datetime | None = None) -> None:
        self.tz = rules.tz
        self.date_format = rules.date_format
        self.now = now
        self._parse: DateParser | None = None

    def parse(self, text: str | None) -> datetime | None:
        if not text or not text.strip() or len(text) > 80:
            return None
        if self._parse is None:
            self._parse = _date_parser()
        found = self._parse(text.strip(), tz=self.tz, date_format=self.date_format, now=self.now)
        return found[0] if found else None


def _date_parser() -> DateParser:
    """The extractor's date parser, imported on first use (it imports much of ``extract``)."""
    from ..extract.dateparse import parse_date

    return parse_date


def merge(items: dict[str, ListingItem], item: ListingItem) -> None:
    """Add an item; a URL seen before keeps its place and gains missing hints.

    Each hint keeps its origin: a title from a listing and a date from a news sitemap
    give ``origin="listing"`` and ``published_origin="news-sitemap"``.
    """
    old = items.get(item.url)
    if old is None:
        items[item.url] = item
        return
    new_title = old.title is None and item.title
    new_date = old.published is None and item.published is not None
    if not (new_title or new_date):
        return
    titled = item if new_title else old
    dated = item if new_date else old
    title_origin = titled.origin if titled.title else None
    date_origin = dated.hint_origin("published") if dated.published is not None else None
    origin = title_origin or date_origin or old.origin
    items[item.url] = ListingItem(
        url=old.url,
        title=titled.title,
        published=dated.published,
        origin=origin,
        published_origin=date_origin if date_origin not in (None, origin) else None,
    )
