"""The address classifier and the per-source address policy, as units (no network)."""

from __future__ import annotations

import ipaddress

import pytest

from scraper.config import Source
from scraper.errors import AddressRefused, FetchError, Interrupted
from scraper.fetch.addresses import UNRESTRICTED, AddressPolicy, classify, normalize_host

KINDS = {
    "public": [
        "8.8.8.8",
        "93.184.216.34",
        "1.1.1.1",
        "172.15.255.255",  # just below 172.16/12
        "172.32.0.1",  # just above it
        "100.63.255.255",  # just below 100.64/10
        "2606:4700:4700::1111",
        "2001:4860:4860::8888",
        "::ffff:8.8.8.8",  # IPv4-mapped public
        "64:ff9b::808:808",  # NAT64 of a public address
        "2002:808:808::1",  # 6to4 of a public address
    ],
    "loopback": [
        "127.0.0.1",
        "127.1.2.3",
        "::1",
        "0:0:0:0:0:0:0:1",
        "::ffff:127.0.0.1",
        "::ffff:7f00:1",
        "::127.0.0.1",  # IPv4-compatible
        "64:ff9b::127.0.0.1",
        "2002:7f00:1::1",
    ],
    "private": [
        "10.0.0.1",
        "172.16.5.4",
        "172.31.255.255",
        "192.168.1.1",
        "100.64.0.1",
        "100.100.100.200",  # a cloud metadata service in carrier-grade NAT space
        "fc00::1",
        "fd12:3456::1",
        "fec0::1",  # site-local
        "::ffff:10.0.0.1",
        "::ffff:192.168.0.1",
        "2002:a00:1::",
        "64:ff9b::c0a8:101",
        "64:ff9b:1::808:808",  # local-use NAT64
    ],
    "link-local": [
        "169.254.169.254",
        "169.254.0.1",
        "fe80::1",
        "fe80::1%eth0",
        "::ffff:169.254.169.254",
        "::ffff:a9fe:a9fe",
        "64:ff9b::a9fe:a9fe",
        "2002:a9fe:a9fe::",
    ],
    "multicast": ["224.0.0.1", "239.255.255.250", "ff02::1", "ff05::2", "::ffff:224.0.0.251"],
    "unspecified": ["0.0.0.0", "0.1.2.3", "::", "::ffff:0.0.0.0"],
    "reserved": [
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "198.51.100.7",
        "203.0.113.9",
        "198.18.0.1",
        "192.0.0.1",
        "2001:db8::1",
        "3fff::1",
        "100::1",
        "2001::1",  # Teredo
        "::8.8.8.8",  # IPv4-compatible (deprecated) even for a public address
        "4000::1",  # outside global unicast
    ],
}
TABLE = [(address, kind) for kind, addresses in KINDS.items() for address in addresses]


@pytest.mark.parametrize(("address", "kind"), TABLE)
def test_classify(address: str, kind: str) -> None:
    assert classify(address) == kind
    assert classify(ipaddress.ip_address(address)) == kind


def test_classify_teredo_takes_the_client_address() -> None:
    # Teredo: server 65.54.227.120, client 192.0.2.45 (obfuscated in the last 32 bits)
    assert classify("2001:0:4136:e378:8000:63bf:3fff:fdd2") == "reserved"
    # a client address of 127.0.0.1: 0x7f000001 xor 0xffffffff = 0x80fffffe
    assert classify("2001:0:4136:e378:8000:63bf:80ff:fffe") == "loopback"


@pytest.mark.parametrize("text", ["localhost", "", "127.0.0.1:80", "2130706433", "::g"])
def test_classify_takes_addresses_only(text: str) -> None:
    with pytest.raises(ValueError):
        classify(text)


def test_normalize_host() -> None:
    assert normalize_host("News.Example.COM.") == "news.example.com"
    assert normalize_host("[::0:1]") == "::1"
    assert normalize_host("Bücher.example") == "xn--bcher-kva.example"
    assert normalize_host("127.0.0.1") == "127.0.0.1"


def test_policy_refuses_only_non_public_addresses_of_untrusted_hosts() -> None:
    policy = AddressPolicy(frozenset({"Intranet.Example", "[::1]"}))
    assert policy.trusted_hosts == frozenset({"intranet.example", "::1"})
    assert not policy.refuses("evil.example", "public")
    for kind in ("private", "loopback", "link-local", "multicast", "unspecified", "reserved"):
        assert policy.refuses("evil.example", kind)
        assert not policy.refuses("intranet.example.", kind)  # configured
        assert not policy.refuses("::1", kind)
        assert not AddressPolicy(allow_private=True).refuses("evil.example", kind)
    assert not UNRESTRICTED.refuses("anything", "loopback")


def test_policy_of_a_source_trusts_its_configured_hosts_only() -> None:
    source = Source(
        name="s",
        listings=("https://News.Example/latest",),
        feeds=("http://feeds.example:8080/rss",),
        sitemaps=("http://[::1]:9/sitemap.xml",),
        allow_domains=("cdn.example",),
    )
    policy = AddressPolicy.of_source(source)
    assert policy == AddressPolicy(frozenset({"news.example", "feeds.example", "::1"}))
    assert not policy.allow_private
    assert policy.refuses("cdn.example", "private")  # allow_domains is about links only
    allowed = Source(name="s", listings=("https://a.example/",), allow_private=True)
    assert AddressPolicy.of_source(allowed).allow_private


def test_policies_are_hashable_values() -> None:
    one = AddressPolicy(frozenset({"a.example"}))
    assert one == AddressPolicy(frozenset({"A.EXAMPLE."})) and hash(one) == hash(
        AddressPolicy(frozenset({"a.example"}))
    )
    assert one != AddressPolicy(frozenset({"a.example"}), allow_private=True)


def test_new_error_kinds() -> None:
    refused = AddressRefused("refused: loopback", url="http://x/", host="x", address="127.0.0.1")
    assert isinstance(refused, FetchError) and refused.kind == "address"
    assert (refused.host, refused.address) == ("x", "127.0.0.1")
    assert refused.reason == "refused: loopback"
    assert str(refused) == "http://x/: refused: loopback"
    stopped = Interrupted("the run is stopping", url="http://x/")
    assert isinstance(stopped, FetchError) and stopped.kind == "interrupted"
    assert stopped.exit_code == 130
