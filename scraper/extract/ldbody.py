"""Use the page's JSON-LD ``articleBody`` as a second opinion on the body text.

Two uses: when the markup holds much less text than ``articleBody`` (a paywall, an app
shell), ``articleBody`` *is* the body; and when most of the extracted blocks can be found
in a complete ``articleBody``, blocks that cannot are page furniture inside the content
region (promotions, captions, credits) and are dropped.
"""

from __future__ import annotations

import html

from selectolax.lexbor import LexborHTMLParser

from .blocks import DROPPED, Block
from .filters import text_key

__all__ = ["ld_fallback", "ld_filter"]

_LD_MIN = 300  # characters; shorter articleBody values are summaries
_LD_FACTOR = 2.0  # articleBody this many times the markup's text replaces it ...
_LD_DOM_ENOUGH = 2500  # ... unless the markup shows this much text already
_COVERAGE = 0.6  # share of block text found in articleBody before it may filter
_PROBE = 30  # characters of a block's key looked up at its start and its end
_TRUNCATED = ("...", "…", "[…]", "(...)")


def ld_text(raw: str) -> str:
    """articleBody as plain text, paragraphs split on its line breaks."""
    if "<" in raw and ">" in raw:
        raw = LexborHTMLParser(raw).text(deep=True, separator="\n")
    raw = html.unescape(raw)
    paragraphs = (" ".join(line.split()) for line in raw.splitlines())
    return "\n\n".join(p for p in paragraphs if p)


def ld_fallback(ld_body: str | None, dom_text: str, description: str | None) -> str | None:
    """articleBody (after the description as its lead) when the markup has far less text."""
    if not ld_body or len(ld_body) < _LD_MIN or len(dom_text) > _LD_DOM_ENOUGH:
        return None
    if len(ld_body) < _LD_FACTOR * len(dom_text):
        return None
    text = ld_text(ld_body)
    if description and text_key(description)[:40] not in text_key(text[:600]):
        text = f"{description}\n\n{text}"
    return text


def ld_filter(blocks: list[Block], ld_body: str | None, protected: int) -> list[Block]:
    """Drop paragraphs missing from a complete articleBody.

    The first ``protected`` blocks (the lead), everything before the first block found
    in articleBody (summaries), and headings (often left out of articleBody) stay.
    """
    if not ld_body or len(ld_body) < _LD_MIN or ld_body.rstrip().endswith(_TRUNCATED):
        return blocks
    ld_key = text_key(html.unescape(ld_body))
    found = [_found(block, ld_key) for block in blocks]
    total = sum(len(b.text) for b in blocks[protected:])
    hit = sum(len(b.text) for b, ok in zip(blocks, found, strict=True) if ok)
    if total == 0 or hit < total * _COVERAGE:
        return blocks
    start = next((i for i in range(protected, len(blocks)) if found[i] and blocks[i].text), 0)
    out = blocks[:start]
    for block, ok in zip(blocks[start:], found[start:], strict=True):
        out.append(block if ok or block.kind == "h" else Block("", DROPPED))
    return out


def _found(block: Block, ld_key: str) -> bool:
    if block.kind == DROPPED:
        return True
    key = text_key(block.text)
    if len(key) <= 2 * _PROBE:
        return key in ld_key
    return key[:_PROBE] in ld_key or key[-_PROBE:] in ld_key
