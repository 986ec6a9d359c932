"""The small metadata fields of an article: canonical URL, authors, language, description, image."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

from .language import guess_language
from .metadata import PageMeta, clean_text

__all__ = [
    "authors",
    "canonical_url",
    "description",
    "header",
    "host",
    "image",
    "language",
    "registrable_domain",
]

# Second-level labels under which registrations happen one level deeper (co.uk, com.au, ...).
_SECOND_LEVEL = frozenset(
    "co com net org gov edu ac or ne go gob nic mil ltd plc sch nom gen biz info web in me".split()
)
_META_AUTHORS = (
    "author",
    "article:author",
    "dc.creator",
    "dcterms.creator",
    "sailthru.author",
    "parsely-author",
    "byl",
)


def registrable_domain(host: str) -> str:
    """The registrable part of a host name, by a public-suffix heuristic (no list needed).

    ``news.bbc.co.uk`` -> ``bbc.co.uk``, ``www.spiegel.de`` -> ``spiegel.de``.  A
    two-letter country code under a generic second level (co, com, org, ...) counts as a
    public suffix of two labels.
    """
    labels = host.lower().rstrip(".").split(".")
    if len(labels) <= 2:
        return ".".join(labels)
    if len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def join_url(base: str | None, href: str) -> str | None:
    """``href`` resolved against ``base``, or None when either is not a URL ("http://[x")."""
    href = href.strip()
    try:
        joined = urljoin(base, href) if base else href
        urlsplit(joined)  # raises on "http://[x"
    except ValueError:
        return None
    return joined


def host(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https"):
        return None
    return parts.hostname


def canonical_url(meta: PageMeta, url: str | None) -> tuple[str | None, str]:
    """``(url, provenance)``: rel=canonical or og:url when on the same site as ``url``."""
    for source, href in (("canonical", meta.canonical), ("og:url", meta.first("og:url"))):
        if not href:
            continue
        resolved = join_url(url, href)
        found = host(resolved) if resolved else None
        if found is None:
            continue
        base = host(url) if url else None
        if url is None or (
            base is not None and registrable_domain(found) == registrable_domain(base)
        ):
            return resolved, source
    return url, "given"


def authors(meta: PageMeta) -> tuple[tuple[str, ...], str | None]:
    """Author names: JSON-LD, author meta tags, bylines ([itemprop=author], hCard), rel=author."""
    names = list(dict.fromkeys(_jsonld_authors(meta.ld_value("author"))))
    if names:
        return tuple(names), "json-ld:author"
    for key in _META_AUTHORS:
        values = [v for v in meta.meta.get(key, ()) if v and not _is_url(v)]
        if values:
            split = (n.strip() for v in values for n in v.replace(" and ", ",").split(","))
            return tuple(dict.fromkeys(n for n in split if n)), f"meta:{key}"
    if meta.author_marks:
        return meta.author_marks, "byline-markup"
    if meta.author_links:
        return meta.author_links, "rel-author"
    return (), None


def _jsonld_authors(value: Any) -> Iterator[str]:
    if isinstance(value, list):
        for item in value:
            yield from _jsonld_authors(item)
    elif isinstance(value, Mapping):
        name = clean_text(value.get("name"))
        if name and not _is_url(name):
            yield name
    else:
        name = clean_text(value)
        if name and not _is_url(name):
            yield name


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://", "//", "/"))


def language(
    meta: PageMeta, headers: Mapping[str, str] | None, body: str = ""
) -> tuple[str | None, str | None]:
    """The page's language from its markup, else guessed from the body text."""
    if meta.lang:
        return meta.lang, "html-lang"
    value = header(headers, "content-language")
    if value:
        return value.split(",")[0].strip() or None, "content-language"
    content = meta.first("content-language", "dc.language", "language")
    if content:
        return content.split(",")[0].strip(), "meta:content-language"
    locale = meta.first("og:locale")
    if locale:
        return locale.replace("_", "-"), "og:locale"
    guess = guess_language(body) if body else None
    return (guess, "guess:text") if guess else (None, None)


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def description(meta: PageMeta) -> tuple[str | None, str | None]:
    for key in ("description", "og:description", "twitter:description"):
        value = clean_text(meta.first(key))
        if value:
            return value, f"meta:{key}"
    value = clean_text(meta.ld_value("description"))
    return (value, "json-ld:description") if value else (None, None)


def image(meta: PageMeta, url: str | None) -> tuple[str | None, str | None]:
    for key in ("og:image", "og:image:url", "og:image:secure_url", "twitter:image"):
        value = meta.first(key)
        resolved = join_url(url, value) if value else None
        if resolved:
            return resolved, f"meta:{key}"
    value = _ld_image(meta.ld_value("image"))
    resolved = join_url(url, value) if value else None
    return (resolved, "json-ld:image") if resolved else (None, None)


def _ld_image(value: Any) -> str | None:
    if isinstance(value, list):
        return _ld_image(value[0]) if value else None
    if isinstance(value, Mapping):
        return _ld_image(value.get("url") or value.get("contentUrl"))
    return value.strip() or None if isinstance(value, str) else None
