"""End to end: a configured source on a real 127.0.0.1 server through to SQLite rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import faultserver as fs
import pytest
from faultserver import FaultServer
from helpers import article_html, listing_html, slow_site, write_config

from scraper import load_config, run
from scraper.demo import DemoServer, check_rows, config, expectations
from scraper.store import SQLiteStore


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(sql))


def test_demo_site_stored_once_with_right_fields_and_rerun_adds_nothing(tmp_path: Path) -> None:
    db = tmp_path / "db" / "demo.db"
    with DemoServer() as server:
        first = run(config(server.base_url), db)
        second = run(config(server.base_url), db)
    assert first.status == "ok", first.summary()
    with SQLiteStore(db) as store:
        stored = store.articles(limit=100)
    assert check_rows(expectations(), stored) == []
    assert len(stored) == len(expectations().articles)
    assert second.totals()["new"] == 0
    assert rows(db, "select count(*) from articles") == [(len(stored),)]
    # the listing links one article with utm_* parameters too: one row, both URLs known
    aliases = rows(db, "select count(*) from article_urls where url like '%utm_%'")
    assert aliases == [(0,)], "tracking parameters are normalized away"
    statuses = rows(db, "select status from runs order by id")
    assert statuses == [("ok",), ("ok",)]


def test_listing_with_duplicate_and_tracking_links_stores_each_article_once(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    base = fault_server.base
    a, b, c = (f"/news/2026/01/harbour-story-number-{n}" for n in (1, 2, 3))
    links = [
        a,
        f"{a}?utm_source=x&utm_medium=y",
        f"{a}#comments",
        b,
        f"{base}{b}?fbclid=123",
        "/NEWS/../news/2026/01/harbour-story-number-3",
    ]
    fault_server.page("/news/", listing_html(links).encode())
    for n, path in enumerate((a, b, c), start=1):
        html = article_html(f"Story {n}", f"2026-01-0{n}T10:00:00+01:00")
        fault_server.page(path, html.encode())
    report = run(load_config(write_config(tmp_path / "c.toml", base)), tmp_path / "n.db")
    assert report.status == "ok", report.summary()
    assert report.totals()["new"] == 3
    assert fault_server.hits[a] == 1
    assert rows(tmp_path / "n.db", "select title, published from articles order by title") == [
        ("Story 1", "2026-01-01T10:00:00+01:00"),
        ("Story 2", "2026-01-02T10:00:00+01:00"),
        ("Story 3", "2026-01-03T10:00:00+01:00"),
    ]


def test_faulty_pages_are_recorded_and_the_rest_stored(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    s = fault_server
    page = lambda title: article_html(title, "2026-01-05T08:00:00+00:00").encode()  # noqa: E731
    cyrillic = article_html(
        "Ледокол вышел в залив", "2026-01-05T08:00:00+00:00", charset="windows-1251"
    )
    faults = {
        "/news/throttled-story-today": s.sequence(
            "/news/throttled-story-today",
            fs.status(429, headers={"Retry-After": "0"}),
            fs.ok(page("Throttled")),
        ),
        "/news/reset-story-today": s.sequence(
            "/news/reset-story-today", fs.reset(), fs.ok(page("Reset once"))
        ),
        "/news/truncated-story-today": s.sequence(
            "/news/truncated-story-today", fs.truncated(), fs.ok(page("Truncated once"))
        ),
        "/news/unavailable-story-today": s.sequence(
            "/news/unavailable-story-today", fs.status(503), fs.ok(page("Unavailable once"))
        ),
        "/news/meta-charset-story-today": s.route(
            "/news/meta-charset-story-today",
            fs.ok(cyrillic.encode("cp1251"), content_type="text/html"),
        ),
        "/news/malformed-story-today": s.page(
            "/news/malformed-story-today",
            b"<html><body><h1>Malformed page title</h1><p>"
            + b"Words in a broken page " * 40
            + b"<div><p><b>unclosed",
        ),
        "/news/drip-story-today": s.route("/news/drip-story-today", fs.drip(interval=0.3)),
        "/news/bomb-story-today": s.route("/news/bomb-story-today", fs.gzip_bomb()),
        "/news/huge-story-today": s.route(
            "/news/huge-story-today", fs.huge(2_000_000, declare_length=False)
        ),
        "/news/loop-story-today": s.route(
            "/news/loop-story-today", fs.redirect("/news/loop2-story-today")
        ),
        "/news/gone-story-today": s.route("/news/gone-story-today", fs.status(404)),
        "/news/pdf-story-today": s.page(
            "/news/pdf-story-today", b"%PDF-1.4", content_type="application/pdf"
        ),
        "/news/private-story-today": s.page("/news/private-story-today", page("Private")),
    }
    s.route("/news/loop2-story-today", fs.redirect("/news/loop-story-today"))
    robots = b"User-agent: *\nDisallow: /news/private-story-today\n"
    # robots.txt and the listing fail once too, the way every page of a bad site may
    s.sequence("/robots.txt", fs.status(503), fs.ok(robots, content_type="text/plain"))
    listing = listing_html(list(faults)).encode()
    s.sequence("/news/", fs.status(429, headers={"Retry-After": "0"}), fs.reset(), fs.ok(listing))
    db = tmp_path / "n.db"
    cfg = write_config(tmp_path / "c.toml", s.base, fetch="total_timeout = 0.6")
    report = run(load_config(cfg), db)

    assert report.status == "partial" and report.exit_code == 1
    assert (s.hits["/robots.txt"], s.hits["/news/"]) == (2, 3)
    titles = {t for (t,) in rows(db, "select title from articles")}
    assert titles == {
        "Throttled",
        "Reset once",
        "Truncated once",
        "Unavailable once",
        "Ледокол вышел в залив",
        "Malformed page title",
    }
    errors = dict(
        rows(db, "select url, error_kind from fetches where outcome != 'ok' and kind='article'")
    )
    assert errors == {
        s.url("/news/drip-story-today"): "timeout",
        s.url("/news/bomb-story-today"): "too-large",
        s.url("/news/huge-story-today"): "too-large",
        s.url("/news/loop-story-today"): "redirects",
        s.url("/news/gone-story-today"): "http-status",
        s.url("/news/pdf-story-today"): "not-html",
        s.url("/news/private-story-today"): "robots",
    }
    t = report.totals()
    assert (t["new"], t["failed"], t["skipped"]) == (6, 5, 2)
    assert "site partial" in report.summary()


def test_run_killed_midway_then_resumed(fault_server: FaultServer, tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    slugs = slow_site(fault_server, 12, hold=0.15)
    cfg = write_config(tmp_path / "c.toml", fault_server.base, concurrency=1)
    db = tmp_path / "n.db"
    child = subprocess.Popen(
        [sys.executable, "-m", "scraper", "run", "--config", str(cfg), "--db", str(db), "--quiet"]
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if rows(db, "select count(*) from articles")[0][0] >= 3:
                    break
            except sqlite3.OperationalError:
                pass  # not created or migrated yet
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        child.kill()
        child.wait()
    stored_before = rows(db, "select count(*) from articles")[0][0]
    assert 3 <= stored_before < len(slugs)
    assert rows(db, "pragma integrity_check") == [("ok",)]

    report = run(load_config(cfg), db)
    assert report.status == "ok", report.summary()
    assert report.totals()["new"] == len(slugs) - stored_before
    assert report.totals()["fresh"] == stored_before
    assert rows(db, "select count(*), count(distinct url) from articles") == [(12, 12)]
    assert rows(db, "select status from runs order by id") == [("aborted",), ("ok",)]


def test_edited_article_is_updated_not_duplicated(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    fault_server.page("/news/", listing_html(["/news/the-harbour-story"]).encode())
    fault_server.page(
        "/news/the-harbour-story",
        article_html("First headline", "2026-01-02T09:00:00+00:00").encode(),
    )
    cfg = load_config(
        write_config(tmp_path / "c.toml", fault_server.base, extra="refresh_after = 0")
    )
    db = tmp_path / "n.db"
    assert run(cfg, db).totals()["new"] == 1
    fault_server.page(
        "/news/the-harbour-story",
        article_html(
            "Corrected headline",
            "2026-01-02T09:00:00+00:00",
            extra_body="<p>A correction was appended to this story after publication.</p>",
        ).encode(),
    )
    second = run(cfg, db)
    assert second.totals()["updated"] == 1
    assert rows(db, "select title, version from articles") == [("Corrected headline", 2)]
    assert rows(db, "select title from article_versions") == [("First headline",)]


@pytest.mark.parametrize("listing_status", [404, 500])
def test_a_source_whose_listing_fails_is_failed(
    fault_server: FaultServer, tmp_path: Path, listing_status: int
) -> None:
    fault_server.route("/news/", fs.status(listing_status))
    report = run(
        load_config(write_config(tmp_path / "c.toml", fault_server.base)), tmp_path / "n.db"
    )
    assert report.status == "failed" and report.exit_code == 3
    assert str(listing_status) in report.summary()


@pytest.mark.parametrize("follow", [True, False])
def test_latest_news_on_article_pages_finds_more_articles_one_level_deep(
    fault_server: FaultServer, tmp_path: Path, follow: bool
) -> None:
    first, second, third = (f"/news/2026/01/harbour-story-number-{n}" for n in (1, 2, 3))
    fault_server.page("/news/", listing_html([first]).encode())
    pages = {first: (second,), second: (third,), third: ()}
    for n, (path, sidebar) in enumerate(pages.items(), start=1):
        html = article_html(f"Story {n}", f"2026-01-0{n}T10:00:00+00:00", sidebar=sidebar)
        fault_server.page(path, html.encode())
    extra = "" if follow else "follow_links = false"
    cfg = load_config(write_config(tmp_path / "c.toml", fault_server.base, extra=extra))
    db = tmp_path / "n.db"
    report = run(cfg, db)
    assert report.status == "ok", report.summary()
    stored = [t for (t,) in rows(db, "select title from articles order by title")]
    # the sidebar of a page found through a sidebar is not followed again
    assert stored == (["Story 1", "Story 2"] if follow else ["Story 1"])
    assert fault_server.hits[third] == 0
    hint = rows(db, "select hint_published from articles where title = 'Story 2'")
    assert hint == ([("2026-01-01T00:00:00+00:00",)] if follow else [])


def test_each_article_page_is_parsed_once_with_follow_links(
    fault_server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Link finding and extraction share one parse of an article page."""
    import importlib

    import selectolax.lexbor

    paths = [f"/news/2026/01/harbour-story-number-{n}" for n in range(1, 6)]
    fault_server.page("/news/", listing_html(paths[:2]).encode())
    for n, path in enumerate(paths, start=1):
        sidebar = tuple(paths[2:]) if n <= 2 else ()
        html = article_html(f"Story {n}", f"2026-01-0{n}T10:00:00+00:00", sidebar=sidebar)
        fault_server.page(path, html.encode())
    parsed: list[str] = []

    def counting(markup: str | bytes) -> selectolax.lexbor.LexborHTMLParser:
        text = markup if isinstance(markup, str) else markup.decode("utf-8", "replace")
        parsed.append(next((t for t in ("Story 1", "Story 2", "Story 3", "Story 4",
                                        "Story 5", "Latest news") if t in text), "?"))  # fmt: skip
        return selectolax.lexbor.LexborHTMLParser(markup)

    for name in ("extract.document", "extract.article", "discover.listing"):
        module = importlib.import_module(f"scraper.{name}")  # every parser of a whole page
        monkeypatch.setattr(module, "LexborHTMLParser", counting)
    cfg = load_config(write_config(tmp_path / "c.toml", fault_server.base))
    report = run(cfg, tmp_path / "n.db")
    assert report.status == "ok", report.summary()
    assert report.totals()["new"] == 5  # two from the listing, three from their sidebars
    # the listing page once, and each of the five article pages once
    assert sorted(parsed) == ["Latest news", "Story 1", "Story 2", "Story 3", "Story 4", "Story 5"]


def test_feed_and_gzipped_sitemap_sources(fault_server: FaultServer, tmp_path: Path) -> None:
    import gzip

    base = fault_server.base
    a, b = "/news/2026/01/feed-story-about-the-harbour", "/news/2026/01/sitemap-story-on-ferries"
    for n, path in enumerate((a, b), start=1):
        html = article_html(f"Story {n}", f"2026-01-0{n}T10:00:00+00:00")
        fault_server.page(path, html.encode())
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        f"<item><title>Feed story</title><link>{base}{a}</link>"
        "<pubDate>Thu, 01 Jan 2026 10:00:00 GMT</pubDate></item></channel></rss>"
    )
    sitemap = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{base}{b}</loc></url></urlset>"
    )
    fault_server.page("/feed.xml", feed.encode(), content_type="application/rss+xml")
    fault_server.page("/sitemap.xml.gz", gzip.compress(sitemap.encode()), "application/x-gzip")
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[[source]]\nname = "feeds"\nfeeds = ["{base}/feed.xml"]\n'
        f'sitemaps = ["{base}/sitemap.xml.gz"]\ndelay = 0\n'
    )
    report = run(load_config(cfg), tmp_path / "n.db")
    assert report.status == "ok", report.summary()
    assert rows(tmp_path / "n.db", "select title from articles order by title") == [
        ("Story 1",),
        ("Story 2",),
    ]


def test_a_lying_304_and_an_unchanged_200_store_nothing_wrong(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    story, liar = "/news/2026/01/the-harbour-story", "/news/2026/01/the-lying-server-story"
    fault_server.page("/news/", listing_html([story, liar]).encode())
    html = article_html("Harbour story", "2026-01-02T09:00:00+00:00").encode()
    # the ETag changes on every response (a validator that lies); the text does not
    fault_server.sequence(
        story,
        fs.ok(html, headers={"ETag": '"v1"'}),
        fs.ok(html, headers={"ETag": '"v2"'}),
    )
    fault_server.route(liar, fs.status(304))  # 304 although nothing was asked conditionally
    cfg = load_config(
        write_config(tmp_path / "c.toml", fault_server.base, extra="refresh_after = 0")
    )
    db = tmp_path / "n.db"
    first, second = run(cfg, db), run(cfg, db)
    assert (first.totals()["new"], first.totals()["failed"]) == (1, 1)
    assert (second.totals()["unchanged"], second.totals()["updated"]) == (1, 0)
    assert rows(db, "select title, version, etag from articles") == [("Harbour story", 1, '"v2"')]


def test_robots_outage_on_a_later_run_uses_the_stored_copy(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    story, private = "/news/2026/01/the-harbour-story", "/news/2026/01/the-private-story"
    fault_server.page("/news/", listing_html([story, private]).encode())
    for n, path in enumerate((story, private), start=1):
        fault_server.page(path, article_html(f"Story {n}", "2026-01-02T09:00:00+00:00").encode())
    fault_server.robots(f"User-agent: *\nDisallow: {private}\n")
    cfg = load_config(
        write_config(tmp_path / "c.toml", fault_server.base, extra="refresh_after = 0")
    )
    db = tmp_path / "n.db"
    assert run(cfg, db).totals()["skipped"] == 1

    fault_server.robots("down for maintenance", code=503)
    second = run(cfg, db)
    assert second.status == "ok", second.summary()
    assert (second.totals()["unchanged"], second.totals()["skipped"]) == (1, 1)
    assert fault_server.hits[private] == 0
    assert rows(db, "select url from robots") == [(fault_server.url("/robots.txt"),)]
