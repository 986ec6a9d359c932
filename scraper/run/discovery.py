"""The discovery stage: a source's listing pages, feeds and sitemaps -> article links.

Each page fetched here ends as one :class:`PageOutcome` (fetched and parsed, or why
not), and the stage returns a :class:`Discovery`: the links, in the order first seen
(a later sighting only fills hints the first lacked), and those outcomes.

Besides the configured pages, a source reads what its sites announce: with
``discover_feeds`` the RSS/Atom feeds named by ``<link rel="alternate">`` on its listing
pages and on each listing site's home page, and with ``robots_sitemaps`` the sitemaps
named by the ``Sitemap:`` lines of its hosts' robots.txt.  Those pages are
*discovered*: each is read once per run, and one that fails is recorded (fetch log,
``Discovery.pages``) without making the source's run partial.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from urllib.parse import urlsplit

from ..config import Source
from ..discover import (
    LinkRules,
    announced_feeds,
    merge,
    parse_feed,
    parse_listing,
    parse_sitemap,
)
from ..discover.linkrules import resolve
from ..errors import FetchError, Interrupted, ScraperError
from ..extract import decode_html
from ..fetch import FEED_TYPES, HTML_TYPES, SITEMAP_TYPES, PageFetcher
from ..models import Listing, ListingItem, Page
from ..urls import host_of, normalize_url, same_site
from .fetchlog import FetchLog
from .workers import PageWorkers

log = logging.getLogger("scraper")
_T = TypeVar("_T")


async def nothing_stored(url: str) -> bool:
    """The default ``is_stored``: every article is new."""
    return False


@dataclass(frozen=True)
class PageOutcome:
    """One listing page, feed or sitemap: fetched and parsed (``error`` None), or not.

    ``discovered`` marks a page the source did not name: a home page read for its
    feeds, an announced feed, a sitemap from robots.txt (or an index it leads to).
    """

    url: str
    kind: str  # "listing" | "feed" | "sitemap"
    error: str | None = None
    discovered: bool = False


@dataclass(frozen=True)
class Discovery:
    """What discovery found for one source.

    ``pages_ok`` counts every page read; ``pages_failed`` and ``errors`` only the
    configured pages and those they lead to (next pages, sitemap index children): a
    discovered page that fails is in ``pages`` but is not the source's failure.
    """

    items: tuple[ListingItem, ...]
    pages: tuple[PageOutcome, ...]

    @property
    def pages_ok(self) -> int:
        return sum(1 for p in self.pages if p.error is None)

    @property
    def pages_failed(self) -> int:
        return len(self.errors)

    @property
    def errors(self) -> tuple[str, ...]:
        return tuple(p.error for p in self.pages if p.error is not None and not p.discovered)


class DiscoveryStage:
    """Discovers one source's article links; use :meth:`run` once.

    ``is_stored(url)`` says whether an article is stored already: listing pagination
    stops at the first page whose article links all are (default: none is).
    """

    def __init__(
        self,
        fetcher: PageFetcher,
        fetches: FetchLog,
        source: Source,
        rules: LinkRules,
        *,
        now: Callable[[], datetime],
        stopping: Callable[[], bool],
        is_stored: Callable[[str], Awaitable[bool]] = nothing_stored,
        workers: PageWorkers | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.workers = workers  # None: parse on the calling thread
        self.fetches = fetches
        self.source = source
        self.rules = rules
        self.now = now
        self.stopping = stopping
        self.is_stored = is_stored
        self.items: dict[str, ListingItem] = {}
        self.pages: list[PageOutcome] = []
        self.listings: set[str] = {_key(url) for url in source.listings}  # read or to be
        self.announced: dict[str, None] = {}  # feeds named by <link rel=alternate>

    async def run(self) -> Discovery:
        for start in self.source.listings:
            await self.listing_pages(start)
        if self.source.discover_feeds:
            await self.home_pages()
        await self.feeds()
        await self.sitemaps()
        return Discovery(tuple(self.items.values()), tuple(self.pages))

    # -- listing pages ------------------------------------------------------------------------

    async def listing_pages(self, start: str) -> None:
        """Follow "next page" links until a page brings no unseen URL, or all its links
        are stored already (or ``max_pages``)."""
        url: str | None = start
        visited: set[str] = set()
        while url and url not in visited and len(visited) < self.source.max_pages:
            if self.stopping():
                return
            visited.add(url)
            self.listings.add(_key(url))
            listing = await self.read(url, "listing", HTML_TYPES, self.listing)
            if listing is None:
                return
            self.announced.update(dict.fromkeys(listing.feeds))
            if not self.add(listing) or await self.all_stored(listing):
                return
            url = listing.next_url

    async def all_stored(self, listing: Listing) -> bool:
        for item in listing.items:
            if not await self.is_stored(item.url):
                return False
        return True

    async def home_pages(self) -> None:
        """Read the feeds announced on the home page of each listing's site, once each."""
        for start in self.source.listings:
            home = _home(start)
            if home is None or home in self.listings or self.stopping():
                continue
            self.listings.add(home)
            feeds = await self.read(home, "listing", HTML_TYPES, self.home, discovered=True)
            self.announced.update(dict.fromkeys(feeds or ()))

    # -- feeds --------------------------------------------------------------------------------

    async def feeds(self) -> None:
        """The configured feeds, then the announced ones; each feed once."""
        done: set[str] = set()
        queue = [(feed, False) for feed in self.source.feeds]
        if self.source.discover_feeds:
            queue += [(feed, True) for feed in self.announced]
        for feed, discovered in queue:
            if _key(feed) in done or self.stopping():
                continue
            done.add(_key(feed))
            listing = await self.read(feed, "feed", FEED_TYPES, self.feed, discovered=discovered)
            if listing is not None:
                self.add(listing)

    # -- sitemaps -----------------------------------------------------------------------------

    async def sitemaps(self) -> None:
        """The configured sitemaps, then (with ``robots_sitemaps``) those robots.txt names;
        the children of sitemap indexes are read after them, breadth first.

        Besides the configured ones, at most ``max_sitemaps`` documents are fetched.
        """
        queue = deque((url, False) for url in self.source.sitemaps)
        if self.source.robots_sitemaps:
            queue.extend((url, True) for url in await self.from_robots())
        seen = {_key(url) for url, _ in queue}
        configured, budget = len(self.source.sitemaps), self.source.max_sitemaps
        while queue and not self.stopping():
            if configured:
                configured -= 1
            elif budget:
                budget -= 1
            else:
                limit = self.source.max_sitemaps
                log.info("%s: sitemap limit (max_sitemaps = %d) reached", self.source.name, limit)
                return
            url, discovered = queue.popleft()
            read = await self.read(url, "sitemap", SITEMAP_TYPES, self.sitemap, discovered)
            if read is None:
                continue
            listing, children = read
            self.add(listing)
            for child in children:
                if _key(child) not in seen:
                    seen.add(_key(child))
                    queue.append((child, discovered))

    async def from_robots(self) -> list[str]:
        """The same-site sitemaps named by robots.txt of each of the source's origins."""
        origins: dict[str, str] = {}  # origin -> one configured URL on it
        for url in (*self.source.listings, *self.source.feeds, *self.source.sitemaps):
            parts = urlsplit(url)
            origins.setdefault(f"{parts.scheme}://{parts.netloc}".lower(), url)
        found: dict[str, None] = {}
        for url in origins.values():
            if self.stopping():
                break
            domains = self.rules.domains or (host_of(url),)
            try:
                named_sitemaps = await self.fetcher.robots_sitemaps(url)
            except FetchError as exc:  # e.g. the run is stopping
                log.info("%s: no sitemaps from robots.txt: %s", self.source.name, exc)
                continue
            for named in named_sitemaps:
                sitemap = resolve(named, url)
                if sitemap is not None and same_site(sitemap, domains):
                    found[sitemap] = None
        return list(found)

    # -- one page -----------------------------------------------------------------------------

    async def read(
        self,
        url: str,
        kind: str,
        accept: tuple[str, ...],
        parser: Callable[[Page], _T],
        discovered: bool = False,
    ) -> _T | None:
        """Fetch and parse one page, recording its outcome; None when either failed."""
        try:
            page = await self.fetcher.fetch(url, accept=accept)
        except Interrupted:
            return None  # the run is stopping: not a failure of the page
        except FetchError as exc:
            await self.fetches.error(self.source, url, kind, exc)
            self.failed(PageOutcome(url, kind, str(exc), discovered), f"{kind} failed: ")
            return None
        await self.fetches.page(self.source, page, kind)
        try:
            if self.workers is None:
                parsed = parser(page)
            else:
                parsed = await self.workers.run(url, parser, page)
        except ScraperError as exc:
            self.failed(PageOutcome(url, kind, str(exc), discovered))
            return None
        self.pages.append(PageOutcome(url, kind, discovered=discovered))
        return parsed

    def failed(self, outcome: PageOutcome, what: str = "") -> None:
        self.pages.append(outcome)
        found = " (discovered, not configured)" if outcome.discovered else ""
        log.info("%s: %s%s%s", self.source.name, what, outcome.error, found)

    def add(self, listing: Listing) -> int:
        """Merge a listing's items; return how many URLs were new."""
        before = len(self.items)
        for item in listing.items:
            merge(self.items, item)
        return len(self.items) - before

    # -- parsers of one fetched page ----------------------------------------------------------

    def listing(self, page: Page) -> Listing:
        html = decode_html(page.content, page.headers.get("content-type"))
        return parse_listing(html, page.final_url, self.rules, now=self.now())

    def home(self, page: Page) -> tuple[str, ...]:
        html = decode_html(page.content, page.headers.get("content-type"))
        return announced_feeds(html, page.final_url, self.rules)

    def feed(self, page: Page) -> Listing:
        return parse_feed(page.content, page.final_url, self.rules)

    def sitemap(self, page: Page) -> tuple[Listing, tuple[str, ...]]:
        return parse_sitemap(page.content, page.final_url, self.rules)


def _key(url: str) -> str:
    """A URL as compared here: normalized, or as given when it cannot be."""
    try:
        return normalize_url(url)
    except ValueError:
        return url


def _home(url: str) -> str | None:
    """``scheme://host/`` of a URL, normalized."""
    parts = urlsplit(url)
    return _key(f"{parts.scheme}://{parts.netloc}/") if parts.netloc else None
