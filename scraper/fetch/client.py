"""The polite async fetcher: one shared httpx client, per-host politeness, retries, robots.txt.

Every failure leaves it as one of the :mod:`scraper.errors` kinds (httpx's are translated
in :mod:`.exchange`, which sends each request and its retries). Redirects are followed by hand
so that every hop passes the robots.txt check, the per-host politeness and the address
policy (:mod:`.addresses`, applied by :mod:`.network` to the address connected to) again.
:meth:`Fetcher.for_source` gives the view one source fetches through; :meth:`Fetcher.stop`
ends every wait at once when the run is stopping.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections.abc import Awaitable, Callable
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Protocol
from urllib.parse import urldefrag, urlsplit

import httpx

from ..clock import Clock, utc_now
from ..config import FetchSettings
from ..errors import (
    AddressRefused,
    FetchError,
    HTTPStatusFailure,
    Interrupted,
    RobotsDisallowed,
    TooManyRedirects,
)
from ..models import Page, Validators
from .addresses import UNRESTRICTED, AddressPolicy, normalize_host
from .body import ACCEPT_ENCODING
from .exchange import Exchanges, FetchEvent, Options, Response, host_key
from .headers import redirect_location, request_headers
from .network import Resolver, guarded_transport
from .politeness import HostSpacing, Politeness
from .robots import (
    ROBOTS_MAX_BYTES,
    RobotsCache,
    RobotsMemory,
    RobotsRules,
    parse_robots,
    recalled_rules,
    refused_rules,
    rules_for_status,
)
from .stopping import StopSignal

__all__ = [
    "FEED_TYPES",
    "HTML_TYPES",
    "ROBOTS_TYPES",
    "SITEMAP_TYPES",
    "FetchEvent",
    "Fetcher",
    "PageFetcher",
    "SourceFetcher",
]

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


class PageFetcher(Protocol):
    """What the pipeline's stages fetch through: a :class:`Fetcher` or a :class:`SourceFetcher`."""

    async def fetch(
        self,
        url: str,
        *,
        validators: Validators | None = None,
        accept: tuple[str, ...] = HTML_TYPES,
        max_bytes: int | None = None,
    ) -> Page: ...

    async def allowed(self, url: str) -> bool: ...

    async def robots_sitemaps(self, url: str) -> tuple[str, ...]: ...


class Fetcher:
    """Fetches pages politely; use as ``async with Fetcher(settings) as fetcher``.

    One fetcher belongs to one event loop. Hosts without :meth:`set_host_policy` get
    ``politeness.DEFAULT_HOST_DELAY`` and ``politeness.DEFAULT_HOST_CONCURRENCY``.

    Two clocks are injected: ``clock`` (monotonic seconds) spaces requests and measures
    ``Page.elapsed``; ``now`` (an aware UTC datetime) stamps ``Page.fetched_at`` and is the
    reference for a Retry-After date when the response has no Date header.

    Its own :meth:`fetch` may connect anywhere; a source fetches through
    :meth:`for_source`, which refuses internal addresses outside the source's own hosts.
    ``resolver`` resolves names for the default transport (tests inject one).
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
        resolver: Resolver | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._now = now
        self._transport = transport
        self._on_event = on_event
        self._robots_memory = robots_memory
        self._resolver = resolver
        self._stop = StopSignal()
        self._polite = Politeness(
            settings.concurrency, clock=clock, sleep=sleep, shared=spacing, stop=self._stop
        )
        self._exchanges = Exchanges(
            settings,
            now=now,
            sleep=sleep,
            rng=rng or random.Random(),
            polite=self._polite,
            stop=self._stop,
            on_event=self._emit,
        )
        self._robots = RobotsCache(self._load_robots)

    async def __aenter__(self) -> Fetcher:
        s = self._settings
        limits = httpx.Limits(max_connections=s.concurrency)
        self._stop.bind(asyncio.get_running_loop())
        self._exchanges.client = httpx.AsyncClient(
            transport=self._transport or guarded_transport(limits, resolver=self._resolver),
            headers={"User-Agent": s.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            timeout=httpx.Timeout(s.connect_timeout, read=s.read_timeout),
            limits=limits,
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),  # keep none
            follow_redirects=False,
            trust_env=False,
            event_hooks={"request": [self._leaving]},
        )
        return self

    async def _leaving(self, request: httpx.Request) -> None:
        """httpx is about to send ``request``: politeness spaces the host's next request
        from now, not from when this one was granted its turn."""
        self._polite.sent(host_key(str(request.url)))

    async def __aexit__(self, *exc_info: object) -> None:
        client, self._exchanges.client = self._exchanges.client, None
        if client is not None:
            await client.aclose()

    def set_host_policy(self, host: str, *, delay: float, concurrency: int) -> None:
        """Space request starts to ``host`` (a hostname) by ``delay`` s, ``concurrency`` at once."""
        self._polite.set_policy(host, delay=delay, concurrency=concurrency)

    def for_source(
        self, trusted_hosts: frozenset[str] = frozenset(), allow_private: bool = False
    ) -> SourceFetcher:
        """The view one source fetches through: internal addresses are refused for every
        host but ``trusted_hosts`` (its configured hosts), unless ``allow_private``.

        ``AddressPolicy.of_source(source)`` builds both from a configured source;
        :meth:`with_policy` takes such a policy directly.
        """
        return SourceFetcher(self, AddressPolicy(trusted_hosts, allow_private=allow_private))

    def with_policy(self, policy: AddressPolicy) -> SourceFetcher:
        """The view that applies ``policy`` to every request, redirect and robots.txt."""
        return SourceFetcher(self, policy)

    def stop(self) -> None:
        """The run is stopping: end every politeness wait and retry backoff now.

        Each ends with :class:`~scraper.errors.Interrupted`, as does every request that
        would start from now on; requests already in flight go on (the caller's grace
        period bounds them). Safe to call more than once, and from any thread.
        """
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stop.is_set

    async def allowed(self, url: str) -> bool:
        """Whether robots.txt lets us fetch ``url`` (False when robots.txt was unreachable)."""
        return await self._allowed(url, UNRESTRICTED)

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
        Any address may be connected to: a source fetches through :meth:`for_source`.
        """
        return await self._fetch(url, validators, accept, max_bytes, UNRESTRICTED)

    async def robots_sitemaps(self, url: str) -> tuple[str, ...]:
        """The ``Sitemap:`` URLs in the robots.txt of ``url``'s origin (read once per origin).

        Empty when robots.txt has none, or could not be read.
        """
        return await self._robots_sitemaps(url, UNRESTRICTED)

    async def _allowed(self, url: str, policy: AddressPolicy) -> bool:
        _check_url(url)
        if not self._settings.respect_robots:
            return True
        rules = await self._robots.rules(url, policy)
        return rules.allows(url, self._settings.user_agent)

    async def _robots_sitemaps(self, url: str, policy: AddressPolicy) -> tuple[str, ...]:
        _check_url(url)
        rules = await self._robots.rules(url, policy)
        return rules.sitemaps()

    async def _fetch(
        self,
        url: str,
        validators: Validators | None,
        accept: tuple[str, ...],
        max_bytes: int | None,
        policy: AddressPolicy,
    ) -> Page:
        _check_url(url)
        cap = self._settings.max_bytes if max_bytes is None else max_bytes
        if cap < 1:
            raise ValueError(f"max_bytes must be positive, got {cap}")
        options = Options(request_headers(accept, validators), accept, cap, policy)
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
        self, url: str, options: Options, *, check_robots: bool
    ) -> tuple[Response, tuple[str, ...], int]:
        chain: list[str] = []
        current, attempts = url, 0
        while True:
            if check_robots:
                await self._check_robots(current, options.policy)
            response, tries = await self._exchanges.get(current, options)
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

    async def _check_robots(self, url: str, policy: AddressPolicy) -> None:
        if not self._settings.respect_robots:
            return
        rules = await self._robots.rules(url, policy)
        refused = rules.refused
        if refused is not None and refused.url == rules.url:  # the host itself is refused
            raise AddressRefused(
                refused.reason, url=url, host=refused.host, address=refused.address
            )
        if rules.unreachable is not None:
            raise RobotsDisallowed(
                f"robots.txt ({rules.url}) was unreachable, so the site counts as disallowed "
                f"(RFC 9309): {rules.unreachable}",
                url=url,
            )
        if not rules.allows(url, self._settings.user_agent):
            raise RobotsDisallowed(f"disallowed by {rules.url}", url=url)

    async def _load_robots(self, url: str, policy: AddressPolicy) -> RobotsRules:
        headers = request_headers(ROBOTS_TYPES, None)
        inside: set[str] = set()  # hosts on the way that were reached at internal addresses
        options = Options(headers, None, ROBOTS_MAX_BYTES, policy, truncate=True, inside=inside)
        own = {normalize_host(host_key(url))}
        try:
            response, _, attempts = await self._follow(url, options, check_robots=False)
        except Interrupted:
            raise  # the run is stopping: nothing learnt about robots.txt
        except AddressRefused as exc:
            rules = refused_rules(url, exc)
            attempts, message = 0, rules.describe()
        except TooManyRedirects as exc:
            rules = RobotsRules(url=url, status=None)
            attempts, message = 0, f"{rules.describe()}: {exc}"
        except FetchError as exc:
            rules = recalled_rules(rules_for_status(url, exc.status, str(exc)), self._robots_memory)
            attempts, message = 0, rules.describe()
        else:
            rules = parse_robots(url, response.content, response.status)
            if self._robots_memory is not None and inside <= own:
                self._robots_memory.remember_robots(url, response.content)
            message = rules.describe()
        if not inside <= own:  # read inside through another host: only for this policy
            rules = dataclasses.replace(rules, scoped=True)
        delay = rules.crawl_delay(self._settings.user_agent)
        if delay:
            self._polite.set_crawl_delay(host_key(url), delay)
        self._emit(FetchEvent(url, rules.status, "robots", attempts, message=message))
        return rules

    def _emit(self, event: FetchEvent) -> None:
        if self._on_event is not None:
            self._on_event(event)


class SourceFetcher:
    """One source's view of the shared :class:`Fetcher`: the same politeness, robots.txt and
    connections, under the source's :class:`~.addresses.AddressPolicy`.

    Its methods have the signatures of the fetcher's. Every request made for them (each
    redirect hop, robots.txt, feeds, sitemaps, followed links) is refused with
    :class:`~scraper.errors.AddressRefused` when the address it connects to is not public
    and its host is not one the policy trusts.
    """

    def __init__(self, fetcher: Fetcher, policy: AddressPolicy) -> None:
        self.fetcher = fetcher
        self.policy = policy

    async def fetch(
        self,
        url: str,
        *,
        validators: Validators | None = None,
        accept: tuple[str, ...] = HTML_TYPES,
        max_bytes: int | None = None,
    ) -> Page:
        """:meth:`Fetcher.fetch` under this source's address policy."""
        return await self.fetcher._fetch(url, validators, accept, max_bytes, self.policy)

    async def allowed(self, url: str) -> bool:
        """:meth:`Fetcher.allowed` under this source's address policy."""
        return await self.fetcher._allowed(url, self.policy)

    async def robots_sitemaps(self, url: str) -> tuple[str, ...]:
        """:meth:`Fetcher.robots_sitemaps` under this source's address policy."""
        return await self.fetcher._robots_sitemaps(url, self.policy)


# -- helpers --------------------------------------------------------------------------------


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    try:
        httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"invalid URL {url!r}: {exc}") from None


def _redirect_target(response: Response) -> str | None:
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
