"""The polite fetcher against a real, misbehaving HTTP server on 127.0.0.1 (tests/faultserver.py).

Sleeps for politeness and backoff go through a fake clock, so only the timeout tests wait
for real (about a second in all).
"""

from __future__ import annotations

import asyncio
import gzip
import random
import socket
import time
import tracemalloc
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, TypeVar

import httpx
import pytest
from faultserver import (
    Conn,
    FaultServer,
    Handler,
    Request,
    compressed,
    drip,
    gzip_bomb,
    hold,
    huge,
    ok,
    redirect,
    reset,
    status,
    truncated,
)

from scraper.config import FetchSettings
from scraper.errors import (
    ConnectionFailed,
    FetchError,
    FetchTimeout,
    HTTPStatusFailure,
    Interrupted,
    NotHTML,
    RobotsDisallowed,
    TooLarge,
    TooManyRedirects,
)
from scraper.fetch import FEED_TYPES, HTML_TYPES, Fetcher, FetchEvent
from scraper.fetch.body import BodyReader, CorruptCompressed, InflatedTooLarge, inflate_capped
from scraper.fetch.headers import looks_like_markup, parse_retry_after
from scraper.models import Page, Validators

UA = "testbot/1.0 (+http://127.0.0.1/bot)"
SETTINGS = FetchSettings(
    user_agent=UA,
    connect_timeout=2.0,
    read_timeout=2.0,
    total_timeout=5.0,
    max_bytes=1_000_000,
    retries=2,
    backoff_base=1.0,
    backoff_max=8.0,
    max_retry_after=60.0,
    respect_robots=False,
    concurrency=8,
)
ROBOTS = replace(SETTINGS, respect_robots=True)
NOW = datetime(2015, 10, 21, 7, 28, tzinfo=UTC)  # what the injected ``now`` clock says
T = TypeVar("T")


class FakeTime:
    """An injected clock whose sleeps return at once and move the clock forward."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


class Harness:
    """A fetcher wired to fake time, recording its events."""

    def __init__(
        self,
        settings: FetchSettings = SETTINGS,
        *,
        polite: bool = False,
        time: FakeTime | None = None,
        **fetcher_kw: Any,
    ) -> None:
        self.time = time or FakeTime()
        self.events: list[FetchEvent] = []
        self.fetcher = Fetcher(
            settings,
            clock=self.time.clock,
            sleep=self.time.sleep,
            rng=random.Random(7),
            on_event=self.events.append,
            **fetcher_kw,
        )
        if not polite:  # else the default policy applies
            self.fetcher.set_host_policy("127.0.0.1", delay=0.0, concurrency=4)

    def run(self, work: Callable[[Fetcher], Awaitable[T]]) -> T:
        async def main() -> T:
            async with self.fetcher as fetcher:
                return await work(fetcher)

        return asyncio.run(main())

    def get(self, url: str, **kw: Any) -> Page:
        return self.run(lambda f: f.fetch(url, **kw))

    def fail(self, url: str, kind: type[FetchError], **kw: Any) -> FetchError:
        with pytest.raises(kind) as caught:
            self.get(url, **kw)
        return caught.value

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]


def get(url: str, settings: FetchSettings = SETTINGS, **kw: Any) -> Page:
    return Harness(settings).get(url, **kw)


# -- plain fetching -----------------------------------------------------------------------------


def test_fetches_a_page_with_metadata(fault_server: FaultServer) -> None:
    body = b"<html><p>hello</p></html>"
    url = fault_server.route("/a", ok(body, headers={"ETag": '"v1"', "X-Thing": "yes"}))
    page = get(url)
    assert (page.status, page.content, page.final_url, page.requested_url) == (200, body, url, url)
    assert page.redirects == () and page.attempts == 1
    assert page.etag == '"v1"' and page.headers["x-thing"] == "yes"
    assert all(name == name.lower() for name in page.headers)
    assert page.fetched_at.utcoffset() == timedelta(0)


def test_fetched_at_comes_from_the_injected_clock(fault_server: FaultServer) -> None:
    times = iter([NOW, NOW + timedelta(hours=1)])
    harness = Harness(now=lambda: next(times))
    first, second = harness.run(
        lambda f: _fetch_all(f, [fault_server.page("/a")] * 2, concurrently=False)
    )
    assert (first.fetched_at, second.fetched_at) == (NOW, NOW + timedelta(hours=1))
    sent = fault_server.requests[0].headers
    assert sent["user-agent"] == UA
    assert sent["accept-encoding"] == "gzip, deflate"
    assert sent["accept"].startswith("text/html, application/xhtml+xml")


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate"])
def test_decodes_content_codings(fault_server: FaultServer, coding: str) -> None:
    body = b"<html>" + b"<p>news</p>" * 2000 + b"</html>"
    page = get(fault_server.route("/z", compressed(body, coding)))
    assert page.content == body


def test_charset_only_in_meta_is_passed_through_as_bytes(fault_server: FaultServer) -> None:
    html = '<html><head><meta charset="windows-1251"></head><p>Привет, мир</p></html>'
    body = html.encode("windows-1251")
    page = get(fault_server.route("/ru", ok(body, content_type="text/html")))
    assert page.content == body


def test_conditional_get_sends_validators_and_returns_304(fault_server: FaultServer) -> None:
    url = fault_server.route("/c", status(304, headers={"ETag": '"v1"'}))
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"
    page = get(url, validators=Validators(etag='"v1"', last_modified=stamp))
    assert page.not_modified and page.status == 304 and page.content == b""
    sent = fault_server.requests[0].headers
    assert sent["if-none-match"] == '"v1"' and sent["if-modified-since"] == stamp


def test_cookies_are_not_kept_between_fetches(fault_server: FaultServer) -> None:
    set_url = fault_server.route("/set", ok(headers={"Set-Cookie": "session=abc; Path=/"}))
    check_url = fault_server.page("/check")
    Harness().run(lambda f: _fetch_all(f, [set_url, check_url], concurrently=False))
    assert "cookie" not in fault_server.requests[1].headers


# -- status codes and retries -------------------------------------------------------------------


def test_client_error_fails_at_once(fault_server: FaultServer) -> None:
    error = Harness().fail(fault_server.route("/gone", status(404)), HTTPStatusFailure)
    assert error.status == 404 and error.kind == "http-status" and "404" in str(error)
    assert fault_server.hits["/gone"] == 1


def test_server_errors_are_retried_with_backoff(fault_server: FaultServer) -> None:
    url = fault_server.sequence("/flaky", status(500), status(502), ok())
    harness = Harness()
    page = harness.get(url)
    assert page.status == 200 and page.attempts == 3
    first, second = harness.time.sleeps
    assert 0.5 <= first <= 1.0 and 1.0 <= second <= 2.0  # base 1 s, doubled, with jitter
    assert page.elapsed >= first + second
    retries = [e for e in harness.events if e.kind == "retry"]
    assert [(e.status, e.attempt) for e in retries] == [(500, 1), (502, 2)]
    assert [round(e.wait, 6) for e in retries] == [first, second]
    assert harness.kinds() == ["response", "retry", "response", "retry", "response"]


def test_retries_are_exhausted(fault_server: FaultServer) -> None:
    harness = Harness()
    error = harness.fail(fault_server.route("/down", status(503)), HTTPStatusFailure)
    assert error.status == 503 and "after 3 attempts" in str(error)
    assert fault_server.hits["/down"] == 3
    assert harness.kinds()[-1] == "error" and harness.events[-1].status == 503


def test_request_timeout_status_is_retried(fault_server: FaultServer) -> None:
    page = get(fault_server.sequence("/slowpoke", status(408), ok()))
    assert page.status == 200 and page.attempts == 2


def test_backoff_is_capped(fault_server: FaultServer) -> None:
    harness = Harness(replace(SETTINGS, retries=5, backoff_max=3.0))
    harness.fail(fault_server.route("/down", status(500)), HTTPStatusFailure)
    assert len(harness.time.sleeps) == 5 and max(harness.time.sleeps) <= 3.0


def test_retry_after_seconds_is_honored(fault_server: FaultServer) -> None:
    url = fault_server.sequence("/busy", status(429, headers={"Retry-After": "7"}), ok())
    harness = Harness()
    page = harness.get(url)
    assert page.attempts == 2
    assert harness.time.sleeps == [7.0]  # waited once, not again for the host hold


def test_retry_after_http_date_is_measured_from_the_date_header(fault_server: FaultServer) -> None:
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    later = format_datetime(parsedate_to_datetime(date) + timedelta(seconds=30), usegmt=True)
    headers = {"Date": date, "Retry-After": later}
    harness = Harness()
    harness.get(fault_server.sequence("/busy", status(503, headers=headers), ok()))
    assert harness.time.sleeps == [30.0]


def test_retry_after_http_date_without_date_header_is_measured_from_now(
    fault_server: FaultServer,
) -> None:
    later = format_datetime(NOW + timedelta(seconds=30), usegmt=True)  # 2015: long past for real
    url = fault_server.sequence("/busy", _without_date(503, {"Retry-After": later}), ok())
    harness = Harness(now=lambda: NOW)
    assert harness.get(url).attempts == 2
    assert harness.time.sleeps == [30.0]


@pytest.mark.parametrize("code", [429, 503])
def test_too_long_retry_after_fails_at_once(fault_server: FaultServer, code: int) -> None:
    harness = Harness()
    url = fault_server.route("/busy", status(code, headers={"Retry-After": "3600"}))
    error = harness.fail(url, HTTPStatusFailure)
    assert error.status == code and "3600" in str(error) and "max_retry_after" in str(error)
    assert fault_server.hits["/busy"] == 1 and harness.time.sleeps == []


# -- broken connections -------------------------------------------------------------------------


def test_connection_reset_is_retried(fault_server: FaultServer) -> None:
    page = get(fault_server.sequence("/rst", reset(), ok()))
    assert page.status == 200 and page.attempts == 2


def test_connection_reset_every_time_fails(fault_server: FaultServer) -> None:
    error = Harness().fail(fault_server.route("/rst", reset()), ConnectionFailed)
    assert error.kind == "connection" and fault_server.hits["/rst"] == 3
    assert not isinstance(error.__cause__, FetchError) and error.__cause__ is not None


def test_truncated_body_is_retried_then_fails(fault_server: FaultServer) -> None:
    assert get(fault_server.sequence("/cut", truncated(), ok())).attempts == 2
    error = Harness().fail(fault_server.route("/cut2", truncated()), ConnectionFailed)
    assert "/cut2" in str(error) and fault_server.hits["/cut2"] == 3


def test_refused_connection(fault_server: FaultServer) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    harness = Harness()
    error = harness.fail(f"http://127.0.0.1:{port}/x", ConnectionFailed)
    assert "connect" in str(error) and len(harness.time.sleeps) == 2


def test_drip_feed_is_cut_off_by_the_total_deadline(fault_server: FaultServer) -> None:
    settings = replace(SETTINGS, total_timeout=0.5, retries=3)
    url = fault_server.route("/drip", drip(interval=0.05))
    started = time.monotonic()
    error = Harness(settings).fail(url, FetchTimeout)
    assert time.monotonic() - started < 2.0
    assert "total_timeout" in str(error) and error.kind == "timeout"
    assert fault_server.hits["/drip"] == 1  # a dripping server is not asked again
    _wait_until(lambda: fault_server.handlers_running == 0)  # the drip noticed the hang-up


def test_read_timeout(fault_server: FaultServer) -> None:
    settings = replace(SETTINGS, read_timeout=0.2, retries=0)
    error = Harness(settings).fail(fault_server.route("/stall", drip(interval=5)), FetchTimeout)
    assert "read" in str(error) and "total_timeout" not in str(error)


def test_httpx_errors_from_a_transport_are_translated() -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("socket broke", request=request)

    harness = Harness(replace(SETTINGS, retries=0), transport=httpx.MockTransport(boom))
    error = harness.fail("http://127.0.0.1:9/x", ConnectionFailed)
    assert isinstance(error.__cause__, httpx.ReadError) and "socket broke" in str(error)


# -- size caps and content types ----------------------------------------------------------------


def test_gzip_bomb_never_inflates_past_the_cap(fault_server: FaultServer) -> None:
    url = fault_server.route("/bomb", gzip_bomb(50 * 1024 * 1024))
    tracemalloc.start()
    try:
        error = Harness().fail(url, TooLarge)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "after decompression" in str(error) and error.kind == "too-large"
    assert peak < 8 * 1024 * 1024  # cap is 1 MB; the bomb is 50 MB


def test_size_cap_is_enforced_while_streaming(fault_server: FaultServer) -> None:
    url = fault_server.route("/big", huge(5_000_000, declare_length=False))
    error = Harness().fail(url, TooLarge, max_bytes=100_000)
    assert "100000-byte cap" in str(error)
    _wait_until(lambda: fault_server.handlers_running == 0)


def test_declared_length_over_the_cap_is_rejected_early(fault_server: FaultServer) -> None:
    error = Harness().fail(fault_server.route("/big", huge(5_000_000)), TooLarge, max_bytes=1000)
    assert "Content-Length 5000000" in str(error)


def test_max_bytes_argument_overrides_the_setting(fault_server: FaultServer) -> None:
    url = fault_server.page("/mid", b"<p>" + b"a" * 5000)
    settings = replace(SETTINGS, max_bytes=1000)
    Harness(settings).fail(url, TooLarge)
    assert len(get(url, settings, max_bytes=10_000).content) == 5003


def test_other_content_types_are_rejected(fault_server: FaultServer) -> None:
    url = fault_server.route("/doc.pdf", ok(b"%PDF-1.4", content_type="application/pdf"))
    error = Harness().fail(url, NotHTML)
    assert "application/pdf" in str(error) and error.kind == "not-html"


def test_feed_types_are_accepted_when_asked_for(fault_server: FaultServer) -> None:
    rss = b'<?xml version="1.0"?><rss><channel></channel></rss>'
    url = fault_server.route("/feed", ok(rss, content_type="application/rss+xml; charset=utf-8"))
    assert get(url, accept=FEED_TYPES).content == rss
    Harness().fail(url, NotHTML, accept=HTML_TYPES)


@pytest.mark.parametrize(
    "body",
    [b"  \n<!doctype html><p>x", b"\xef\xbb\xbf<html>", b"\xff\xfe" + "<html>".encode("utf-16-le")],
)
def test_missing_content_type_is_sniffed(fault_server: FaultServer, body: bytes) -> None:
    assert get(fault_server.route("/n", ok(body, content_type=None))).content == body


def test_missing_content_type_and_no_markup_is_rejected(fault_server: FaultServer) -> None:
    error = Harness().fail(fault_server.route("/n", ok(b"%PDF", content_type=None)), NotHTML)
    assert "no Content-Type" in str(error)


def test_corrupt_or_unknown_codings_fail(fault_server: FaultServer) -> None:
    bad = ok(b"not gzip at all", headers={"Content-Encoding": "gzip"})
    assert "corrupt" in str(Harness().fail(fault_server.route("/g", bad), ConnectionFailed))
    brotli = ok(b"\x1b\x00", headers={"Content-Encoding": "br"})
    assert "'br'" in str(Harness().fail(fault_server.route("/b", brotli), NotHTML))


# -- redirects ----------------------------------------------------------------------------------


def test_follows_a_redirect_chain(fault_server: FaultServer) -> None:
    final = fault_server.page("/c", b"<p>final</p>")
    first = fault_server.route("/a", redirect("/b", 301))
    middle = fault_server.route("/b", redirect(final, 307))
    page = get(first)
    assert page.redirects == (first, middle) and page.final_url == final
    assert page.requested_url == first and page.content == b"<p>final</p>" and page.attempts == 3


def test_redirect_loop_names_the_chain(fault_server: FaultServer) -> None:
    a = fault_server.route("/a", redirect("/b"))
    b = fault_server.route("/b", redirect("/a"))
    error = Harness().fail(a, TooManyRedirects)
    assert f"redirect loop: {a} -> {b} -> {a}" in str(error)


def test_too_many_redirects(fault_server: FaultServer) -> None:
    for i in range(4):
        fault_server.route(f"/r{i}", redirect(f"/r{i + 1}"))
    fault_server.page("/r4")
    error = Harness(replace(SETTINGS, max_redirects=2)).fail(
        fault_server.url("/r0"), TooManyRedirects
    )
    assert "more than 2 redirects" in str(error) and fault_server.url("/r3") in str(error)
    assert fault_server.hits["/r3"] == 0


def test_each_redirect_hop_is_checked_against_robots(fault_server: FaultServer) -> None:
    fault_server.robots("User-agent: *\nDisallow: /private\n")
    fault_server.page("/private/x")
    url = fault_server.route("/a", redirect("/private/x"))
    error = Harness(ROBOTS).fail(url, RobotsDisallowed)
    assert fault_server.url("/private/x") in str(error) and fault_server.hits["/private/x"] == 0


# -- robots.txt ---------------------------------------------------------------------------------


def test_robots_disallow_and_allowed(fault_server: FaultServer) -> None:
    fault_server.robots("User-agent: *\nDisallow: /private\n")
    public = fault_server.page("/public")
    private = fault_server.page("/private/page")
    harness = Harness(ROBOTS)

    async def work(f: Fetcher) -> tuple[bool, bool, Page]:
        with pytest.raises(RobotsDisallowed, match="disallowed by"):
            await f.fetch(private)
        return await f.allowed(public), await f.allowed(private), await f.fetch(public)

    public_ok, private_ok, page = harness.run(work)
    assert public_ok and not private_ok and page.status == 200
    assert fault_server.hits["/private/page"] == 0 and fault_server.hits["/robots.txt"] == 1
    assert harness.kinds()[:3] == ["response", "robots", "error"]  # robots.txt, then /private


def test_robots_is_fetched_once_per_host_under_concurrency(fault_server: FaultServer) -> None:
    fault_server.robots("User-agent: *\nAllow: /\n")
    urls = [fault_server.page(f"/p{i}") for i in range(5)]
    pages = Harness(ROBOTS).run(lambda f: _fetch_all(f, urls))
    assert [p.status for p in pages] == [200] * 5 and fault_server.hits["/robots.txt"] == 1


def test_robots_rules_for_our_user_agent(fault_server: FaultServer) -> None:
    fault_server.robots("User-agent: testbot\nDisallow: /\n\nUser-agent: *\nAllow: /\n")
    Harness(ROBOTS).fail(fault_server.page("/a"), RobotsDisallowed)


def test_robots_404_allows_everything(fault_server: FaultServer) -> None:
    harness = Harness(ROBOTS)
    assert harness.get(fault_server.page("/a")).status == 200
    robots = [e for e in harness.events if e.kind == "robots"]
    assert len(robots) == 1 and robots[0].status == 404 and "allowed" in robots[0].message


def test_robots_server_error_disallows_everything(fault_server: FaultServer) -> None:
    fault_server.robots("oops", code=500)
    page_url = fault_server.page("/a")

    async def work(f: Fetcher) -> tuple[bool, str]:
        with pytest.raises(RobotsDisallowed) as caught:
            await f.fetch(page_url)
        return await f.allowed(fault_server.url("/b")), str(caught.value)

    allowed, message = Harness(ROBOTS).run(work)
    assert "unreachable" in message and page_url in message and not allowed
    assert fault_server.hits["/a"] == 0
    assert fault_server.hits["/robots.txt"] == 3  # retried like any request, then cached


def test_robots_network_failure_disallows_everything(fault_server: FaultServer) -> None:
    fault_server.route("/robots.txt", reset())
    error = Harness(ROBOTS).fail(fault_server.page("/a"), RobotsDisallowed)
    assert "unreachable" in str(error) and error.kind == "robots"


def test_robots_ignored_when_not_respected(fault_server: FaultServer) -> None:
    fault_server.robots("User-agent: *\nDisallow: /\n")
    assert get(fault_server.page("/a")).status == 200
    assert fault_server.hits["/robots.txt"] == 0


def test_robots_is_read_up_to_500_kib(fault_server: FaultServer) -> None:
    filler = "# padding line\n" * (600 * 1024 // 15)
    fault_server.robots(f"User-agent: *\nDisallow: /early\n{filler}Disallow: /late\n")
    harness = Harness(ROBOTS)
    harness.fail(fault_server.page("/early"), RobotsDisallowed)
    assert harness.get(fault_server.page("/late")).status == 200


def test_crawl_delay_is_a_lower_bound_on_the_host_delay(fault_server: FaultServer) -> None:
    fault_server.robots("User-agent: *\nCrawl-delay: 3\n")
    urls = [fault_server.page("/a"), fault_server.page("/b")]
    harness = Harness(ROBOTS)
    harness.run(lambda f: _fetch_all(f, urls, concurrently=False))
    assert harness.time.sleeps == [3.0, 3.0]  # after robots.txt, then between the pages


# -- politeness ---------------------------------------------------------------------------------


def test_per_host_concurrency_is_never_exceeded(fault_server: FaultServer) -> None:
    fault_server.route("/slow", hold(0.1))
    urls = [fault_server.url(f"/slow?i={i}") for i in range(6)]
    harness = Harness()
    harness.fetcher.set_host_policy("127.0.0.1", delay=0.0, concurrency=2)
    harness.run(lambda f: _fetch_all(f, urls))
    assert fault_server.hits["/slow"] == 6 and fault_server.max_in_flight["/slow"] == 2


def test_global_concurrency_cap(fault_server: FaultServer) -> None:
    fault_server.route("/slow", hold(0.1))
    urls = [fault_server.url(f"/slow?i={i}") for i in range(5)]
    harness = Harness(replace(SETTINGS, concurrency=2))
    harness.fetcher.set_host_policy("127.0.0.1", delay=0.0, concurrency=5)
    harness.run(lambda f: _fetch_all(f, urls))
    assert fault_server.max_in_flight["/slow"] == 2


def test_delay_between_request_starts(fault_server: FaultServer) -> None:
    urls = [fault_server.page(f"/p{i}") for i in range(3)]
    harness = Harness()
    harness.fetcher.set_host_policy("127.0.0.1", delay=5.0, concurrency=3)
    harness.run(lambda f: _fetch_all(f, urls))
    assert harness.time.sleeps == [5.0, 5.0]


def test_delay_with_the_real_clock(fault_server: FaultServer) -> None:
    urls = [fault_server.page(f"/p{i}") for i in range(3)]

    async def main() -> list[Page]:
        async with Fetcher(SETTINGS) as fetcher:  # real monotonic clock and asyncio.sleep
            fetcher.set_host_policy("127.0.0.1", delay=0.1, concurrency=3)
            return await _fetch_all(fetcher, urls)

    started = time.monotonic()
    assert len(asyncio.run(main())) == 3
    assert time.monotonic() - started >= 0.2


def test_default_policy_for_unknown_hosts_is_polite(fault_server: FaultServer) -> None:
    urls = [fault_server.page("/a"), fault_server.page("/b")]
    harness = Harness(polite=True)
    harness.run(lambda f: _fetch_all(f, urls, concurrently=False))
    assert harness.time.sleeps == [1.0]


# -- misuse -------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["ftp://example.org/x", "/relative", "http://", "mailto:a@b"])
def test_non_http_urls_are_rejected(url: str) -> None:
    harness = Harness()
    with pytest.raises(ValueError, match="http"):
        harness.get(url)
    with pytest.raises(ValueError):
        harness.run(lambda f: f.allowed(url))


def test_fetch_outside_the_context_manager_is_an_error(fault_server: FaultServer) -> None:
    fetcher = Fetcher(SETTINGS)
    with pytest.raises(RuntimeError, match="async with"):
        asyncio.run(fetcher.fetch(fault_server.page("/a")))


# -- decoding units -----------------------------------------------------------------------------


def test_body_reader_handles_concatenated_gzip_members() -> None:
    def member(data: bytes) -> bytes:
        packer = zlib.compressobj(6, zlib.DEFLATED, 31)
        return packer.compress(data) + packer.flush()

    reader = BodyReader("http://x/", coding="gzip", cap=100)
    payload = member(b"<p>one</p>") + member(b"<p>two</p>")
    for i in range(0, len(payload), 7):
        reader.feed(payload[i : i + 7])
    assert reader.finish() == b"<p>one</p><p>two</p>"


def test_inflate_capped_is_bounded_and_reads_every_member() -> None:
    one, two = gzip.compress(b"<p>one</p>"), gzip.compress(b"<p>two</p>")
    assert inflate_capped(one + two, cap=20) == b"<p>one</p><p>two</p>"  # exactly the cap
    assert inflate_capped(one + b"\n\0junk", cap=20) == b"<p>one</p>"  # trailing bytes ignored
    with pytest.raises(InflatedTooLarge, match="more than 19 bytes"):
        inflate_capped(one + two, cap=19)
    with pytest.raises(InflatedTooLarge):  # 1 GiB in 1 KiB members: stops at the cap
        inflate_capped(gzip.compress(bytes(1 << 20)) * 1024, cap=3 << 20)
    with pytest.raises(CorruptCompressed):
        inflate_capped(b"\x1f\x8b\x08 not really gzip", cap=100)


def test_body_reader_truncates_when_asked() -> None:
    reader = BodyReader("http://x/", coding="", cap=10, truncate=True)
    assert reader.feed(b"0123456789abc") is False
    assert reader.finish() == b"0123456789"


def test_parse_retry_after() -> None:
    assert parse_retry_after("120", now=NOW) == 120.0
    assert parse_retry_after("soon", now=NOW) is None and parse_retry_after(None, now=NOW) is None
    when = "Wed, 21 Oct 2015 07:30:00 GMT"
    assert parse_retry_after(when, now=NOW) == 120.0
    assert parse_retry_after(when, now=NOW.astimezone(timezone(timedelta(hours=2)))) == 120.0
    assert parse_retry_after(when, "Wed, 21 Oct 2015 07:29:00 GMT", now=NOW) == 60.0  # Date wins
    assert parse_retry_after(when, now=NOW + timedelta(days=1)) == 0.0  # already past
    assert looks_like_markup(b"\n\t <rss>") and not looks_like_markup(b"{}")


# -- helpers ------------------------------------------------------------------------------------


async def _fetch_all(fetcher: Fetcher, urls: list[str], *, concurrently: bool = True) -> list[Page]:
    if concurrently:
        return list(await asyncio.gather(*(fetcher.fetch(u) for u in urls)))
    return [await fetcher.fetch(u) for u in urls]


def _without_date(code: int, headers: dict[str, str]) -> Handler:
    """A bodiless response with no Date header (``faultserver.head`` always adds one)."""
    lines = [f"HTTP/1.1 {code} Busy", *(f"{k}: {v}" for k, v in headers.items())]
    raw = "\r\n".join([*lines, "Content-Length: 0", "Connection: close", "", ""]).encode()

    def handle(req: Request, conn: Conn) -> None:
        conn.send(raw)

    return handle


def _wait_until(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


class _Memory:
    """An in-memory RobotsMemory (the store keeps it in SQLite)."""

    def __init__(self) -> None:
        self.copies: dict[str, bytes] = {}

    def recall_robots(self, url: str) -> bytes | None:
        return self.copies.get(url)

    def remember_robots(self, url: str, content: bytes) -> None:
        self.copies[url] = content


def test_unreachable_robots_falls_back_to_the_copy_of_an_earlier_run(
    fault_server: FaultServer,
) -> None:
    memory = _Memory()
    fault_server.robots("User-agent: *\nDisallow: /private\n")
    Harness(ROBOTS, robots_memory=memory).get(fault_server.page("/a"))
    assert memory.copies == {
        fault_server.url("/robots.txt"): b"User-agent: *\nDisallow: /private\n"
    }

    fault_server.robots("down", code=503)  # the next run finds robots.txt unreachable
    harness = Harness(ROBOTS, robots_memory=memory)
    assert harness.get(fault_server.url("/a")).status == 200
    harness.fail(fault_server.page("/private"), RobotsDisallowed)
    (event,) = [e for e in harness.events if e.kind == "robots"]
    assert "earlier run" in event.message
    # without a stored copy the same outage disallows everything (RFC 9309)
    Harness(ROBOTS, robots_memory=_Memory()).fail(fault_server.url("/a"), RobotsDisallowed)


def test_fetchers_on_two_threads_share_one_host_spacing(fault_server: FaultServer) -> None:
    import threading

    from scraper.fetch import HostSpacing

    spacing, delay = HostSpacing(), 0.15
    starts: list[float] = []
    fault_server.route("/t", lambda req, conn: (starts.append(time.monotonic()), ok()(req, conn)))

    def crawl() -> None:
        async def main() -> None:
            async with Fetcher(SETTINGS, spacing=spacing) as fetcher:
                fetcher.set_host_policy("127.0.0.1", delay=delay, concurrency=2)
                for _ in range(3):
                    await fetcher.fetch(fault_server.url("/t"))

        asyncio.run(main())

    threads = [threading.Thread(target=crawl) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    starts.sort()
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert len(starts) == 6
    assert min(gaps) >= delay * 0.9, gaps  # each crawler alone would allow overlapping starts


# -- stopping -----------------------------------------------------------------------------------


class StuckTime(FakeTime):
    """Fake time whose sleeps never end by themselves: only a stop ends them."""

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        await asyncio.get_running_loop().create_future()  # until cancelled


async def _until(condition: Callable[[], object]) -> None:
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition not met in time")


@pytest.mark.parametrize("from_thread", [False, True], ids=["in-loop", "from-a-thread"])
def test_stop_ends_a_politeness_wait_at_once(fault_server: FaultServer, from_thread: bool) -> None:
    urls = [fault_server.page("/a"), fault_server.page("/b")]
    harness = Harness(time=StuckTime())
    harness.fetcher.set_host_policy("127.0.0.1", delay=45.0, concurrency=2)

    async def work(fetcher: Fetcher) -> Interrupted:
        await fetcher.fetch(urls[0])
        second = asyncio.ensure_future(fetcher.fetch(urls[1]))
        await _until(lambda: harness.time.sleeps)  # /b waits its 45 s
        if from_thread:
            await asyncio.get_running_loop().run_in_executor(None, fetcher.stop)
        else:
            fetcher.stop()
        with pytest.raises(Interrupted) as caught:
            await second
        assert fetcher.stopping
        return caught.value

    started = time.monotonic()
    error = harness.run(work)
    assert time.monotonic() - started < 2.0
    assert harness.time.sleeps == [45.0]
    assert "stopping: politeness wait of 45 s for 127.0.0.1 cut short" in str(error)
    assert error.kind == "interrupted" and error.url == urls[1]
    assert fault_server.hits["/b"] == 0
    assert harness.kinds()[-1] == "error"  # reported like any fetch that did not happen


def test_stop_ends_a_retry_backoff_at_once(fault_server: FaultServer) -> None:
    url = fault_server.sequence("/flaky", status(503), ok())
    harness = Harness(time=StuckTime())

    async def work(fetcher: Fetcher) -> Interrupted:
        pending = asyncio.ensure_future(fetcher.fetch(url))
        await _until(lambda: harness.time.sleeps)
        fetcher.stop()
        with pytest.raises(Interrupted) as caught:
            await pending
        return caught.value

    error = harness.run(work)
    assert "retry backoff" in str(error) and fault_server.hits["/flaky"] == 1
    assert harness.kinds() == ["response", "retry", "error"]


@pytest.mark.parametrize("limit", ["host", "global"])
def test_stop_ends_a_wait_for_a_connection_slot_but_not_the_request_in_flight(
    fault_server: FaultServer, limit: str
) -> None:
    slow, other = fault_server.route("/slow", hold(0.3)), fault_server.page("/b")
    settings = replace(SETTINGS, concurrency=1) if limit == "global" else SETTINGS
    harness = Harness(settings)
    host_limit = 1 if limit == "host" else 4
    harness.fetcher.set_host_policy("127.0.0.1", delay=0.0, concurrency=host_limit)

    async def work(fetcher: Fetcher) -> Page:
        in_flight = asyncio.ensure_future(fetcher.fetch(slow))
        await _until(lambda: fault_server.hits["/slow"])
        waiting = asyncio.ensure_future(fetcher.fetch(other))
        await asyncio.sleep(0.01)  # /b is waiting for the slot /slow holds
        fetcher.stop()
        with pytest.raises(Interrupted, match="wait for a free connection"):
            await waiting
        assert not in_flight.done()  # the request in flight keeps its time
        return await in_flight

    assert harness.run(work).status == 200
    assert fault_server.hits["/b"] == 0


def test_no_request_starts_after_a_stop(fault_server: FaultServer) -> None:
    url = fault_server.page("/a")
    harness = Harness(ROBOTS)

    async def work(fetcher: Fetcher) -> None:
        fetcher.stop()
        fetcher.stop()  # idempotent
        with pytest.raises(Interrupted, match="request not started"):
            await fetcher.fetch(url)
        with pytest.raises(Interrupted):
            await fetcher.allowed(url)
        with pytest.raises(Interrupted):
            await fetcher.robots_sitemaps(url)

    harness.run(work)
    assert not fault_server.hits


def test_a_stop_during_the_robots_txt_backoff_is_not_an_unreachable_robots_txt(
    fault_server: FaultServer,
) -> None:
    fault_server.route("/robots.txt", status(503))
    url = fault_server.page("/a")
    harness = Harness(ROBOTS, time=StuckTime())

    async def work(fetcher: Fetcher) -> None:
        pending = asyncio.ensure_future(fetcher.fetch(url))
        await _until(lambda: harness.time.sleeps)
        fetcher.stop()
        with pytest.raises(Interrupted):  # not RobotsDisallowed: robots.txt was not judged
            await pending

    harness.run(work)
    assert "robots" not in harness.kinds() and fault_server.hits["/a"] == 0


# -- the Sitemap: lines of robots.txt -----------------------------------------------------------


def test_robots_sitemaps_reads_robots_txt_once(fault_server: FaultServer) -> None:
    base = fault_server.base
    fault_server.robots(
        "User-agent: *\nDisallow: /private\n"
        f"Sitemap: {base}/sitemap.xml\nSitemap: /news-sitemap.xml\n"
        f"Sitemap: ftp://example.org/x.xml\nsitemap: {base}/sitemap.xml\n"
    )
    harness = Harness(ROBOTS)

    async def work(fetcher: Fetcher) -> list[object]:
        return [
            await fetcher.robots_sitemaps(f"{base}/news/1"),
            await fetcher.allowed(f"{base}/private/x"),
            await fetcher.robots_sitemaps(f"{base}/other"),
        ]

    found = (f"{base}/sitemap.xml", f"{base}/news-sitemap.xml")
    assert harness.run(work) == [found, False, found]
    assert fault_server.hits["/robots.txt"] == 1


@pytest.mark.parametrize("answer", [404, 503])
def test_robots_sitemaps_without_a_robots_txt(fault_server: FaultServer, answer: int) -> None:
    fault_server.route("/robots.txt", status(answer))
    url = fault_server.page("/a")
    harness = Harness(replace(SETTINGS, retries=0))  # respect_robots off: still read for this
    assert harness.run(lambda f: f.robots_sitemaps(url)) == ()
    assert fault_server.hits["/robots.txt"] == 1
