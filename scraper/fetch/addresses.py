"""Which addresses a source may connect to: the address classifier and the per-source policy.

A public page must not be able to make the scraper fetch from the machine's own network
(the cloud metadata service at 169.254.169.254, an admin page on 127.0.0.1, a router on
10.0.0.1): a redirect, a feed entry or a link pointing there is refused. Only the hosts of
the source's own configured URLs may be internal, or every host when the source sets
``allow_private``. :func:`classify` names the kind of an address; nothing here knows about
httpx or sockets (:mod:`.network` applies the policy to the address actually connected to).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

import idna

from ..config import Source

__all__ = [
    "UNRESTRICTED",
    "AddressKind",
    "AddressPolicy",
    "IPAddress",
    "classify",
    "normalize_host",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressKind = Literal[
    "public", "private", "loopback", "link-local", "multicast", "unspecified", "reserved"
]

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# IPv4, checked in order (IANA special-purpose address registry); anything else is public.
_V4_TABLE: tuple[tuple[_V4, AddressKind], ...] = (
    (_V4("0.0.0.0/8"), "unspecified"),  # "this network": 0.0.0.0 reaches the local host
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("169.254.0.0/16"), "link-local"),  # the cloud metadata service lives here
    (_V4("10.0.0.0/8"), "private"),
    (_V4("172.16.0.0/12"), "private"),
    (_V4("192.168.0.0/16"), "private"),
    (_V4("100.64.0.0/10"), "private"),  # carrier-grade NAT (100.100.100.200: a metadata service)
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("192.0.0.0/24"), "reserved"),  # IETF protocol assignments
    (_V4("192.0.2.0/24"), "reserved"),  # documentation
    (_V4("198.51.100.0/24"), "reserved"),
    (_V4("203.0.113.0/24"), "reserved"),
    (_V4("198.18.0.0/15"), "reserved"),  # benchmarking
    (_V4("192.88.99.0/24"), "reserved"),  # the retired 6to4 relay anycast
    (_V4("240.0.0.0/4"), "reserved"),  # future use, and the broadcast address
)

# IPv6 ranges that embed an IPv4 address in their last 32 bits.
_MAPPED = _V6("::ffff:0:0/96")  # IPv4-mapped: connecting to it reaches the IPv4 address
_COMPATIBLE = _V6("::/96")  # IPv4-compatible (deprecated)
_NAT64 = _V6("64:ff9b::/96")  # well-known NAT64 prefix
_NAT64_LOCAL = _V6("64:ff9b:1::/48")  # local-use NAT64 (RFC 8215)
_SIX_TO_FOUR = _V6("2002::/16")  # 6to4: the IPv4 address in bits 16-48
_TEREDO = _V6("2001::/32")
_GLOBAL_UNICAST = _V6("2000::/3")

_V6_TABLE: tuple[tuple[_V6, AddressKind], ...] = (
    (_V6("fe80::/10"), "link-local"),
    (_V6("fec0::/10"), "private"),  # site-local (deprecated)
    (_V6("fc00::/7"), "private"),  # unique local addresses
    (_V6("ff00::/8"), "multicast"),
    (_V6("100::/64"), "reserved"),  # discard-only
    (_V6("2001::/23"), "reserved"),  # IETF protocol assignments (Teredo among them)
    (_V6("2001:db8::/32"), "reserved"),  # documentation
    (_V6("3fff::/20"), "reserved"),  # documentation
    (_V6("5f00::/16"), "reserved"),  # segment routing identifiers
)


def classify(address: str | IPAddress) -> AddressKind:
    """The kind of an IP address: ``"public"`` or why connecting to it reaches inside.

    IPv6 forms that carry an IPv4 address (IPv4-mapped and -compatible, NAT64, 6to4,
    Teredo) take the kind of that IPv4 address when it is not public, so
    ``::ffff:127.0.0.1`` is loopback and ``2002:a00:1::`` private. A zone index
    (``fe80::1%eth0``) is allowed. Raises ``ValueError`` for a string that is no address.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv4Address):
        return _classify_v4(ip)
    return _classify_v6(ip)


def _classify_v4(ip: ipaddress.IPv4Address) -> AddressKind:
    for network, kind in _V4_TABLE:
        if ip in network:
            return kind
    return "public"


def _classify_v6(ip: ipaddress.IPv6Address) -> AddressKind:
    if ip.scope_id is not None:
        ip = ipaddress.IPv6Address(ip.packed)  # the zone index plays no part in the kind
    if ip == ipaddress.IPv6Address("::"):
        return "unspecified"
    if ip == ipaddress.IPv6Address("::1"):
        return "loopback"
    embedded = _embedded_v4(ip)
    if embedded is not None:
        inner = _classify_v4(embedded)
        if inner != "public":
            return inner
        if ip in _MAPPED or ip in _NAT64 or ip in _SIX_TO_FOUR:
            return "public"  # these reach the public IPv4 address they carry
        if ip in _NAT64_LOCAL:
            return "private"
        return "reserved"  # IPv4-compatible, Teredo
    for network, kind in _V6_TABLE:
        if ip in network:
            return kind
    return "public" if ip in _GLOBAL_UNICAST else "reserved"


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip in _MAPPED or ip in _COMPATIBLE or ip in _NAT64 or ip in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _SIX_TO_FOUR:
        return ip.sixtofour
    if ip in _TEREDO:
        teredo = ip.teredo
        return teredo[1] if teredo is not None else None  # the client's address
    return None


def normalize_host(host: str) -> str:
    """A host as the connection sees it: lower case, IDNA-encoded, no brackets or final dot.

    IP literals come back in their compressed form (``[::0:1]`` -> ``::1``).
    """
    text = host.strip().strip("[]").rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if text.isascii():
        return text
    try:
        return idna.encode(text, uts46=True).decode("ascii")
    except idna.IDNAError:
        return text


@dataclass(frozen=True)
class AddressPolicy:
    """Which hosts may connect to a non-public address, for the requests of one source.

    ``trusted_hosts`` are the hosts of the source's configured URLs (the user wrote them,
    they may point anywhere); with ``allow_private`` every host may. The policy is judged
    against the address a connection actually goes to, never against the name alone.
    """

    trusted_hosts: frozenset[str] = field(default_factory=frozenset)
    allow_private: bool = False

    def __post_init__(self) -> None:
        hosts = frozenset(normalize_host(h) for h in self.trusted_hosts if h.strip())
        object.__setattr__(self, "trusted_hosts", hosts)

    @classmethod
    def of_source(cls, source: Source) -> AddressPolicy:
        """The policy of a configured source: the hosts of its listings, feeds and sitemaps
        (not ``allow_domains``, which only says which links count), and its ``allow_private``.
        """
        urls = (*source.listings, *source.feeds, *source.sitemaps)
        hosts = frozenset(urlsplit(u).hostname or "" for u in urls)
        return cls(hosts, allow_private=source.allow_private)

    def refuses(self, host: str, kind: AddressKind) -> bool:
        """Whether a connection to ``host`` at an address of ``kind`` is refused."""
        if kind == "public" or self.allow_private:
            return False
        return normalize_host(host) not in self.trusted_hosts

    def explain(self, host: str, address: str, kind: AddressKind) -> str:
        """Why a connection is refused, for the error message."""
        shown = host if normalize_host(host) == normalize_host(address) else f"{host} ({address})"
        return (
            f"refused to connect to {shown}: a {kind} address, and {host} is not one of the "
            "source's configured hosts (set allow_private = true on the source to allow it)"
        )


UNRESTRICTED = AddressPolicy(allow_private=True)
"""Every address allowed: what a bare :class:`~scraper.fetch.Fetcher` uses."""
