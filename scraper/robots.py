"""Politeness: robots.txt rules per origin (RFC 9309) and request spacing per host.

robots.txt is parsed with protego and cached for a fetcher's life. How an answer maps to rules:

* 2xx: parse the first :data:`ROBOTS_MAX_BYTES` of the body;
* 4xx other than 429, or a redirect chain that does not end: allow everything;
* 429, 5xx, timeouts and connection failures (after retries): *unreachable*, so
  everything on the origin counts as disallowed.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from protego import Protego

ROBOTS_MAX_BYTES = 500 * 1024
DEFAULT_HOST_DELAY = 1.0  # seconds between request starts to a host without a policy
DEFAULT_HOST_CONCURRENCY = 2


@dataclass(frozen=True)
class RobotsRules:
    """What robots.txt says for one origin."""

    url: str  # the robots.txt URL
    parser: Protego | None = None  # None: everything allowed
    unreachable: str | None = None  # why robots.txt could not be read: everything disallowed
    status: int | None = None
    recalled: str | None = None  # why a copy stored on an earlier run is used instead

    def allows(self, url: str, user_agent: str) -> bool:
        if self.unreachable is not None:
            return False
        return self.parser is None or bool(self.parser.can_fetch(url, user_agent))

    def crawl_delay(self, user_agent: str) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(user_agent)
        return float(delay) if delay is not None else None

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

    def recall(self, url: str) -> bytes | None: ...

    def remember(self, url: str, content: bytes) -> None: ...


def recalled_rules(rules: RobotsRules, memory: RobotsMemory | None) -> RobotsRules:
    """``rules`` unless robots.txt was unreachable and ``memory`` holds an earlier copy."""
    if rules.unreachable is None or memory is None:
        return rules
    content = memory.recall(rules.url)
    if content is None:
        return rules
    parsed = parse_robots(rules.url, content, 200)
    return RobotsRules(url=rules.url, parser=parsed.parser, status=200, recalled=rules.unreachable)


class RobotsCache:
    """Loads each origin's robots.txt once; concurrent callers wait for the same load."""

    def __init__(self, load: Callable[[str], Awaitable[RobotsRules]]) -> None:
        self._load = load
        self._rules: dict[str, RobotsRules] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def rules(self, url: str) -> RobotsRules:
        origin = origin_of(url)
        cached = self._rules.get(origin)
        if cached is not None:
            return cached
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            cached = self._rules.get(origin)
            if cached is None:
                cached = self._rules[origin] = await self._load(robots_url(url))
        self._locks.pop(origin, None)
        return cached


class _Host:
    """Politeness state of one host: a concurrency limit that may change, and the next start."""

    def __init__(self) -> None:
        self.delay = DEFAULT_HOST_DELAY
        self.crawl_delay = 0.0  # from robots.txt; a lower bound on the delay
        self.limit = DEFAULT_HOST_CONCURRENCY
        self.active = 0
        self.waiters: list[asyncio.Future[None]] = []
        self.start_lock = asyncio.Lock()
        self.last_start = float("-inf")  # clock() times
        self.hold_until = float("-inf")  # set by a Retry-After

    def spacing(self) -> float:
        return max(self.delay, self.crawl_delay)

    def next_start(self) -> float:
        return max(self.last_start + self.spacing(), self.hold_until)

    async def enter(self) -> None:
        while self.active >= self.limit:
            waiter = asyncio.get_running_loop().create_future()
            self.waiters.append(waiter)
            try:
                await waiter
            finally:
                self.waiters.remove(waiter)
        self.active += 1

    def leave(self) -> None:
        self.active -= 1
        self.wake()

    def wake(self) -> None:
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(None)


class HostSpacing:
    """Request-start spacing per host shared by several fetchers, on any threads.

    The scheduler runs each source's crawl on its own thread and event loop; two sources
    on one host would otherwise each keep their own delay and together exceed it.  Each
    request reserves its start time here, so starts to a host stay ``delay`` apart
    whichever fetcher makes them.  Times are ``time.monotonic()`` values.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def reserve(self, host: str, now: float, spacing: float, not_before: float) -> float:
        """The start time granted to one request to ``host``."""
        with self._lock:
            start = max(now, self._next.get(host, now), not_before)
            self._next[host] = start + spacing
            return start


class Politeness:
    """Per-host concurrency and spacing of request starts, under a global cap.

    Hosts are hostnames (lower-cased). Time comes from the injected ``clock``/``sleep``.
    """

    def __init__(
        self,
        concurrency: int,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        shared: HostSpacing | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"global concurrency must be >= 1, got {concurrency}")
        self._clock = clock
        self._sleep = sleep
        self._global = asyncio.Semaphore(concurrency)
        self._hosts: dict[str, _Host] = {}
        self._shared = shared

    def set_policy(self, host: str, *, delay: float, concurrency: int) -> None:
        if delay < 0 or concurrency < 1:
            raise ValueError(f"{host}: delay must be >= 0 and concurrency >= 1")
        state = self._host(host)
        state.delay = delay
        state.limit = concurrency
        state.wake()

    def set_crawl_delay(self, host: str, delay: float) -> None:
        self._host(host).crawl_delay = delay

    def hold(self, host: str, seconds: float) -> None:
        """Start no request to ``host`` for ``seconds`` (the server sent Retry-After)."""
        state = self._host(host)
        state.hold_until = max(state.hold_until, self._clock() + seconds)

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold a per-host and a global slot, starting no sooner than the host's spacing allows."""
        state = self._host(host)
        await state.enter()
        try:
            async with state.start_lock:
                await self._wait_turn(host, state)
                await self._global.acquire()
                state.last_start = self._clock()
            try:
                yield
            finally:
                self._global.release()
        finally:
            state.leave()

    async def _wait_turn(self, host: str, state: _Host) -> None:
        """Sleep until this host may get its next request start."""
        if self._shared is None:
            while (wait := state.next_start() - self._clock()) > 0:
                await self._sleep(wait)
            return
        start = self._shared.reserve(
            host.lower(), self._clock(), state.spacing(), state.next_start()
        )
        if (wait := start - self._clock()) > 0:
            await self._sleep(wait)

    def _host(self, host: str) -> _Host:
        key = host.lower()
        if key not in self._hosts:
            self._hosts[key] = _Host()
        return self._hosts[key]
