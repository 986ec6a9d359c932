"""The polite async fetcher: one shared httpx client, per-host politeness, retries, robots.txt.

This is the only module that sees httpx exceptions; every failure leaves it as one of the
:mod:`scraper.errors` kinds (raised ``from`` the original). Redirects are followed by hand
so that every hop passes the robots.txt check and the per-host politeness again.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Literal
from urllib.parse import urldefrag, urlsplit

import httpx

from ..clock import Clock, utc_now
from ..config import FetchSettings
from ..errors import (
    ConnectionFailed,
    FetchError,
    FetchTimeout,
    HTTPStatusFailure,
    NotHTML,
    ResponseTooSlow,
    RobotsDisallowed,
    TooManyRedirects,
)
from ..models import Page, Validators
from .body import ACCEPT_ENCODING, BodyReader
from .headers import (
    check_content_length,
    looks_like_markup,
    media_type,
    parse_retry_after,
    redirect_location,
    request_headers,
)
from .politeness import HostSpacing, Politeness
from .robots import (
    ROBOTS_MAX_BYTES,
    RobotsCache,
    RobotsMemory,
    RobotsRules,
    parse_robots,
    recalled_rules,
    rules_for_status,
)

__all__ = ["FEED_TYPES", "HTML_TYPES", "ROBOTS_TYPES", "SITEMAP_TYPES", "FetchEvent", "Fetcher"]

HTML_TYPES: tuple[str, ...] = ("text/html", "application/xhtml+xml")
FEED_TYPES: tuple[str, ...] = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
)
# sitemap.xml.gz files come as gzip documents; the sitemap parser unpacks them under a cap
SITEMAP_TYPES: tuple[str, ...] = (*FEED_TYPES, "application/gzip", "application/x-gzip")
ROBOTS_TYPES: tuple[str, ...] = ("text/plain",)

RETRY_STATUSES = frozenset({408, 429, *range(500, 600)})

EventKind = Literal["retry", "response", "error", "robots"]


@dataclass(frozen=True)
class FetchEvent:
    """Something worth logging that happened while fetching ``url``."""

    url: str
    status: int | None
    kind: EventKind
    attempt: int  # 1-based; 0 on "error" and on robots.txt failures
    wait: float = 0.0  # seconds slept before the next attempt ("retry")
    message: str = ""


@dataclass(frozen=True)
class _Options:
    """What one fetch asks of every hop."""

    headers: dict[str, str]
    accept: tuple[str, ...] | None  # None: any content type (robots.txt)
    cap: int
    truncate: bool = False  # cut the body at the cap instead of failing


@dataclass(frozen=True)
class _Response:
    url: str
    status: int
    headers: dict[str, str]
    content: bytes


class Fetcher:
    """Fetches pages politely; use as ``async with Fetcher(settings) as fetcher``.

    One fetcher belongs to one event loop. Hosts without :meth:`set_host_policy` get
    ``politeness.DEFAULT_HOST_DELAY`` and ``politeness.DEFAULT_HOST_CONCURRENCY``.

    Two clocks are injected: ``clock`` (monotonic seconds) spaces requests and measures
    ``Page.elapsed``; ``now`` (an aware UTC datetime) stamps ``Page.fetched_at`` and is the
    reference for a Retry-After date when the response has no Date header.
    """

    def __init__(
        self,
        settings: FetchSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Clock = utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        on_event: Callable[[FetchEvent], None] | None = None,
        robots_memory: RobotsMemory | None = None,
        spacing: HostSpacing | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._now = now
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._transport = transport
        self._on_event = on_event
        self._robots_memory = robots_memory
        self._polite = Politeness(settings.concurrency, clock=clock, sleep=sleep, shared=spacing)
        self._robots = RobotsCache(self._load_robots)
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Fetcher:
        s = self._settings
        self._client = httpx.AsyncClient(
            transport=self._transport,
            headers={"User-Agent": s.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            timeout=httpx.Timeout(s.connect_timeout, read=s.read_timeout),
            limits=httpx.Limits(max_connections=s.concurrency),
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),  # keep none
            follow_redirects=False,
            trust_env=False,
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def set_host_policy(self, host: str, *, delay: float, concurrency: int) -> None:
        """Space request starts to ``host`` (a hostname) by ``delay`` s, ``concurrency`` at once."""
        self._polite.set_policy(host, delay=delay, concurrency=concurrency)

    async def allowed(self, url: str) -> bool:
        """Whether robots.txt lets us fetch ``url`` (False when robots.txt was unreachable)."""
        _check_url(url)
        if not self._settings.respect_robots:
            return True
        rules = await self._robots.rules(url)
        return rules.allows(url, self._settings.user_agent)

    async def fetch(
        self,
        url: str,
        *,
        validators: Validators | None = None,
        accept: tuple[str, ...] = HTML_TYPES,
        max_bytes: int | None = None,
    ) -> Page:
        """GET ``url``; a 304 answer to ``validators`` comes back as a Page with status 304.

        ``Page.redirects`` lists the URLs that answered with a redirect, in order;
        ``Page.attempts`` counts every request sent for this page (retries and hops).
        """
        _check_url(url)
        cap = self._settings.max_bytes if max_bytes is None else max_bytes
        if cap < 1:
            raise ValueError(f"max_bytes must be positive, got {cap}")
        options = _Options(request_headers(accept, validators), accept, cap)
        started = self._clock()
        try:
            response, chain, attempts = await self._follow(url, options, check_robots=True)
        except FetchError as exc:
            self._emit(FetchEvent(url, exc.status, "error", 0, message=str(exc)))
            raise
        return Page(
            requested_url=url,
            final_url=response.url,
            status=response.status,
            headers=response.headers,
            content=response.content,
            fetched_at=self._now(),
            elapsed=self._clock() - started,
            redirects=chain,
            attempts=attempts,
        )

    # -- redirects and robots -----------------------------------------------------------

    async def _follow(
        self, url: str, options: _Options, *, check_robots: bool
    ) -> tuple[_Response, tuple[str, ...], int]:
        chain: list[str] = []
        current, attempts = url, 0
        while True:
            if check_robots:
                await self._check_robots(current)
            response, tries = await self._with_retries(current, options)
            attempts += tries
            target = _redirect_target(response)
            if target is None:
                return response, tuple(chain), attempts
            chain.append(current)
            seen = {urldefrag(u).url for u in chain}
            if urldefrag(target).url in seen:
                raise TooManyRedirects(f"redirect loop: {_arrows(chain, target)}", url=url)
            if len(chain) > self._settings.max_redirects:
                limit = self._settings.max_redirects
                raise TooManyRedirects(
                    f"more than {limit} redirects: {_arrows(chain, target)}", url=url
                )
            current = target

    async def _check_robots(self, url: str) -> None:
        if not self._settings.respect_robots:
            return
        rules = await self._robots.rules(url)
        if rules.unreachable is not None:
            raise RobotsDisallowed(
                f"robots.txt ({rules.url}) was unreachable, so the site counts as disallowed "
                f"(RFC 9309): {rules.unreachable}",
                url=url,
            )
        if not rules.allows(url, self._settings.user_agent):
            raise RobotsDisallowed(f"disallowed by {rules.url}", url=url)

    async def _load_robots(self, url: str) -> RobotsRules:
        options = _Options(request_headers(ROBOTS_TYPES, None), None, ROBOTS_MAX_BYTES, True)
        try:
            response, _, attempts = await self._follow(url, options, check_robots=False)
        except TooManyRedirects as exc:
            rules = RobotsRules(url=url, status=None)
            attempts, message = 0, f"{rules.describe()}: {exc}"
        except FetchError as exc:
            rules = recalled_rules(rules_for_status(url, exc.status, str(exc)), self._robots_memory)
            attempts, message = 0, rules.describe()
        else:
            rules = parse_robots(url, response.content, response.status)
            if self._robots_memory is not None:
                self._robots_memory.remember_robots(url, response.content)
            message = rules.describe()
        delay = rules.crawl_delay(self._settings.user_agent)
        if delay:
            self._polite.set_crawl_delay(_host_key(url), delay)
        self._emit(FetchEvent(url, rules.status, "robots", attempts, message=message))
        return rules

    # -- retries ------------------------------------------------------------------------

    async def _with_retries(self, url: str, options: _Options) -> tuple[_Response, int]:
        last = self._settings.retries + 1
        for attempt in range(1, last + 1):
            try:
                response = await self._attempt(url, options, attempt)
            except (FetchTimeout, ConnectionFailed) as exc:
                if attempt == last or isinstance(exc, ResponseTooSlow):
                    raise
                await self._pause(url, None, attempt, self._backoff(attempt), str(exc))
                continue
            if response.status not in RETRY_STATUSES:
                return response, attempt
            wait = self._status_wait(response, attempt)
            if attempt == last:
                raise HTTPStatusFailure(
                    f"HTTP {response.status} after {attempt} attempts",
                    url=url,
                    status=response.status,
                )
            await self._pause(url, response.status, attempt, wait, f"HTTP {response.status}")
        raise AssertionError("unreachable")  # pragma: no cover

    async def _pause(
        self, url: str, status: int | None, attempt: int, wait: float, why: str
    ) -> None:
        self._emit(FetchEvent(url, status, "retry", attempt, wait, f"{why}; retrying"))
        await self._sleep(wait)

    def _backoff(self, attempt: int) -> float:
        s = self._settings
        ceiling = min(s.backoff_max, s.backoff_base * 2.0 ** (attempt - 1))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def _status_wait(self, response: _Response, attempt: int) -> float:
        """Backoff for a retryable status; a Retry-After (429/503) also holds back the host."""
        wait = self._backoff(attempt)
        if response.status not in (429, 503):
            return wait
        headers = response.headers
        asked = parse_retry_after(headers.get("retry-after"), headers.get("date"), now=self._now())
        if asked is None:
            return wait
        limit = self._settings.max_retry_after
        if asked > limit:
            raise HTTPStatusFailure(
                f"HTTP {response.status}: server asks to retry after {asked:g} s, "
                f"more than max_retry_after ({limit:g} s)",
                url=response.url,
                status=response.status,
            )
        self._polite.hold(_host_key(response.url), asked)
        return max(wait, asked)

    # -- one request --------------------------------------------------------------------

    async def _attempt(self, url: str, options: _Options, attempt: int) -> _Response:
        client = self._require_client()
        total = self._settings.total_timeout
        async with self._polite.slot(_host_key(url)):
            try:
                async with asyncio.timeout(total) as deadline:
                    async with client.stream("GET", url, headers=options.headers) as response:
                        return await self._read(url, response, options, attempt)
            except TimeoutError as exc:
                if deadline.expired():
                    message = f"no complete response within total_timeout ({total:g} s)"
                    raise ResponseTooSlow(message, url=url) from exc
                raise FetchTimeout(f"timed out: {exc}", url=url) from exc
            except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, OSError) as exc:
                raise _translate(exc, url) from exc

    async def _read(
        self, url: str, response: httpx.Response, options: _Options, attempt: int
    ) -> _Response:
        status = response.status_code
        headers = {k.lower(): v for k, v in response.headers.items()}
        self._emit(FetchEvent(url, status, "response", attempt, message=f"HTTP {status}"))
        if status == 304 or status in RETRY_STATUSES or redirect_location(url, status, headers):
            return _Response(url, status, headers, b"")
        if status >= 300:
            phrase = response.reason_phrase or "error"
            raise HTTPStatusFailure(f"HTTP {status} {phrase}", url=url, status=status)
        kind = media_type(headers.get("content-type"))
        if kind and options.accept is not None and kind not in options.accept:
            raise NotHTML(
                f"content type {kind!r} is not one of {', '.join(options.accept)}", url=url
            )
        if not options.truncate:
            check_content_length(url, headers.get("content-length"), options.cap)
        reader = BodyReader(
            url,
            coding=headers.get("content-encoding", ""),
            cap=options.cap,
            truncate=options.truncate,
        )
        async for chunk in response.aiter_raw():
            if not reader.feed(chunk):
                break
        content = reader.finish()
        if not kind and options.accept is not None and not looks_like_markup(content):
            raise NotHTML("no Content-Type and the body does not start with '<'", url=url)
        return _Response(url, status, headers, content)

    def _require_client(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("Fetcher is not open; use 'async with Fetcher(settings) as f'")
        return self._client

    def _emit(self, event: FetchEvent) -> None:
        if self._on_event is not None:
            self._on_event(event)


# -- helpers --------------------------------------------------------------------------------


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    try:
        httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"invalid URL {url!r}: {exc}") from None


def _host_key(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _redirect_target(response: _Response) -> str | None:
    target = redirect_location(response.url, response.status, response.headers)
    if target is None:
        return None
    try:
        _check_url(target)
    except ValueError as exc:
        message = f"HTTP {response.status} redirect to an unusable URL: {exc}"
        raise HTTPStatusFailure(message, url=response.url, status=response.status) from None
    return target


def _arrows(chain: list[str], target: str) -> str:
    return " -> ".join((*chain, target))


def _translate(exc: BaseException, url: str) -> FetchError:
    """Map an httpx / network error to our error kinds (the one translation point)."""
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        phase = _TIMEOUT_PHASES.get(type(exc), "request")
        return FetchTimeout(f"{phase} timeout: {detail}", url=url)
    if isinstance(exc, httpx.ConnectError):
        return ConnectionFailed(f"cannot connect: {detail}", url=url)
    if isinstance(exc, httpx.RemoteProtocolError):
        return ConnectionFailed(f"connection cut short: {detail}", url=url)
    return ConnectionFailed(f"{type(exc).__name__}: {detail}", url=url)


_TIMEOUT_PHASES: dict[type[BaseException], str] = {
    httpx.ConnectTimeout: "connect",
    httpx.ReadTimeout: "read",
    httpx.WriteTimeout: "write",
    httpx.PoolTimeout: "connection pool",
}
