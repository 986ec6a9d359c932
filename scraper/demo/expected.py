"""What extraction must produce for each demo article (``scraper/demo/expected.json``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from importlib.resources import files
from urllib.parse import urlsplit

from ..models import Article
from ..store.records import StoredArticle

__all__ = ["Expectations", "ExpectedArticle", "check_rows", "expectations"]


@dataclass(frozen=True)
class ExpectedArticle:
    """One article page: its fields, two sentences of its body and one sidebar string."""

    path: str  # clean URL path; the canonical URL
    title: str
    published: str  # ISO 8601 with offset, or a bare date when the page gives only a date
    body_contains: tuple[str, ...]
    body_excludes: tuple[str, ...]
    aliases: tuple[str, ...] = ()  # other paths serving the same article

    @property
    def date_only(self) -> bool:
        return len(self.published) == 10

    def published_matches(self, value: datetime | None) -> bool:
        if value is None:
            return False
        if self.date_only:
            return value.date() == date.fromisoformat(self.published)
        return value == datetime.fromisoformat(self.published)

    def problems(self, article: Article) -> list[str]:
        """What the extracted article gets wrong; empty when it is right."""
        found: list[str] = []
        if article.title != self.title:
            found.append(f"{self.path}: title {article.title!r}, expected {self.title!r}")
        if not self.published_matches(article.published):
            got = article.published.isoformat() if article.published else None
            found.append(f"{self.path}: published {got}, expected {self.published}")
        found += [
            f"{self.path}: body lacks {text!r}" for text in self.body_contains
            if text not in article.body
        ]  # fmt: skip
        found += [
            f"{self.path}: body holds boilerplate {text!r}" for text in self.body_excludes
            if text in article.body
        ]  # fmt: skip
        return found


@dataclass(frozen=True)
class Expectations:
    """The demo site's expected extraction results."""

    timezone: str  # the demo source's zone, used for dates given without one
    articles: tuple[ExpectedArticle, ...]
    robots_disallowed: tuple[str, ...]  # listed paths robots.txt forbids fetching

    def for_url(self, url: str) -> ExpectedArticle | None:
        """The expectation for an article URL (its path or one of its aliases)."""
        path = urlsplit(url).path
        for article in self.articles:
            if path == article.path or path in article.aliases:
                return article
        return None


def check_rows(expected: Expectations, rows: Iterable[StoredArticle]) -> list[str]:
    """Compare stored articles with the expectations: what is wrong or missing."""
    by_path: dict[str, StoredArticle] = {}
    for stored in rows:
        by_path.setdefault(urlsplit(stored.url).path, stored)
    found: list[str] = []
    for article in expected.articles:
        row = by_path.pop(article.path, None)
        if row is None:
            found.append(f"{article.path}: not stored")
            continue
        found += article.problems(
            Article(url=row.url, title=row.title, published=row.published, body=row.body)
        )
    found += [f"{path}: stored, but robots.txt forbids it" for path in expected.robots_disallowed
              if path in by_path]  # fmt: skip
    found += [f"{path}: stored, but is not an article of the demo site" for path in by_path
              if path not in expected.robots_disallowed]  # fmt: skip
    return found


def expectations() -> Expectations:
    """Load ``expected.json`` from the installed package."""
    data = json.loads((files("scraper.demo") / "expected.json").read_text(encoding="utf-8"))
    articles = tuple(
        ExpectedArticle(
            path=path,
            title=entry["title"],
            published=entry["published"],
            body_contains=tuple(entry["body_contains"]),
            body_excludes=tuple(entry["body_excludes"]),
            aliases=tuple(entry.get("aliases", ())),
        )
        for path, entry in sorted(data["articles"].items())
    )
    return Expectations(
        timezone=data["timezone"],
        articles=articles,
        robots_disallowed=tuple(data["robots_disallowed"]),
    )
