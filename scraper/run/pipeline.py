"""Run configured sources: discover article links, fetch them politely, extract, store.

Data flows one way: ``Source`` -> listing/feed/sitemap pages -> ``ListingItem`` ->
``Page`` -> ``Article`` -> a stored row.  Each source goes through two stages,
:mod:`.discovery` and :mod:`.articles`, which return outcomes; this module runs them,
collects the outcomes per source, and turns them into the run's report and records.
Every fetch is recorded with its outcome, so a 404, a robots.txt refusal and a timeout
stay distinguishable afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from ..clock import Clock, utc_now
from ..config import Config, Source
from ..discover import LinkRules
from ..errors import ScraperError
from ..fetch import AddressPolicy, Fetcher, FetchEvent, HostSpacing
from ..models import ListingItem
from ..store import Store, open_store
from ..store.records import SourceRun
from .articles import ArticleOutcome, ArticleStage
from .discovery import Discovery, DiscoveryStage
from .fetchlog import FetchLog
from .lock import RunLock
from .report import MAX_ERRORS_KEPT, OUTCOMES, REFUSED, ArticleEvent, RunReport, SourceReport
from .storelane import LaneRobots, StoreLane
from .workers import PageWorkers

log = logging.getLogger("scraper")

STOP_POLL = 0.1  # seconds between looks at RunOptions.stop


@dataclass(frozen=True)
class RunOptions:
    """Choices for one run, built at the CLI edge."""

    sources: tuple[str, ...] = ()  # names to run; empty means all
    lock_wait: float = 0.0  # seconds to wait for another run's lock; 0 = skip at once
    progress: Callable[[ArticleEvent], None] | None = None
    on_fetch_event: Callable[[FetchEvent], None] | None = None
    now: Clock = utc_now
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
    with RunLock(db_path, wait=options.lock_wait), open_store(db_path, now=options.now) as store:
        store.abort_stale_runs()
        return asyncio.run(crawl(config, store, options))


async def crawl(config: Config, store: Store, options: RunOptions | None = None) -> RunReport:
    """Crawl the selected sources concurrently; the caller owns the store (and its lock)."""
    options = options or RunOptions()
    sources = _select(config, options.sources)
    run_id = store.start_run([s.name for s in sources], pid=os.getpid())
    started_at = options.now()
    progress = [SourceProgress(s.name) for s in sources]
    status, error, raised = "interrupted", None, False
    lane = StoreLane(store)
    try:
        async with Fetcher(
            config.fetch,
            on_event=options.on_fetch_event,
            robots_memory=LaneRobots(lane),
            spacing=options.spacing,
            now=options.now,
        ) as fetcher:
            with PageWorkers() as workers:
                crawler = _Crawl(fetcher, lane, run_id, options, workers)
                work = (crawler.source(s, p) for s, p in zip(sources, progress, strict=True))
                await _until_done_or_stopped(asyncio.gather(*work), options, fetcher.stop)
        cut = any(p.interrupted or p.finished_at is None for p in progress)
        report = RunReport(run_id, tuple(p.report() for p in progress), interrupted=cut)
        status = report.status
        return report
    except ScraperError as exc:
        status, error, raised = "failed", str(exc), True
        raise
    finally:
        lane.close()  # the write in progress ends before the store is used here again
        if not raised:  # a raised error reaches the caller (the scheduler records it)
            store.record_source_runs([p.source_run(run_id, started_at) for p in progress])
        counts = RunReport(run_id, tuple(p.report() for p in progress)).totals()
        store.finish_run(run_id, status=status, counts=counts, error=error)


async def _until_done_or_stopped(
    work: asyncio.Future[Any], options: RunOptions, stop_fetching: Callable[[], None]
) -> None:
    """Await ``work``; once ``options.stop`` is set, end every politeness wait at once
    (``stop_fetching``), give requests in flight ``grace`` seconds, then cancel them.

    Cancellation lands on an ``await`` (a request), never inside a store write, which is
    synchronous: nothing is left half-written.
    """
    stop = options.stop
    try:
        while stop is not None and not work.done() and not stop.is_set():
            await asyncio.wait({work}, timeout=STOP_POLL)
        if stop is not None and stop.is_set():
            stop_fetching()
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


class _Crawl:
    """One run's work: the shared fetcher and store, and the two stages per source."""

    def __init__(
        self,
        fetcher: Fetcher,
        lane: StoreLane,
        run_id: int,
        options: RunOptions,
        workers: PageWorkers,
    ) -> None:
        self.fetcher = fetcher
        self.lane = lane
        self.store = lane.store
        self.workers = workers
        self.options = options
        self.fetches = FetchLog(lane, run_id, options.now)

    @property
    def stopping(self) -> bool:
        return self.options.stop is not None and self.options.stop.is_set()

    async def source(self, source: Source, progress: SourceProgress) -> None:
        for host in source.domains:
            self.fetcher.set_host_policy(host, delay=source.delay, concurrency=source.concurrency)
        rules = LinkRules.of(source)
        view = self.fetcher.with_policy(AddressPolicy.of_source(source))
        discovery = await DiscoveryStage(
            view,
            self.fetches,
            source,
            rules,
            now=self.options.now,
            stopping=lambda: self.stopping,
            is_stored=partial(self.is_stored, source.name),
            workers=self.workers,
        ).run()
        progress.discovery = discovery
        if not discovery.items and discovery.pages_ok:
            progress.problems.append(
                f"no article links found in {discovery.pages_ok} page(s); "
                "check the source's URLs and [source.links] settings"
            )
        due = await self.lane.call(
            self.store.due_for_recheck,
            source.name,
            source.recheck,
            self.options.now(),
            source.max_articles,
        )
        stage = ArticleStage(view, self.lane, self.fetches, self.workers)
        await self.all_articles(stage, source, rules, discovery.items, frozenset(due), progress)
        progress.finished_at = self.options.now()
        progress.interrupted = self.stopping
        log.info("source %s done: %s", source.name, progress.report().counts)

    async def is_stored(self, source: str, url: str) -> bool:
        return await self.lane.call(self.store.known, source, [url]) is not None

    async def all_articles(
        self,
        stage: ArticleStage,
        source: Source,
        rules: LinkRules,
        items: tuple[ListingItem, ...],
        due: frozenset[str],
        progress: SourceProgress,
    ) -> None:
        """Handle the discovered articles, then the stored ones due for a recheck (``due``),
        ``source.concurrency`` at a time, within ``max_articles``; with ``follow_links``,
        the links found on the discovered ones join the queue (one level deep)."""
        seen = {item.url for item in items}
        rechecks = [ListingItem(url) for url in sorted(due - seen)]
        queue: asyncio.Queue[tuple[ListingItem, bool]] = asyncio.Queue()
        for item in [*items, *rechecks][: source.max_articles]:
            queue.put_nowait((item, source.follow_links and item.url in seen))
        budget = source.max_articles - queue.qsize()

        async def worker() -> None:
            nonlocal budget
            while not queue.empty() and not self.stopping:
                item, follow = queue.get_nowait()
                done = await stage.handle(
                    source,
                    item,
                    rules if follow else None,
                    self.options.now(),
                    recheck=item.url in due,
                )
                self.record(source, item, done, progress)
                for link in done.links:
                    if budget > 0 and link.url not in seen and link.url not in due:
                        seen.add(link.url)
                        queue.put_nowait((link, False))  # one level deep: no further
                        budget -= 1
                        progress.followed += 1

        await asyncio.gather(*(worker() for _ in range(max(1, source.concurrency))))

    def record(
        self, source: Source, item: ListingItem, done: ArticleOutcome, progress: SourceProgress
    ) -> None:
        if done.outcome == "interrupted":
            return  # the run is stopping: this article was not done, nor did it fail
        progress.articles.append(done)
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


@dataclass
class SourceProgress:
    """What one source's run has done so far: the outcomes its stages returned.

    The pipeline appends each outcome as it comes, so a run cut short still reports
    (and records) what it did.
    """

    name: str
    discovery: Discovery | None = None
    articles: list[ArticleOutcome] = field(default_factory=list)
    followed: int = 0  # article links taken from article pages
    problems: list[str] = field(default_factory=list)  # besides failed pages and articles
    finished_at: datetime | None = None
    interrupted: bool = False  # stopped before its work was done

    def report(self) -> SourceReport:
        discovery = self.discovery or Discovery((), ())
        counts = dict.fromkeys(OUTCOMES, 0)
        for done in self.articles:
            counts[done.outcome] += 1
        failed = [done.message for done in self.articles if done.outcome == "failed"]
        refused = [done.message for done in self.articles if done.outcome in REFUSED]
        errors = [*discovery.errors, *self.problems, *failed, *refused][:MAX_ERRORS_KEPT]
        return SourceReport(
            name=self.name,
            pages_ok=discovery.pages_ok,
            pages_failed=discovery.pages_failed,
            found=len(discovery.items) + self.followed,
            counts=counts,
            errors=tuple(errors),
        )

    def source_run(self, run_id: int, started_at: datetime) -> SourceRun:
        report = self.report()
        cut = self.interrupted or self.finished_at is None
        return SourceRun(
            source=self.name,
            status="interrupted" if cut else report.status,
            started_at=started_at,
            finished_at=self.finished_at,
            run_id=run_id,
            counts=report.counts,
            found=report.found,
            pages_ok=report.pages_ok,
            pages_failed=report.pages_failed,
            error=report.errors[0] if report.errors else None,
        )
