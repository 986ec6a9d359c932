"""robots.txt rules per origin (RFC 9309), loaded once per fetcher and remembered across runs.

robots.txt is parsed with protego and cached for a fetcher's life. How an answer maps to rules:

* 2xx: parse the first :data:`ROBOTS_MAX_BYTES` of the body;
* 4xx other than 429, or a redirect chain that does not end: allow everything;
* 429, 5xx, timeouts and connection failures (after retries): *unreachable*, so
  everything on the origin counts as disallowed;
* a fetch the address policy refused (robots.txt on, or redirected to, an internal
  address): unreachable too, never "allow everything", and never replaced by a copy from
  an earlier run.

Those answers, and any read through another host at an internal address that the loading
source trusts, depend on the source's address policy, so they are cached for that policy
only (and not remembered across runs).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urljoin, urlsplit

from protego import Protego

from ..errors import AddressRefused
from .addresses import AddressPolicy

ROBOTS_MAX_BYTES = 500 * 1024


@dataclass(frozen=True)
class RobotsRules:
    """What robots.txt says for one origin."""

    url: str  # the robots.txt URL
    parser: Protego | None = None  # None: everything allowed
    unreachable: str | None = None  # why robots.txt could not be read: everything disallowed
    status: int | None = None
    recalled: str | None = None  # why a copy stored on an earlier run is used instead
    refused: AddressRefused | None = None  # the address policy refused a hop of the fetch
    scoped: bool = False  # depends on the policy that loaded it (refused, or read inside)

    def allows(self, url: str, user_agent: str) -> bool:
        if self.unreachable is not None:
            return False
        return self.parser is None or bool(self.parser.can_fetch(url, user_agent))

    def crawl_delay(self, user_agent: str) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(user_agent)
        return float(delay) if delay is not None else None

    def sitemaps(self) -> tuple[str, ...]:
        """The absolute http(s) URLs of its ``Sitemap:`` lines, each once, in order."""
        if self.parser is None:
            return ()
        urls = (urljoin(self.url, u.strip()) for u in self.parser.sitemaps)
        return tuple(dict.fromkeys(u for u in urls if urlsplit(u).scheme in ("http", "https")))

    def describe(self) -> str:
        """One line for the fetch log."""
        if self.unreachable is not None:
            return f"robots.txt unreachable, everything disallowed: {self.unreachable}"
        if self.recalled is not None:
            return f"robots.txt unreachable ({self.recalled}); using the copy from an earlier run"
        if self.parser is None:
            answer = f" (HTTP {self.status})" if self.status is not None else ""
            return f"no usable robots.txt{answer}, everything allowed"
        return f"robots.txt parsed (HTTP {self.status})"


def origin_of(url: str) -> str:
    """``scheme://host:port`` of a URL: the scope one robots.txt applies to."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return f"{parts.scheme}://{netloc}/robots.txt"


def parse_robots(url: str, content: bytes, status: int) -> RobotsRules:
    text = content.decode("utf-8", errors="replace")
    return RobotsRules(url=url, parser=Protego.parse(text), status=status)


def rules_for_status(url: str, status: int | None, reason: str) -> RobotsRules:
    """Rules when robots.txt answered with an error status (after retries)."""
    if status is not None and 400 <= status < 500 and status != 429:
        return RobotsRules(url=url, status=status)
    return RobotsRules(url=url, unreachable=reason, status=status)


class RobotsMemory(Protocol):
    """Keeps the last robots.txt read from each URL across runs (the store implements it).

    RFC 9309 lets a crawler keep using a cached robots.txt while the live one is
    unreachable, instead of treating the whole site as disallowed.
    """

    def recall_robots(self, url: str) -> bytes | None: ...

    def remember_robots(self, url: str, content: bytes) -> None: ...


def refused_rules(url: str, refusal: AddressRefused) -> RobotsRules:
    """Rules when the address policy refused to fetch robots.txt (or a hop of its redirects)."""
    return RobotsRules(url=url, unreachable=refusal.reason, refused=refusal, scoped=True)


def recalled_rules(rules: RobotsRules, memory: RobotsMemory | None) -> RobotsRules:
    """``rules`` unless robots.txt was unreachable and ``memory`` holds an earlier copy."""
    if rules.unreachable is None or memory is None:
        return rules
    content = memory.recall_robots(rules.url)
    if content is None:
        return rules
    parsed = parse_robots(rules.url, content, 200)
    return RobotsRules(url=rules.url, parser=parsed.parser, status=200, recalled=rules.unreachable)


class RobotsCache:
    """Loads each origin's robots.txt once; concurrent callers wait for the same load.

    The caller's address policy loads robots.txt; a ``scoped`` answer (refused, or read
    from an internal address the policy trusts) is kept for that policy only and comes
    first for it, every other answer is kept for all of them.
    """

    def __init__(self, load: Callable[[str, AddressPolicy], Awaitable[RobotsRules]]) -> None:
        self._load = load
        self._rules: dict[str, RobotsRules] = {}
        self._scoped: dict[tuple[str, AddressPolicy], RobotsRules] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def rules(self, url: str, policy: AddressPolicy) -> RobotsRules:
        origin = origin_of(url)
        cached = self._cached(origin, policy)
        if cached is not None:
            return cached
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            cached = self._cached(origin, policy)
            if cached is None:
                cached = await self._load(robots_url(url), policy)
                if cached.scoped:
                    self._scoped[origin, policy] = cached
                else:
                    self._rules[origin] = cached
        self._locks.pop(origin, None)
        return cached

    def _cached(self, origin: str, policy: AddressPolicy) -> RobotsRules | None:
        return self._scoped.get((origin, policy)) or self._rules.get(origin)
