"""Plain typed values that flow through the pipeline: fetched page -> listing -> article."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Page:
    """One HTTP response, fully read and decompressed (the fetcher's result)."""

    requested_url: str
    final_url: str
    status: int
    headers: Mapping[str, str]  # lower-cased names
    content: bytes
    fetched_at: datetime  # timezone-aware UTC
    elapsed: float  # seconds, all attempts included
    redirects: tuple[str, ...] = ()  # URLs passed through, in order
    attempts: int = 1

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


@dataclass(frozen=True)
class Validators:
    """What we know of a URL from an earlier fetch, for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class SiteRules:
    """Per-site extraction rules from the config; every field optional."""

    title: str | None = None  # CSS selector
    published: str | None = None  # CSS selector (text, or datetime/content attribute)
    body: str | None = None  # CSS selector; all matches joined in document order
    exclude: tuple[str, ...] = ()  # CSS selectors removed before the body is taken
    date_format: str | None = None  # strptime format, e.g. "%d.%b.%Y"
    timezone: str = "UTC"  # zone for dates given without one


@dataclass(frozen=True)
class ListingItem:
    """An article link found on a listing page, feed or sitemap, with its hints.

    ``origin`` says where the hints came from: ``"listing"`` (a listing page, or an
    article's "Latest news"), ``"feed"``, ``"sitemap"`` or ``"news-sitemap"`` (a Google
    News entry's ``news:title`` and ``news:publication_date``).  When two sightings of
    one URL were merged and the date hint came from another place than the title,
    ``published_origin`` names that place; :meth:`hint_origin` answers per field.
    """

    url: str  # absolute, normalized
    title: str | None = None
    published: datetime | None = None
    origin: str = "listing"
    published_origin: str | None = None  # None: the same as ``origin``

    def hint_origin(self, name: str) -> str:
        """Where the ``"title"`` or ``"published"`` hint came from."""
        if name == "published" and self.published_origin is not None:
            return self.published_origin
        return self.origin


@dataclass(frozen=True)
class Listing:
    """What one listing page (or feed, or sitemap) yielded.

    ``feeds`` are the same-site RSS/Atom feeds a listing page announces with
    ``<link rel="alternate" type="application/rss+xml" href=...>`` (or Atom).
    """

    url: str
    items: tuple[ListingItem, ...]
    next_url: str | None = None
    feeds: tuple[str, ...] = ()


@dataclass(frozen=True)
class Article:
    """The normalized content of one article page.

    ``published`` is timezone-aware or None.  ``body`` is plain text with paragraphs
    separated by a blank line.  ``provenance`` says, per field, which rule or signal
    produced the value; ``errors`` says, per field, why it is missing or fell back
    (for example a configured selector that matched nothing).
    """

    url: str | None
    title: str | None
    published: datetime | None
    body: str
    authors: tuple[str, ...] = ()
    language: str | None = None
    description: str | None = None
    image: str | None = None
    modified: datetime | None = None
    date_precision: str | None = None  # "datetime" or "date"
    provenance: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "url": self.url,
            "title": self.title,
            "published": self.published.isoformat() if self.published else None,
            "body": self.body,
            "authors": list(self.authors),
            "language": self.language,
            "description": self.description,
            "image": self.image,
            "modified": self.modified.isoformat() if self.modified else None,
            "date_precision": self.date_precision,
            "provenance": dict(self.provenance),
            "errors": dict(self.errors),
        }
