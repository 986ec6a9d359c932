"""URL normalization and site membership.

Every URL the scraper stores or compares goes through :func:`normalize_url`, so the
same article reached through a newsletter link, a feed and a listing page is one URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import idna

__all__ = ["TRACKING_PARAMS", "TRACKING_PREFIXES", "host_of", "normalize_url", "same_site"]

TRACKING_PREFIXES: tuple[str, ...] = ("utm_",)
"""Query keys starting with these (case-insensitive) are campaign tags: utm_source, utm_id, ..."""

TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        # Ad-click identifiers: Facebook, Google (incl. iOS gbraid/wbraid), DoubleClick,
        # Microsoft, Yandex, Instagram, TikTok, Twitter/X.
        "fbclid", "gclid", "gclsrc", "gbraid", "wbraid", "dclid", "msclkid", "yclid",
        "igshid", "ttclid", "twclid",
        # Mailchimp, HubSpot, Marketo, Vero, Olytics: newsletter recipients and campaigns.
        "mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "vero_id", "vero_conv",
        "oly_anon_id", "oly_enc_id",
        # Google Analytics cross-domain linker.
        "_ga", "_gl",
        # Twitter/X embeds, Alibaba "spm", AT Internet, Microsoft/MSN, Adobe campaign ids.
        "ref_src", "ref_url", "spm", "at_medium", "at_campaign", "at_custom1", "at_custom2",
        "at_custom3", "at_custom4", "ocid", "s_cid", "cmpid",
    }
)  # fmt: skip
"""Query keys (case-insensitive) removed by :func:`normalize_url`.

Only keys that identify a click, a recipient or a campaign are listed: none of them
selects content, so dropping them never turns one article into another.  Generic keys
such as ``ref``, ``source`` or ``id`` are kept because sites use them for content.
"""

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
# Characters left as they are in a path or query (RFC 3986 pchar / query, plus "%").
_PATH_SAFE = frozenset("/:@!$&'()*+,;=%") | _UNRESERVED
_QUERY_SAFE = _PATH_SAFE | frozenset("?")


def normalize_url(url: str, base: str | None = None) -> str:
    """Return the canonical absolute form of ``url`` (resolved against ``base``).

    Lower-cases scheme and host, encodes an IDN host as punycode, drops the default
    port, the fragment, user info and tracking parameters (:data:`TRACKING_PARAMS`,
    ``utm_*``), keeps the other parameters in their order, removes ``.``/``..`` path
    segments, upper-cases percent-escapes (decoding those of unreserved characters),
    and makes an empty path ``/``.  Raises ``ValueError`` for a URL that is not
    http(s) or cannot be parsed.
    """
    text = url.strip()
    if base is not None:
        text = urljoin(base.strip(), text)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"cannot parse URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = _normalize_host(parts.hostname or "", url)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = _encode(_remove_dot_segments(parts.path), _PATH_SAFE) or "/"
    query = _clean_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def host_of(url: str) -> str:
    """The normalized (lower-case, punycode) host of an http(s) URL, without port."""
    host = urlsplit(normalize_url(url)).hostname
    if not host:  # pragma: no cover - normalize_url guarantees a host
        raise ValueError(f"URL has no host: {url!r}")
    return host


def same_site(url: str, domains: Iterable[str]) -> bool:
    """True when the URL's host is one of ``domains`` or a subdomain of one.

    A leading ``www.`` is ignored on both sides.  A URL that is not http(s) belongs
    to no site, so the answer is False rather than an error.
    """
    try:
        host = _strip_www(host_of(url))
    except ValueError:
        return False
    for domain in domains:
        wanted = _strip_www(_normalize_host(domain.strip(), domain))
        if wanted and (host == wanted or host.endswith("." + wanted)):
            return True
    return False


def _strip_www(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


def _normalize_host(host: str, url: str) -> str:
    host = host.strip().rstrip(".").lower()
    if not host:
        raise ValueError(f"URL has no host: {url!r}")
    if host.isascii():
        if any(c.isspace() or c in '<>"{}|\\^`%' for c in host):
            raise ValueError(f"invalid host {host!r} in URL {url!r}")
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ValueError(f"invalid internationalized host {host!r} in URL {url!r}: {exc}") from None


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, for paths of absolute URLs."""
    if "." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        elif segment == ".":
            if last:
                out.append("")
        else:
            out.append(segment)
    result = "/".join(out)
    return result if result.startswith("/") or not path.startswith("/") else "/" + result


def _encode(text: str, safe: frozenset[str]) -> str:
    """Normalize percent-encoding: upper-case escapes, decode unreserved, encode the rest."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        match = _ESCAPE.match(text, i) if char == "%" else None
        if match:
            decoded = chr(int(match.group(1), 16))
            out.append(decoded if decoded in _UNRESERVED else "%" + match.group(1).upper())
            i += 3
            continue
        if char == "%":
            out.append("%25")  # a stray "%" that starts no escape
        elif char in safe:
            out.append(char)
        else:
            out.append("".join(f"%{byte:02X}" for byte in char.encode("utf-8")))
        i += 1
    return "".join(out)


def _clean_query(query: str) -> str:
    kept: list[str] = []
    for pair in query.split("&"):
        if not pair:
            continue
        key = unquote(pair.split("=", 1)[0].replace("+", " ")).strip().lower()
        if key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES):
            continue
        kept.append(_encode(pair, _QUERY_SAFE))
    return "&".join(kept)
