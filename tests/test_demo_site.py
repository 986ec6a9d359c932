"""The bundled demo site: its server, its pages, its config and its expected results."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import httpx
import pytest

from scraper import demo
from scraper.config import parse_config
from scraper.demo import DemoServer, ExpectedArticle, expectations
from scraper.discover import LinkRules, parse_feed, parse_listing, parse_sitemap
from scraper.errors import ConfigError

EXPECTED = expectations()
ARTICLE_PATHS = [a.path for a in EXPECTED.articles]


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    with DemoServer() as running:
        yield running


@pytest.fixture
def client(server: DemoServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=5) as http:
        yield http


def rules_for(server: DemoServer) -> LinkRules:
    source = demo.config(server.base_url).sources[0]
    return LinkRules(domains=source.domains, timezone=source.rules.timezone)


PAGES = [
    ("/", "text/html; charset=utf-8"),
    ("/news/", "text/html; charset=utf-8"),
    ("/news/page/2/", "text/html; charset=utf-8"),
    ("/business/", "text/html; charset=utf-8"),
    ("/science/", "text/html; charset=utf-8"),
    ("/about/", "text/html; charset=utf-8"),
    ("/privacy/", "text/html; charset=utf-8"),
    ("/stories/4417/", "text/html; charset=utf-8"),
    ("/private/members-briefing-port-accounts/", "text/html; charset=utf-8"),
    ("/feed.xml", "application/rss+xml; charset=utf-8"),
    ("/sitemap.xml", "application/xml; charset=utf-8"),
    ("/robots.txt", "text/plain; charset=utf-8"),
    ("/static/site.css", "text/css; charset=utf-8"),
    ("/static/logo.svg", "image/svg+xml; charset=utf-8"),
] + [(path, "text/html; charset=utf-8") for path in ARTICLE_PATHS if "ledokol" not in path]


@pytest.mark.parametrize(("path", "content_type"), PAGES)
def test_every_page_is_served(client: httpx.Client, path: str, content_type: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert int(response.headers["content-length"]) == len(response.content) > 0
    assert response.headers["etag"].startswith('"')
    assert response.headers["last-modified"].endswith("GMT")
    assert b"{{base_url}}" not in response.content


def test_windows_1251_page_declares_its_charset_only_in_html(client: httpx.Client) -> None:
    path = next(p for p in ARTICLE_PATHS if "ledokol" in p)
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html"
    assert b'charset=windows-1251"' in response.content
    with pytest.raises(UnicodeDecodeError):
        response.content.decode("utf-8")
    text = response.content.decode("windows-1251")
    assert "Ледокол открыл зимнюю навигацию" in text


def test_conditional_get(client: httpx.Client) -> None:
    first = client.get("/news/")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get("/news/", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/news/", headers={"If-None-Match": f'W/{etag}, "x"'}).status_code == 304
    assert client.get("/news/", headers={"If-None-Match": '"stale"'}).status_code == 200
    not_modified = client.get("/news/", headers={"If-Modified-Since": modified})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    old = "Mon, 05 Jan 2026 00:00:00 GMT"
    assert client.get("/news/", headers={"If-Modified-Since": old}).status_code == 200


def test_query_strings_serve_the_same_page(client: httpx.Client) -> None:
    plain = client.get("/news/volunteers-restore-gull-point-lighthouse/")
    tagged = client.get(
        "/news/volunteers-restore-gull-point-lighthouse/?utm_source=newsletter&utm_medium=email"
    )
    assert tagged.status_code == 200 and tagged.content == plain.content
    assert client.get("/?utm_source=x").content == client.get("/news/").content


def test_redirects_missing_slash_and_404s(client: httpx.Client) -> None:
    response = client.get("/news?x=1")
    assert response.status_code == 301 and response.headers["location"] == "/news/?x=1"
    assert client.get("/no/such/page/").status_code == 404
    assert client.get("/../etc/passwd").status_code == 404
    head = client.head("/news/")
    assert head.status_code == 200 and head.content == b""


def test_links_are_absolute_to_the_server(server: DemoServer, client: httpx.Client) -> None:
    page = client.get("/stories/4417/").text
    canonical = (
        f'<link rel="canonical" href="{server.base_url}/news/herring-season-breaks-records/">'
    )
    assert canonical in page
    robots = client.get("/robots.txt").text
    assert "Disallow: /private/" in robots
    assert f"Sitemap: {server.base_url}/sitemap.xml" in robots


def test_listing_discovers_the_expected_articles(server: DemoServer, client: httpx.Client) -> None:
    rules = rules_for(server)
    first = parse_listing(client.get("/news/").text, f"{server.base_url}/news/", rules)
    assert first.next_url == f"{server.base_url}/news/page/2/"
    second = parse_listing(client.get("/news/page/2/").text, first.next_url, rules)
    assert second.next_url is None
    found = {item.url.removeprefix(server.base_url): item for item in first.items + second.items}
    wanted = {a.aliases[0] if a.aliases else a.path for a in EXPECTED.articles}
    assert set(found) == wanted | set(EXPECTED.robots_disallowed)
    for article in EXPECTED.articles:
        item = found[article.aliases[0] if article.aliases else article.path]
        assert item.title == article.title
        assert item.published is not None
        assert item.published.date().isoformat() == article.published[:10]


def test_every_article_page_lists_latest_news(server: DemoServer, client: httpx.Client) -> None:
    rules = rules_for(server)
    for article in EXPECTED.articles:
        url = f"{server.base_url}{article.path}"
        items = parse_listing(client.get(article.path).content.decode("utf-8", "replace"), url,
                              rules).items  # fmt: skip
        dated = [item for item in items if item.published is not None]
        assert len(dated) >= 8, article.path  # the sidebar's "Latest news" with 09.Jan.2026 dates


def test_feed_and_sitemap_list_every_public_article(
    server: DemoServer, client: httpx.Client
) -> None:
    rules = rules_for(server)
    feed = parse_feed(client.get("/feed.xml").content, f"{server.base_url}/feed.xml", rules)
    sitemap, children = parse_sitemap(
        client.get("/sitemap.xml").content, f"{server.base_url}/sitemap.xml", rules
    )
    assert children == ()
    expected = {f"{server.base_url}{path}" for path in ARTICLE_PATHS}
    assert {item.url for item in feed.items} == expected
    assert {item.url for item in sitemap.items} == expected
    assert all(item.published is not None for item in feed.items)


def test_expected_strings_are_on_the_pages(client: httpx.Client) -> None:
    """Each expected sentence is in the page, and each excluded string is too (as boilerplate)."""
    assert len(EXPECTED.articles) >= 8
    for article in EXPECTED.articles:
        raw = client.get(article.path).content
        text = raw.decode("windows-1251" if b"windows-1251" in raw else "utf-8")
        text = re.sub(r"<[^>]+>", "", text).replace("&amp;", "&")
        assert article.title in text
        assert len(article.body_contains) == 2 and len(article.body_excludes) == 1
        for sentence in (*article.body_contains, *article.body_excludes):
            assert sentence in text, (article.path, sentence)
        paragraphs = len(re.findall(r"<p>", raw.decode("latin-1")))
        assert 4 <= paragraphs <= 8, article.path


def test_expectations_lookup_by_url_and_alias(server: DemoServer) -> None:
    herring = EXPECTED.for_url(f"{server.base_url}/stories/4417/")
    assert herring is not None and herring.path == "/news/herring-season-breaks-records/"
    assert herring.date_only and EXPECTED.for_url(f"{server.base_url}/about/") is None


def test_demo_config_is_valid_and_its_commented_examples_too(server: DemoServer) -> None:
    config = demo.config(server.base_url)
    (source,) = config.sources
    assert source.name == "demo" and source.listings == (f"{server.base_url}/news/",)
    assert source.rules.timezone == EXPECTED.timezone and source.schedule.seconds == 600
    assert source.domains == ("127.0.0.1",)
    text = demo.config_text(server.base_url)
    assert "{base_url}" not in text
    head, source_part = text.split("\n[[source]]\n", 1)
    uncommented = re.sub(r"(?m)^# (\w+ = .*)$", r"\1", source_part)
    examples = parse_config(f"{head}\n[[source]]\n{uncommented}")
    (full,) = examples.sources
    assert full.link_selector and full.link_pattern and full.next_selector
    assert full.rules.body == "div.story-body" and full.rules.date_format == "%d.%b.%Y"
    assert examples.fetch == config.fetch


def test_server_stops_cleanly_and_frees_its_port() -> None:
    server = DemoServer()
    base_url = server.start()
    with pytest.raises(RuntimeError, match="already running"):
        server.start()
    port = int(base_url.rsplit(":", 1)[1])
    with httpx.Client() as http:  # a kept-alive connection must not block stop()
        assert http.get(f"{base_url}/news/").status_code == 200
        server.stop()
        server.stop()  # idempotent
        with pytest.raises(httpx.TransportError):
            http.get(f"{base_url}/news/")
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # nothing listens any more
    with DemoServer(port) as again:  # and the port can be served again at once
        assert again.base_url == base_url


def test_serve_reports_a_busy_port_as_config_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match=f"--port: cannot listen on 127.0.0.1:{port}"):
            with demo.serve(port):
                pass  # pragma: no cover


def test_serve_yields_the_base_url() -> None:
    with demo.serve(0) as base_url:
        assert httpx.get(f"{base_url}/robots.txt").status_code == 200
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base_url}/robots.txt")


@pytest.mark.parametrize("expected", EXPECTED.articles, ids=lambda a: a.path.split("/")[-2])
def test_extraction_meets_expectations(
    server: DemoServer, client: httpx.Client, expected: ExpectedArticle
) -> None:
    from scraper.extract import extract

    rules = demo.config(server.base_url).sources[0].rules
    response = client.get(expected.aliases[0] if expected.aliases else expected.path)
    article = extract(response.content, str(response.url), rules=rules, headers=response.headers)
    assert expected.problems(article) == []
