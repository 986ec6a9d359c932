"""The discovery stage on a real 127.0.0.1 server: announced feeds, robots.txt sitemaps,
pagination that stops at stored links, sitemap indexes, and bounded work per page."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from faultserver import FaultServer
from helpers import article_html, listing_html, write_config

from scraper import load_config, run
from scraper.clock import utc_now
from scraper.config import Config
from scraper.discover import LinkRules
from scraper.fetch import Fetcher
from scraper.run.discovery import Discovery, DiscoveryStage, nothing_stored
from scraper.run.fetchlog import FetchLog
from scraper.run.storelane import StoreLane
from scraper.store import open_store

NEWS = "http://www.google.com/schemas/sitemap-news/0.9"


def config(tmp_path: Path, base: str, extra: str = "", *, listings: bool = True) -> Config:
    """One source ``site`` on ``base``: its listing /news/ (unless not ``listings``)."""
    if listings:
        return load_config(write_config(tmp_path / "c.toml", base, extra=extra))
    path = tmp_path / "c.toml"
    path.write_text(
        "[fetch]\nretries = 0\nread_timeout = 2.0\nmax_bytes = 20000000\n"
        f'[[source]]\nname = "site"\ndelay = 0\n{extra}\n',
        encoding="utf-8",
    )
    return load_config(path)


def discover(
    cfg: Config, db: Path, is_stored: Callable[[str], Awaitable[bool]] = nothing_stored
) -> Discovery:
    """Run the discovery stage of the config's one source against the database ``db``."""
    source = cfg.sources[0]

    async def stage() -> Discovery:
        with open_store(db) as store:
            lane = StoreLane(store)
            fetches = FetchLog(lane, store.start_run([source.name]), utc_now)
            try:
                async with Fetcher(cfg.fetch) as fetcher:
                    for host in source.domains:
                        fetcher.set_host_policy(host, delay=source.delay, concurrency=2)
                    return await DiscoveryStage(
                        fetcher,
                        fetches,
                        source,
                        LinkRules.of(source),
                        now=utc_now,
                        stopping=lambda: False,
                        is_stored=is_stored,
                    ).run()
            finally:
                lane.close()

    return asyncio.run(stage())


def rss(base: str, paths: list[str]) -> bytes:
    items = "".join(
        f"<item><title>Feed story {i}</title><link>{base}{path}</link>"
        f"<pubDate>Thu, 0{i + 1} Jan 2026 10:00:00 GMT</pubDate></item>"
        for i, path in enumerate(paths)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()


def urlset(base: str, paths: list[str]) -> bytes:
    urls = "".join(f"<url><loc>{base}{path}</loc></url>" for path in paths)
    return f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'.encode()


def announcing(*feeds: str, links: tuple[str, ...] = ()) -> bytes:
    heads = "".join(f'<link rel="alternate" type="application/rss+xml" href="{f}">' for f in feeds)
    return listing_html(list(links)).replace("</head>", heads + "</head>").encode()


def origins(discovery: Discovery) -> dict[str, str]:
    return {item.url.rsplit("/", 1)[-1]: item.origin for item in discovery.items}


# -- feed autodiscovery ------------------------------------------------------------------------


def test_feed_announced_on_the_home_page_is_read_once(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    s, base = fault_server, fault_server.base
    s.page("/news/", listing_html(["/news/listed-harbour-story-one"]).encode())
    s.page("/", announcing("/feed.xml", "https://elsewhere.example/feed.xml", "/feed.xml"))
    feed = rss(base, ["/news/listed-harbour-story-one", "/news/feed-only-ferry-story"])
    s.page("/feed.xml", feed, content_type="application/rss+xml")
    found = discover(config(tmp_path, base), tmp_path / "n.db")
    assert origins(found) == {
        "listed-harbour-story-one": "listing",
        "feed-only-ferry-story": "feed",
    }
    assert (s.hits["/"], s.hits["/feed.xml"]) == (1, 1)
    assert found.pages_failed == 0 and found.pages_ok == 3


def test_feed_announced_on_listing_pages_is_read_once_and_a_broken_one_is_no_failure(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    s, base = fault_server, fault_server.base
    page1 = announcing("/news/feed/", links=("/news/harbour-story-one",))
    s.page("/news/", page1.replace(b"</head>", b'<link rel="next" href="/news/page/2/"></head>'))
    s.page("/news/page/2/", announcing("/news/feed/", "/gone.xml", links=("/news/story-two-x",)))
    s.page("/news/feed/", rss(base, ["/news/feed-story-three"]), "application/atom+xml")
    found = discover(config(tmp_path, base), tmp_path / "n.db")
    assert origins(found)["feed-story-three"] == "feed"
    assert s.hits["/news/feed/"] == 1 and s.hits["/gone.xml"] == 1
    # the home page (404 here) and the announced /gone.xml failed: recorded, not the
    # source's failures
    failed = [(p.url, p.discovered) for p in found.pages if p.error]
    assert failed == [(f"{base}/", True), (f"{base}/gone.xml", True)]
    assert found.pages_failed == 0 and found.errors == ()


def test_no_feed_autodiscovery_when_switched_off(fault_server: FaultServer, tmp_path: Path) -> None:
    s, base = fault_server, fault_server.base
    s.page("/news/", announcing("/feed.xml", links=("/news/harbour-story-one",)))
    s.page("/", announcing("/home-feed.xml"))
    found = discover(config(tmp_path, base, "discover_feeds = false"), tmp_path / "n.db")
    assert [p.url for p in found.pages] == [f"{base}/news/"]
    assert s.hits["/"] == s.hits["/feed.xml"] == s.hits["/home-feed.xml"] == 0


def test_a_home_page_that_is_a_listing_and_a_configured_feed_are_read_once(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    s, base = fault_server, fault_server.base
    s.page("/", announcing("/feed.xml", links=("/news/harbour-story-one",)))
    s.page("/feed.xml", rss(base, ["/news/feed-story-two"]), "application/rss+xml")
    extra = f'listings = ["{base}/", "{base}/index.html"]\nfeeds = ["{base}/feed.xml"]'
    s.page("/index.html", announcing("/feed.xml?utm_source=home"))
    found = discover(config(tmp_path, base, extra, listings=False), tmp_path / "n.db")
    assert (s.hits["/"], s.hits["/feed.xml"]) == (1, 1)
    assert origins(found) == {"harbour-story-one": "listing", "feed-story-two": "feed"}


# -- robots.txt Sitemap: lines -----------------------------------------------------------------


@pytest.mark.parametrize("enabled", [True, False])
def test_sitemaps_named_by_robots_txt(
    fault_server: FaultServer, tmp_path: Path, enabled: bool
) -> None:
    s, base = fault_server, fault_server.base
    s.robots(
        f"User-agent: *\nAllow: /\nSitemap: {base}/robots-sitemap.xml\n"
        "Sitemap: https://elsewhere.example/sitemap.xml\n"
    )
    s.page("/news/", listing_html(["/news/harbour-story-one"]).encode())
    s.page("/robots-sitemap.xml", urlset(base, ["/news/2026/01/sitemap-story"]), "text/xml")
    extra = f"robots_sitemaps = {'true' if enabled else 'false'}\ndiscover_feeds = false"
    found = discover(config(tmp_path, base, extra), tmp_path / "n.db")
    assert s.hits["/robots-sitemap.xml"] == int(enabled)
    expected = {"harbour-story-one": "listing"} | ({"sitemap-story": "sitemap"} if enabled else {})
    assert origins(found) == expected


# -- Google News hints carry their origin ------------------------------------------------------


def test_news_sitemap_hints_carry_their_origin(fault_server: FaultServer, tmp_path: Path) -> None:
    s, base = fault_server, fault_server.base
    news = (
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="{NEWS}">'
        f"<url><loc>{base}/n/1</loc><news:news><news:title>Quay reopens</news:title>"
        "<news:publication_date>2026-01-14T09:30:00+01:00</news:publication_date>"
        "</news:news></url></urlset>"
    )
    s.page("/news-sitemap.xml", news.encode(), "application/xml")
    found = discover(
        config(tmp_path, base, f'sitemaps = ["{base}/news-sitemap.xml"]', listings=False),
        tmp_path / "n.db",
    )
    (item,) = found.items
    assert (item.title, item.origin, item.hint_origin("published")) == (
        "Quay reopens",
        "news-sitemap",
        "news-sitemap",
    )


def test_a_title_from_a_news_sitemap_is_recorded_as_such(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    s, base = fault_server, fault_server.base
    news = (
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="{NEWS}">'
        f"<url><loc>{base}/n/1</loc><news:news><news:title>Quay reopens</news:title>"
        "</news:news></url></urlset>"
    )
    s.page("/news-sitemap.xml", news.encode(), "application/xml")
    body = "".join(f"<p>{'The quay reopened after the storm repairs were done. ' * 4}</p>" * 5)
    s.page("/n/1", f"<html><body><div>{body}</div></body></html>".encode())
    extra = f'sitemaps = ["{base}/news-sitemap.xml"]'
    run(config(tmp_path, base, extra, listings=False), tmp_path / "n.db")
    with sqlite3.connect(tmp_path / "n.db") as db:
        ((title, provenance),) = db.execute("select title, provenance from articles")
    assert (title, json.loads(provenance)["title"]) == ("Quay reopens", "news-sitemap")


# -- pagination stops at stored links ----------------------------------------------------------


def paged_site(s: FaultServer) -> list[str]:
    """/news/ -> /news/page/2/ -> /news/page/3/, two articles each; returns the articles."""
    pages = ["/news/", "/news/page/2/", "/news/page/3/"]
    articles = [f"/news/2026/01/harbour-story-number-{n}" for n in range(6)]
    for i, page in enumerate(pages):
        html = listing_html(articles[2 * i : 2 * i + 2])
        if i + 1 < len(pages):
            html = html.replace("</head>", f'<link rel="next" href="{pages[i + 1]}"></head>')
        s.page(page, html.encode())
    for n, path in enumerate(articles):
        s.page(path, article_html(f"Story {n}", f"2026-01-0{n + 1}T10:00:00+00:00").encode())
    return articles


def test_pagination_stops_at_a_page_whose_links_are_all_stored(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    s, base = fault_server, fault_server.base
    articles = paged_site(s)
    cfg = config(tmp_path, base, "discover_feeds = false\nfollow_links = false")
    assert len(discover(cfg, tmp_path / "n.db").items) == 6
    assert s.hits["/news/page/2/"] == 1
    stored = {f"{base}{path}" for path in articles[:1]}

    async def is_stored(url: str) -> bool:
        return url in stored

    assert len(discover(cfg, tmp_path / "n.db", is_stored).items) == 6
    assert s.hits["/news/page/3/"] == 2  # page 1 still had a link not stored
    stored |= {f"{base}{articles[1]}"}
    assert len(discover(cfg, tmp_path / "n.db", is_stored).items) == 2
    assert s.hits["/news/page/2/"] == 2  # not fetched again


def test_pagination_stops_where_the_store_knows_every_link(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    s, base = fault_server, fault_server.base
    paged_site(s)
    cfg = config(tmp_path, base, "discover_feeds = false\nfollow_links = false")
    db = tmp_path / "n.db"
    assert run(cfg, db).totals()["new"] == 6
    assert s.hits["/news/page/2/"] == 1
    with open_store(db) as store:

        async def stored(url: str) -> bool:
            return store.known("site", [url]) is not None

        found = discover(cfg, db, stored)
    assert len(found.items) == 2 and s.hits["/news/page/2/"] == 1


def test_a_second_run_does_not_walk_the_listing_pages_again(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    s, base = fault_server, fault_server.base
    paged_site(s)
    cfg = config(tmp_path, base, "discover_feeds = false\nfollow_links = false")
    assert run(cfg, tmp_path / "n.db").totals()["new"] == 6
    run(cfg, tmp_path / "n.db")
    assert s.hits["/news/"] == 2
    assert s.hits["/news/page/2/"] == 1


# -- sitemap indexes ---------------------------------------------------------------------------


def sitemap_index(s: FaultServer, children: int) -> None:
    locs = "".join(
        f"<sitemap><loc>{s.base}/sitemaps/{i}.xml</loc></sitemap>" for i in range(children)
    )
    s.page("/sitemap.xml", f"<sitemapindex>{locs}</sitemapindex>".encode(), "application/xml")
    for i in range(children):
        body = urlset(s.base, [f"/news/2026/01/story-from-child-{i}"])
        s.page(f"/sitemaps/{i}.xml", body, "application/xml")


def test_a_sitemap_index_of_50_children_is_crawled(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    sitemap_index(fault_server, 50)
    extra = f'sitemaps = ["{fault_server.base}/sitemap.xml"]'
    found = discover(config(tmp_path, fault_server.base, extra, listings=False), tmp_path / "n.db")
    assert len(found.items) == 50 and found.pages_ok == 51
    assert all(fault_server.hits[f"/sitemaps/{i}.xml"] == 1 for i in range(50))


def test_max_sitemaps_counts_the_documents_fetched(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    sitemap_index(fault_server, 12)
    extra = f'sitemaps = ["{fault_server.base}/sitemap.xml"]\nmax_sitemaps = 5'
    found = discover(config(tmp_path, fault_server.base, extra, listings=False), tmp_path / "n.db")
    assert len(found.items) == 5  # the configured index, then 5 of its children
    assert sum(fault_server.hits[f"/sitemaps/{i}.xml"] for i in range(12)) == 5


# -- bounded work per page (issue 15) ----------------------------------------------------------


def test_a_100k_link_listing_and_a_100k_url_sitemap_give_at_most_the_cap(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    s, base = fault_server, fault_server.base
    slugs = [f"/news/harbour-story-number-{i}" for i in range(100_000)]
    s.page("/news/", listing_html(slugs).encode())  # 12.5 MB
    sitemap = urlset(base, [f"/news/2026/01/sitemap-story-{i}" for i in range(100_000)])
    s.page("/sitemap.xml", sitemap, "application/xml")  # 7 MB
    extra = (
        f'listings = ["{base}/news/"]\nsitemaps = ["{base}/sitemap.xml"]\n'
        "max_links_per_page = 1000\ndiscover_feeds = false"
    )
    started = time.perf_counter()
    found = discover(config(tmp_path, base, extra, listings=False), tmp_path / "n.db")
    assert time.perf_counter() - started < 10  # 21 s before issue 15
    assert found.pages_ok == 2 and len(found.items) == 2000
