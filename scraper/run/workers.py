"""CPU work off the event loop: parsing and extracting pages in worker threads.

lexbor parses without holding the GIL, and the rest of extraction yields it every few
milliseconds, so while a page is read in a worker thread the event loop keeps sending
requests on time.  At most ``threads`` pages are read at once, and each within a time
budget: past it the page is given up as :class:`~scraper.errors.TooComplex` (its thread
finishes in the background; the nesting check before parsing keeps that short).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, Self, TypeVar

from ..errors import TooComplex

T = TypeVar("T")

DEFAULT_THREADS = 2
DEFAULT_BUDGET = 30.0  # seconds one page may take to parse and extract


class PageWorkers:
    """A few worker threads for CPU work; use as a context manager."""

    def __init__(self, threads: int = DEFAULT_THREADS, budget: float = DEFAULT_BUDGET) -> None:
        if threads < 1 or budget <= 0:
            raise ValueError(f"threads must be >= 1 and budget > 0, got {threads}, {budget}")
        self.budget = budget
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="scraper-page")

    async def run(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker thread; :class:`TooComplex` past the budget."""
        future = asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.budget)
        except TimeoutError:
            raise TooComplex(f"{what}: reading took longer than {self.budget:g} s") from None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
