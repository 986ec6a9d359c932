"""newsscraper: configured news sources to a deduplicated SQLite store.

The library is usable on its own; the ``scraper`` command is a thin layer over it::

    import scraper
    article = scraper.extract(html_bytes, url="https://news.example.com/a/1")
    config = scraper.load_config("config/sources.toml")
    report = scraper.run(config, "db/news.db")

Names are imported on first use (PEP 562), so ``import scraper`` and ``scraper --help``
stay quick; ``__all__`` is the public API, pinned by a test.

``extract`` and ``run`` are both a function here and a subpackage
(:mod:`scraper.extract`, :mod:`scraper.run`).  The subpackages are imported first (their
``__init__`` modules are light), so the functions defined below stay bound to those
names whatever is imported later.
"""

from __future__ import annotations

from datetime import datetime
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import extract as _extract_package  # noqa: F401  (bound before the function below)
from . import run as _run_package  # noqa: F401  (bound before the function below)

# public name -> the module that defines it
_EXPORTS = {
    "Article": "models",
    "Listing": "models",
    "ListingItem": "models",
    "Page": "models",
    "SiteRules": "models",
    "Validators": "models",
    "Config": "config",
    "FetchSettings": "config",
    "Source": "config",
    "load_config": "config",
    "parse_config": "config",
    "Schedule": "schedules",
    "ConfigError": "errors",
    "ConnectionFailed": "errors",
    "ExtractError": "errors",
    "FetchError": "errors",
    "FetchTimeout": "errors",
    "HTTPStatusFailure": "errors",
    "LockHeld": "errors",
    "NotHTML": "errors",
    "RobotsDisallowed": "errors",
    "ScraperError": "errors",
    "StoreError": "errors",
    "TooLarge": "errors",
    "TooManyRedirects": "errors",
    "decode_html": "extract",
    "Fetcher": "fetch",
    "RunLock": "run.lock",
    "RunOptions": "run.pipeline",
    "crawl": "run.pipeline",
    "RunReport": "run.report",
    "SourceReport": "run.report",
    "Store": "store",
    "StoredArticle": "store",
    "open_store": "store",
    "normalize_url": "urls",
}

__all__ = [
    "Article",
    "Config",
    "ConfigError",
    "ConnectionFailed",
    "ExtractError",
    "FetchError",
    "FetchSettings",
    "FetchTimeout",
    "Fetcher",
    "HTTPStatusFailure",
    "Listing",
    "ListingItem",
    "LockHeld",
    "NotHTML",
    "Page",
    "RobotsDisallowed",
    "RunLock",
    "RunOptions",
    "RunReport",
    "Schedule",
    "ScraperError",
    "SiteRules",
    "Source",
    "SourceReport",
    "Store",
    "StoredArticle",
    "StoreError",
    "TooLarge",
    "TooManyRedirects",
    "Validators",
    "crawl",
    "decode_html",
    "extract",
    "load_config",
    "normalize_url",
    "open_store",
    "parse_config",
    "run",
]


def extract(
    html: str | bytes,
    url: str | None = None,
    *,
    rules: SiteRules | None = None,
    headers: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Article:
    """Extract the article on one page: :func:`scraper.extract.article.extract`."""
    from .extract.article import extract as extract_article

    return extract_article(html, url, rules=rules, headers=headers, now=now)


def run(config: Config, db_path: str | Path, options: RunOptions | None = None) -> RunReport:
    """Run the configured sources once: :func:`scraper.run.pipeline.run`."""
    from .run.pipeline import run as run_sources

    return run_sources(config, db_path, options)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'scraper' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:
    from collections.abc import Mapping

    from .config import Config, FetchSettings, Source, load_config, parse_config
    from .errors import (
        ConfigError,
        ConnectionFailed,
        ExtractError,
        FetchError,
        FetchTimeout,
        HTTPStatusFailure,
        LockHeld,
        NotHTML,
        RobotsDisallowed,
        ScraperError,
        StoreError,
        TooLarge,
        TooManyRedirects,
    )
    from .extract import decode_html
    from .fetch import Fetcher
    from .models import Article, Listing, ListingItem, Page, SiteRules, Validators
    from .run.lock import RunLock
    from .run.pipeline import RunOptions, crawl
    from .run.report import RunReport, SourceReport
    from .schedules import Schedule
    from .store import Store, StoredArticle, open_store
    from .urls import normalize_url
