"""A per-database lock so overlapping runs (cron, the scheduler) never crawl twice at once.

The lock is an advisory ``flock`` on ``<db>.lock`` beside the database: the kernel
releases it when the holder dies, even by ``kill -9``, so a stale lock cannot block
the next run.

Creating the lock can fail like any file operation (a file where the database's folder
should be, a read-only or full file system, no permission); that is a
:class:`~scraper.errors.StoreError` naming the lock file and what was attempted, never a
bare ``OSError``.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from ..errors import LockHeld, StoreError


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
        """Take the lock, waiting up to ``wait`` seconds; LockHeld or StoreError if not."""
        fd = self._open()
        deadline = self._clock() + self.wait
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if self._clock() >= deadline:
                        raise LockHeld(
                            f"{self.path}: another run{_read_holder(fd)} is using this "
                            "database; skipped"
                        ) from None
                    self._sleep(min(0.5, max(0.01, deadline - self._clock())))
                except OSError as exc:  # e.g. ENOLCK: a file system without locks
                    raise self._error("cannot lock the run lock file", exc) from exc
            try:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
            except OSError as exc:  # a full disk
                raise self._error("cannot write the run lock file", exc) from exc
        except BaseException:
            os.close(fd)  # closing also releases a lock taken above
            raise
        self._fd = fd

    def _open(self) -> int:
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._error(f"cannot create the folder {folder} for it", exc) from exc
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise self._error("cannot create or open the run lock file", exc) from exc

    def _error(self, action: str, exc: OSError) -> StoreError:
        return StoreError(f"{action}: {describe_os_error(exc)}", path=str(self.path))

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


def describe_os_error(exc: OSError) -> str:
    """Why a file operation failed, in words: ``a file is in the way: /srv/db`` and so on."""
    if isinstance(exc, FileExistsError | NotADirectoryError) and exc.filename:
        blocking = _first_existing(Path(os.fsdecode(exc.filename)))
        if blocking is not None and not blocking.is_dir():
            return f"{blocking} is a file, not a folder"
    reason = exc.strerror or type(exc).__name__
    return reason[:1].lower() + reason[1:]


def _first_existing(path: Path) -> Path | None:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return None
