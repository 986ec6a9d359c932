"""Bounded work per page: a hostile page cannot stall a run, and a stop is prompt."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from faultserver import FaultServer
from helpers import article_html, listing_html, write_config

from scraper import load_config, run
from scraper.errors import TooComplex
from scraper.extract.gate import MAX_DEPTH, nesting_depth
from scraper.run.workers import PageWorkers

GOOD = "/news/2026/01/harbour-story-number-1"
DEEP = "/news/2026/01/harbour-story-number-2"


@pytest.mark.parametrize(
    ("markup", "depth"),
    [
        (b"<html><body><div><p>one</p><p>two</div></body></html>", 3),
        (b"<ul>" + b"<li>item" * 5000 + b"</ul>", 1),  # implied end tags do not nest
        (b"<div>" * 50 + b"<br><img src=x><hr/>" + b"</div>" * 50, 50),
        (b"<script>var s = '<div><div><div>';</script><div></div>", 1),
        (b"<!-- <div><div> --><section><div></div></section>", 2),
        (b"<div>" * (MAX_DEPTH * 10), MAX_DEPTH + 1),  # counting stops past the limit
    ],
)
def test_nesting_depth_is_read_from_the_tags(markup: bytes, depth: int) -> None:
    assert nesting_depth(markup) == depth


def test_a_page_past_its_time_budget_is_too_complex() -> None:
    async def go() -> None:
        with PageWorkers(threads=1, budget=0.05) as workers:
            assert await workers.run("quick", sum, [1, 2]) == 3
            with pytest.raises(TooComplex, match="slow: reading took longer than 0.05 s"):
                await workers.run("slow", time.sleep, 0.5)

    asyncio.run(go())


def test_a_deeply_nested_page_is_refused_and_the_run_goes_on(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    fault_server.page("/news/", listing_html([DEEP, GOOD]).encode())
    deep = b"<html><head><title>Deep</title></head><body>" + b"<div>" * 50_000 + b"x"
    fault_server.page(DEEP, deep)
    fault_server.page(GOOD, article_html("Story 1", "2026-01-01T10:00:00+00:00").encode())
    db = tmp_path / "n.db"
    report = run(load_config(write_config(tmp_path / "c.toml", fault_server.base)), db)
    assert report.totals()["new"] == 1 and report.totals()["failed"] == 1
    with sqlite3.connect(db) as conn:
        refused = conn.execute(
            "select outcome, error_kind from fetches where url like '%number-2'"
        ).fetchall()
        assert refused == [("rejected", "too-complex")]
        assert conn.execute("select title from articles").fetchall() == [("Story 1",)]


def test_sigterm_during_a_long_politeness_wait_exits_at_once(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    """A real process: with delay = 45 the next request waits 45 s; SIGTERM ends that."""
    paths = [f"/news/2026/01/harbour-story-number-{n}" for n in range(1, 4)]
    fault_server.page("/news/", listing_html(paths).encode())
    for n, path in enumerate(paths, start=1):
        fault_server.page(path, article_html(f"Story {n}", "2026-01-01T10:00:00+00:00").encode())
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[[source]]\nname = "site"\nlistings = ["{fault_server.base}/news/"]\n'
        "delay = 45\nconcurrency = 1\n",
        encoding="utf-8",
    )
    db = tmp_path / "n.db"
    args = [sys.executable, "-m", "scraper", "run", "--config", str(cfg), "--db", str(db)]
    child = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and fault_server.hits["/robots.txt"] < 1:
            time.sleep(0.02)
        time.sleep(0.3)  # robots.txt read: now waiting out the 45 s delay before the listing
        stopped_at = time.monotonic()
        child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate(timeout=20)
        took = time.monotonic() - stopped_at
    finally:
        child.kill()
    assert child.returncode == 130, stderr
    assert fault_server.hits["/news/"] == 0  # the waiting request was never sent
    assert took < 10  # not the 30 s grace, nor the 45 s delay
    assert "Traceback" not in stderr and "CancelledError" not in stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("select status from runs").fetchall() == [("interrupted",)]
        statuses = conn.execute("select status from source_runs").fetchall()
        assert statuses == [("interrupted",)]


def test_the_delay_holds_at_the_site_while_the_process_is_busy(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    """Arrival times logged by the server, per host: no two requests to one host closer
    than the delay, even when the event loop is held up (here by another source's slow
    progress display) between a request's turn and its sending."""
    from faultserver import Conn, Request

    from scraper.run.pipeline import RunOptions

    delay = 0.3
    arrivals: list[tuple[str, float]] = []

    def logged(body: bytes) -> object:
        def handle(req: Request, conn: Conn) -> None:
            arrivals.append((req.headers.get("host", "").split(":")[0], time.monotonic()))
            conn.respond(200, body, {"Content-Type": "text/html; charset=utf-8"})

        return handle

    sources = ""
    for name, host in (("a", "127.0.0.1"), ("b", "localhost")):
        paths = [f"/{name}/2026/01/harbour-story-number-{n}" for n in range(1, 6)]
        fault_server.route(f"/{name}/", logged(listing_html(paths).encode()))  # type: ignore[arg-type]
        for n, path in enumerate(paths, start=1):
            page = article_html(f"Story {name}{n}", "2026-01-01T10:00:00+00:00").encode()
            fault_server.route(path, logged(page))  # type: ignore[arg-type]
        base = fault_server.base.replace("127.0.0.1", host)
        sources += (
            f'[[source]]\nname = "{name}"\nlistings = ["{base}/{name}/"]\n'
            f"delay = {delay}\nconcurrency = 1\nfollow_links = false\n"
        )
    cfg = tmp_path / "c.toml"
    cfg.write_text(sources, encoding="utf-8")

    def busy(event: object) -> None:
        time.sleep(0.2)  # a slow progress display: it blocks the event loop

    report = run(load_config(cfg), tmp_path / "n.db", RunOptions(progress=busy))
    assert report.totals()["new"] == 10, report.summary()
    for host in ("127.0.0.1", "localhost"):
        times = sorted(t for h, t in arrivals if h == host)
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert len(gaps) == 5 and min(gaps) >= delay - 0.02, (host, gaps)
