"""newsscraper: configured news sources to a deduplicated SQLite store.

The library is usable on its own; the ``scraper`` command is a thin layer over it::

    import scraper
    article = scraper.extract(html_bytes, url="https://news.example.com/a/1")
    config = scraper.load_config("config/sources.toml")
    report = scraper.run(config, "db/news.db")
"""

from .config import Config, FetchSettings, Schedule, Source, load_config, parse_config
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
from .extract import decode_html, extract
from .fetch import Fetcher
from .lock import RunLock
from .models import Article, Listing, ListingItem, Page, SiteRules, Validators
from .pipeline import RunOptions, crawl, run
from .report import RunReport, SourceReport
from .store import Store
from .urls import normalize_url

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
    "StoreError",
    "TooLarge",
    "TooManyRedirects",
    "Validators",
    "crawl",
    "decode_html",
    "extract",
    "load_config",
    "normalize_url",
    "parse_config",
    "run",
]
