"""The article stage: fetch one article page, extract it, store it, and find its links.

The page is parsed once: its "Latest news" links are read from the tree before
extraction prunes it.  Each call returns an :class:`ArticleOutcome`; nothing here
counts or reports.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime

from ..config import Source
from ..discover import LinkRules, listing_of
from ..errors import FetchError, Interrupted, NotHTML, RobotsDisallowed, TooComplex
from ..extract import Document, extract_document, parse_document
from ..extract.gate import (
    MAX_DEPTH,
    Rejection,
    is_short,
    nesting_depth,
    not_an_article,
    site_names,
)
from ..fetch import PageFetcher
from ..models import Article, ListingItem, Page, Validators
from ..store import ArticleWrite, Known
from ..urls import host_of, normalize_url, same_site
from .fetchlog import FetchLog
from .storelane import StoreLane
from .workers import PageWorkers

log = logging.getLogger("scraper")

REPEATED_PAGES = 3  # pages with the same short text that make it a stub or block page


@dataclass(frozen=True)
class ArticleOutcome:
    """How one article went, and the article links found on its page."""

    outcome: str  # one of report.OUTCOMES
    message: str = ""
    links: tuple[ListingItem, ...] = ()


class ArticleStage:
    """Handles the articles of one source in one run; remembers which it stored."""

    def __init__(
        self, fetcher: PageFetcher, lane: StoreLane, fetches: FetchLog, workers: PageWorkers
    ) -> None:
        self.fetcher = fetcher
        self.lane = lane
        self.store = lane.store
        self.fetches = fetches
        self.workers = workers
        self.saved: set[int] = set()  # articles stored in this run (ids only: bounded)
        # short texts seen in this run -> the canonical URLs that carried them
        self.short_texts: dict[tuple[str, str], set[str]] = {}

    async def handle(
        self,
        source: Source,
        item: ListingItem,
        rules: LinkRules | None,
        now: datetime,
        *,
        recheck: bool = False,
    ) -> ArticleOutcome:
        """Fetch, extract and store ``item``; ``rules`` set means: also return its links.

        A ``recheck`` (a stored article due on its decaying schedule) is fetched whatever
        ``refresh_after`` says."""
        known = await self.lane.call(self.store.known, source.name, [item.url])
        if known and known.article_id in self.saved:
            return ArticleOutcome("duplicate")  # stored in this run under another of its URLs
        if known and not recheck and _age(now, known) < source.refresh_after:
            return ArticleOutcome("fresh")
        try:
            validators = known.validators if known else None
            page = await self.fetcher.fetch(item.url, validators=validators)
        except Interrupted:
            return ArticleOutcome("interrupted")  # the run is stopping
        except FetchError as exc:
            await self.fetches.error(source, item.url, "article", exc)
            skipped = isinstance(exc, RobotsDisallowed | NotHTML)
            return ArticleOutcome("skipped" if skipped else "failed", str(exc))
        if page.not_modified:
            await self.fetches.page(source, page, "article")
            return await self._not_modified(item, page, known)
        try:
            read = await self.workers.run(
                page.final_url, read_article, page, source, item, rules, now
            )
        except TooComplex as exc:
            await self.fetches.page(
                source, page, "article", refused=("rejected", "too-complex", str(exc))
            )
            return ArticleOutcome("failed", str(exc))
        except Exception as exc:  # a parser bug must not end the run: record it
            await self.fetches.page(source, page, "article")
            log.exception("%s: extraction crashed on %s", source.name, page.final_url)
            return ArticleOutcome("failed", f"{page.final_url}: extraction failed: {exc!r}")
        article, url, links = read.article, read.url, read.links
        rejection = read.rejection or await self._repeated(source, url, article, known)
        if rejection is not None:
            refused = ("rejected", rejection.kind, rejection.message)
            await self.fetches.page(source, page, "article", refused=refused)
            return ArticleOutcome("rejected", f"{page.final_url}: {rejection.message}")
        result = await self.lane.call(
            self.store.save_article,
            ArticleWrite(
                source=source.name,
                url=url,
                article=article,
                fetched_at=page.fetched_at,
                aliases=alias_urls(item, page),
                hints=item,
                validators=Validators(page.etag, page.last_modified),
            ),
        )
        if result.outcome == "suspect":
            await self.fetches.page(
                source, page, "article", refused=("suspect", "collapsed", result.note)
            )
            return ArticleOutcome("suspect", f"{page.final_url}: {result.note}; stored text kept")
        await self.fetches.page(source, page, "article")
        self.saved.add(result.article_id)
        return ArticleOutcome(result.outcome, links=links)

    async def _repeated(
        self, source: Source, url: str, article: Article, known: Known | None
    ) -> Rejection | None:
        """The same short text on several pages of one site: a stub or block page.

        Counts the pages of this run with the text (under different canonical URLs) and,
        for a page not stored yet, the source's stored articles with it.
        """
        if known is not None or not is_short(article.body):
            return None
        key = (source.name, " ".join(article.body.split()))
        urls = self.short_texts.setdefault(key, set())
        urls.add(url)
        stored = await self.lane.call(self.store.count_same_text, source.name, article.body)
        if len(urls) + stored >= REPEATED_PAGES:
            pages = len(urls) + stored - 1
            return Rejection("block", f"the same short text as {pages} other page(s) of the site")
        return None

    async def _not_modified(
        self, item: ListingItem, page: Page, known: Known | None
    ) -> ArticleOutcome:
        if known is None:
            message = f"{item.url}: HTTP 304 to a request that was not conditional"
            return ArticleOutcome("failed", message)
        await self.lane.call(
            self.store.touch,
            known.article_id,
            fetched_at=page.fetched_at,
            etag=page.etag,
            last_modified=page.last_modified,
        )
        return ArticleOutcome("unchanged")


@dataclass(frozen=True)
class PageRead:
    """What reading one article page gave: the article, where to store it, its links,
    and why it holds no article (None: it may be one)."""

    article: Article
    url: str
    links: tuple[ListingItem, ...]
    rejection: Rejection | None


def read_article(
    page: Page, source: Source, item: ListingItem, rules: LinkRules | None, now: datetime
) -> PageRead:
    """Parse the page once: its links first (with ``rules``), then the article, with the
    listing's hints where extraction found nothing.  Pure CPU work, run in a worker.

    Raises :class:`TooComplex` before parsing a page whose elements nest too deep.
    """
    depth = nesting_depth(page.content)
    if depth > MAX_DEPTH:
        raise TooComplex(f"{page.final_url}: elements nest over {MAX_DEPTH} deep")
    document = parse_document(page.content, page.headers)
    links = article_links(document, page, rules) if rules is not None else ()
    names = site_names(document, page.final_url)
    article = extract_document(document, page.final_url, rules=source.rules, now=now)
    article = with_listing_hints(article, item, names)
    url = canonical_url(article, page, source.domains)
    return PageRead(article, url, links, not_an_article(article))


def _age(now: datetime, known: Known) -> float:
    return (now - known.last_fetched).total_seconds()


def article_links(document: Document, page: Page, rules: LinkRules) -> tuple[ListingItem, ...]:
    """Article links on an article page (its "Latest news" list), other than itself.

    Reads the tree only: call it before extraction prunes the tree.
    """
    own = {normalize_url(page.final_url), normalize_url(page.requested_url)}
    listing = listing_of(document.tree, page.final_url, rules)
    return tuple(item for item in listing.items if item.url not in own)


def canonical_url(article: Article, page: Page, domains: tuple[str, ...]) -> str:
    """The article's own canonical URL when it stays on the source's site, else the final URL."""
    final = normalize_url(page.final_url)
    if article.url:
        try:
            canonical = normalize_url(article.url, page.final_url)
        except ValueError:
            return final
        if same_site(canonical, domains or (host_of(final),)):
            return canonical
    return final


def alias_urls(item: ListingItem, page: Page) -> tuple[str, ...]:
    """The listing's URL, and the requested, redirect and final URLs, normalized."""
    urls = [item.url]
    for url in (page.requested_url, *page.redirects, page.final_url):
        try:
            urls.append(normalize_url(url))
        except ValueError:
            continue
    return tuple(dict.fromkeys(urls))


def with_listing_hints(
    article: Article, item: ListingItem, site_names: frozenset[str] = frozenset()
) -> Article:
    """Fill a missing title or date from the listing's (feed's, sitemap's) own entry.

    A title that is only the site's name (``og:site_name``, the host) counts as missing.
    The provenance names where the hint came from (``listing``, ``feed``, ``news-sitemap``).
    """
    changes: dict[str, object] = {}
    provenance = dict(article.provenance)
    title = " ".join((article.title or "").split()).casefold()
    if item.title and (not title or title in site_names):
        changes["title"] = item.title
        provenance["title"] = item.hint_origin("title")
    if article.published is None and item.published is not None:
        changes["published"] = item.published
        provenance["published"] = item.hint_origin("published")
    if not changes:
        return article
    return dataclasses.replace(article, provenance=provenance, **changes)  # type: ignore[arg-type]
