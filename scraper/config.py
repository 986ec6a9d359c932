"""Load and validate the TOML configuration into frozen dataclasses.

A bad file raises :class:`ConfigError` naming the file, the key path and what was
expected; nothing is crawled with a half-valid config.  Every value is bounded: numbers
must be finite and inside the ranges of :data:`FETCH_LIMITS` and :data:`SOURCE_LIMITS`
(the README's Configuration tables list them), strings hold no control characters and
have a length cap, arrays have a length cap, and URLs are checked whole (scheme, host,
port, IPv6 brackets).  This module stays cheap to import: it loads no HTTP client.
"""

from __future__ import annotations

import ipaddress
import math
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
from .schedules import MAX_INTERVAL, Schedule, parse_duration

DEFAULT_USER_AGENT = "newsscraper/0.1 (+https://example.invalid/newsscraper; polite news crawler)"
DEFAULT_RECHECK = (3600.0, 6 * 3600.0, 24 * 3600.0, 72 * 3600.0)  # 1h, 6h, 24h, 72h

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
    allow_private: bool = False  # may fetch hosts resolving to private/loopback/link-local
    discover_feeds: bool = True  # find feeds via <link rel="alternate"> (listings, home page)
    robots_sitemaps: bool = False  # read the `Sitemap:` lines of the site's robots.txt
    max_links_per_page: int = 5000  # links taken from one listing, feed or sitemap page
    max_sitemaps: int = 50  # sitemap documents fetched per run (indexes and children)
    recheck: tuple[float, ...] = DEFAULT_RECHECK  # ages (s after first seen) to re-fetch at

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


# -- the documented bounds (README "Configuration") -------------------------------------------

Limit = tuple[type, float, float]  # int or float, lowest, highest (both allowed)

FETCH_LIMITS: dict[str, Limit] = {
    "connect_timeout": (float, 0.001, 3600),
    "read_timeout": (float, 0.001, 3600),
    "total_timeout": (float, 0.001, 3600),
    "max_bytes": (int, 1, 1_000_000_000),
    "retries": (int, 0, 20),
    "backoff_base": (float, 0.001, 3600),
    "backoff_max": (float, 0.001, 3600),
    "max_retry_after": (float, 0.001, 3600),
    "max_redirects": (int, 1, 100),
    "concurrency": (int, 1, 1000),
}
"""Numeric ``[fetch]`` keys: kind and inclusive range (seconds, bytes or counts)."""

SOURCE_LIMITS: dict[str, Limit] = {
    "max_pages": (int, 1, 10_000),
    "max_articles": (int, 1, 1_000_000),
    "refresh_after": (float, 0, MAX_INTERVAL),
    "delay": (float, 0, 3600),
    "concurrency": (int, 1, 100),
    "max_links_per_page": (int, 1, 1_000_000),
    "max_sitemaps": (int, 1, 10_000),
}
"""Numeric ``[[source]]`` (and ``[defaults]``) keys: kind and inclusive range."""

USER_AGENT_MAX = 500  # characters, printable ASCII only
NAME_MAX = 100  # a source's name
URL_MAX = 4096  # one URL
HOST_MAX = 253  # one host name (DNS limit)
TEXT_MAX = 1000  # a CSS selector, a regular expression, a schedule, a strptime format
LIST_MAX = 1000  # entries of listings, feeds, sitemaps, allow_domains, exclude
RECHECK_MIN, RECHECK_MAX, RECHECK_ENTRIES = 60.0, MAX_INTERVAL, 50

_FLAGS = {"follow_links", "allow_private", "discover_feeds", "robots_sitemaps"}
_SOURCE_DEFAULT_KEYS = {*SOURCE_LIMITS, *_FLAGS, "schedule", "timezone", "recheck"}
_SOURCE_KEYS = {"name", "listings", "feeds", "sitemaps", "links", "rules"} | _SOURCE_DEFAULT_KEYS
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_BAD_PORT = "its port must be a number from 1 to 65535"
_HOST = re.compile(r"[\w.-]+")  # after urlsplit lowercased it; non-ASCII (IDN) letters allowed


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML config file."""
    p = Path(path)
    if p.is_dir():
        raise ConfigError("is a directory, not a config file", path=str(p))
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", path=str(p)) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=str(p)
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read file: {exc.strerror or exc}", path=str(p)) from None
    return parse_config(text, path=str(p))


def parse_config(text: str, *, path: str = "<config>") -> Config:
    """Validate TOML text; ``path`` names the file in error messages.

    A leading UTF-8 byte order mark (which some Windows editors write) is ignored.
    """
    try:
        data = tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=path) from None
    except ValueError:  # Python refuses to read an integer of more than 4300 digits
        raise ConfigError("invalid TOML: a number too long to read", path=path) from None
    except RecursionError:
        raise ConfigError("invalid TOML: arrays or tables nested too deeply", path=path) from None
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
        raw_defaults = self.table(data, "defaults", "defaults")
        self.unknown(raw_defaults, "defaults", _SOURCE_DEFAULT_KEYS)
        defaults = self.settings(raw_defaults, "defaults")
        raw_sources = data.get("source", [])
        if not isinstance(raw_sources, list) or not all(isinstance(s, dict) for s in raw_sources):
            raise self.fail("source", "expected an array of tables ([[source]])")
        if not raw_sources:
            raise self.fail("source", "no sources configured; add at least one [[source]] table")
        if len(raw_sources) > LIST_MAX:
            raise self.fail("source", f"at most {LIST_MAX} sources, got {len(raw_sources)}")
        sources = tuple(
            self.source(raw, defaults, f"source[{i}]") for i, raw in enumerate(raw_sources)
        )
        names = [s.name for s in sources]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise self.fail(f"source[{i}].name", f"duplicate source name {name!r}")
        return Config(sources=sources, fetch=fetch, path=self.path)

    def fetch_settings(self, raw: Mapping[str, Any]) -> FetchSettings:
        self.unknown(raw, "fetch", set(FetchSettings.__dataclass_fields__))
        values: dict[str, Any] = {}
        for name in raw:
            key = f"fetch.{name}"
            if name == "user_agent":
                values[name] = self.user_agent(raw[name], key)
            elif name == "respect_robots":
                values[name] = self.flag(raw, name, "fetch")
            else:
                values[name] = self.number(raw[name], key, FETCH_LIMITS[name])
        return FetchSettings(**values)

    def settings(self, raw: Mapping[str, Any], key: str) -> dict[str, Any]:
        """The per-source settings present in ``raw`` (a source, or ``[defaults]``)."""
        values: dict[str, Any] = {}
        for name in sorted(_SOURCE_DEFAULT_KEYS & set(raw)):
            where = f"{key}.{name}"
            if name in SOURCE_LIMITS:
                values[name] = self.number(raw[name], where, SOURCE_LIMITS[name])
            elif name in _FLAGS:
                values[name] = self.flag(raw, name, key)
            elif name == "schedule":
                values[name] = self.schedule(raw[name], where)
            elif name == "timezone":
                values[name] = self.timezone(raw[name], where)
            else:
                values[name] = self.recheck(raw[name], where)
        return values

    def source(self, raw: Mapping[str, Any], defaults: Mapping[str, Any], key: str) -> Source:
        if "name" not in raw:
            raise self.fail(f"{key}.name", "missing; every source needs a name")
        name = self.text(raw["name"], f"{key}.name", limit=NAME_MAX)
        if not re.fullmatch(r"[\w.-]+", name):
            raise self.fail(f"{key}.name", f"{name!r} may only hold letters, digits, '.', '_', '-'")
        key = f"source.{name}"
        self.unknown(raw, key, _SOURCE_KEYS)
        urls = {
            k: self.urls(raw.get(k, []), f"{key}.{k}") for k in ("listings", "feeds", "sitemaps")
        }
        if not any(urls.values()):
            raise self.fail(key, "needs at least one of 'listings', 'feeds' or 'sitemaps'")
        values = {**defaults, **self.settings(raw, key)}
        timezone = values.pop("timezone", "UTC")
        links = self.table(raw, "links", f"{key}.links")
        self.unknown(links, f"{key}.links", {"selector", "pattern", "allow_domains", "next"})
        return Source(
            name=name,
            listings=urls["listings"],
            feeds=urls["feeds"],
            sitemaps=urls["sitemaps"],
            link_selector=self.optional(links, "selector", f"{key}.links.selector", self.selector),
            link_pattern=self.optional(links, "pattern", f"{key}.links.pattern", self.pattern),
            allow_domains=tuple(
                self.host(d, f"{key}.links.allow_domains[{i}]")
                for i, d in enumerate(
                    self.array(links.get("allow_domains", []), f"{key}.links.allow_domains")
                )
            ),
            next_selector=self.optional(links, "next", f"{key}.links.next", self.selector),
            rules=self.rules(self.table(raw, "rules", f"{key}.rules"), timezone, f"{key}.rules"),
            **values,
        )

    def rules(self, raw: Mapping[str, Any], timezone: str, key: str) -> SiteRules:
        self.unknown(raw, key, {"title", "published", "body", "exclude", "date_format"})
        return SiteRules(
            title=self.optional(raw, "title", f"{key}.title", self.selector),
            published=self.optional(raw, "published", f"{key}.published", self.selector),
            body=self.optional(raw, "body", f"{key}.body", self.selector),
            exclude=tuple(
                self.selector(s, f"{key}.exclude[{i}]")
                for i, s in enumerate(self.array(raw.get("exclude", []), f"{key}.exclude"))
            ),
            date_format=self.optional(raw, "date_format", f"{key}.date_format", self.text),
            timezone=timezone,
        )

    # -- one value each --------------------------------------------------------------------

    def schedule(self, value: Any, key: str) -> Schedule:
        text = self.text(value, key)
        try:
            return Schedule.parse(text)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None

    def timezone(self, value: Any, key: str) -> str:
        tz = self.text(value, key, limit=NAME_MAX)
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a folder
            raise self.fail(
                key, f"unknown time zone {tz!r} (expected e.g. 'Europe/Berlin')"
            ) from None
        return tz

    def recheck(self, value: Any, key: str) -> tuple[float, ...]:
        """Ages to re-fetch a stored article at: strictly increasing, 60 s to 366 days."""
        items = self.array(value, key, limit=RECHECK_ENTRIES, what="duration strings")
        ages: list[float] = []
        for i, item in enumerate(items):
            text = self.text(item, f"{key}[{i}]", limit=NAME_MAX)
            try:
                age = parse_duration(text, minimum=RECHECK_MIN, maximum=RECHECK_MAX)
            except ValueError as exc:
                raise self.fail(f"{key}[{i}]", f"{exc} (expected 60s to 366d)") from None
            if ages and age <= ages[-1]:
                raise self.fail(f"{key}[{i}]", f"{text!r} is not longer than the age before it")
            ages.append(age)
        return tuple(ages)

    def user_agent(self, value: Any, key: str) -> str:
        agent = self.text(value, key, limit=USER_AGENT_MAX)
        if not agent.isascii() or not agent.isprintable():
            raise self.fail(key, f"must be printable ASCII (no other letters), got {_show(agent)}")
        return agent

    def urls(self, value: Any, key: str) -> tuple[str, ...]:
        return tuple(self.url(item, f"{key}[{i}]") for i, item in enumerate(self.array(value, key)))

    def url(self, value: Any, key: str) -> str:
        """An absolute http(s) URL with a host, and a port (if any) from 1 to 65535."""
        url = self.text(value, key, limit=URL_MAX)
        expected = f"expected an absolute http(s) URL, got {_show(url)}"
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port
        except ValueError as exc:  # unbalanced IPv6 brackets, a port that is not a number...
            bad_port = "port" in str(exc).lower()
            why = _BAD_PORT if bad_port else "its [IPv6] address or brackets are invalid"
            raise self.fail(key, f"{expected}: {why}") from None
        if parts.scheme.lower() not in ("http", "https") or not host:
            raise self.fail(key, expected)
        if port is not None and not 1 <= port <= 65535:
            raise self.fail(key, f"{expected}: {_BAD_PORT}")
        if not _valid_host(host):
            raise self.fail(key, f"{expected}: {_show(host)} is not a host name or address")
        return url

    def host(self, value: Any, key: str) -> str:
        host = self.text(value, key, limit=HOST_MAX).lower()
        if not _valid_host(host):
            raise self.fail(key, f"expected a host name like 'news.example.com', got {_show(host)}")
        return host

    def selector(self, value: Any, key: str) -> str:
        css = self.text(value, key)
        from selectolax.lexbor import LexborHTMLParser

        try:
            LexborHTMLParser("<p></p>").css(css)
        except Exception as exc:  # selectolax raises several kinds for bad selectors
            raise self.fail(key, f"invalid CSS selector {_show(css)}: {_clip(str(exc))}") from None
        return css

    def pattern(self, value: Any, key: str) -> str:
        text = self.text(value, key)
        try:
            re.compile(text)
        except (re.error, OverflowError, RecursionError) as exc:
            reason = "nested too deeply" if isinstance(exc, RecursionError) else exc
            raise self.fail(key, f"invalid regular expression: {_clip(str(reason))}") from None
        return text

    # -- small typed accessors -------------------------------------------------------------

    def unknown(self, raw: Mapping[str, Any], key: str, allowed: set[str]) -> None:
        for name in raw:
            if name not in allowed:
                shown = name if re.fullmatch(r"[\w-]{1,60}", name) else _show(name)
                where = f"{key}.{shown}" if key else shown
                hint = ", ".join(sorted(allowed))
                raise self.fail(where, f"unknown key (expected one of: {hint})")

    def table(self, raw: Mapping[str, Any], name: str, key: str) -> Mapping[str, Any]:
        value = raw.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table, got {_kind(value)}")
        return value

    def array(
        self, value: Any, key: str, *, limit: int = LIST_MAX, what: str = "strings"
    ) -> list[Any]:
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list of {what}, got {_kind(value)}")
        if len(value) > limit:
            raise self.fail(key, f"expected at most {limit} {what}, got {len(value)}")
        return value

    def text(self, value: Any, key: str, *, limit: int = TEXT_MAX) -> str:
        """A non-empty string of at most ``limit`` characters, without control characters."""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected a non-empty string, got {_kind(value)}")
        if len(value) > limit:
            raise self.fail(key, f"expected at most {limit} characters, got {len(value)}")
        control = _CONTROL.search(value)
        if control:
            raise self.fail(
                key,
                f"control character {control.group()!r} at position {control.start()} "
                f"(line breaks and tabs included) in {_show(value)}",
            )
        return value.strip()

    def number(self, value: Any, key: str, limit: Limit) -> Any:
        """An int (or, for float keys, an int or float) that is finite and inside ``limit``."""
        kind, low, high = limit
        what = "an integer" if kind is int else "a number"
        expected = f"{what} from {_num(low)} to {_num(high)}"
        ok = isinstance(value, int) if kind is int else isinstance(value, int | float)
        if isinstance(value, bool) or not ok:
            raise self.fail(key, f"expected {what}, got {_kind(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(key, f"expected {expected} (finite), got {value}")
        if not low <= value <= high:
            raise self.fail(key, f"expected {expected}, got {_num(value)}")
        return kind(value)

    def flag(self, raw: Mapping[str, Any], name: str, key: str) -> bool:
        value = raw[name]
        if not isinstance(value, bool):
            raise self.fail(f"{key}.{name}", f"expected true or false, got {_kind(value)}")
        return value

    def optional(
        self, raw: Mapping[str, Any], name: str, key: str, convert: Callable[[Any, str], _T]
    ) -> _T | None:
        return convert(raw[name], key) if name in raw else None


def _valid_host(host: str) -> bool:
    if ":" in host:  # an IPv6 literal (urlsplit took off the brackets)
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return False
        return True
    return len(host) <= HOST_MAX and bool(_HOST.fullmatch(host)) and ".." not in host


def _num(value: float) -> str:
    """A bound or a number for a message: ``1000000``, ``0.001``, ``1e+308``, at most 40 chars."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        value = int(value)
    return _clip(str(value), 40)


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _show(text: str) -> str:
    """A string from the file, quoted, escaped (one line, whatever it holds) and clipped."""
    return _clip(repr(text), 80)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {_num(value)}"
    if isinstance(value, str):
        return f"string {_show(value)}" if value.strip() else "an empty string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__
