"""Turn the chosen content region into plain-text blocks, in reading order.

One recursive walk over the region: inline elements are transparent, every other
element closes the current paragraph.  Subtrees whose class/id name boilerplate
(share bars, related links, captions, ...) are skipped unless they hold most of the
region's text, link lists are skipped whole, and paragraphs that are mostly link text
are dropped.  Headings (h2-h6) are kept only when text follows them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from selectolax.lexbor import LexborNode

from .clean import BR_MARK, ClassCache

__all__ = ["Block", "BlockWalker", "render"]

INLINE = frozenset(
    "a abbr acronym b bdi bdo big cite code data del dfn em font i ins kbd mark nobr q rp rt "
    "ruby s samp small span strike strong sub sup time tt u var wbr".split()
)
_PLAIN_INLINE = frozenset("a b i em strong u sub sup small".split())
_HEADINGS = {"h2": "h", "h3": "h", "h4": "h", "h5": "h", "h6": "h"}
_SKIP = frozenset({"h1", "-comment", "img", "hr", "head", "title", "meta", "link"})
_LISTS = frozenset({"ul", "ol", "dl"})
_MAX_LINK_DENSITY = 0.5
_BR_SPLIT = re.compile(f"{BR_MARK}\\s*{BR_MARK}")
_SENTENCE_END = frozenset(".!?…。！？\"'»”)")


@dataclass(frozen=True)
class Block:
    text: str
    kind: str  # "p", "h" (heading), "li", "quote", "pre"
    linked: float = 0.0  # share of the text inside links


@dataclass
class BlockWalker:
    """Collects :class:`Block` values from one or more region roots."""

    cache: ClassCache
    use_classes: bool = True  # skip subtrees whose class/id names boilerplate
    skip_ids: frozenset[int] = frozenset()  # mem_ids of nodes to leave out (title, lead)
    blocks: list[Block] = field(default_factory=list)
    _parts: list[str] = field(default_factory=list)
    _linked: int = 0
    _guard: int = 0

    def walk_root(self, root: LexborNode) -> None:
        self._guard = len(root.text(deep=True)) // 2
        self._walk(root, "p", False)
        self._flush("p")

    def _walk(self, node: LexborNode, kind: str, in_link: bool) -> None:
        for child in node.iter(include_text=True):
            if child.is_text_node:
                text = child.text_content or ""
                self._parts.append(text)
                if in_link:
                    self._linked += len(text.strip())
                continue
            tag = child.tag or ""
            if tag == "br":
                self._parts.append(BR_MARK)
                continue
            if tag in _SKIP or child.mem_id in self.skip_ids:
                continue
            if tag not in _PLAIN_INLINE and self._is_boilerplate(child):
                continue
            if tag in INLINE:
                self._walk(child, kind, in_link or tag == "a")
                continue
            self._flush(kind)
            self._block(child, tag, kind)
            self._flush(kind)

    def _block(self, node: LexborNode, tag: str, kind: str) -> None:
        if tag in _HEADINGS:
            self._walk(node, "h", False)
            self._flush("h")
        elif tag in _LISTS:
            if not _is_link_list(node):
                self._walk(node, "li", False)
        elif tag == "li" or tag == "dt" or tag == "dd":
            self._walk(node, "li", False)
            self._flush("li")
        elif tag == "blockquote":
            self._walk(node, "quote", False)
        elif tag == "pre":
            self._walk(node, "pre", False)
        else:
            self._walk(node, kind, False)

    def _is_boilerplate(self, node: LexborNode) -> bool:
        if not self.use_classes or not self.cache.boilerplate(node.attributes):
            return False
        return len(node.text(deep=True)) < self._guard

    def _flush(self, kind: str) -> None:
        if not self._parts:
            return
        raw = "".join(self._parts)
        linked = self._linked
        self._parts.clear()
        self._linked = 0
        pieces = _BR_SPLIT.split(raw) if BR_MARK in raw else [raw]
        for piece in pieces:
            text = " ".join(piece.replace(BR_MARK, " ").split())
            if not text:
                continue
            density = min(1.0, linked / len(text))
            if density > _MAX_LINK_DENSITY:
                continue
            self.blocks.append(Block(text, kind, density))


def _is_link_list(node: LexborNode) -> bool:
    """A list whose items are mostly links (related articles, tag clouds, menus)."""
    items = [li for li in node.iter() if li.tag in ("li", "dt", "dd")]
    if not items:
        return False
    linky = 0
    for item in items:
        text_len = len(item.text(deep=True).strip())
        link_len = sum(len(a.text(deep=True).strip()) for a in item.css("a"))
        if text_len == 0 or link_len / text_len > _MAX_LINK_DENSITY:
            linky += 1
    return linky * 2 > len(items)


def drop_orphan_headings(blocks: list[Block]) -> list[Block]:
    """Headings with no text after them (the title of a removed box) are dropped."""
    out: list[Block] = []
    for i, block in enumerate(blocks):
        if block.kind == "h":
            nxt = blocks[i + 1] if i + 1 < len(blocks) else None
            if nxt is None or nxt.kind == "h":
                continue
        out.append(block)
    return out


def render(blocks: list[Block]) -> str:
    """Plain text: one blank line between paragraphs; a list's items as "- " lines."""
    out: list[str] = []
    previous = ""
    for block in drop_orphan_headings(blocks):
        if block.kind == "li":
            line = f"- {block.text}"
            if previous == "li":
                out[-1] += "\n" + line
            else:
                out.append(line)
        else:
            out.append(block.text)
        previous = block.kind
    return "\n\n".join(out)


def ends_sentence(text: str) -> bool:
    return bool(text) and text[-1] in _SENTENCE_END
