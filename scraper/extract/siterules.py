"""Per-site rules (``SiteRules``): CSS selectors that take precedence field by field.

Each function returns the rule's value or a :class:`RuleMiss` that says why the rule
gave nothing (no match, unparsable date, invalid selector); the caller then falls back
to the generic extractor and records the reason in ``Article.errors``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from .blocks import BlockWalker, render
from .clean import ClassCache
from .dates import parse_date

__all__ = ["RuleMiss", "remove_excluded", "rule_body", "rule_published", "rule_title"]


@dataclass(frozen=True)
class RuleMiss:
    """Why a configured rule produced no value."""

    reason: str

    def fallback(self) -> str:
        return f"{self.reason}; used generic extractor"


def _select(tree: LexborHTMLParser, selector: str) -> list[LexborNode] | RuleMiss:
    try:
        return list(tree.css(selector))
    except SelectolaxError as exc:
        return RuleMiss(f"invalid selector {selector!r}: {exc}")


def remove_excluded(tree: LexborHTMLParser, selectors: tuple[str, ...]) -> list[str]:
    """Remove every node matching an ``exclude`` selector; returns problems, if any."""
    problems: list[str] = []
    for selector in selectors:
        nodes = _select(tree, selector)
        if isinstance(nodes, RuleMiss):
            problems.append(nodes.reason)
            continue
        for node in nodes:
            node.remove()
    return problems


def rule_title(tree: LexborHTMLParser, selector: str) -> str | RuleMiss:
    nodes = _select(tree, selector)
    if isinstance(nodes, RuleMiss):
        return nodes
    for node in nodes:
        text = " ".join(node.text(deep=True).split())
        if text:
            return text
    return RuleMiss(f"selector {selector!r} matched nothing") if not nodes else _empty(selector)


def rule_published(
    tree: LexborHTMLParser,
    selector: str,
    *,
    date_format: str | None,
    tz: tzinfo,
    now: datetime | None,
) -> tuple[datetime, bool] | RuleMiss:
    """The first match's ``datetime``/``content`` attribute (else its text), parsed."""
    nodes = _select(tree, selector)
    if isinstance(nodes, RuleMiss):
        return nodes
    if not nodes:
        return RuleMiss(f"selector {selector!r} matched nothing")
    node = nodes[0]
    attrs = node.attributes
    raw = attrs.get("datetime") or attrs.get("content") or node.text(deep=True)
    text = " ".join((raw or "").split())
    parsed = parse_date(text, tz=tz, date_format=date_format, now=now) if text else None
    if parsed is None:
        return RuleMiss(f"selector {selector!r} gave {text!r}, which is not a date")
    return parsed


def rule_body(tree: LexborHTMLParser, selector: str, cache: ClassCache) -> str | RuleMiss:
    """The text of every match, in document order (nested matches counted once)."""
    nodes = _select(tree, selector)
    if isinstance(nodes, RuleMiss):
        return nodes
    if not nodes:
        return RuleMiss(f"selector {selector!r} matched nothing")
    walker = BlockWalker(cache)
    seen: set[int] = set()
    for node in nodes:
        if _inside(node, seen):
            continue
        seen.add(node.mem_id)
        walker.walk_root(node)
    text = render(walker.blocks)
    return text if text else _empty(selector)


def _inside(node: LexborNode, seen: set[int]) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.mem_id in seen:
            return True
        parent = parent.parent
    return False


def _empty(selector: str) -> RuleMiss:
    return RuleMiss(f"selector {selector!r} matched only empty elements")
