"""Connections that go only where the address policy allows: our own resolution, then connect.

The transport resolves each name itself (through an injectable resolver), checks every
address it got against the policy of the request being sent, and connects to the checked
address, so a name that resolves to a public address for a check and to 127.0.0.1 for the
connection (DNS rebinding) cannot slip past: there is no second resolution. TLS still
verifies the certificate for the name (httpcore passes the URL's host as SNI), and the Host
header stays the name. A pooled connection is checked again before each request is written
on it, so a connection opened for a source that trusts an internal host is never reused
for another source that does not.

The policy of the request in flight travels in a :class:`contextvars.ContextVar` set by
the fetcher around each request (:func:`request_scope`); outside one, everything non-public
is refused.
"""

from __future__ import annotations

import asyncio
import contextvars
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from ..errors import AddressRefused
from .addresses import AddressKind, AddressPolicy, classify

__all__ = [
    "GuardedBackend",
    "Resolver",
    "guarded_transport",
    "request_scope",
    "system_resolver",
]

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""``(host, port) -> addresses``: how names are resolved (injected in tests)."""


async def system_resolver(host: str, port: int) -> list[str]:
    """The system's resolver (``getaddrinfo``), each address once, in its order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class _Scope:
    policy: AddressPolicy
    url: str
    inside: set[str] | None  # collects the hosts the policy let reach non-public addresses


_SCOPE: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar(
    "scraper_fetch_scope", default=None
)
_STRICT = AddressPolicy()


@contextmanager
def request_scope(
    policy: AddressPolicy, url: str, inside: set[str] | None = None
) -> Iterator[None]:
    """Apply ``policy`` to the connections made (or reused) for the request to ``url``.

    The host of each non-public address the policy lets the request use is added to
    ``inside``.
    """
    token = _SCOPE.set(_Scope(policy, url, inside))
    try:
        yield
    finally:
        _SCOPE.reset(token)


def _check(host: str, port: int, address: str, kind: AddressKind) -> None:
    scope = _SCOPE.get()
    policy = scope.policy if scope is not None else _STRICT
    if policy.refuses(host, kind):
        url = scope.url if scope is not None else f"//{host}:{port}"
        message = policy.explain(host, address, kind)
        raise AddressRefused(message, url=url, host=host, address=address)
    if kind != "public" and scope is not None and scope.inside is not None:
        scope.inside.add(host)


class GuardedStream(httpcore.AsyncNetworkStream):
    """A connection to one checked address, which checks the policy again on every write."""

    def __init__(
        self, stream: httpcore.AsyncNetworkStream, host: str, port: int, address: str
    ) -> None:
        self._stream = stream
        self.host = host
        self.port = port
        self.address = address
        self.kind = classify(address)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        _check(self.host, self.port, self.address, self.kind)
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        tls = await self._stream.start_tls(ssl_context, server_hostname, timeout)
        return GuardedStream(tls, self.host, self.port, self.address)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that resolves, checks and connects to checked addresses.

    ``connector`` opens the TCP connections (httpcore's anyio backend; tests inject one
    that records where it was asked to connect). It is only ever given IP addresses.
    """

    def __init__(
        self,
        resolver: Resolver | None = None,
        connector: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._resolver = resolver or system_resolver
        self._connector = connector or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        addresses = await self._resolve(host, port, timeout)
        for address in addresses:  # every address, before connecting to any
            _check(host, port, address, classify(address))
        failure: Exception | None = None
        for address in addresses:
            left = None if deadline is None else max(0.0, deadline - loop.time())
            try:
                stream = await self._connector.connect_tcp(
                    address, port, left, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # try the next address
                continue
            return GuardedStream(stream, host, port, address)
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError(f"unix sockets are not fetched: {path}")

    async def sleep(self, seconds: float) -> None:
        await self._connector.sleep(seconds)

    async def _resolve(self, host: str, port: int, timeout: float | None) -> list[str]:
        """The addresses of ``host`` (an IP literal is its own), each a valid IP address."""
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            pass
        try:
            async with asyncio.timeout(timeout):
                found = list(await self._resolver(host, port))
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = []
        for text in found:
            try:
                addresses.append(str(ipaddress.ip_address(text)))
            except ValueError as exc:
                raise httpcore.ConnectError(f"{host} resolved to {text!r}: {exc}") from exc
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address")
        return addresses


def guarded_transport(
    limits: httpx.Limits,
    *,
    resolver: Resolver | None = None,
    connector: httpcore.AsyncNetworkBackend | None = None,
) -> httpx.AsyncHTTPTransport:
    """httpx's own transport, with its connection pool on a :class:`GuardedBackend`.

    httpx has no public parameter for the network backend yet (encode/httpx#3749), so the
    pool it builds is replaced by an identical one on our backend.
    """
    transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    if not isinstance(getattr(transport, "_pool", None), httpcore.AsyncConnectionPool):
        raise RuntimeError("this httpx version keeps no connection pool in _pool")
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=GuardedBackend(resolver, connector),
    )
    return transport
