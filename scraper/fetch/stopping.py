"""Telling a fetcher to stop: every wait it is in (politeness, backoff) ends at once.

A run that is stopping gives the requests already in flight a grace period, but a request
still waiting for its turn (a host's 45-second ``delay``, a retry's backoff, a free
connection slot) must not hold the stop up: :class:`StopSignal` ends those waits with
:class:`~scraper.errors.Interrupted`, and no request starts after it is set.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from ..errors import Interrupted

Sleep = Callable[[float], Awaitable[None]]


class StopSignal:
    """Set once, from any thread; the waits of the loop it is bound to end at once."""

    def __init__(self) -> None:
        self._set = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: set[asyncio.Future[None]] = set()
        self._callbacks: list[Callable[[], None]] = []

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop whose waits :meth:`set` ends (called when the fetcher opens)."""
        self._loop = loop

    @property
    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        """Stop: end every wait now, and start no request from here on. Thread-safe."""
        if self._set:
            return
        self._set = True
        loop = self._loop
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or loop is running:
            self._wake()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._wake)

    def on_set(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` in the loop when the signal is set (to wake other waiters)."""
        self._callbacks.append(callback)

    def check(self, url: str, what: str = "request not started") -> None:
        """Raise :class:`Interrupted` once the signal is set."""
        if self._set:
            raise Interrupted(f"the run is stopping: {what}", url=url)

    async def sleep(self, sleep: Sleep, seconds: float, url: str, what: str) -> None:
        """``await sleep(seconds)``, or raise :class:`Interrupted` as soon as the signal is set.

        ``what`` names the wait in the error (``"politeness wait of 45 s"``).
        """
        self.check(url, f"{what} cut short")
        stopped = asyncio.get_running_loop().create_future()
        self._waiters.add(stopped)
        sleeper = asyncio.ensure_future(sleep(seconds))
        try:
            await asyncio.wait((sleeper, stopped), return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._waiters.discard(stopped)
            if not sleeper.done():
                sleeper.cancel()
        if self._set and sleeper.done() and not sleeper.cancelled():
            sleeper.exception()  # retrieved: the stop is what the caller hears about
        self.check(url, f"{what} cut short")
        sleeper.result()

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        for callback in self._callbacks:
            callback()
