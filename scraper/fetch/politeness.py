"""Politeness: per-host concurrency and spacing of request starts, under a global cap.

Request starts to one host are spaced by the host's delay (or its robots.txt
Crawl-delay, whichever is longer) and held back after a Retry-After.  A
:class:`HostSpacing` shared by several fetchers keeps the spacing across all of them.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

DEFAULT_HOST_DELAY = 1.0  # seconds between request starts to a host without a policy
DEFAULT_HOST_CONCURRENCY = 2


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
