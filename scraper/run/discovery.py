"""The discovery stage: a source's listing pages, feeds and sitemaps -> article links.

Each page fetched here ends as one :class:`PageOutcome` (fetched and parsed, or why
not), and the stage returns a :class:`Discovery`: the links, in the order first seen
(a later sighting only fills hints the first lacked), and those outcomes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from ..config import Source
from ..discover import LinkRules, merge, parse_feed, parse_listing, parse_sitemap
from ..errors import FetchError, ScraperError
from ..extract import decode_html
from ..fetch import FEED_TYPES, HTML_TYPES, SITEMAP_TYPES, Fetcher
from ..models import Listing, ListingItem, Page
from .fetchlog import FetchLog

log = logging.getLogger("scraper")
_T = TypeVar("_T")

MAX_SITEMAP_DOCUMENTS = 20


@dataclass(frozen=True)
class PageOutcome:
    """One listing page, feed or sitemap: fetched and parsed (``error`` None), or not."""

    url: str
    kind: str  # "listing" | "feed" | "sitemap"
    error: str | None = None


@dataclass(frozen=True)
class Discovery:
    """What discovery found for one source."""

    items: tuple[ListingItem, ...]
    pages: tuple[PageOutcome, ...]

    @property
    def pages_ok(self) -> int:
        return sum(1 for p in self.pages if p.error is None)

    @property
    def pages_failed(self) -> int:
        return len(self.pages) - self.pages_ok

    @property
    def errors(self) -> tuple[str, ...]:
        return tuple(p.error for p in self.pages if p.error is not None)


class DiscoveryStage:
    """Discovers one source's article links; use :meth:`run` once."""

    def __init__(
        self,
        fetcher: Fetcher,
        fetches: FetchLog,
        source: Source,
        rules: LinkRules,
        *,
        now: Callable[[], datetime],
        stopping: Callable[[], bool],
    ) -> None:
        self.fetcher = fetcher
        self.fetches = fetches
        self.source = source
        self.rules = rules
        self.now = now
        self.stopping = stopping
        self.items: dict[str, ListingItem] = {}
        self.pages: list[PageOutcome] = []

    async def run(self) -> Discovery:
        for start in self.source.listings:
            await self.listing_pages(start)
        for feed in self.source.feeds:
            listing = await self.read(feed, "feed", FEED_TYPES, self.feed)
            if listing is not None:
                self.add(listing)
        await self.sitemaps()
        return Discovery(tuple(self.items.values()), tuple(self.pages))

    async def listing_pages(self, start: str) -> None:
        """Follow "next page" links until a page brings no unseen URL (or ``max_pages``)."""
        url: str | None = start
        visited: set[str] = set()
        while url and url not in visited and len(visited) < self.source.max_pages:
            if self.stopping():
                return
            visited.add(url)
            listing = await self.read(url, "listing", HTML_TYPES, self.listing)
            if listing is None or not self.add(listing):
                return
            url = listing.next_url

    async def sitemaps(self) -> None:
        pending, seen = list(self.source.sitemaps), set(self.source.sitemaps)
        while pending and len(seen) <= MAX_SITEMAP_DOCUMENTS and not self.stopping():
            parsed = await self.read(pending.pop(0), "sitemap", SITEMAP_TYPES, self.sitemap)
            if parsed is None:
                continue
            listing, children = parsed
            self.add(listing)
            for child in children:
                if child not in seen:
                    seen.add(child)
                    pending.append(child)

    async def read(
        self, url: str, kind: str, accept: tuple[str, ...], parser: Callable[[Page], _T]
    ) -> _T | None:
        """Fetch and parse one page, recording its outcome; None when either failed."""
        try:
            page = await self.fetcher.fetch(url, accept=accept)
        except FetchError as exc:
            self.fetches.error(self.source, url, kind, exc)
            self.failed(url, kind, str(exc), f"{kind} failed: ")
            return None
        self.fetches.page(self.source, page, kind)
        try:
            parsed = parser(page)
        except ScraperError as exc:
            self.failed(url, kind, str(exc))
            return None
        self.pages.append(PageOutcome(url, kind))
        return parsed

    def failed(self, url: str, kind: str, error: str, what: str = "") -> None:
        self.pages.append(PageOutcome(url, kind, error))
        log.info("%s: %s%s", self.source.name, what, error)

    def add(self, listing: Listing) -> int:
        """Merge a listing's items; return how many URLs were new."""
        before = len(self.items)
        for item in listing.items:
            merge(self.items, item)
        return len(self.items) - before

    # -- parsers of one fetched page --------------------------------------------------------

    def listing(self, page: Page) -> Listing:
        html = decode_html(page.content, page.headers.get("content-type"))
        return parse_listing(html, page.final_url, self.rules, now=self.now())

    def feed(self, page: Page) -> Listing:
        return parse_feed(page.content, page.final_url, self.rules)

    def sitemap(self, page: Page) -> tuple[Listing, tuple[str, ...]]:
        return parse_sitemap(page.content, page.final_url, self.rules)
