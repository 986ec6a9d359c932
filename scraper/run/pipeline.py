"""Run configured sources: discover article links, fetch them politely, extract, store.

Data flows one way: ``Source`` -> listing/feed/sitemap pages -> ``ListingItem`` ->
``Page`` -> ``Article`` -> a stored row.  Every fetch is recorded with its outcome, so a
404, a robots.txt refusal and a timeout stay distinguishable afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from ..config import Config, Source
from ..discover import LinkRules, parse_feed, parse_listing, parse_sitemap
from ..errors import (
    FetchError,
    NotHTML,
    RobotsDisallowed,
    ScraperError,
)
from ..extract import decode_html, extract
from ..fetch import FEED_TYPES, HTML_TYPES, SITEMAP_TYPES, Fetcher, FetchEvent, HostSpacing
from ..models import Listing, ListingItem, Page, Validators
from ..store import Store
from ..store.records import record_source_runs
from .articles import alias_urls, article_links, canonical_url, link_rules, with_listing_hints
from .fetchlog import FetchLog
from .lock import RunLock
from .report import ArticleEvent, RunReport, Tally
from .robots_memory import StoredRobots

log = logging.getLogger("scraper")
_T = TypeVar("_T")

MAX_SITEMAP_DOCUMENTS = 20
STOP_POLL = 0.1  # seconds between looks at RunOptions.stop


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RunOptions:
    """Choices for one run, built at the CLI edge."""

    sources: tuple[str, ...] = ()  # names to run; empty means all
    lock_wait: float = 0.0  # seconds to wait for another run's lock; 0 = skip at once
    progress: Callable[[ArticleEvent], None] | None = None
    on_fetch_event: Callable[[FetchEvent], None] | None = None
    now: Callable[[], datetime] = _utc_now
    # Once set, no new page or article is started; requests in flight get `grace`
    # seconds, then are cancelled, and the run is recorded as interrupted.
    stop: threading.Event | None = None
    grace: float = 30.0
    # Shared with other crawls running at the same time (the scheduler's), so that
    # requests to one host stay `delay` apart across all of them.
    spacing: HostSpacing | None = None


def run(config: Config, db_path: str | Path, options: RunOptions | None = None) -> RunReport:
    """Run the configured sources once against the database at ``db_path``.

    Takes the database's run lock first (raising :class:`~scraper.errors.LockHeld` when
    another run holds it past ``options.lock_wait``).
    """
    options = options or RunOptions()
    with RunLock(db_path, wait=options.lock_wait), Store(db_path, now=options.now) as store:
        store.abort_stale_runs()
        return asyncio.run(crawl(config, store, options))


async def crawl(config: Config, store: Store, options: RunOptions | None = None) -> RunReport:
    """Crawl the selected sources concurrently; the caller owns the store (and its lock)."""
    options = options or RunOptions()
    sources = _select(config, options.sources)
    run_id = store.start_run([s.name for s in sources], pid=os.getpid())
    started_at = options.now()
    tallies = [Tally(s.name) for s in sources]
    status, error, raised = "interrupted", None, False
    try:
        robots = StoredRobots(store)
        async with Fetcher(
            config.fetch,
            on_event=options.on_fetch_event,
            robots_memory=robots,
            spacing=options.spacing,
        ) as fetcher:
            job = _Job(fetcher, store, run_id, options)
            work = (job.source(s, t) for s, t in zip(sources, tallies, strict=True))
            await _until_done_or_stopped(asyncio.gather(*work), options)
        cut = any(t.interrupted or t.finished_at is None for t in tallies)
        report = RunReport(run_id, tuple(t.report() for t in tallies), interrupted=cut)
        status = report.status
        return report
    except ScraperError as exc:
        status, error, raised = "failed", str(exc), True
        raise
    finally:
        if not raised:  # a raised error reaches the caller (the scheduler records it)
            record_source_runs(store, [t.source_run(run_id, started_at) for t in tallies])
        counts = RunReport(run_id, tuple(t.report() for t in tallies)).totals()
        store.finish_run(run_id, status=status, counts=counts, error=error)


async def _until_done_or_stopped(work: asyncio.Future[Any], options: RunOptions) -> None:
    """Await ``work``; once ``options.stop`` is set give it ``grace`` seconds, then cancel it.

    Cancellation lands on an ``await`` (a request, a politeness wait), never inside a
    store write, which is synchronous: nothing is left half-written.
    """
    stop = options.stop
    try:
        while stop is not None and not work.done() and not stop.is_set():
            await asyncio.wait({work}, timeout=STOP_POLL)
        if not work.done():
            await asyncio.wait({work}, timeout=None if stop is None else options.grace)
        if not work.done():
            log.warning("stopping: cancelling requests still in flight after %.0fs", options.grace)
            work.cancel()
            await asyncio.wait({work})
            return  # what the cancelled work raised no longer matters
    except BaseException:
        work.cancel()
        raise
    work.result()  # re-raise what the work raised


def _select(config: Config, names: Iterable[str]) -> tuple[Source, ...]:
    wanted = tuple(names)
    if not wanted:
        return config.sources
    return tuple(config.source(name) for name in wanted)


class _Job:
    """The work of one run: shared fetcher and store, one method per stage."""

    def __init__(self, fetcher: Fetcher, store: Store, run_id: int, options: RunOptions) -> None:
        self.fetcher = fetcher
        self.store = store
        self.run_id = run_id
        self.options = options
        self.saved: set[int] = set()  # articles stored in this run (ids only: bounded)
        self.fetches = FetchLog(store, run_id, options.now)

    async def source(self, source: Source, tally: Tally) -> None:
        for host in source.domains:
            self.fetcher.set_host_policy(host, delay=source.delay, concurrency=source.concurrency)
        items = await self.discover(source, tally)
        tally.found = len(items)
        if not items and tally.pages_ok:
            tally.error(
                f"no article links found in {tally.pages_ok} page(s); "
                "check the source's URLs and [source.links] settings"
            )
        seen = {item.url for item in items}
        queue: asyncio.Queue[tuple[ListingItem, bool]] = asyncio.Queue()
        for item in items[: source.max_articles]:
            queue.put_nowait((item, source.follow_links))
        budget = source.max_articles - queue.qsize()

        async def worker() -> None:
            nonlocal budget
            while not queue.empty() and not self.stopping:
                item, follow = queue.get_nowait()
                for link in await self.article(source, item, tally):
                    if follow and budget > 0 and link.url not in seen:
                        seen.add(link.url)
                        queue.put_nowait((link, False))  # one level deep: no further
                        budget -= 1
                        tally.found += 1

        await asyncio.gather(*(worker() for _ in range(max(1, source.concurrency))))
        tally.finished_at = self.options.now()
        tally.interrupted = self.stopping
        log.info("source %s done: %s", source.name, tally.counts)

    @property
    def stopping(self) -> bool:
        return self.options.stop is not None and self.options.stop.is_set()

    # -- discovery ---------------------------------------------------------------------

    async def discover(self, source: Source, tally: Tally) -> list[ListingItem]:
        rules = link_rules(source)
        items: dict[str, ListingItem] = {}
        for start in source.listings:
            await self.listing_pages(source, start, rules, items, tally)
        for feed in source.feeds:
            page = await self.fetch_page(source, feed, "feed", tally, accept=FEED_TYPES)
            if page is not None:
                self.merge(
                    items,
                    self.parse(
                        source, page, tally, lambda p: parse_feed(p.content, p.final_url, rules)
                    ),
                )
        await self.sitemaps(source, rules, items, tally)
        return list(items.values())

    async def listing_pages(
        self,
        source: Source,
        start: str,
        rules: LinkRules,
        items: dict[str, ListingItem],
        tally: Tally,
    ) -> None:
        url: str | None = start
        visited: set[str] = set()
        while url and url not in visited and len(visited) < source.max_pages and not self.stopping:
            visited.add(url)
            page = await self.fetch_page(source, url, "listing", tally)
            if page is None:
                return
            listing = self.parse(
                source,
                page,
                tally,
                lambda p: parse_listing(
                    decode_html(p.content, p.headers.get("content-type")),
                    p.final_url,
                    rules,
                    now=self.options.now(),
                ),
            )
            if listing is None or not self.merge(items, listing):
                return  # a page that brings no unseen URL ends the paging
            url = listing.next_url

    async def sitemaps(
        self, source: Source, rules: LinkRules, items: dict[str, ListingItem], tally: Tally
    ) -> None:
        pending, seen = list(source.sitemaps), set(source.sitemaps)
        while pending and len(seen) <= MAX_SITEMAP_DOCUMENTS and not self.stopping:
            page = await self.fetch_page(
                source, pending.pop(0), "sitemap", tally, accept=SITEMAP_TYPES
            )
            if page is None:
                continue
            parsed = self.parse(
                source, page, tally, lambda p: parse_sitemap(p.content, p.final_url, rules)
            )
            if parsed is None:
                continue
            listing, children = parsed
            self.merge(items, listing)
            for child in children:
                if child not in seen:
                    seen.add(child)
                    pending.append(child)

    def parse(
        self, source: Source, page: Page, tally: Tally, parser: Callable[[Page], _T]
    ) -> _T | None:
        try:
            return parser(page)
        except ScraperError as exc:
            tally.pages_ok -= 1
            tally.pages_failed += 1
            tally.error(str(exc))
            log.info("%s: %s", source.name, exc)
            return None

    @staticmethod
    def merge(items: dict[str, ListingItem], listing: Listing | None) -> int:
        """Add a listing's items, keeping the first position and filling missing hints."""
        added = 0
        if listing is None:
            return 0
        for item in listing.items:
            old = items.get(item.url)
            if old is None:
                items[item.url] = item
                added += 1
            elif (old.title is None and item.title) or (old.published is None and item.published):
                items[item.url] = ListingItem(
                    old.url, old.title or item.title, old.published or item.published
                )
        return added

    # -- fetching ----------------------------------------------------------------------

    async def fetch_page(
        self,
        source: Source,
        url: str,
        kind: str,
        tally: Tally,
        accept: tuple[str, ...] = HTML_TYPES,
    ) -> Page | None:
        try:
            page = await self.fetcher.fetch(url, accept=accept)
        except FetchError as exc:
            self.fetches.error(source, url, kind, exc)
            tally.pages_failed += 1
            tally.error(str(exc))
            log.info("%s: %s failed: %s", source.name, kind, exc)
            return None
        self.fetches.page(source, page, kind)
        tally.pages_ok += 1
        return page

    # -- articles ----------------------------------------------------------------------

    async def article(
        self, source: Source, item: ListingItem, tally: Tally
    ) -> tuple[ListingItem, ...]:
        """Fetch, extract and store one article; return the article links its page holds."""
        done = await self._article(source, item)
        tally.counts[done.outcome] += 1
        if done.outcome == "failed":
            tally.error(done.message)
        log.info(
            "%s %s %s%s",
            source.name,
            done.outcome,
            item.url,
            f": {done.message}" if done.message else "",
            extra={"source": source.name, "url": item.url, "outcome": done.outcome},
        )
        if self.options.progress:
            self.options.progress(ArticleEvent(source.name, item.url, done.outcome, done.message))
        return done.links

    async def _article(self, source: Source, item: ListingItem) -> _Handled:
        known = self.store.known([item.url])
        now = self.options.now()
        if known and known.article_id in self.saved:
            return _Handled("duplicate")  # stored in this run under another of its URLs
        if known and (now - known.last_fetched).total_seconds() < source.refresh_after:
            return _Handled("fresh")
        validators = Validators(known.etag, known.last_modified) if known else None
        try:
            page = await self.fetcher.fetch(item.url, validators=validators)
        except FetchError as exc:
            self.fetches.error(source, item.url, "article", exc)
            skipped = isinstance(exc, RobotsDisallowed | NotHTML)
            return _Handled("skipped" if skipped else "failed", str(exc))
        self.fetches.page(source, page, "article")
        if page.not_modified and not known:
            return _Handled("failed", f"{item.url}: HTTP 304 to a request that was not conditional")
        if page.not_modified and known:
            self.store.touch(
                known.article_id,
                fetched_at=page.fetched_at,
                etag=page.etag,
                last_modified=page.last_modified,
            )
            return _Handled("unchanged")
        try:
            html = decode_html(page.content, page.headers.get("content-type"))
            article = extract(html, page.final_url, rules=source.rules, now=now)
            links = article_links(html, page, source) if source.follow_links else ()
        except Exception as exc:  # a parser bug must not end the run: record it
            log.exception("%s: extraction crashed on %s", source.name, page.final_url)
            return _Handled("failed", f"{page.final_url}: extraction failed: {exc!r}")
        article = with_listing_hints(article, item)
        result = self.store.save_article(
            source=source.name,
            url=canonical_url(article, page, source.domains),
            aliases=alias_urls(item, page),
            article=article,
            etag=page.etag,
            last_modified=page.last_modified,
            hint_title=item.title,
            hint_published=item.published,
            fetched_at=page.fetched_at,
        )
        self.saved.add(result.article_id)
        return _Handled(result.outcome, links=links)


@dataclass(frozen=True)
class _Handled:
    """How one article went, and the article links found on its page."""

    outcome: str
    message: str = ""
    links: tuple[ListingItem, ...] = ()
