"""The typed values that go into the store and come out of it; no SQL here.

Every :class:`~scraper.store.base.Store` backend takes and returns these, so a caller
never sees a row, a cursor or a column name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..models import Article, ListingItem, Validators

__all__ = [
    "ATTEMPTS",
    "EVERY_ARTICLE",
    "ArticleFilter",
    "ConsumerRecord",
    "SearchHit",
    "StoryView",
    "FAILURES",
    "FETCH_KINDS",
    "FETCH_OUTCOMES",
    "RUN_STATUSES",
    "SOURCE_RUN_STATUSES",
    "SUCCESSES",
    "ArticleSample",
    "ArticleWrite",
    "FetchRecord",
    "Known",
    "RunRecord",
    "SaveResult",
    "SourceRun",
    "StoredArticle",
    "StoredVersion",
    "StoryRecord",
]

RUN_STATUSES = frozenset(
    {"running", "ok", "partial", "failed", "aborted", "interrupted", "skipped"}
)
FETCH_KINDS = frozenset({"listing", "article", "robots", "feed", "sitemap"})
# "rejected": the page held no article (empty, consent wall, login or error page, block);
# "suspect": a re-fetch whose text collapsed against the stored one (not stored).
FETCH_OUTCOMES = frozenset({"ok", "not-modified", "error", "skipped", "rejected", "suspect"})

# Statuses of a source_runs row.  crawl() writes one row per source at the end of every
# run (ok, partial, failed or interrupted); the scheduler's event listener writes one for
# an attempt that never became a crawl (error: the job raised; missed: it fired too late;
# skipped: the previous run of the source was still going).
SUCCESSES = frozenset({"ok", "partial"})
FAILURES = frozenset({"failed", "error"})
# "blocked": the site answered, but most article pages held no article (block pages)
ATTEMPTS = SUCCESSES | FAILURES | {"interrupted", "blocked"}  # rows that are a run of the source
SOURCE_RUN_STATUSES = ATTEMPTS | {"missed", "skipped"}


@dataclass(frozen=True)
class Known:
    """What the store knows about a URL, for refresh policy and conditional GET."""

    article_id: int
    last_fetched: datetime
    validators: Validators


@dataclass(frozen=True)
class ArticleWrite:
    """One extracted article page on its way into the store.

    ``url`` is the canonical URL; ``aliases`` (requested, final and redirect URLs, the
    listing's URL) map to the same article.  ``article`` already carries the listing's
    hints where extraction found nothing; ``hints`` is the listing entry itself, kept as
    what the listing said.  ``validators`` come from this response.
    """

    source: str
    url: str
    article: Article
    fetched_at: datetime  # timezone-aware
    aliases: tuple[str, ...] = ()
    hints: ListingItem | None = None
    validators: Validators = Validators()

    @property
    def urls(self) -> tuple[str, ...]:
        """The canonical URL first, then the aliases, each once."""
        return tuple(dict.fromkeys((self.url, *self.aliases)))


@dataclass(frozen=True)
class SaveResult:
    """What a save did: "new", "updated" (a real edit: a version was kept), "unchanged",
    or "suspect" (the page's text collapsed against the stored one: nothing written)."""

    outcome: str
    article_id: int
    story_id: int | None = None
    note: str = ""  # why, for "suspect"


@dataclass(frozen=True)
class StoryRecord:
    """Copies of one text, within or across outlets: each copy is its own article row."""

    id: int
    representative: int  # the article id of the earliest published member
    members: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class StoredArticle:
    """One stored article as every query returns it.

    ``published`` keeps the offset the page gave (a date-only value stays on its day);
    the store's own stamps (``first_seen``, ``last_fetched``, ``last_changed``) are UTC.
    ``change_seq`` grows with every write of a new or edited article (exports).
    """

    id: int
    url: str
    source: str
    title: str | None
    published: datetime | None
    body: str
    first_seen: datetime
    last_fetched: datetime
    last_changed: datetime
    version: int
    change_seq: int
    date_precision: str | None = None
    authors: tuple[str, ...] = ()
    language: str | None = None
    description: str | None = None
    image: str | None = None
    modified: datetime | None = None
    body_hash: str = ""
    etag: str | None = None
    last_modified: str | None = None
    hint_title: str | None = None
    hint_published: datetime | None = None
    extraction_errors: Mapping[str, str] = field(default_factory=dict)
    provenance: Mapping[str, str] = field(default_factory=dict)
    duplicate_count: int = 0  # merged copies, in databases from before stories existed
    story_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values: datetimes as ISO 8601 text, tuples and mappings as lists/dicts."""
        data: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            data[name] = value
        return data


@dataclass(frozen=True)
class ArticleFilter:
    """Which articles a query, a search or an export takes; every field optional.

    ``since``/``until`` bound the publication date (the first-seen time for an article
    without one); ``representatives`` keeps only the representative of each story.
    """

    source: str | None = None
    language: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    query: str | None = None  # full-text search
    representatives: bool = False


EVERY_ARTICLE = ArticleFilter()


@dataclass(frozen=True)
class SearchHit:
    """One search result: the article, its rank (higher is better) and a snippet with the
    matched words between ``[`` and ``]``."""

    article: StoredArticle
    rank: float
    snippet: str


@dataclass(frozen=True)
class StoryView:
    """A story and its members, earliest published first."""

    story: StoryRecord
    members: tuple[StoredArticle, ...]

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(member.source for member in self.members))


@dataclass(frozen=True)
class ConsumerRecord:
    """A named consumer of exports: its checkpoint and how far behind it is."""

    name: str
    checkpoint: int  # the last change_seq it took completely
    updated_at: datetime | None
    lag: int  # changes after its checkpoint


@dataclass(frozen=True)
class StoredVersion:
    """An earlier text of an article, kept when a re-fetch changed its title, date or body."""

    article_id: int
    version: int
    title: str | None
    published: datetime | None
    body: str
    fetched_at: datetime  # when this text was last seen


@dataclass(frozen=True)
class ArticleSample:
    """The few facts about one stored article that extraction health needs."""

    body_length: int
    has_title: bool
    has_date: bool
    errors: Mapping[str, str] = field(default_factory=dict)  # the article's extraction errors


@dataclass(frozen=True)
class FetchRecord:
    """One fetch attempt (after retries) of any kind of URL, as stored in ``fetches``."""

    run_id: int
    source: str
    url: str
    kind: str  # one of FETCH_KINDS
    outcome: str  # one of FETCH_OUTCOMES
    fetched_at: datetime
    status: int | None = None
    final_url: str | None = None
    error_kind: str | None = None
    error: str | None = None
    elapsed_ms: int | None = None
    bytes: int | None = None
    attempts: int = 1

    def __post_init__(self) -> None:
        if self.kind not in FETCH_KINDS:
            raise ValueError(f"kind: unknown fetch kind {self.kind!r} for {self.url}")
        if self.outcome not in FETCH_OUTCOMES:
            raise ValueError(f"outcome: unknown fetch outcome {self.outcome!r} for {self.url}")


@dataclass(frozen=True)
class RunRecord:
    """One run of the pipeline (``scraper run``, or one scheduled crawl)."""

    id: int
    status: str  # one of RUN_STATUSES
    started_at: datetime
    sources: tuple[str, ...]
    finished_at: datetime | None = None
    pid: int | None = None
    counts: Mapping[str, int] = field(default_factory=dict)  # article outcomes, summed
    error: str | None = None


@dataclass(frozen=True)
class SourceRun:
    """What one run (or one scheduler event) did for one source."""

    source: str
    status: str  # one of SOURCE_RUN_STATUSES
    started_at: datetime  # timezone-aware
    finished_at: datetime | None = None
    run_id: int | None = None  # None for scheduler events that started no run
    counts: Mapping[str, int] = field(default_factory=dict)  # article outcomes
    found: int = 0  # article links discovered
    pages_ok: int = 0  # listing, feed and sitemap pages fetched
    pages_failed: int = 0
    error: str | None = None

    def __post_init__(self) -> None:
        if self.status not in SOURCE_RUN_STATUSES:
            raise ValueError(f"status: unknown source run status {self.status!r}")

    @property
    def new(self) -> int:
        return int(self.counts.get("new", 0))

    @property
    def failed(self) -> int:
        return int(self.counts.get("failed", 0))

    @property
    def attempted(self) -> int:
        """Article pages requested (everything but 'fresh' and deliberate skips)."""
        kinds = ("new", "updated", "unchanged", "duplicate", "rejected", "suspect", "failed")
        return sum(int(self.counts.get(k, 0)) for k in kinds)
