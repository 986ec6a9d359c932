"""Read a page's metadata once: JSON-LD objects, <meta> tags, canonical link, language.

JSON-LD is parsed leniently (HTML comments, CDATA wrappers, trailing commas, several
objects in one script, ``@graph`` containers, nested ``mainEntity``) because real pages
get it wrong often; a script that still does not parse is skipped.  Everything here is
read-only with respect to the tree, so it can run before the tree is cleaned.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = ["PageMeta", "read_metadata", "parse_jsonld", "ARTICLE_TYPES"]

ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "reviewnewsarticle",
        "backgroundnewsarticle",
        "askpublicnewsarticle",
        "blogposting",
        "liveblogposting",
        "socialmediaposting",
        "scholarlyarticle",
        "techarticle",
        "report",
        "webpage",
        "medicalwebpage",
        "review",
        "satiricalarticle",
    }
)
_STRONG_TYPES = ARTICLE_TYPES - {"webpage", "medicalwebpage", "report", "review"}

_META_KEYS = ("property", "name", "itemprop", "http-equiv")
_COMMENT = re.compile(r"<!--|-->|^\s*//\s*<!\[CDATA\[|//\s*\]\]>\s*$|<!\[CDATA\[|\]\]>")
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_NESTED = ("mainEntity", "mainEntityOfPage", "itemListElement", "hasPart")


@dataclass(frozen=True)
class PageMeta:
    """What the page says about itself, read before any cleaning."""

    jsonld: tuple[Mapping[str, Any], ...] = ()  # every object, @graph members flattened
    meta: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # lower-cased key
    canonical: str | None = None
    lang: str | None = None
    title_tag: str | None = None
    author_links: tuple[str, ...] = ()  # text of <a rel=author>
    author_marks: tuple[str, ...] = ()  # [itemprop=author] and hCard bylines

    def first(self, *keys: str) -> str | None:
        """The first non-empty meta content among ``keys`` (in the order given)."""
        for key in keys:
            for value in self.meta.get(key, ()):
                if value:
                    return value
        return None

    def articles(self) -> list[Mapping[str, Any]]:
        """JSON-LD objects of an article type, the stronger types first."""
        strong = [o for o in self.jsonld if _types(o) & _STRONG_TYPES]
        weak = [o for o in self.jsonld if o not in strong and _types(o) & ARTICLE_TYPES]
        return strong + weak

    def ld_value(self, key: str) -> Any:
        """``key`` from the first article-type JSON-LD object that has it."""
        for obj in self.articles():
            value = obj.get(key)
            if value:
                return value
        return None


_SELECTOR = (
    'meta[content], script[type="application/ld+json" i], link[rel~="canonical" i][href],'
    ' a[rel~="author"], [itemprop~="author"], .author.vcard'
)
_MAX_NAME = 80


def read_metadata(tree: LexborHTMLParser) -> PageMeta:
    """Collect the JSON-LD, meta tags, canonical link and language of a parsed page.

    One CSS pass over the document finds every element of interest.
    """
    objects: list[Mapping[str, Any]] = []
    meta: dict[str, list[str]] = {}
    canonical: str | None = None
    links: list[str] = []
    marks: list[str] = []
    for node in tree.css(_SELECTOR):
        tag = node.tag
        if tag == "meta":
            _add_meta(meta, node.attributes)
        elif tag == "script":
            objects.extend(parse_jsonld(node.text(deep=True)))
        elif tag == "link":
            canonical = canonical or (node.attributes.get("href") or "").strip() or None
        elif tag == "a" and "author" in (node.attributes.get("rel") or "").lower().split():
            links.append(" ".join(node.text(deep=True).split()))
        elif node.attributes.get("itemprop"):
            marks.append(_itemprop_name(node))
        else:  # an hCard byline (hAtom): <span class="author vcard"><a class="fn">
            marks.append(_hcard_name(node))
    return PageMeta(
        jsonld=tuple(objects),
        meta={k: tuple(v) for k, v in meta.items()},
        canonical=canonical,
        lang=_lang(tree),
        title_tag=_title_tag(tree),
        author_links=_names(links),
        author_marks=_names(marks),
    )


def _itemprop_name(node: LexborNode) -> str:
    named = node.css_first('[itemprop~="name"]')
    return " ".join((named or node).text(deep=True).split())


def _hcard_name(node: LexborNode) -> str:
    named = node.css_first(".fn")
    return " ".join((named or node).text(deep=True).split())


def _names(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if 1 < len(v) < _MAX_NAME))


def _add_meta(meta: dict[str, list[str]], attrs: Mapping[str, str | None]) -> None:
    content = " ".join((attrs.get("content") or "").split())
    for attr in _META_KEYS:
        key = attrs.get(attr)
        if key:
            meta.setdefault(key.strip().lower(), []).append(content)


def parse_jsonld(text: str) -> list[Mapping[str, Any]]:
    """Every JSON object in one ld+json script, flattened; [] when it cannot be read."""
    text = text.strip()
    if "<!" in text or "-->" in text or "]]>" in text:
        text = _COMMENT.sub("", text)
    values = _decode_all(text)
    if values is None:
        values = _decode_all(_TRAILING_COMMA.sub(r"\1", text)) or []
    out: list[Mapping[str, Any]] = []
    for value in values:
        out.extend(_flatten(value, depth=0))
    return out


def _decode_all(text: str) -> list[Any] | None:
    """All JSON values in ``text`` one after another; None if any part is invalid."""
    decoder = json.JSONDecoder(strict=False)
    values: list[Any] = []
    pos, end = 0, len(text)
    while pos < end:
        while pos < end and text[pos] in " \t\r\n;,":
            pos += 1
        if pos >= end:
            break
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            return None
        values.append(value)
    return values


def _flatten(value: Any, depth: int) -> Iterator[Mapping[str, Any]]:
    if depth > 4:
        return
    if isinstance(value, list):
        for item in value:
            yield from _flatten(item, depth + 1)
    elif isinstance(value, dict):
        graph = value.get("@graph")
        if isinstance(graph, list | dict):
            yield from _flatten(graph, depth + 1)
        if "@type" in value:
            yield value
        for key in _NESTED:
            nested = value.get(key)
            if isinstance(nested, dict | list):
                yield from _flatten(nested, depth + 1)


def _types(obj: Mapping[str, Any]) -> set[str]:
    kind = obj.get("@type")
    kinds: Sequence[Any] = kind if isinstance(kind, list) else [kind]
    return {k.lower() for k in kinds if isinstance(k, str)}


def _lang(tree: LexborHTMLParser) -> str | None:
    root = tree.root
    lang = root.attributes.get("lang") if root is not None else None
    return lang.strip() or None if lang else None


def _title_tag(tree: LexborHTMLParser) -> str | None:
    node = tree.css_first("title")
    return node.text(deep=True) if node is not None else None


def clean_text(value: Any) -> str | None:
    """A JSON-LD or meta string with entities decoded and whitespace collapsed."""
    if not isinstance(value, str):
        return None
    text = " ".join(html.unescape(value).split())
    return text or None
