"""The store: the only package that speaks SQL.

Everything above it uses the :class:`Store` contract (:mod:`.base`) and the typed
records of :mod:`.records`; :func:`open_store` picks the backend for a database
argument.  SQLite (:mod:`.sqlite`) is the embedded default.
"""

from __future__ import annotations

from pathlib import Path

from ..clock import Clock, utc_now
from .base import Store, backend_for
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
from .sqlite import SQLiteStore

__all__ = [
    "EVERY_ARTICLE",
    "ArticleFilter",
    "ConsumerRecord",
    "SearchHit",
    "StoryView",
    "ArticleSample",
    "ArticleWrite",
    "FetchRecord",
    "Known",
    "RunRecord",
    "SQLiteStore",
    "SaveResult",
    "SourceRun",
    "Store",
    "StoredArticle",
    "StoredVersion",
    "StoryRecord",
    "open_store",
]


def open_store(target: str | Path, *, now: Clock = utc_now) -> Store:
    """Open (creating and migrating if needed) the database named by ``target``: the
    same as ``Store(target)``.

    ``target`` is the path of a SQLite file.  Raises :class:`~scraper.errors.StoreError`
    naming the database when it cannot be opened.
    """
    return backend_for(target)(target, now=now)
