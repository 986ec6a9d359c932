"""The store's contract: what every database backend does, in typed values.

The pipeline, the scheduler, source health and the exports speak only to this
interface; :class:`~scraper.store.sqlite.SQLiteStore` implements it, and a second
backend implements it again and runs the same contract tests (``tests/test_store.py``).

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

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from .records import (
    ArticleSample,
    ArticleWrite,
    FetchRecord,
    Known,
    RunRecord,
    SaveResult,
    SourceRun,
    StoredArticle,
    StoredVersion,
    StoryRecord,
)

__all__ = ["Store"]


class Store(Protocol):
    """A database of articles, runs and fetches; use it as a context manager."""

    @property
    def location(self) -> str:
        """Where the database is (a file path or a connection URL without password)."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    # -- articles ------------------------------------------------------------------------

    def known(self, source: str, urls: Iterable[str]) -> Known | None:
        """The source's article stored under any of ``urls`` (the first that matches)."""
        ...

    def save_article(self, write: ArticleWrite) -> SaveResult:
        """Store one outlet's article: "new", "updated", "unchanged" or "suspect"."""
        ...

    def touch(
        self, article_id: int, *, fetched_at: datetime, etag: str | None, last_modified: str | None
    ) -> None:
        """Record a 304 Not Modified: the article was checked and is as stored."""
        ...

    def articles(
        self, *, limit: int = 20, source: str | None = None, since: datetime | None = None
    ) -> list[StoredArticle]:
        """Newest first (by publication, then first seen); ``since`` bounds the date."""
        ...

    def article(self, article_id: int) -> StoredArticle | None: ...

    def count_same_text(self, source: str, body: str) -> int:
        """How many of the source's articles carry exactly this text (normalized)."""
        ...

    def count_articles(self, source: str | None = None) -> int: ...

    def changed_articles(
        self, *, after: int = 0, source: str | None = None, limit: int | None = None
    ) -> Iterator[StoredArticle]:
        """Articles written after change number ``after``, oldest change first (streamed)."""
        ...

    def story(self, story_id: int) -> StoryRecord | None: ...

    def story_members(self, story_id: int) -> list[StoredArticle]:
        """The story's articles, earliest published first (its representative)."""
        ...

    def due_for_recheck(
        self, source: str, ages: Sequence[float], now: datetime, limit: int
    ) -> list[str]:
        """URLs of the source's articles that passed one of ``ages`` (seconds after they
        were first seen) since their last fetch: edits made after a story left the
        listings are caught on this decaying schedule."""
        ...

    def versions(self, article_id: int) -> list[StoredVersion]:
        """The earlier texts of an article, oldest first."""
        ...

    def article_samples(self, source: str, limit: int) -> list[ArticleSample]:
        """Health facts of the source's ``limit`` most recently fetched articles."""
        ...

    # -- runs, fetches and source runs ------------------------------------------------------

    def start_run(self, sources: Sequence[str], *, pid: int | None = None) -> int:
        """Open a run as 'running' and return its id."""
        ...

    def finish_run(
        self, run_id: int, *, status: str, counts: Mapping[str, int], error: str | None = None
    ) -> None: ...

    def abort_stale_runs(self) -> int:
        """Mark runs whose process is gone as 'aborted'; call it holding the run lock."""
        ...

    def run_record(self, run_id: int) -> RunRecord | None: ...

    def record_fetch(self, record: FetchRecord) -> None: ...

    def fetches(self, run_id: int) -> list[FetchRecord]:
        """The run's fetch records, in the order they were made."""
        ...

    def record_source_runs(self, runs: Iterable[SourceRun]) -> None:
        """Insert the rows in one transaction."""
        ...

    def recent_source_runs(
        self, source: str, limit: int = 20, *, statuses: Collection[str] | None = None
    ) -> list[SourceRun]:
        """The source's last ``limit`` runs (with one of ``statuses``), newest first."""
        ...

    # -- robots.txt copies (RFC 9309: use the last copy while robots.txt is unreachable) --

    def recall_robots(self, url: str) -> bytes | None: ...

    def remember_robots(self, url: str, content: bytes) -> None: ...
