"""What months of runs leave in the database: blocks, copies across outlets, non-articles,
late edits.  Every scenario runs the whole pipeline against a 127.0.0.1 site."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from faultserver import FaultServer
from helpers import article_html, listing_html, paragraph, run_cli, write_config

from scraper import load_config, run
from scraper.run.pipeline import RunOptions
from scraper.store import SQLiteStore

PATHS = [f"/news/2026/01/harbour-story-number-{n}" for n in range(1, 5)]
T0 = datetime(2026, 1, 14, 9, 0, tzinfo=UTC)


def publish(server: FaultServer, paths: list[str] = PATHS) -> None:
    server.page("/news/", listing_html(paths).encode())
    for n, path in enumerate(paths, start=1):
        html = article_html(f"Story {n}", f"2026-01-0{n}T10:00:00+00:00", paragraphs=8)
        server.page(path, html.encode())


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with SQLiteStore(db) as store:
        return [tuple(r) for r in store.db.execute(sql).fetchall()]


def test_a_block_page_never_replaces_the_archive(fault_server: FaultServer, tmp_path: Path) -> None:
    publish(fault_server)
    cfg_path = write_config(tmp_path / "c.toml", fault_server.base, extra="refresh_after = 0")
    db = tmp_path / "n.db"
    assert run(load_config(cfg_path), db).status == "ok"
    cursor = tmp_path / "cursor"
    first = run_cli("export", "--db", str(db), "--cursor-file", str(cursor))
    assert len(first.stdout.splitlines()) == len(PATHS)
    denied = (
        b"<html><head><title>Access Denied</title></head><body><h1>Access Denied</h1>"
        b"<p>You don't have permission to access this page on this server.</p>"
        b"<p>Reference #18.5a2c1702.1736848800.2f1e</p></body></html>"
    )
    for path in PATHS:
        fault_server.page(path, denied)
    report = run(load_config(cfg_path), db)
    assert (report.status, report.exit_code) == ("partial", 1)
    assert report.sources[0].status == "blocked"
    assert report.totals()["rejected"] == len(PATHS)
    assert rows(db, "select distinct version from articles") == [(1,)]
    assert rows(db, "select count(*) from article_versions") == [(0,)]
    titles = {t for (t,) in rows(db, "select title from articles")}
    assert titles == {f"Story {n}" for n in range(1, 5)}
    refused = rows(db, "select outcome, error_kind from fetches where kind = 'article'"
                       " and outcome = 'rejected'")  # fmt: skip
    assert refused == [("rejected", "block")] * len(PATHS)
    again = run_cli("export", "--db", str(db), "--cursor-file", str(cursor))
    assert again.returncode == 0 and again.stdout == ""  # nothing sent out as edited
    status = run_cli("status", "--config", str(cfg_path), "--db", str(db), "--json")
    assert status.returncode == 1
    (health,) = [json.loads(line) for line in status.stdout.splitlines()]
    assert health["status"] == "blocked" and "refused" in health["reasons"][0]


def test_a_wire_copy_is_its_own_row_in_one_story_and_quiet_runs_add_nothing(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    body = "\n".join(f"<p>{paragraph('Wire story', i)}</p>" for i in range(8))
    wire = (
        "<html><head><title>Harbour plan approved | Wire</title></head><body><article>"
        f"<h1>Harbour plan approved</h1><time datetime='2026-01-05T08:00:00+00:00'>5 Jan</time>"
        f"{body}</article></body></html>"
    )
    copy = (
        "<html><head><title>Council backs the harbour plan - Paper</title></head><body><article>"
        "<h1>Council backs the harbour plan</h1><time datetime='2026-01-05T11:00:00+00:00'>"
        "5 Jan</time><p>KESTREL BAY (Wire) - By Wire Staff</p>"
        f"{body.replace('council', 'city council', 1)}<p>Copyright Wire Service.</p>"
        "</article></body></html>"
    )
    fault_server.page("/wire/", listing_html(["/wire/2026/01/harbour-plan-approved"]).encode())
    fault_server.page("/wire/2026/01/harbour-plan-approved", wire.encode())
    fault_server.page("/paper/", listing_html(["/paper/2026/01/council-backs-plan"]).encode())
    fault_server.page("/paper/2026/01/council-backs-plan", copy.encode())
    cfg_path = tmp_path / "c.toml"
    cfg_path.write_text(
        "[defaults]\ndelay = 0\nrefresh_after = 0\nfollow_links = false\n"
        f'[[source]]\nname = "wire"\nlistings = ["{fault_server.base}/wire/"]\n'
        f'[[source]]\nname = "paper"\nlistings = ["{fault_server.base}/paper/"]\n',
        encoding="utf-8",
    )
    db = tmp_path / "n.db"
    for _ in range(4):  # the first run and three quiet ones
        assert run(load_config(cfg_path), db).status == "ok"
    got = rows(db, "select source, title, version, story_id, id from articles order by source")
    assert [(s, t, v) for s, t, v, _, _ in got] == [
        ("paper", "Council backs the harbour plan", 1),
        ("wire", "Harbour plan approved", 1),
    ]
    assert got[0][3] == got[1][3]  # one story, represented by the earlier published wire
    assert rows(db, "select members, representative from stories") == [(2, got[1][4])]
    assert rows(db, "select count(*) from article_versions") == [(0,)]
    assert rows(db, "select source, count(*) from article_urls group by source order by 1") == [
        ("paper", 1),
        ("wire", 1),
    ]
    status = run_cli("status", "--config", str(cfg_path), "--db", str(db), "--json")
    health = {h["source"]: h for h in map(json.loads, status.stdout.splitlines())}
    assert health["wire"]["articles"]["sample"] == 1 == health["paper"]["articles"]["sample"]


NOT_ARTICLES = {
    "empty": b"",
    "blank": b"<html><head><title>Story</title></head><body></body></html>",
    "consent": (
        b"<html><head><title>Before you continue</title></head><body><div class='cmp'>"
        b"<h2>We value your privacy</h2><p>We and our partners use cookies and similar "
        b"technologies to store and access personal data on your device, such as browsing "
        b"data, for personalised ads and content, ad and content measurement. With your "
        b"consent we and our 842 vendors may use precise geolocation data. You can accept "
        b"all, reject all or manage preferences, and withdraw your consent at any time in "
        b"the privacy settings. Some partners process data on the basis of legitimate "
        b"interest.</p><button>Accept all</button><button>Reject all</button>"
        b"<button>Manage preferences</button></div></body></html>"
    ),
    "error": (
        b"<html><head><title>Page not found | Test Gazette</title></head><body>"
        b"<h1>Sorry, we couldn't find that page</h1><p>The page you are looking for may "
        b"have been moved or deleted. Try the search, or go back to the home page.</p>"
        b"</body></html>"
    ),
    "login": (
        b"<html><head><title>Council approves harbour plan</title></head><body><article>"
        b"<h1>Council approves harbour plan</h1><p>This article is for subscribers only. "
        b"Already a subscriber? Sign in to continue reading, or start your free trial "
        b"today for unlimited access to our journalism.</p></article></body></html>"
    ),
}


@pytest.mark.parametrize("kind", sorted(NOT_ARTICLES))
def test_pages_without_an_article_become_no_rows(
    fault_server: FaultServer, tmp_path: Path, kind: str
) -> None:
    path = "/news/2026/01/harbour-story-number-9"
    fault_server.page("/news/", listing_html([path, PATHS[0]]).encode())
    fault_server.page(path, NOT_ARTICLES[kind])
    fault_server.page(PATHS[0], article_html("Story 1", "2026-01-01T10:00:00+00:00").encode())
    db = tmp_path / "n.db"
    report = run(load_config(write_config(tmp_path / "c.toml", fault_server.base)), db)
    assert report.totals()["rejected"] == 1 and report.totals()["new"] == 1
    assert rows(db, "select title from articles") == [("Story 1",)]
    (fetch,) = rows(db, f"select outcome, error_kind from fetches where url like '%{path}'")
    assert fetch[0] == "rejected" and fetch[1] in {"empty", "consent", "error-page", "login"}


def test_an_edit_made_after_the_story_left_the_listing_is_caught_later(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    publish(fault_server, PATHS[:1])
    cfg_path = write_config(tmp_path / "c.toml", fault_server.base, extra='recheck = ["1h", "6h"]')
    db = tmp_path / "n.db"

    def run_at(when: datetime) -> None:
        assert run(load_config(cfg_path), db, RunOptions(now=lambda: when)).status == "ok"

    run_at(T0)
    fault_server.page("/news/", listing_html([PATHS[1]]).encode())  # off the front page
    fault_server.page(PATHS[1], article_html("Story 2", "2026-01-02T10:00:00+00:00").encode())
    edited = article_html("Story 1, corrected", "2026-01-01T10:00:00+00:00", paragraphs=8)
    fault_server.page(PATHS[0], edited.encode())
    run_at(T0 + timedelta(minutes=30))  # not due yet
    assert fault_server.hits[PATHS[0]] == 1
    run_at(T0 + timedelta(hours=1, minutes=1))
    assert fault_server.hits[PATHS[0]] == 2
    assert rows(db, "select title, version from articles where url like '%number-1'") == [
        ("Story 1, corrected", 2)
    ]
    run_at(T0 + timedelta(hours=2))  # checked at 1 h: not due before 6 h
    assert fault_server.hits[PATHS[0]] == 2
