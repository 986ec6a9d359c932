"""Politeness: per-host concurrency and spacing of request starts, under a global cap.

Request starts to one host are spaced by the host's delay (or its robots.txt
Crawl-delay, whichever is longer) and held back after a Retry-After.  A
:class:`HostSpacing` shared by several fetchers keeps the spacing across all of them.
Every wait here ends at once when the fetcher's :class:`~.stopping.StopSignal` is set.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from .stopping import StopSignal

DEFAULT_HOST_DELAY = 1.0  # seconds between request starts to a host without a policy
DEFAULT_HOST_CONCURRENCY = 2


class _Slots:
    """A counting limit that may change, whose waiters a stop wakes (unlike a Semaphore)."""

    def __init__(self, limit: int, stop: StopSignal) -> None:
        self.limit = limit
        self.active = 0
        self.waiters: list[asyncio.Future[None]] = []
        self._stop = stop

    async def enter(self, url: str, what: str) -> None:
        while self.active >= self.limit:
            self._stop.check(url, f"{what} cut short")
            waiter = asyncio.get_running_loop().create_future()
            self.waiters.append(waiter)
            try:
                await waiter
            finally:
                self.waiters.remove(waiter)
        self._stop.check(url, f"{what} cut short")
        self.active += 1

    def leave(self) -> None:
        self.active -= 1
        self.wake()

    def wake(self) -> None:
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(None)


class _Host:
    """Politeness state of one host: a concurrency limit that may change, and the next start."""

    def __init__(self, stop: StopSignal) -> None:
        self.delay = DEFAULT_HOST_DELAY
        self.crawl_delay = 0.0  # from robots.txt; a lower bound on the delay
        self.slots = _Slots(DEFAULT_HOST_CONCURRENCY, stop)
        self.start_lock = asyncio.Lock()
        self.last_start = float("-inf")  # clock() times: the last start granted ...
        self.last_sent = float("-inf")  # ... and the last request that actually went out
        self.hold_until = float("-inf")  # set by a Retry-After

    def spacing(self) -> float:
        return max(self.delay, self.crawl_delay)

    def next_start(self) -> float:
        """When the next request may start: ``spacing`` after the last start granted and
        after the last request that actually went out (which may have left late)."""
        return max(max(self.last_start, self.last_sent) + self.spacing(), self.hold_until)


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
        self._sent: dict[str, float] = {}

    def reserve(self, host: str, now: float, spacing: float, not_before: float) -> float:
        """The start time granted to one request to ``host``."""
        with self._lock:
            start = max(now, self._next.get(host, now), not_before)
            self._next[host] = start + spacing
            return start

    def sent(self, host: str, at: float) -> None:
        """A request to ``host`` went out at ``at``."""
        with self._lock:
            self._sent[host] = max(self._sent.get(host, at), at)

    def last_sent(self, host: str) -> float:
        with self._lock:
            return self._sent.get(host, float("-inf"))


class Politeness:
    """Per-host concurrency and spacing of request starts, under a global cap.

    Hosts are hostnames (lower-cased). Time comes from the injected ``clock``/``sleep``.
    Once ``stop`` is set every wait here ends with :class:`~scraper.errors.Interrupted`.
    """

    def __init__(
        self,
        concurrency: int,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        shared: HostSpacing | None = None,
        stop: StopSignal | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"global concurrency must be >= 1, got {concurrency}")
        self._clock = clock
        self._sleep = sleep
        self._stop = stop or StopSignal()
        self._global = _Slots(concurrency, self._stop)
        self._hosts: dict[str, _Host] = {}
        self._shared = shared
        self._stop.on_set(self._wake_all)

    def set_policy(self, host: str, *, delay: float, concurrency: int) -> None:
        if delay < 0 or concurrency < 1:
            raise ValueError(f"{host}: delay must be >= 0 and concurrency >= 1")
        state = self._host(host)
        state.delay = delay
        state.slots.limit = concurrency
        state.slots.wake()

    def set_crawl_delay(self, host: str, delay: float) -> None:
        self._host(host).crawl_delay = delay

    def hold(self, host: str, seconds: float) -> None:
        """Start no request to ``host`` for ``seconds`` (the server sent Retry-After)."""
        state = self._host(host)
        state.hold_until = max(state.hold_until, self._clock() + seconds)

    def sent(self, host: str) -> None:
        """A request to ``host`` is going out now (called as late as possible before its
        bytes are written): the host's next start is spaced from this moment, so a request
        that left late, because the process was busy, still gets its full delay after it."""
        state = self._host(host)
        now = self._clock()
        state.last_sent = max(state.last_sent, now)
        if self._shared is not None:
            self._shared.sent(host.lower(), now)

    @asynccontextmanager
    async def slot(self, host: str, url: str) -> AsyncIterator[None]:
        """Hold a per-host and a global slot, starting no sooner than the host's spacing allows.

        ``url`` (the request's) names the request in an :class:`~scraper.errors.Interrupted`.
        """
        state = self._host(host)
        await state.slots.enter(url, f"wait for a free connection to {host}")
        try:
            async with state.start_lock:
                await self._wait_turn(host, state, url)
                await self._global.enter(url, "wait for a free connection")
                state.last_start = self._clock()
            try:
                yield
            finally:
                self._global.leave()
        finally:
            state.slots.leave()

    async def _wait_turn(self, host: str, state: _Host, url: str) -> None:
        """Sleep until this host may get its next request start."""
        if self._shared is None:
            while (wait := state.next_start() - self._clock()) > 0:
                await self._pause(wait, host, url)
            return
        start = self._shared.reserve(
            host.lower(), self._clock(), state.spacing(), state.next_start()
        )
        if (wait := start - self._clock()) > 0:
            await self._pause(wait, host, url)
        # A request granted earlier may have gone out late (a busy process): wait from then.
        while (wait := self._shared.last_sent(host.lower()) + state.spacing() - self._clock()) > 0:
            await self._pause(wait, host, url)

    async def _pause(self, wait: float, host: str, url: str) -> None:
        what = f"politeness wait of {wait:g} s for {host}"
        await self._stop.sleep(self._sleep, wait, url, what)

    def _wake_all(self) -> None:
        self._global.wake()
        for state in self._hosts.values():
            state.slots.wake()

    def _host(self, host: str) -> _Host:
        key = host.lower()
        if key not in self._hosts:
            self._hosts[key] = _Host(self._stop)
        return self._hosts[key]
