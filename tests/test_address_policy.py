"""The address policy end to end: hostile redirects, robots.txt and names that point inside.

Every server here listens on 127.0.0.1. The source's own site is reached by a *name*
(``news.test``) that the injected resolver maps to 127.0.0.1 and that the source trusts
as configured; any other way to 127.0.0.1 must be refused. Connections go through
:class:`LoopbackOnly`, a safety net that opens real connections to loopback only, so a
broken policy fails a test instead of reaching another address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import httpcore
import httpx
import pytest
from faultserver import FaultServer, ok, redirect

from scraper.config import FetchSettings
from scraper.errors import AddressRefused, HTTPStatusFailure, RobotsDisallowed
from scraper.fetch import AddressPolicy, Fetcher, FetchEvent, SourceFetcher
from scraper.fetch.addresses import classify
from scraper.fetch.network import Resolver, guarded_transport, system_resolver

T = TypeVar("T")
SETTINGS = FetchSettings(
    user_agent="testbot/1.0",
    connect_timeout=2.0,
    read_timeout=2.0,
    total_timeout=5.0,
    retries=0,
    respect_robots=False,
)
ROBOTS = replace(SETTINGS, respect_robots=True)
SITE = "news.test"  # the source's configured host: resolves to 127.0.0.1
PUBLIC = "93.184.216.34"  # a public-looking address; LoopbackOnly never really connects there


class FakeDNS:
    """An injected resolver: each name's answers in turn (the last one repeats)."""

    def __init__(self, answers: dict[str, Sequence[Sequence[str]]]) -> None:
        self.answers = {name: list(seq) for name, seq in answers.items()}
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        answers = self.answers.get(host)
        if not answers:
            raise socket.gaierror(socket.EAI_NONAME, f"{host}: name not known")
        return list(answers.pop(0) if len(answers) > 1 else answers[0])


class LoopbackOnly(httpcore.AsyncNetworkBackend):
    """Opens real connections to loopback addresses only, and records every request to.

    A public address is served by the stand-in server at ``public_port`` (the "internet");
    any other address, or a name, fails the test.
    """

    def __init__(self, public_port: int | None = None) -> None:
        self.inner = httpcore.AnyIOBackend()
        self.public_port = public_port
        self.connects: list[tuple[str, int]] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connects.append((host, port))
        address = ipaddress.ip_address(host)  # the backend is only ever given addresses
        if address.is_loopback:
            return await self.inner.connect_tcp(host, port, timeout)
        if self.public_port is not None and classify(address) == "public":
            return await self.inner.connect_tcp("127.0.0.1", self.public_port, timeout)
        raise AssertionError(f"safety net: the test tried to connect to {host}")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AssertionError("no unix sockets")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class FakeTime:
    """Politeness waits move this clock on at once: no test here waits for real."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


class World:
    """A fetcher whose names resolve through ``dns``, its connections kept on loopback."""

    def __init__(
        self,
        dns: Resolver,
        settings: FetchSettings = SETTINGS,
        *,
        public_port: int | None = None,
    ) -> None:
        self.dns = dns
        self.net = LoopbackOnly(public_port)
        self.events: list[FetchEvent] = []
        transport = guarded_transport(
            httpx.Limits(max_connections=8), resolver=dns, connector=self.net
        )
        self.time = FakeTime()
        self.fetcher = Fetcher(
            settings,
            clock=self.time.clock,
            sleep=self.time.sleep,
            transport=transport,
            on_event=self.events.append,
        )

    def source(self, *hosts: str, allow_private: bool = False) -> SourceFetcher:
        return self.fetcher.for_source(frozenset(hosts), allow_private)

    def run(self, work: Callable[[Fetcher], Awaitable[T]]) -> T:
        async def main() -> T:
            async with self.fetcher as fetcher:
                return await work(fetcher)

        return asyncio.run(main())


def site_dns(**more: Sequence[Sequence[str]]) -> FakeDNS:
    return FakeDNS(
        {
            SITE: [["127.0.0.1"]],
            "localhost": [["127.0.0.1", "::1"]],
            "metadata.test": [["169.254.169.254"]],
            "intranet.test": [["10.1.2.3"]],
            "ula.test": [["fd00::5"]],
            "mixed.test": [[PUBLIC, "127.0.0.1"]],
            **more,
        }
    )


def site_url(site: FaultServer, path: str) -> str:
    return f"http://{SITE}:{site.port}{path}"


@pytest.fixture
def internal() -> Any:
    """The "internal service" nothing may reach: it counts every request."""
    with FaultServer() as server:
        server.page("/secret", b"<p>internal secret</p>")
        server.robots("User-agent: *\nAllow: /\n")
        yield server


INTERNAL_TARGETS = [
    ("http://127.0.0.1:{port}/secret", "loopback"),
    ("http://[::1]:{port}/secret", "loopback"),
    ("http://[::ffff:127.0.0.1]:{port}/secret", "loopback"),
    ("http://localhost:{port}/secret", "loopback"),
    ("http://mixed.test:{port}/secret", "loopback"),  # one bad address is enough
    ("http://0.0.0.0:{port}/secret", "unspecified"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://metadata.test/latest/meta-data/", "link-local"),
    ("http://[fe80::1%25eth0]:{port}/secret", "link-local"),
    ("http://10.0.0.1/admin", "private"),
    ("http://intranet.test/admin", "private"),
    ("http://[fd00::1]/admin", "private"),
    ("http://ula.test/admin", "private"),
    ("http://224.0.0.1/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
]


@pytest.mark.parametrize("settings", [SETTINGS, ROBOTS], ids=["no-robots", "robots"])
@pytest.mark.parametrize(("target", "kind"), INTERNAL_TARGETS)
def test_a_redirect_to_an_internal_address_is_refused(
    fault_server: FaultServer,
    internal: FaultServer,
    target: str,
    kind: str,
    settings: FetchSettings,
) -> None:
    fault_server.robots("User-agent: *\nAllow: /\n")
    inside = target.format(port=internal.port)
    fault_server.route("/a", redirect(inside))
    world = World(site_dns(), settings)
    with pytest.raises(AddressRefused) as caught:
        world.run(lambda f: world.source(SITE).fetch(site_url(fault_server, "/a")))
    error = caught.value
    assert error.kind == "address" and f"a {kind} address" in str(error)
    assert "allow_private" in str(error) and error.url == inside
    assert not internal.hits  # nothing was asked of the internal service
    assert {address for address, _ in world.net.connects} == {"127.0.0.1"}  # the site only
    assert {port for _, port in world.net.connects} == {fault_server.port}


def test_robots_txt_redirected_inside_counts_as_unreachable(
    fault_server: FaultServer, internal: FaultServer
) -> None:
    fault_server.route("/robots.txt", redirect(internal.url("/robots.txt")))
    page = fault_server.page("/page")
    world = World(site_dns(), ROBOTS)
    strict = world.source(SITE)
    url = site_url(fault_server, "/page")

    async def work(fetcher: Fetcher) -> tuple[bool, str]:
        allowed = await strict.allowed(url)
        with pytest.raises(RobotsDisallowed) as caught:
            await strict.fetch(url)
        return allowed, str(caught.value)

    allowed, message = world.run(work)
    assert not allowed  # never "allow all"
    assert "unreachable" in message and "a loopback address" in message
    assert not internal.hits and not fault_server.hits["/page"]
    assert fault_server.hits["/robots.txt"] == 1  # read once, the refusal cached
    robots = [e for e in world.events if e.kind == "robots"]
    assert robots and "unreachable" in robots[0].message
    assert page  # (served, never fetched)


@pytest.mark.parametrize("strict_first", [True, False])
def test_robots_txt_read_inside_is_cached_per_policy(
    fault_server: FaultServer, internal: FaultServer, strict_first: bool
) -> None:
    """A refusal does not stick to a source that trusts the address, and rules read
    there never reach a source that does not."""
    fault_server.route("/robots.txt", redirect(internal.url("/robots.txt")))
    fault_server.page("/page")
    world = World(site_dns(), ROBOTS)
    url = site_url(fault_server, "/page")

    async def work(fetcher: Fetcher) -> list[bool]:
        strict = world.source(SITE)
        trusting = world.source(SITE, "127.0.0.1")
        order = [strict, trusting] * 2 if strict_first else [trusting, strict] * 2
        return [await view.allowed(url) for view in order]

    expected = [False, True] * 2 if strict_first else [True, False] * 2
    assert world.run(work) == expected
    assert internal.hits["/robots.txt"] == 1  # only the source that trusts it read it


def test_robots_txt_on_the_metadata_address_is_refused(fault_server: FaultServer) -> None:
    fault_server.route("/robots.txt", redirect("http://169.254.169.254/latest/meta-data/"))
    world = World(site_dns(), ROBOTS)
    with pytest.raises(RobotsDisallowed, match="unreachable.*link-local"):
        world.run(lambda f: world.source(SITE).fetch(site_url(fault_server, "/page")))
    assert not fault_server.hits["/page"]


def test_a_name_that_resolves_to_loopback_is_refused_unless_trusted(
    fault_server: FaultServer,
) -> None:
    fault_server.page("/a")
    world = World(site_dns(**{"other.test": [["127.0.0.1"]]}))
    url = f"http://other.test:{fault_server.port}/a"

    async def work(fetcher: Fetcher) -> list[int]:
        with pytest.raises(AddressRefused, match="other.test .127.0.0.1.: a loopback address"):
            await world.source(SITE).fetch(url)
        pages = [
            await world.source(SITE, "Other.Test").fetch(url),  # configured
            await world.source(SITE, allow_private=True).fetch(url),  # allowed
            await fetcher.fetch(url),  # the bare fetcher is unrestricted
            await fetcher.with_policy(AddressPolicy(allow_private=True)).fetch(url),
        ]
        return [page.status for page in pages]

    assert world.run(work) == [200, 200, 200, 200]
    assert fault_server.hits["/a"] == 4


def test_a_configured_address_may_be_loopback(fault_server: FaultServer) -> None:
    url = fault_server.page("/a")  # http://127.0.0.1:port/a, as configured
    world = World(site_dns())
    assert world.run(lambda f: world.source("127.0.0.1").fetch(url)).status == 200
    with pytest.raises(AddressRefused):
        world.run(lambda f: world.source(SITE).fetch(url))
    assert fault_server.hits["/a"] == 1


def test_redirects_within_trusted_hosts_are_followed(fault_server: FaultServer) -> None:
    fault_server.route("/a", redirect(f"http://www.news.test:{fault_server.port}/b"))
    fault_server.route("/b", redirect("/c"))
    fault_server.page("/c")
    world = World(site_dns(**{"www.news.test": [["127.0.0.1"]]}))
    page = world.run(
        lambda f: world.source(SITE, "www.news.test").fetch(site_url(fault_server, "/a"))
    )
    assert page.final_url == f"http://www.news.test:{fault_server.port}/c"
    assert len(page.redirects) == 2


def test_dns_rebinding_cannot_slip_past(internal: FaultServer) -> None:
    """The name resolves to a public address once, then to 127.0.0.1: the one resolution
    made for a connection is the one checked, and the connection goes to that address."""
    with FaultServer() as public:  # stands in for the public address
        public.page("/secret", b"<p>public page</p>")
        dns = FakeDNS({"rebind.test": [[PUBLIC], ["127.0.0.1"]]})
        world = World(dns, public_port=public.port)
        url = f"http://rebind.test:{internal.port}/secret"
        strict = world.source(SITE)

        async def work(fetcher: Fetcher) -> bytes:
            page = await strict.fetch(url)
            with pytest.raises(AddressRefused, match="loopback"):
                await strict.fetch(url)
            return page.content

        assert world.run(work) == b"<p>public page</p>"
        assert dns.calls == ["rebind.test", "rebind.test"]  # once per connection
        assert world.net.connects == [(PUBLIC, internal.port)]  # only a checked address
        assert public.hits["/secret"] == 1
    assert not internal.hits


async def _keepalive_server(paths: list[str]) -> asyncio.Server:
    """A server that keeps connections open across requests (FaultServer closes them)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                paths.append(head.split(b" ")[1].decode())
                body = b"<p>hello</p>"
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def test_a_pooled_connection_is_checked_again_for_another_source() -> None:
    """A connection opened for a source that trusts an internal host is not reused for
    a source that does not: the policy is checked again before each request is written."""
    paths: list[str] = []
    dns = FakeDNS({"intranet.test": [["127.0.0.1"]]})
    world = World(dns)

    async def main() -> None:
        server = await _keepalive_server(paths)
        port = server.sockets[0].getsockname()[1]
        trusting, strict = world.source("intranet.test"), world.source(SITE)
        try:
            async with world.fetcher:
                await trusting.fetch(f"http://intranet.test:{port}/a")
                with pytest.raises(AddressRefused, match="intranet.test"):
                    await strict.fetch(f"http://intranet.test:{port}/b")
                await trusting.fetch(f"http://intranet.test:{port}/c")
        finally:
            server.close()
            await server.wait_closed()

    asyncio.run(main())
    assert paths == ["/a", "/c"]
    assert dns.calls.count("intranet.test") == 2  # /b reused /a's connection, refused on it


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "127.1", "017700000001"])
def test_numeric_host_forms_are_checked_as_what_they_resolve_to(
    internal: FaultServer, host: str
) -> None:
    async def inet_aton(name: str, port: int) -> list[str]:  # what getaddrinfo does with them
        return [socket.inet_ntoa(socket.inet_aton(name))]

    world = World(inet_aton)
    url = f"http://{host}:{internal.port}/secret"
    with pytest.raises(AddressRefused, match=f"{host} .127.0.0.1.: a loopback address"):
        world.run(lambda f: world.source(SITE).fetch(url))
    assert not internal.hits and not world.net.connects


@pytest.mark.parametrize("target", ["gopher://127.0.0.1:{port}/x", "file:///etc/passwd"])
def test_only_http_and_https_are_followed(
    fault_server: FaultServer, internal: FaultServer, target: str
) -> None:
    fault_server.route("/a", redirect(target.format(port=internal.port)))
    world = World(site_dns())
    with pytest.raises(HTTPStatusFailure, match="unusable URL"):
        world.run(lambda f: world.source(SITE).fetch(site_url(fault_server, "/a")))
    assert not internal.hits


def test_the_default_transport_applies_the_policy(internal: FaultServer) -> None:
    """Without an injected transport: the system resolver, the real connection."""

    async def work() -> int:
        async with Fetcher(SETTINGS) as fetcher:
            fetcher.set_host_policy("127.0.0.1", delay=0.0, concurrency=2)
            with pytest.raises(AddressRefused):
                await fetcher.for_source(frozenset({SITE})).fetch(internal.url("/secret"))
            assert not internal.hits
            trusted = fetcher.for_source(frozenset({"127.0.0.1"}))
            return (await trusted.fetch(internal.url("/secret"))).status

    assert asyncio.run(work()) == 200
    assert asyncio.run(system_resolver("127.0.0.1", 80)) == ["127.0.0.1"]


def test_an_unknown_name_is_a_connection_failure(fault_server: FaultServer) -> None:
    fault_server.route("/a", redirect("http://nowhere.test/x"))
    world = World(site_dns())
    with pytest.raises(Exception) as caught:
        world.run(lambda f: world.source(SITE).fetch(site_url(fault_server, "/a")))
    assert caught.type.__name__ == "ConnectionFailed" and "nowhere.test" in str(caught.value)


def test_ok_pages_still_come_through(fault_server: FaultServer) -> None:
    fault_server.route("/a", ok(b"<p>fine</p>"))
    world = World(site_dns())
    page = world.run(lambda f: world.source(SITE).fetch(site_url(fault_server, "/a")))
    assert page.content == b"<p>fine</p>" and page.final_url == site_url(fault_server, "/a")
