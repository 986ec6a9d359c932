"""A per-database lock so overlapping runs (cron, the scheduler) never crawl twice at once.

The lock is an advisory ``flock`` on ``<db>.lock`` beside the database: the kernel
releases it when the holder dies, even by ``kill -9``, so a stale lock cannot block
the next run.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from ..errors import LockHeld


class RunLock:
    """Hold ``<db>.lock`` for the duration of a ``with`` block.

    ``wait`` is how many seconds to wait for another holder (0: fail at once with
    :class:`LockHeld`).
    """

    def __init__(
        self,
        db_path: str | Path,
        *,
        wait: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.path = Path(f"{db_path}.lock")
        self.wait = wait
        self._clock = clock
        self._sleep = sleep
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = self._clock() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if self._clock() >= deadline:
                    holder = _read_holder(fd)
                    os.close(fd)
                    raise LockHeld(
                        f"{self.path}: another run{holder} is using this database; skipped"
                    ) from None
                self._sleep(min(0.5, max(0.01, deadline - self._clock())))
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""
