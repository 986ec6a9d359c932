"""URL normalization, host extraction and site membership."""

from __future__ import annotations

import pytest

from scraper.urls import TRACKING_PARAMS, host_of, normalize_url, same_site

BASE = "https://news.example.com/section/page.html"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # scheme and host case, default ports, empty path
        ("HTTP://News.Example.COM", "http://news.example.com/"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("https://example.com:8443", "https://example.com:8443/"),
        ("https://example.com./a", "https://example.com/a"),
        ("https://user:secret@example.com/a", "https://example.com/a"),
        # fragments go, the path keeps its case
        ("https://example.com/Story/One#comments", "https://example.com/Story/One"),
        ("https://example.com/a?x=1#", "https://example.com/a?x=1"),
        # tracking parameters go, other parameters keep their order and spelling
        ("https://example.com/a?utm_source=x&utm_medium=email", "https://example.com/a"),
        ("https://example.com/a?b=2&UTM_Campaign=z&a=1", "https://example.com/a?b=2&a=1"),
        ("https://example.com/a?id=7&fbclid=abc&gclid=def", "https://example.com/a?id=7"),
        ("https://example.com/a?mc_cid=1&mc_eid=2&igshid=3&_ga=4&_gl=5", "https://example.com/a"),
        ("https://example.com/a?ref_src=twsrc&yclid=1&msclkid=2&dclid=3", "https://example.com/a"),
        ("https://example.com/a?spm=a1.b2&ocid=msn&at_medium=rss", "https://example.com/a"),
        ("https://example.com/a?q=x+y&page=2&&", "https://example.com/a?q=x+y&page=2"),
        ("https://example.com/a?flag&utm_id=9", "https://example.com/a?flag"),
        ("https://example.com/a?ref=home&source=rss", "https://example.com/a?ref=home&source=rss"),
        # percent-encoding: upper-case escapes, unreserved characters decoded, others encoded
        ("https://example.com/%7euser/a%2fb", "https://example.com/~user/a%2Fb"),
        ("https://example.com/a%20b?q=%e2%82%ac", "https://example.com/a%20b?q=%E2%82%AC"),
        ("https://example.com/a b/ü", "https://example.com/a%20b/%C3%BC"),
        ("https://example.com/100%", "https://example.com/100%25"),
        # dot segments
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/a/..", "https://example.com/"),
        # internationalized host names become punycode
        ("https://Bücher.example/a", "https://xn--bcher-kva.example/a"),
        (
            "https://пример.рф/новости",
            "https://xn--e1afmkfd.xn--p1ai/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8",
        ),
        # IPv6 literal
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("other.html", "https://news.example.com/section/other.html"),
        ("../top", "https://news.example.com/top"),
        ("/abs?utm_source=a&x=1", "https://news.example.com/abs?x=1"),
        ("//cdn.example.com/img", "https://cdn.example.com/img"),
        ("?page=2", "https://news.example.com/section/page.html?page=2"),
        ("  /padded  ", "https://news.example.com/padded"),
        ("http://elsewhere.example/x", "http://elsewhere.example/x"),
    ],
)
def test_normalize_url_resolves_relative(url: str, expected: str) -> None:
    assert normalize_url(url, BASE) == expected


def test_normalize_url_is_idempotent() -> None:
    url = "HTTPS://Bücher.example:443/a/../b%7e?x=%e2%82%ac&utm_term=1#frag"
    once = normalize_url(url)
    assert normalize_url(once) == once == "https://xn--bcher-kva.example/b~?x=%E2%82%AC"


@pytest.mark.parametrize(
    "url",
    [
        "mailto:desk@example.com",
        "javascript:void(0)",
        "ftp://example.com/file",
        "tel:+123",
        "http://",
        "https:///path-only",
        "http://example.com:99999/",
        "http://[::1/",
        "not a url",
        "http://exa mple.com/",
    ],
)
def test_normalize_url_rejects(url: str) -> None:
    with pytest.raises(ValueError, match="URL|host"):
        normalize_url(url)


def test_tracking_list_holds_only_lowercase_keys() -> None:
    assert all(key == key.lower() for key in TRACKING_PARAMS)
    assert {"fbclid", "gclid", "mc_eid", "_ga"} <= TRACKING_PARAMS


def test_host_of() -> None:
    assert host_of("HTTPS://WWW.Example.com:8443/a") == "www.example.com"
    assert host_of("https://bücher.example/") == "xn--bcher-kva.example"
    with pytest.raises(ValueError):
        host_of("mailto:x@example.com")


@pytest.mark.parametrize(
    ("url", "domains", "expected"),
    [
        ("https://example.com/a", ["example.com"], True),
        ("https://www.example.com/a", ["example.com"], True),
        ("https://example.com/a", ["www.example.com"], True),
        ("https://news.example.com/a", ["example.com"], True),
        ("https://a.b.example.com/a", ["www.example.com"], True),
        ("https://example.com/a", ["news.example.com"], False),
        ("https://badexample.com/a", ["example.com"], False),
        ("https://example.com.evil.net/a", ["example.com"], False),
        ("https://EXAMPLE.com/a", ["Example.COM"], True),
        ("https://bücher.example/a", ["xn--bcher-kva.example"], True),
        ("https://xn--bcher-kva.example/a", ["bücher.example"], True),
        ("http://127.0.0.1:8765/news/", ["127.0.0.1"], True),
        ("https://other.org/", ["example.com", "other.org"], True),
        ("mailto:desk@example.com", ["example.com"], False),
        ("https://example.com/a", [], False),
    ],
)
def test_same_site(url: str, domains: list[str], expected: bool) -> None:
    assert same_site(url, domains) is expected
