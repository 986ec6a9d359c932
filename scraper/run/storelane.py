"""The crawl's store calls, one at a time on one thread of their own.

Saving an article costs milliseconds of fingerprinting and SQLite work; on the event
loop that would delay every host's next request.  A crawl therefore makes each store
call through its :class:`StoreLane`: one worker thread, so writes never interleave and
each article is still one transaction (a kill leaves the database as it was before or
after it).  A call whose awaiting task is cancelled (a stop past its grace) still runs
to its end on the lane; :meth:`close` waits for it before the store is used elsewhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from ..store import Store

__all__ = ["LaneRobots", "StoreLane"]

T = TypeVar("T")


class StoreLane:
    """Runs store calls off the event loop, one after the other."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scraper-store")

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` (a method of :attr:`store`) on the lane's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, partial(fn, *args, **kwargs))

    def wait(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the lane's thread, waited for here (for the few callers that
        cannot await: the fetcher's robots.txt memory)."""
        return self._pool.submit(fn, *args).result()

    def close(self) -> None:
        """Wait for the call in progress (never cut a write short), then stop the thread."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class LaneRobots:
    """The store's robots.txt memory (:class:`~scraper.fetch.RobotsMemory`) on the lane."""

    def __init__(self, lane: StoreLane) -> None:
        self.lane = lane

    def recall_robots(self, url: str) -> bytes | None:
        return self.lane.wait(self.lane.store.recall_robots, url)

    def remember_robots(self, url: str, content: bytes) -> None:
        self.lane.wait(self.lane.store.remember_robots, url, content)
