"""The database's files: clear errors when they cannot be made, and damage never used silently.

Tests run as root, for whom permission bits do not stop anything, so "cannot write here"
is made real by paths that fail for root too: a regular file where a folder should be,
and paths under ``/proc`` and ``/sys``.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from helpers import run_cli

from scraper.errors import EXIT_FAILED, StoreError
from scraper.store import open_store
from scraper.store.sqlite_schema import _not_closed_cleanly, open_database

CONFIG = '[[source]]\nname = "s"\nlistings = ["http://127.0.0.1:9/news/"]\n'


def _uncreatable(path: Path) -> bool:
    """Whether creating ``path`` really fails here (as root too)."""
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o644))
    except OSError:
        return True
    os.unlink(path)
    return False


# -- files that cannot be created -----------------------------------------------------------


@pytest.mark.parametrize("below", ["news.db", "sub/news.db"])
def test_parent_path_that_is_a_file_names_it(tmp_path: Path, below: str) -> None:
    blocker = tmp_path / "folder"
    blocker.write_text("not a folder")
    path = blocker / below
    with pytest.raises(StoreError) as info:
        open_store(path)
    message = str(info.value)
    assert message.startswith(f"{path}: cannot create the folder {path.parent} for it: ")
    assert message.endswith(f"{blocker} is a file, not a folder")
    assert info.value.exit_code == EXIT_FAILED
    assert blocker.read_text() == "not a folder"


@pytest.mark.parametrize(
    ("path", "why"),
    [("/proc/newsscraper-test.db", "no such file"), ("/sys/newsscraper-test.db", "denied")],
)
def test_database_that_cannot_be_created_says_why(path: str, why: str) -> None:
    if not Path(path).parent.is_dir() or not _uncreatable(Path(path)):
        pytest.skip(f"{path} can be created on this machine")
    with pytest.raises(StoreError) as info:
        open_store(path)
    assert str(info.value).startswith(f"{path}: cannot create the database file: ")
    assert why in str(info.value).lower()


def test_cli_run_with_unusable_db_path_is_one_line_exit_3(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(CONFIG)
    (tmp_path / "db").write_text("a file")
    db = tmp_path / "db" / "news.db"
    done = run_cli("run", "--config", str(config), "--db", str(db))
    assert done.returncode == 3
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"Error: {db}.lock: cannot create the folder {tmp_path / 'db'}")
    assert line.endswith("is a file, not a folder") and "internal error" not in line


def test_cli_run_with_db_in_proc_is_one_line_exit_3(tmp_path: Path) -> None:
    if not Path("/proc").is_dir() or not _uncreatable(Path("/proc/newsscraper-test.db.lock")):
        pytest.skip("/proc is writable here")
    config = tmp_path / "c.toml"
    config.write_text(CONFIG)
    done = run_cli("run", "--config", str(config), "--db", "/proc/newsscraper-test.db")
    assert done.returncode == 3
    assert done.stderr.splitlines() == [
        "Error: /proc/newsscraper-test.db.lock: cannot create or open the run lock file: "
        "no such file or directory"
    ]


def test_cli_db_directory_is_one_line_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(CONFIG)
    done = run_cli("run", "--config", str(config), "--db", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"Error: {tmp_path}: is a directory, not a database file"]


# -- damaged databases ------------------------------------------------------------------------


def make_database(path: Path, rows: int = 3000) -> None:
    """A store with an extra indexed table of ``rows`` rows, closed cleanly."""
    db = open_database(path)
    with db.conn:
        db.execute("CREATE TABLE probe (id INTEGER PRIMARY KEY, word TEXT)")
        db.execute("CREATE INDEX probe_word ON probe (word)")
        db.conn.executemany(
            "INSERT INTO probe (word) VALUES (?)", [(f"word number {i:06d}",) for i in range(rows)]
        )
    db.conn.close()
    assert not Path(f"{path}-wal").exists()  # a clean close removes the WAL


def damage_index(path: Path, name: str = "probe_word") -> None:
    """Overwrite the root page of index ``name``; the header and schema stay valid."""
    with closing(sqlite3.connect(path)) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (name,))
    data = bytearray(path.read_bytes())
    start = (root[0] - 1) * page_size
    assert start > 0
    data[start : start + page_size] = b"\xff" * page_size
    path.write_bytes(bytes(data))


def crash_while_open(path: Path) -> None:
    """A process opens the database, reads, and dies without closing it (like kill -9)."""
    code = (
        "import os, sqlite3, sys\n"
        "conn = sqlite3.connect(sys.argv[1])\n"
        "conn.execute('SELECT count(*) FROM sqlite_master').fetchall()\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=30)
    assert Path(f"{path}-wal").exists()


def test_damaged_database_left_open_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "news.db"
    make_database(path)
    damage_index(path)
    crash_while_open(path)
    before = path.read_bytes()
    with pytest.raises(StoreError) as info:
        open_store(path)
    message = str(info.value)
    assert message.startswith(f"{path}: the database is damaged")
    assert "not closed cleanly" in message and ".recover" in message and "backup" in message
    assert len(message.splitlines()) == 1
    assert info.value.exit_code == EXIT_FAILED
    assert path.read_bytes() == before  # not migrated, not written


def test_cli_run_on_a_damaged_database_exits_3_with_one_line(tmp_path: Path) -> None:
    path, config = tmp_path / "news.db", tmp_path / "c.toml"
    config.write_text(CONFIG)
    make_database(path)
    damage_index(path)
    crash_while_open(path)
    done = run_cli("run", "--config", str(config), "--db", str(path))
    assert done.returncode == 3
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"Error: {path}: the database is damaged") and "sqlite3" in line


def test_healthy_database_left_open_is_checked_and_used(tmp_path: Path) -> None:
    path = tmp_path / "news.db"
    make_database(path)
    crash_while_open(path)
    assert _not_closed_cleanly(path)
    db = open_database(path)
    try:
        assert db.execute("SELECT count(*) FROM probe").fetchone()[0] == 3000
    finally:
        db.conn.close()
    assert not _not_closed_cleanly(path)


def test_clean_close_and_open_connections_are_not_taken_for_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "news.db"
    make_database(path, rows=10)
    assert not _not_closed_cleanly(path)  # no -wal after a clean close
    db = open_database(path)  # this process has it open: the -wal exists, but in use
    try:
        assert Path(f"{path}-wal").exists()
        assert not _not_closed_cleanly(path)
        second = open_database(path)  # a second connection (the scheduler's jobs) opens fine
        second.conn.close()
    finally:
        db.conn.close()
    code = (
        "import sqlite3, sys\n"
        "conn = sqlite3.connect(sys.argv[1])\n"
        "conn.execute('SELECT count(*) FROM probe').fetchall()\n"
        "print('open', flush=True)\n"
        "sys.stdin.readline()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "open"
        assert Path(f"{path}-wal").exists()
        assert not _not_closed_cleanly(path)  # another process has it open: no crash
    finally:
        child.kill()
        child.wait(timeout=30)
        for stream in (child.stdin, child.stdout):
            if stream:
                stream.close()
    assert _not_closed_cleanly(path)  # it died with the database open


def test_wiped_schema_page_gets_the_recovery_hint(tmp_path: Path) -> None:
    path = tmp_path / "news.db"
    make_database(path, rows=10)
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as info:
        open_store(path)
    assert str(info.value).startswith(f"{path}: ")
    assert ".recover" in str(info.value)
