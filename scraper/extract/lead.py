"""Find the lead (teaser, standfirst) that many pages put above the article body.

fundus-style bodies start with it, yet it often sits outside the content region, in
the article header next to the headline.  The search looks at the elements just before
the region and before its nearest ancestors, closest first, for one whose class/id
names a lead, or whose text is the page's meta description.
"""

from __future__ import annotations

from collections.abc import Iterator

from selectolax.lexbor import LexborNode

from .clean import ClassCache
from .filters import text_key

__all__ = ["find_lead"]

_LEAD_WORDS = (
    "lead",
    "intro",
    "teaser",
    "summary",
    "standfirst",
    "subtitle",
    "subline",
    "dek",
    "excerpt",
    "abstract",
    "description",
    "sapo",
    "entradilla",
    "ingress",
    "vorspann",
)
_LEAD_SELECTOR = (
    ", ".join(f"[class*={w}], [class*={w.capitalize()}]" for w in _LEAD_WORDS)
    + ", [itemprop=description]"
)
_TEXT_TAGS = "p, h2, h3, h4, div, span, strong"
_LEVELS = 4  # the region and this many ancestors
_SIBLINGS = 6  # preceding elements looked at on each level
_MATCH = 40  # characters of the description that must start the lead
_PREFIX = 20  # ... after at most this many characters of dateline
_MIN = 30
_MAX = 1200
_STOP = frozenset({"html", "body", None})


def find_lead(
    first_root: LexborNode, description: str | None, cache: ClassCache
) -> LexborNode | None:
    """The lead element just before the region (outside it), or None.

    The page's own description is the stronger signal, so every nearby element is
    first checked for it; only then are class/id names ("lead", "intro", ...) used.
    """
    nearby = list(_preceding(first_root, cache))
    want = text_key(description)[:_MATCH] if description else ""
    if want:
        for node in nearby:
            found = _holding_description(node, want)
            if found is not None:
                return found
    for node in nearby:
        found = _named_lead(node)
        if found is not None:
            return found
    return None


def _preceding(first_root: LexborNode, cache: ClassCache) -> Iterator[LexborNode]:
    """Elements before the region and before its nearest ancestors, closest first."""
    cur: LexborNode | None = first_root
    for _ in range(_LEVELS):
        if cur is None or cur.tag in _STOP:
            return
        sibling = cur.prev
        seen = 0
        while sibling is not None and seen < _SIBLINGS:
            if sibling.is_element_node:
                seen += 1
                if not cache.boilerplate(sibling.attributes):
                    yield sibling
            sibling = sibling.prev
        cur = cur.parent


def _holding_description(node: LexborNode, want: str) -> LexborNode | None:
    if want not in text_key(node.text(deep=True)):
        return None
    for element in (node, *node.css(_TEXT_TAGS)):
        at = text_key(element.text(deep=True)).find(want)
        if 0 <= at <= _PREFIX:  # a short dateline ("Berlin.") may come first
            return element if _lead_like(element) else None
    return None


def _named_lead(node: LexborNode) -> LexborNode | None:
    attrs = node.attributes
    name = f"{attrs.get('class') or ''} {attrs.get('id') or ''} {attrs.get('itemprop') or ''}"
    if any(word in name.lower() for word in _LEAD_WORDS):
        return node if _lead_like(node) else None
    inner = node.css_first(_LEAD_SELECTOR)
    return inner if inner is not None and _lead_like(inner) else None


def _lead_like(node: LexborNode) -> bool:
    text = node.text(deep=True).strip()
    if not _MIN <= len(text) <= _MAX:
        return False
    linked = sum(len(a.text(deep=True)) for a in node.css("a"))
    return linked < 0.3 * len(text)
