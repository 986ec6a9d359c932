"""Article text that a client-rendered page ships inside its scripts.

Pages built with Next.js, Nuxt and similar frameworks often send an almost empty DOM
and the article as data: JSON in ``__NEXT_DATA__``, or JavaScript string literals
pushed into the framework (``self.__next_f.push([1, "..."])``), where the body is an
HTML fragment escaped once or several times.  When the DOM yields no article, the
script strings are decoded (nested JSON strings too) and the longest one holding
paragraph markup becomes the body's source.  Only used as a fallback: scanning
scripts costs a fresh parse of the page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from selectolax.lexbor import LexborHTMLParser

__all__ = ["embedded_article_html"]

_MIN_SCRIPT = 500  # characters: smaller scripts hold no article
_MIN_STRING = 200  # characters of a string literal worth decoding
_MAX_DEPTH = 3  # JSON nested in strings, e.g. RSC payloads
_STRING = re.compile(r'"((?:[^"\\]|\\.){' + str(_MIN_STRING) + r',})"')
_STRUCTURED = re.compile(r'"\s*:\s*[\[{"]|\{"')  # the string is itself JSON-like data
_MARKUP = re.compile(r"<(?:p|br)\b", re.IGNORECASE)
_BREAKS = re.compile(r"(?:\s*<br\s*/?>\s*){1,}", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\$\$[A-Z0-9_]+\$\$|\{\{[^{}]{1,40}\}\}")  # template slots


def embedded_article_html(document: str | bytes) -> str | None:
    """An HTML document built from the longest paragraph-bearing script string, or None."""
    tree = LexborHTMLParser(document)
    best, best_length = None, 0
    for script in tree.css("script"):
        if (script.attributes.get("type") or "").lower() == "application/ld+json":
            continue
        code = script.text(deep=False) or ""
        if len(code) < _MIN_SCRIPT:
            continue
        for value in _strings(code, 0):
            if not _MARKUP.search(value):
                continue
            length = len(LexborHTMLParser(value).text(deep=True) or "")
            if length > best_length:
                best, best_length = value, length
    if best is None:
        return None
    fragment = _PLACEHOLDER.sub(" ", _BREAKS.sub("</p><p>", best))
    return f"<html><body><article><p>{fragment}</p></article></body></html>"


def _strings(code: str, depth: int) -> Iterator[str]:
    """Decoded string literals of ``code``; JSON-like ones are searched one level down."""
    for match in _STRING.finditer(code):
        try:
            value = json.loads(f'"{match.group(1)}"')
        except ValueError:
            continue
        if depth < _MAX_DEPTH and _STRUCTURED.search(value):
            yield from _strings(value, depth + 1)
        else:
            yield value
