"""The per-database run lock: one holder at a time, released even when the holder is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scraper.errors import EXIT_FAILED, EXIT_LOCKED, LockHeld, StoreError
from scraper.run.lock import RunLock


def test_second_holder_is_refused_then_admitted(tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    with RunLock(db):
        with pytest.raises(LockHeld) as info:
            RunLock(db).acquire()
        assert "news.db.lock" in str(info.value)
        assert f"pid {os.getpid()}" in str(info.value)
        assert info.value.exit_code == EXIT_LOCKED
    with RunLock(db) as lock:  # released on exit
        assert lock.path.exists()


def test_wait_polls_until_deadline_with_injected_clock(tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    with RunLock(db), pytest.raises(LockHeld):
        RunLock(db, wait=2.0, clock=lambda: now[0], sleep=sleep).acquire()
    assert sum(sleeps) >= 2.0
    assert all(s <= 0.5 for s in sleeps)


def test_lock_of_a_killed_holder_is_free(tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    code = (
        "import sys, time; from scraper.run.lock import RunLock\n"
        f"l = RunLock({str(db)!r}); l.acquire(); print('locked', flush=True); time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(LockHeld):
            RunLock(db).acquire()
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        deadline = time.monotonic() + 5
        while True:
            try:
                with RunLock(db):
                    break
            except LockHeld:
                assert time.monotonic() < deadline, "lock not released after kill -9"
                time.sleep(0.05)
    finally:
        child.kill()
        child.wait()
        if child.stdout:
            child.stdout.close()


def test_lock_beside_a_file_used_as_folder_names_it(tmp_path: Path) -> None:
    blocker = tmp_path / "srv"
    blocker.write_text("a file where the database's folder should be")
    for db in (blocker / "news.db", blocker / "deeper" / "news.db"):
        with pytest.raises(StoreError) as info:
            RunLock(db).acquire()
        assert str(info.value) == (
            f"{db}.lock: cannot create the folder {db.parent} for it: "
            f"{blocker} is a file, not a folder"
        )
        assert info.value.exit_code == EXIT_FAILED


def test_lock_that_cannot_be_created_says_why(tmp_path: Path) -> None:
    db = Path("/proc/newsscraper-lock-test.db")  # creating files in /proc fails for root too
    if not Path("/proc").is_dir():
        pytest.skip("no /proc here")
    with pytest.raises(StoreError) as info:
        RunLock(db).acquire()
    assert str(info.value) == (
        f"{db}.lock: cannot create or open the run lock file: no such file or directory"
    )


def test_lock_taken_after_a_failed_attempt(tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    with RunLock(db), pytest.raises(LockHeld):
        RunLock(db).acquire()
    lock = RunLock(db)
    lock.acquire()  # the refused attempt closed its descriptor and left the lock free
    lock.release()
