"""The store's contract: what every database backend does, in typed values.

The pipeline, the scheduler, source health and the exports speak only to this
interface; :class:`~scraper.store.sqlite.SQLiteStore` implements it, and a second
backend implements it again and runs the same contract tests (``tests/test_store.py``).
``Store(target)`` opens the backend that ``target`` names (a SQLite file path), as
``pathlib.Path(...)`` gives the path class of the system.

Guarantees every backend keeps:

- each write is one transaction: a process killed at any point leaves the database as
  it was before the write or after it, never in between;
- each outlet's copy of a story is its own row, found under any of its URLs (canonical,
  aliases, redirects) within that outlet; copies with the same or nearly the same text,
  within or across outlets, share a story;
- a value missing from a new extraction never erases a stored one; only a real edit
  (title, date, or a paragraph that is no furniture: :mod:`.edits`) writes a version, and
  a text that collapsed (a block page) never replaces the stored one;
- ``change_seq`` grows with every write of a new or edited article, in commit order;
- failures are :class:`~scraper.errors.StoreError` naming the database and the action.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from ..clock import Clock, utc_now
from .records import (
    EVERY_ARTICLE,
    ArticleFilter,
    ArticleSample,
    ArticleWrite,
    ConsumerRecord,
    FetchRecord,
    Known,
    RunRecord,
    SaveResult,
    SearchHit,
    SourceRun,
    StoredArticle,
    StoredVersion,
    StoryRecord,
    StoryView,
)

__all__ = ["Store", "backend_for"]


def backend_for(target: object) -> type[Store]:
    """The backend class for a database argument: a path is a SQLite file."""
    from .sqlite import SQLiteStore

    return SQLiteStore


class Store(ABC):
    """A database of articles, stories, runs and fetches; use it as a context manager.

    ``Store(target)`` opens (creating and migrating if needed) the database ``target``
    names with the backend for it: a path is a SQLite file.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Store:
        backend = cls if cls is not Store else backend_for(args[0] if args else None)
        return super().__new__(backend)

    @abstractmethod
    def __init__(self, target: str | Path, *, now: Clock = utc_now) -> None: ...

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the database is (a file path or a connection URL without password)."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- articles ------------------------------------------------------------------------

    @abstractmethod
    def known(self, source: str, urls: Iterable[str]) -> Known | None:
        """The source's article stored under any of ``urls`` (the first that matches)."""

    @abstractmethod
    def save_article(self, write: ArticleWrite) -> SaveResult:
        """Store one outlet's article: "new", "updated", "unchanged" or "suspect"."""

    @abstractmethod
    def touch(
        self, article_id: int, *, fetched_at: datetime, etag: str | None, last_modified: str | None
    ) -> None:
        """Record a 304 Not Modified: the article was checked and is as stored."""

    @abstractmethod
    def articles(
        self, *, limit: int = 20, source: str | None = None, since: datetime | None = None
    ) -> list[StoredArticle]:
        """Newest first (by publication, then first seen); ``since`` bounds the date."""

    @abstractmethod
    def article(self, article_id: int) -> StoredArticle | None: ...

    @abstractmethod
    def count_same_text(self, source: str, body: str) -> int:
        """How many of the source's articles carry exactly this text (normalized)."""

    @abstractmethod
    def count_articles(self, source: str | None = None) -> int: ...

    @abstractmethod
    def changed_articles(
        self,
        *,
        after: int = 0,
        where: ArticleFilter = EVERY_ARTICLE,
        limit: int | None = None,
    ) -> Iterator[StoredArticle]:
        """Articles written after change number ``after`` that pass ``where``, oldest
        change first; streamed, so memory does not grow with the number of rows."""

    @abstractmethod
    def article_by_url(self, url: str) -> StoredArticle | None:
        """The article stored under ``url`` (any of its URLs, any source)."""

    @abstractmethod
    def urls(self, article_id: int) -> tuple[str, ...]:
        """Every URL the article was seen under, canonical first."""

    @abstractmethod
    def search(
        self, query: str, *, where: ArticleFilter = EVERY_ARTICLE, limit: int = 20
    ) -> list[SearchHit]:
        """Full-text search over title and body, best first, with highlighted snippets.

        Raises ``ValueError`` when ``query`` holds no word to search for; a query that is
        not valid search syntax is searched as plain words.
        """

    @abstractmethod
    def stories(
        self, *, min_sources: int = 2, since: datetime | None = None, limit: int = 20
    ) -> list[StoryView]:
        """Stories carried by at least ``min_sources`` sources, newest first."""

    @abstractmethod
    def story(self, story_id: int) -> StoryRecord | None: ...

    @abstractmethod
    def story_members(self, story_id: int) -> list[StoredArticle]:
        """The story's articles, earliest published first (its representative)."""

    @abstractmethod
    def due_for_recheck(
        self, source: str, ages: Sequence[float], now: datetime, limit: int
    ) -> list[str]:
        """URLs of the source's articles that passed one of ``ages`` (seconds after they
        were first seen) since their last fetch: edits made after a story left the
        listings are caught on this decaying schedule."""

    @abstractmethod
    def versions(self, article_id: int) -> list[StoredVersion]:
        """The earlier texts of an article, oldest first."""

    @abstractmethod
    def article_samples(self, source: str, limit: int) -> list[ArticleSample]:
        """Health facts of the source's ``limit`` most recently fetched articles."""

    # -- consumers of exports ---------------------------------------------------------

    @abstractmethod
    def checkpoint(self, consumer: str) -> int:
        """The last change number ``consumer`` took completely (0 for a new consumer)."""

    @abstractmethod
    def save_checkpoint(self, consumer: str, change_seq: int) -> None:
        """Move ``consumer``'s checkpoint (call it only after its output was written)."""

    @abstractmethod
    def consumers(self) -> list[ConsumerRecord]:
        """Every consumer with its checkpoint and how many changes it has not taken."""

    # -- runs, fetches and source runs ------------------------------------------------------

    @abstractmethod
    def runs(self, *, limit: int = 20) -> list[RunRecord]:
        """The latest runs, newest first."""

    @abstractmethod
    def start_run(self, sources: Sequence[str], *, pid: int | None = None) -> int:
        """Open a run as 'running' and return its id."""

    @abstractmethod
    def finish_run(
        self, run_id: int, *, status: str, counts: Mapping[str, int], error: str | None = None
    ) -> None: ...

    @abstractmethod
    def abort_stale_runs(self) -> int:
        """Mark runs whose process is gone as 'aborted'; call it holding the run lock."""

    @abstractmethod
    def run_record(self, run_id: int) -> RunRecord | None: ...

    @abstractmethod
    def record_fetch(self, record: FetchRecord) -> None: ...

    @abstractmethod
    def fetches(self, run_id: int) -> list[FetchRecord]:
        """The run's fetch records, in the order they were made."""

    @abstractmethod
    def record_source_runs(self, runs: Iterable[SourceRun]) -> None:
        """Insert the rows in one transaction."""

    @abstractmethod
    def recent_source_runs(
        self, source: str, limit: int = 20, *, statuses: Collection[str] | None = None
    ) -> list[SourceRun]:
        """The source's last ``limit`` runs (with one of ``statuses``), newest first."""

    # -- robots.txt copies (RFC 9309: use the last copy while robots.txt is unreachable) --

    @abstractmethod
    def recall_robots(self, url: str) -> bytes | None: ...

    @abstractmethod
    def remember_robots(self, url: str, content: bytes) -> None: ...
