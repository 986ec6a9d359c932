"""Load and validate the TOML configuration into frozen dataclasses.

A bad file raises :class:`ConfigError` naming the file, the key path and what was
expected; nothing is crawled with a half-valid config.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError
from .models import SiteRules
from .schedules import Schedule

DEFAULT_USER_AGENT = "newsscraper/0.1 (+https://example.invalid/newsscraper; polite news crawler)"

_T = TypeVar("_T")


@dataclass(frozen=True)
class FetchSettings:
    """How pages are fetched; shared by every source (politeness may be set per source)."""

    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0  # whole request, all bytes: defeats servers that drip
    max_bytes: int = 10_000_000  # after decompression
    retries: int = 3
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    max_retry_after: float = 120.0  # longer Retry-After waits fail the URL instead
    max_redirects: int = 10
    respect_robots: bool = True
    concurrency: int = 8  # all hosts together


@dataclass(frozen=True)
class Source:
    """One configured news site."""

    name: str
    listings: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    link_selector: str | None = None  # CSS selector for article links on listing pages
    link_pattern: str | None = None  # regex an article URL must match (search)
    allow_domains: tuple[str, ...] = ()  # hosts whose links count; default: the listings' hosts
    next_selector: str | None = None  # CSS selector of the "next page" link
    max_pages: int = 3  # listing pages followed per listing URL
    max_articles: int = 200  # article pages fetched per run
    refresh_after: float = 3600.0  # seconds before a stored article is fetched again
    follow_links: bool = True  # also take article links from fetched article pages (1 level)
    delay: float = 1.0  # minimum seconds between requests to one host
    concurrency: int = 2  # requests in flight to one host
    schedule: Schedule = field(default_factory=lambda: Schedule.parse("every 15m"))
    rules: SiteRules = field(default_factory=SiteRules)

    @property
    def domains(self) -> tuple[str, ...]:
        """Hosts whose article links are followed."""
        if self.allow_domains:
            return self.allow_domains
        hosts = {urlsplit(u).hostname or "" for u in (*self.listings, *self.feeds, *self.sitemaps)}
        return tuple(sorted(h for h in hosts if h))


@dataclass(frozen=True)
class Config:
    """A whole configuration file."""

    sources: tuple[Source, ...]
    fetch: FetchSettings = field(default_factory=FetchSettings)
    path: str | None = None

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        raise ConfigError(f"no source named {name!r}", path=self.path)


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML config file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", path=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read file: {exc}", path=str(p)) from None
    return parse_config(text, path=str(p))


def parse_config(text: str, *, path: str = "<config>") -> Config:
    """Validate TOML text; ``path`` names the file in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=path) from None
    return _Reader(path).config(data)


class _Reader:
    """Walks the parsed TOML and turns it into dataclasses, naming key paths on error."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(message, path=self.path, key=key)

    def config(self, data: Mapping[str, Any]) -> Config:
        self.unknown(data, "", {"fetch", "defaults", "source"})
        fetch = self.fetch_settings(self.table(data, "fetch", "fetch"))
        defaults = self.table(data, "defaults", "defaults")
        self.unknown(defaults, "defaults", _SOURCE_DEFAULT_KEYS)
        raw_sources = data.get("source", [])
        if not isinstance(raw_sources, list) or not all(isinstance(s, dict) for s in raw_sources):
            raise self.fail("source", "expected an array of tables ([[source]])")
        if not raw_sources:
            raise self.fail("source", "no sources configured; add at least one [[source]] table")
        sources = tuple(
            self.source({**defaults, **raw}, f"source[{i}]") for i, raw in enumerate(raw_sources)
        )
        names = [s.name for s in sources]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise self.fail(f"source[{i}].name", f"duplicate source name {name!r}")
        return Config(sources=sources, fetch=fetch, path=self.path)

    def fetch_settings(self, raw: Mapping[str, Any]) -> FetchSettings:
        self.unknown(raw, "fetch", set(FetchSettings.__dataclass_fields__))
        base = FetchSettings()
        values: dict[str, Any] = {}
        for name in FetchSettings.__dataclass_fields__:
            if name not in raw:
                continue
            key = f"fetch.{name}"
            default = getattr(base, name)
            if isinstance(default, bool):
                values[name] = self.flag(raw, name, "fetch", default)
            elif isinstance(default, str):
                values[name] = self.text(raw[name], key)
            elif isinstance(default, int):
                values[name] = self.number(
                    raw[name], key, int, minimum=0 if name == "retries" else 1
                )
            else:
                values[name] = self.number(raw[name], key, float, minimum=0.001)
        return FetchSettings(**values)

    def source(self, raw: Mapping[str, Any], key: str) -> Source:
        if "name" not in raw:
            raise self.fail(f"{key}.name", "missing; every source needs a name")
        name = self.text(raw["name"], f"{key}.name")
        if not re.fullmatch(r"[\w.-]+", name):
            raise self.fail(f"{key}.name", f"{name!r} may only hold letters, digits, '.', '_', '-'")
        key = f"source.{name}"
        self.unknown(raw, key, _SOURCE_KEYS)
        urls = {
            k: self.urls(raw.get(k, []), f"{key}.{k}") for k in ("listings", "feeds", "sitemaps")
        }
        if not any(urls.values()):
            raise self.fail(key, "needs at least one of 'listings', 'feeds' or 'sitemaps'")
        links = self.table(raw, "links", f"{key}.links")
        self.unknown(links, f"{key}.links", {"selector", "pattern", "allow_domains", "next"})
        pattern = self.optional(links, "pattern", f"{key}.links.pattern", self.text)
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise self.fail(
                    f"{key}.links.pattern", f"invalid regular expression: {exc}"
                ) from None
        defaults = Source(name=name)
        return Source(
            name=name,
            listings=urls["listings"],
            feeds=urls["feeds"],
            sitemaps=urls["sitemaps"],
            link_selector=self.optional(links, "selector", f"{key}.links.selector", self.selector),
            link_pattern=pattern,
            allow_domains=tuple(
                self.text(d, f"{key}.links.allow_domains").lower()
                for d in self.array(links.get("allow_domains", []), f"{key}.links.allow_domains")
            ),
            next_selector=self.optional(links, "next", f"{key}.links.next", self.selector),
            max_pages=self.get_number(raw, "max_pages", key, int, defaults.max_pages, 1),
            max_articles=self.get_number(raw, "max_articles", key, int, defaults.max_articles, 1),
            refresh_after=self.get_number(
                raw, "refresh_after", key, float, defaults.refresh_after, 0
            ),
            follow_links=self.flag(raw, "follow_links", key, defaults.follow_links),
            delay=self.get_number(raw, "delay", key, float, defaults.delay, 0),
            concurrency=self.get_number(raw, "concurrency", key, int, defaults.concurrency, 1),
            schedule=self.schedule(raw.get("schedule", "every 15m"), f"{key}.schedule"),
            rules=self.rules(self.table(raw, "rules", f"{key}.rules"), raw, f"{key}.rules"),
        )

    def rules(self, raw: Mapping[str, Any], source: Mapping[str, Any], key: str) -> SiteRules:
        self.unknown(raw, key, {"title", "published", "body", "exclude", "date_format"})
        tz = source.get("timezone", "UTC")
        tz_key = key.rsplit(".", 1)[0] + ".timezone"
        tz = self.text(tz, tz_key)
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(
                tz_key, f"unknown time zone {tz!r} (expected e.g. 'Europe/Berlin')"
            ) from None
        return SiteRules(
            title=self.optional(raw, "title", f"{key}.title", self.selector),
            published=self.optional(raw, "published", f"{key}.published", self.selector),
            body=self.optional(raw, "body", f"{key}.body", self.selector),
            exclude=tuple(
                self.selector(s, f"{key}.exclude")
                for s in self.array(raw.get("exclude", []), f"{key}.exclude")
            ),
            date_format=self.optional(raw, "date_format", f"{key}.date_format", self.text),
            timezone=tz,
        )

    def schedule(self, value: Any, key: str) -> Schedule:
        text = self.text(value, key)
        try:
            return Schedule.parse(text)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None

    # -- small typed accessors -------------------------------------------------------------

    def unknown(self, raw: Mapping[str, Any], key: str, allowed: set[str]) -> None:
        for name in raw:
            if name not in allowed:
                where = f"{key}.{name}" if key else name
                hint = ", ".join(sorted(allowed))
                raise self.fail(where, f"unknown key (expected one of: {hint})")

    def table(self, raw: Mapping[str, Any], name: str, key: str) -> Mapping[str, Any]:
        value = raw.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table, got {_kind(value)}")
        return value

    def array(self, value: Any, key: str) -> list[Any]:
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list of strings, got {_kind(value)}")
        return value

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected a non-empty string, got {_kind(value)}")
        return value.strip()

    def urls(self, value: Any, key: str) -> tuple[str, ...]:
        out = []
        for i, item in enumerate(self.array(value, key)):
            url = self.text(item, f"{key}[{i}]")
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise self.fail(f"{key}[{i}]", f"expected an absolute http(s) URL, got {url!r}")
            out.append(url)
        return tuple(out)

    def selector(self, value: Any, key: str) -> str:
        css = self.text(value, key)
        from selectolax.lexbor import LexborHTMLParser

        try:
            LexborHTMLParser("<p></p>").css(css)
        except Exception as exc:  # selectolax raises several kinds for bad selectors
            raise self.fail(key, f"invalid CSS selector {css!r}: {exc}") from None
        return css

    def typed(self, raw: Mapping[str, Any], name: str, key: str, kind: type, what: str) -> Any:
        value = raw[name]
        if not isinstance(value, kind):
            raise self.fail(key, f"expected {what}, got {_kind(value)}")
        return value

    def number(self, value: Any, key: str, kind: type, *, minimum: float) -> Any:
        ok = isinstance(value, int) if kind is int else isinstance(value, int | float)
        if isinstance(value, bool) or not ok:
            what = "an integer" if kind is int else "a number"
            raise self.fail(key, f"expected {what}, got {_kind(value)}")
        if value < minimum:
            raise self.fail(key, f"must be at least {minimum}, got {value}")
        return kind(value)

    def get_number(
        self, raw: Mapping[str, Any], name: str, key: str, kind: type, default: Any, minimum: float
    ) -> Any:
        if name not in raw:
            return default
        return self.number(raw[name], f"{key}.{name}", kind, minimum=minimum)

    def flag(self, raw: Mapping[str, Any], name: str, key: str, default: bool) -> bool:
        if name not in raw:
            return default
        return bool(self.typed(raw, name, f"{key}.{name}", bool, "true or false"))

    def optional(
        self, raw: Mapping[str, Any], name: str, key: str, convert: Callable[[Any, str], _T]
    ) -> _T | None:
        return convert(raw[name], key) if name in raw else None


_SOURCE_DEFAULT_KEYS = {
    "max_pages",
    "max_articles",
    "refresh_after",
    "follow_links",
    "delay",
    "concurrency",
    "schedule",
    "timezone",
}
_SOURCE_KEYS = {"name", "listings", "feeds", "sitemaps", "links", "rules"} | _SOURCE_DEFAULT_KEYS


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {value}"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {value!r}" if value.strip() else "an empty string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__
