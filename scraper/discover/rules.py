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
_ID = re.compile(r"\d{3,}")
_DATED = re.compile(r"/(?:19|20)\d\d/[01]?\d/(?:[0-3]?\d/)?[^/]+")  # /2026/01/14/slug
_YEAR = re.compile(r"(?:19|20)\d\d")  # /2026/ is an archive, not an article id
_WORDS = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class LinkRules:
    """How to recognise a source's article links; built from a config ``Source``.

    ``domains`` are the hosts whose links count (subdomains included; when empty, the
    page's own host).  ``selector`` picks links on listing pages instead of the generic
    rule; ``pattern`` (``re.search`` on the normalized URL) filters every link found;
    ``next_selector`` picks the "next page" link.  ``timezone`` and ``date_format``
    interpret listing dates that carry no zone.  Raises ``ValueError`` when the pattern
    or the time zone is invalid.
    """

    domains: tuple[str, ...]
    selector: str | None = None
    pattern: str | None = None
    next_selector: str | None = None
    timezone: str = "UTC"
    date_format: str | None = None

    def __post_init__(self) -> None:
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"invalid link pattern {self.pattern!r}: {exc}") from None
        _zone(self.timezone)

    @cached_property
    def tz(self) -> tzinfo:
        return _zone(self.timezone)

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


def looks_like_article(url: str) -> bool:
    """True when a URL's shape is that of an article rather than a section or a tool.

    The path must not be the home page, a tag/category/author/pagination/search/login/
    feed page or a static file, and its last segment must be slug-like (three or more
    words joined by ``-`` or ``_``) or carry a numeric id (three digits or more), or
    follow a date path (``/2026/01/14/slug``); an id in the query (``?id=1234``) counts too.
    """
    parts = urlsplit(url)
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if not segments:
        return False
    if any(s.lower() in _NOT_ARTICLE_SEGMENTS for s in segments):
        return False
    last = segments[-1]
    stem, dot, extension = last.rpartition(".")
    if dot and extension.lower() in _STATIC_EXTENSIONS:
        return False
    stem = stem if dot else last
    if len(_WORDS.findall(stem.replace("_", "-"))) >= 3 and re.search(r"[-_]", stem):
        return True
    if _ID.search(stem) and not _YEAR.fullmatch(stem):
        return True
    if _DATED.search(parts.path) and not stem.isdigit():
        return True
    return any(_ID.fullmatch(value) for _, _, value in _query_pairs(parts.query))


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
    """Add an item; a URL seen before keeps its place and gains missing hints."""
    old = items.get(item.url)
    if old is None:
        items[item.url] = item
    elif (old.title is None and item.title) or (old.published is None and item.published):
        items[item.url] = ListingItem(
            url=old.url, title=old.title or item.title, published=old.published or item.published
        )
