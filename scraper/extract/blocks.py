"""Turn the chosen content region into plain-text blocks, in reading order.

One recursive walk over the region: inline elements are transparent, every other
element closes the current paragraph.  Subtrees whose class/id name boilerplate
(share bars, related links, captions, ...) are skipped unless they hold most of the
region's text, link lists are skipped whole, and paragraphs that are mostly link text
are dropped.  Headings (h2-h6) are kept only when text follows them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from selectolax.lexbor import LexborNode

from .clean import BR_MARK, SKIP_TAGS, ClassCache

__all__ = ["Block", "BlockWalker", "render"]

INLINE = frozenset(
    "a abbr acronym b bdi bdo big cite code data del dfn em font i ins kbd mark nobr q rp rt "
    "ruby s samp small span strike strong sub sup time tt u var wbr".split()
)
_PLAIN_INLINE = frozenset("a b i em strong u sub sup small".split())
_HEADINGS = {"h2": "h", "h3": "h", "h4": "h", "h5": "h", "h6": "h"}
_SKIP = SKIP_TAGS | {"h1", "-comment"}
_LISTS = frozenset({"ul", "ol", "dl"})
_MAX_LINK_DENSITY = 0.5
_MAX_DEPTH = 150  # deeper nesting is flattened (keeps Python's recursion limit far away)
_MAX_CAPTION_WORDS = 25  # a short paragraph around an <img> is a caption or credit
_MAX_LABEL_WORDS = 5
_SPACE_BEFORE_STOP = re.compile(r" ([,.])(?= |$)")
_MAX_HEADING = 12  # words
_H1_SECTIONS = 3
_CELLS = frozenset({"td", "th"})
_MAX_CELL = 300  # characters: a longer cell is a layout cell holding running text
_LAYOUT_INSIDE = "table table, p, div, ul, ol, blockquote, h1, h2, h3, pre"
DROPPED = "dropped"  # kind of the marker left where a box was dropped
_SENTENCE_END = frozenset(".!?…。！？\"'»”)")


@dataclass(frozen=True)
class Block:
    text: str
    kind: str  # "p", "h" (heading), "li", "quote", "pre", "row" (of a data table)
    linked: float = 0.0  # share of the text inside links


@dataclass
class BlockWalker:
    """Collects :class:`Block` values from one or more region roots.

    Where a box or paragraph is dropped, a :data:`DROPPED` marker block is left so that
    a label standing right before it ("Read more", "Related") can be dropped too.
    """

    cache: ClassCache
    use_classes: bool = True  # skip subtrees whose class/id names boilerplate
    blocks: list[Block] = field(default_factory=list)
    _parts: list[str] = field(default_factory=list)
    _linked: list[int] = field(default_factory=list)  # link characters of each part
    _image: bool = False  # the open paragraph holds an <img> (then it may be a caption)
    _guard: int = 0
    _h1_sections: bool = False  # <h1> after the text are section headings on this page

    def walk_root(self, root: LexborNode) -> None:
        self._guard = len(root.text(deep=True)) // 2
        # Some platforms (Medium) set section headings in <h1>: several short ones
        short = [h for h in root.css("h1") if len(h.text(deep=True).split()) <= _MAX_HEADING]
        self._h1_sections = len(short) >= _H1_SECTIONS
        self._walk(root, "p", False)
        self._flush("p")

    def _walk(self, node: LexborNode, kind: str, in_link: bool, depth: int = 0) -> None:
        if depth > _MAX_DEPTH:  # pathological nesting: take the rest as plain text
            self._add(node.text(deep=True), 0)
            return
        depth += 1
        for child in node.iter(include_text=True):
            if child.is_text_node:
                text = child.text_content or ""
                self._add(text, len(text.strip()) if in_link else 0)
                continue
            tag = child.tag or ""
            if tag == "br":
                self._add(BR_MARK, 0)
                continue
            if tag == "hr":  # a rule ends the paragraph, like a block would
                self._flush(kind)
                continue
            if tag == "h1" and self._h1_sections and self._has_text():
                self._flush(kind)
                self._block(child, "h2", kind, in_link, depth)
                continue
            if tag in _SKIP:
                self._image = self._image or tag == "img"
                continue
            # inside <pre>, class names are syntax highlighting ("hljs-comment")
            if kind != "pre" and tag not in _PLAIN_INLINE and self._is_boilerplate(child):
                if tag in INLINE and kind == "h":
                    continue  # "[edit]" in a heading: the heading stays whole
                self._mark_dropped()
                continue
            if tag in INLINE:
                link = tag == "a" and not _is_permalink(child)
                self._walk(child, kind, in_link or link, depth)
                continue
            self._flush(kind)
            self._block(child, tag, kind, in_link, depth)
            self._flush(kind)

    def _block(self, node: LexborNode, tag: str, kind: str, in_link: bool, depth: int) -> None:
        if tag in _HEADINGS:
            self._walk(node, "h", in_link, depth)
            self._flush("h")
        elif tag in _LISTS:
            if _is_link_list(node):
                self._mark_dropped()
            else:
                self._walk(node, "li", in_link, depth)
        elif tag == "li" or tag == "dt" or tag == "dd":
            self._walk(node, "li", in_link, depth)
            self._flush("li")
        elif tag == "table" and _is_data_table(node):
            self._table(node)
        elif tag == "blockquote":
            self._walk(node, "quote", in_link, depth)
        elif tag == "pre":
            self._walk(node, "pre", in_link, depth)
            self._flush("pre")
        else:
            self._walk(node, kind, in_link, depth)

    def _table(self, table: LexborNode) -> None:
        """A data table: one line per row, its cells joined by " | "."""
        for row in table.css("tr"):
            cells = [" ".join(c.text(deep=True).split()) for c in row.iter() if c.tag in _CELLS]
            text = " | ".join(cell for cell in cells if cell)
            if text:
                linked = sum(len(a.text(deep=True).strip()) for a in row.css("a"))
                density = min(1.0, linked / len(text))
                if density > _MAX_LINK_DENSITY:
                    self._mark_dropped()
                else:
                    self.blocks.append(Block(text, "row", density))

    def _is_boilerplate(self, node: LexborNode) -> bool:
        if not self.use_classes or not self.cache.boilerplate_node(node):
            return False
        return len(node.text(deep=True)) < self._guard

    def _mark_dropped(self) -> None:
        self._flush("p")
        if self.blocks and self.blocks[-1].kind != DROPPED:
            self.blocks.append(Block("", DROPPED))

    def _has_text(self) -> bool:
        """Whether article text came before (an <h1> after it is not the headline)."""
        return any(block.kind == "p" for block in self.blocks)

    def _add(self, text: str, linked: int) -> None:
        self._parts.append(text)
        self._linked.append(linked)

    def _flush(self, kind: str) -> None:
        if not self._parts:
            self._image = False
            return
        if kind == "pre":  # preformatted: lines stay lines
            pieces = list(_preformatted(self._parts, self._linked))
        else:
            pieces = list(_pieces(self._parts, self._linked))
        image = self._image
        self._parts.clear()
        self._linked.clear()
        self._image = False
        words = sum(len(text.split()) for text, _ in pieces)
        if words == 0:
            return
        if image and words <= _MAX_CAPTION_WORDS:
            self._mark_dropped()
            return
        for text, linked in pieces:
            density = min(1.0, linked / len(text))
            if density > _MAX_LINK_DENSITY:
                self._mark_dropped()
            else:
                self.blocks.append(Block(text, kind, density))


def _pieces(parts: list[str], linked: list[int]) -> Iterator[tuple[str, int]]:
    """The paragraphs of one run of inline content: ``<br><br>`` splits it; text, link chars."""
    if BR_MARK not in parts:  # the common case: one paragraph
        yield from _piece(parts, sum(linked))
        return
    texts: list[str] = []
    links = 0
    breaks = 0
    for part, link in zip(parts, linked, strict=True):
        if part == BR_MARK:
            breaks += 1
            if breaks == 2:
                yield from _piece(texts, links)
                texts, links = [], 0
            else:
                texts.append(" ")
            continue
        if part.strip():
            breaks = 0
        texts.append(part)
        links += link
    yield from _piece(texts, links)


def _preformatted(parts: list[str], linked: list[int]) -> Iterator[tuple[str, int]]:
    raw = "".join("\n" if part == BR_MARK else part for part in parts)
    lines = (line.rstrip() for line in raw.expandtabs(4).splitlines())
    text = "\n".join(line for line in lines if line.strip())
    if text.strip():
        yield text, sum(linked)


def _is_permalink(link: LexborNode) -> bool:
    """A link to its own heading or term ("#name" on an ``<h2 id=name>``): not a link away."""
    href = link.attributes.get("href") or ""
    if len(href) < 2 or not href.startswith("#"):
        return False
    target = href[1:]
    node: LexborNode | None = link
    for _ in range(3):
        if node is None:
            break
        if node.attributes.get("id") == target:
            return True
        node = node.parent
    return False


def _piece(texts: list[str], links: int) -> Iterator[tuple[str, int]]:
    text = " ".join("".join(texts).split())
    if " ," in text or " ." in text:  # a removed element left a space before a stop
        text = _SPACE_BEFORE_STOP.sub(r"\1", text)
    if text:
        yield text, links


def _is_data_table(table: LexborNode) -> bool:
    """A table of short cells (figures, results), not a layout table holding the page.

    Layout tables nest tables or put paragraphs, lists and long runs of text in cells.
    """
    if table.css_first(_LAYOUT_INSIDE) is not None:
        return False
    cells = table.css("td, th")
    return bool(cells) and all(len(c.text(deep=True)) <= _MAX_CELL for c in cells)


def _is_link_list(node: LexborNode) -> bool:
    """A list whose items are mostly links (related articles, tag clouds, menus)."""
    items = [li for li in node.iter() if li.tag in ("li", "dt", "dd")]
    if not items:
        return False
    linky = 0
    for item in items:
        text_len = len(item.text(deep=True).strip())
        link_len = sum(
            len(a.text(deep=True).strip()) for a in item.css("a") if not _is_permalink(a)
        )
        if text_len == 0 or link_len / text_len > _MAX_LINK_DENSITY:
            linky += 1
    return linky * 2 > len(items)


def drop_orphan_headings(blocks: list[Block]) -> list[Block]:
    """Drop headings with no text after them and labels of dropped boxes, then the markers.

    A heading followed by another heading (or by nothing) titled a box that is gone;
    so did a heading or a short label line ("Read more:") right before a dropped box.
    """
    out: list[Block] = []
    for i, block in enumerate(blocks):
        if block.kind == DROPPED:
            continue
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if block.kind == "h" and (nxt is None or nxt.kind == "h"):
            continue
        if nxt is not None and nxt.kind == DROPPED and _is_label(block):
            continue
        out.append(block)
    return out


def _is_label(block: Block) -> bool:
    if block.kind == "h":
        return True
    return len(block.text.split()) <= _MAX_LABEL_WORDS and not ends_sentence(block.text)


def render(blocks: list[Block]) -> str:
    """Plain text: one blank line between paragraphs.

    A list's items ("- ") and a table's rows go one per line.
    """
    out: list[str] = []
    previous = ""
    for block in drop_orphan_headings(blocks):
        if block.kind in ("li", "row"):  # a list's items, a table's rows: one per line
            line = f"- {block.text}" if block.kind == "li" else block.text
            if previous == block.kind:
                out[-1] += "\n" + line
            else:
                out.append(line)
        else:
            out.append(block.text)
        previous = block.kind
    return "\n\n".join(out)


def ends_sentence(text: str) -> bool:
    return bool(text) and text[-1] in _SENTENCE_END
