"""One GET and its retries: the politeness slot, the total timeout, reading a bounded body.

This is the only module that sees httpx exceptions; each failure leaves it as one of the
:mod:`scraper.errors` kinds (raised ``from`` the original, in :func:`_translate`). The
address policy of the request travels with it (:func:`.network.request_scope`), and once
the fetcher is stopping no attempt starts and no backoff is waited out.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from ..clock import Clock
from ..config import FetchSettings
from ..errors import (
    ConnectionFailed,
    FetchError,
    FetchTimeout,
    HTTPStatusFailure,
    NotHTML,
    ResponseTooSlow,
)
from .addresses import AddressPolicy
from .body import BodyReader
from .headers import (
    check_content_length,
    looks_like_markup,
    media_type,
    parse_retry_after,
    redirect_location,
)
from .network import request_scope
from .politeness import Politeness
from .stopping import Sleep, StopSignal

__all__ = ["RETRY_STATUSES", "Exchanges", "FetchEvent", "Options", "Response", "host_key"]

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
class Options:
    """What one fetch asks of every hop."""

    headers: dict[str, str]
    accept: tuple[str, ...] | None  # None: any content type (robots.txt)
    cap: int
    policy: AddressPolicy  # which hosts may connect to non-public addresses
    truncate: bool = False  # cut the body at the cap instead of failing
    inside: set[str] | None = None  # collects the hosts that reached non-public addresses


@dataclass(frozen=True)
class Response:
    """One answer, its body read (empty for redirects, 304 and retryable statuses)."""

    url: str
    status: int
    headers: dict[str, str]
    content: bytes


class Exchanges:
    """Sends the GETs of one fetcher, each with its retries; ``client`` is set while open."""

    def __init__(
        self,
        settings: FetchSettings,
        *,
        now: Clock,
        sleep: Sleep,
        rng: random.Random,
        polite: Politeness,
        stop: StopSignal,
        on_event: Callable[[FetchEvent], None],
    ) -> None:
        self._settings = settings
        self._now = now
        self._sleep = sleep
        self._rng = rng
        self._polite = polite
        self._stop = stop
        self._on_event = on_event
        self.client: httpx.AsyncClient | None = None

    async def get(self, url: str, options: Options) -> tuple[Response, int]:
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
        self._on_event(FetchEvent(url, status, "retry", attempt, wait, f"{why}; retrying"))
        await self._stop.sleep(self._sleep, wait, url, f"retry backoff of {wait:g} s")

    def _backoff(self, attempt: int) -> float:
        s = self._settings
        ceiling = min(s.backoff_max, s.backoff_base * 2.0 ** (attempt - 1))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def _status_wait(self, response: Response, attempt: int) -> float:
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
        self._polite.hold(host_key(response.url), asked)
        return max(wait, asked)

    # -- one request --------------------------------------------------------------------

    async def _attempt(self, url: str, options: Options, attempt: int) -> Response:
        client = self._require_client()
        total = self._settings.total_timeout
        self._stop.check(url)
        async with self._polite.slot(host_key(url), url):
            try:
                async with asyncio.timeout(total) as deadline:
                    with request_scope(options.policy, url, options.inside):
                        async with client.stream(
                            "GET", url, headers=options.headers, extensions=self._trace(url)
                        ) as resp:
                            return await self._read(url, resp, options, attempt)
            except TimeoutError as exc:
                if deadline.expired():
                    message = f"no complete response within total_timeout ({total:g} s)"
                    raise ResponseTooSlow(message, url=url) from exc
                raise FetchTimeout(f"timed out: {exc}", url=url) from exc
            except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, OSError) as exc:
                raise _translate(exc, url) from exc

    def _trace(self, url: str) -> dict[str, Any]:
        """httpcore's trace hook: politeness learns when the request's headers are being
        written, after any connection setup, which is when the site sees it arrive."""
        host = host_key(url)

        async def trace(event: str, info: dict[str, Any]) -> None:
            if event.endswith("send_request_headers.started"):
                self._polite.sent(host)

        return {"trace": trace}

    async def _read(
        self, url: str, response: httpx.Response, options: Options, attempt: int
    ) -> Response:
        status = response.status_code
        headers = {k.lower(): v for k, v in response.headers.items()}
        self._on_event(FetchEvent(url, status, "response", attempt, message=f"HTTP {status}"))
        if status == 304 or status in RETRY_STATUSES or redirect_location(url, status, headers):
            return Response(url, status, headers, b"")
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
        return Response(url, status, headers, content)

    def _require_client(self) -> httpx.AsyncClient:
        if self.client is None:
            raise RuntimeError("Fetcher is not open; use 'async with Fetcher(settings) as f'")
        return self.client


def host_key(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


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
