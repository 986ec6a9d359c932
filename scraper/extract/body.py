"""Main-content detection on the lexbor tree, with no per-site knowledge.

1. Paragraph-like nodes (``<p>``, ``<pre>``, and elements holding long direct text) are
   scored by length and punctuation; each score flows to the node's ancestors with decay
   (after readability), and their length ("mass") to ancestors up to 12 levels.  When
   that finds little, a second look also counts ``<span>``s right in ``<div>``s or table
   cells, and list items.  Nothing inside a comment or teaser box, and no boilerplate box, can win.
2. Candidates get a bonus for content-like class names and semantic tags (``<article>``,
   ``[itemprop=articleBody]``, ``<main>``) and are scaled by their link density.  Among
   the close runners-up, the one nearest the page's headline wins (a second article
   further down the page loses).
3. The winner climbs to its ancestors while each step adds mostly paragraph text (an
   article split into chunks between ads), never past another article's ``<h1>``.
4. That region and its strong siblings go to :mod:`.blocks`; the lead above the region
   (:mod:`.lead`) goes first; JSON-LD ``articleBody`` (:mod:`.ldbody`) filters the
   blocks, or replaces them when the markup holds far less text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from selectolax.lexbor import LexborHTMLParser, LexborNode

from .blocks import BlockWalker, render
from .clean import ClassCache, heading_anchor, is_boilerplate_name
from .filters import drop_furniture, text_key
from .ldbody import ld_fallback, ld_filter
from .lead import find_lead

__all__ = ["BodyResult", "find_body"]

_MIN_PARAGRAPH = 25
_PARAGRAPHS = "p, pre, div, section, article, td, main, h1, font, center, blockquote, body"
# Second look, when the first finds little: text in <span>s right in <div>s (Draft.js) or
# in table cells (old layouts: <td><span class=text>…<br><br>…</span>), and list items
# written as sentences (release notes, key points).
_WITH_SPANS = f"{_PARAGRAPHS}, div > span, td > span, li"
_PARAGRAPH_LIKE = frozenset({"p", "pre", "span", "li"})
_BURY_LEVELS = 5  # a boilerplate box this close above a paragraph holds it
_BURYING = re.compile(
    r"comment|talkback|disqus|repl(?:y|ies)|related|recommend|teaser|outbrain|taboola|"
    r"most-?read|most-?popular|trending|kommentar|leserbrief",
    re.IGNORECASE,
)
_THIN_REGION = 400  # characters of paragraph text: below this the page gets a second look
_SCORE_LEVELS = 5
_DECAY = (1.0, 2.0, 6.0, 9.0, 12.0)  # readability: parent, grandparent, then level * 3
_MASS_LEVELS = 12
_RANKED = 6
_CLOSE_SCORE = 0.5  # runners-up this close to the best may win by nearness to the headline
_MAX_CLIMB = 8
_NEUTRAL_TEXT = 200  # a step that adds less text than this never stops the climb
_MASS_SHARE = 0.5  # ... else at least this share of the added text must be paragraphs
_BLOCKED = 1 << 30  # "added text" of a step that would take in another article
_MIN_KEPT = 0.3  # output shorter than this share of the region's paragraph text is suspect
_COMMAS = re.compile("[,،、，؛]")
_TAG_WEIGHT = {
    "article": 10,
    "main": 5,
    "div": 5,
    "section": 3,
    "pre": 3,
    "td": 3,
    "blockquote": 3,
    "form": -3,
    "ol": -3,
    "ul": -3,
    "li": -3,
    "dl": -3,
    "header": -5,
    "th": -5,
    "body": -5,
}
_STOP = frozenset({"html", "#document", None})


@dataclass(frozen=True)
class BodyResult:
    text: str
    source: str  # provenance: "generic:<tag or name of the region>"
    h1: str | None = None  # text of the <h1> nearest the region


@dataclass
class _Candidate:
    node: LexborNode
    score: float
    boilerplate: bool = False  # its class/id names a non-content box
    mass: int = 0  # characters of good paragraph text inside
    buried: bool = False  # it sits in a comment or related box: never the article
    _h1: bool | None = None

    def holds_h1(self) -> bool:
        if self._h1 is None:
            self._h1 = self.node.css_first("h1") is not None
        return self._h1


@dataclass(frozen=True)
class BodyHints:
    """What the rest of the page says about the article, to steer the search."""

    headlines: tuple[str, ...] = ()  # title signals (og:title, JSON-LD headline, ...)
    ld_body: str | None = None  # JSON-LD articleBody
    description: str | None = None


def find_body(
    tree: LexborHTMLParser, cache: ClassCache, hints: BodyHints = BodyHints()
) -> BodyResult | None:
    """The article text of a pruned tree, or None when no content region was found."""
    scan = _score_paragraphs(tree, cache, _PARAGRAPHS)
    own_h1s = _headline_nodes(scan.h1s, hints.headlines)
    headline = own_h1s[0] if own_h1s else None
    top = _best(scan.candidates, headline)
    look_past = True  # the climb may pass a step with little paragraph text
    if top is None or top.mass < _THIN_REGION:
        second = _score_paragraphs(tree, cache, _WITH_SPANS)
        second_top = _best(second.candidates, headline)
        if second_top is not None:
            scan, top, look_past = second, second_top, False
    candidates = scan.candidates
    if top is None:
        return _jsonld_body(hints, "") or _whole_page(tree, cache, hints)
    own = frozenset(h1.mem_id for h1 in own_h1s)
    region = _expand(top, candidates, cache, own, look_past=look_past)
    roots = _with_siblings(region, candidates)
    lead = find_lead(roots[0], hints.description, cache)
    if headline is not None:
        hints = replace(hints, headlines=(*hints.headlines, headline.text(deep=True)))
    text = _render(roots, lead, cache, hints, use_classes=True)
    if len(text) < region.mass * _MIN_KEPT:  # the class vocabulary misfired on this page
        text = _render(roots, lead, cache, hints, use_classes=False)
    better = _jsonld_body(hints, text)
    if better is not None:
        return better
    if not text:
        return None
    h1 = headline if headline is not None else _nearest_h1(scan.h1s, region.node)
    h1_text = h1.text(deep=True) if h1 is not None else None
    return BodyResult(text, f"generic:{_describe(region.node)}", h1_text)


def _render(
    roots: list[LexborNode],
    lead: LexborNode | None,
    cache: ClassCache,
    hints: BodyHints,
    *,
    use_classes: bool,
) -> str:
    walker = BlockWalker(cache, use_classes=use_classes)
    if lead is not None:
        walker.walk_root(lead)
    protected = len(walker.blocks)
    for root in roots:
        walker.walk_root(root)
    blocks = ld_filter(walker.blocks, hints.ld_body, protected)
    return render(drop_furniture(blocks, hints.headlines))


def _whole_page(tree: LexborHTMLParser, cache: ClassCache, hints: BodyHints) -> BodyResult | None:
    """No paragraph anywhere: the page's text blocks that are not links or furniture.

    Only then: when a region was found and all of its text was dropped, the rest of the
    page is furniture, and an empty body is the honest answer.
    """
    if tree.body is None:
        return None
    text = _render([tree.body], None, cache, hints, use_classes=True)
    return BodyResult(text, "generic:page") if text else None


def _jsonld_body(hints: BodyHints, dom_text: str) -> BodyResult | None:
    text = ld_fallback(hints.ld_body, dom_text, hints.description)
    return BodyResult(text, "json-ld:articleBody") if text else None


@dataclass
class _Scan:
    """Paragraph scores flowed to ancestors, and the page's <h1> elements."""

    candidates: dict[int, _Candidate]
    h1s: list[LexborNode]


def _score_paragraphs(tree: LexborHTMLParser, cache: ClassCache, selector: str) -> _Scan:
    candidates: dict[int, _Candidate] = {}
    chains: dict[int, list[_Candidate]] = {}  # holder mem_id -> its ancestors' candidates
    h1s: list[LexborNode] = []
    for para in tree.css(selector):
        tag = para.tag
        if tag == "h1":
            h1s.append(para)
            continue
        # a <span> right in a <div> is a paragraph there (Draft.js: <div><span>text</span>),
        # and so is a list item written as a sentence (release notes, key points)
        is_p = tag in _PARAGRAPH_LIKE
        text = para.text(deep=is_p)
        length = len(text)
        if length < _MIN_PARAGRAPH:
            continue
        length = len(text.strip())
        if length < _MIN_PARAGRAPH:
            continue
        # A <p> is a paragraph of its parent; any other element holding text of its
        # own (runs split by <br>) is the container of that text.
        holder = para.parent if is_p else para
        if holder is None:
            continue
        chain = chains.get(holder.mem_id)
        if chain is None:
            chain = chains[holder.mem_id] = _chain(holder, candidates, cache)
            _mark_buried(chain)
        good = not is_p or _paragraph_link_share(para, length) < 0.3
        if tag == "li" and not good:
            continue  # a menu or a list of links: no weight at all
        score = 1.0 + len(_COMMAS.findall(text)) + min(length / 100, 3.0)
        for level, cand in enumerate(chain):
            if level < _SCORE_LEVELS:
                cand.score += score / _DECAY[level]
            if good:
                if cand.boilerplate:
                    good = False  # comments, related boxes: no weight above this node
                else:
                    cand.mass += length
    return _Scan(candidates, h1s)


def _chain(
    node: LexborNode | None, candidates: dict[int, _Candidate], cache: ClassCache
) -> list[_Candidate]:
    chain: list[_Candidate] = []
    while node is not None and len(chain) < _MASS_LEVELS and node.tag not in _STOP:
        key = node.mem_id
        cand = candidates.get(key)
        if cand is None:
            cand = candidates[key] = _new_candidate(node, cache)
        chain.append(cand)
        node = node.parent
    return chain


def _mark_buried(chain: list[_Candidate]) -> None:
    """Mark the candidates below a near comment or teaser box (holding no <h1>) as buried.

    Only readers' and other stories' boxes bury: a layout wrapper named "with-sidebar"
    may well hold the article's text.
    """
    for level, cand in enumerate(chain[:_BURY_LEVELS]):
        if cand.node.attributes.get("itemprop") == "articleBody":
            return  # the page marks this as the article's body: no box above buries it
        if cand.boilerplate and _burying(cand.node) and not cand.holds_h1():
            for below in chain[:level]:
                below.buried = True
            return


def _burying(node: LexborNode) -> bool:
    """A comment or teaser box by its names, or one known by its "Comments" heading."""
    attrs = node.attributes
    names = f"{attrs.get('class') or ''} {attrs.get('id') or ''}"
    return bool(_BURYING.search(names)) or not is_boilerplate_name(names)


def _paragraph_link_share(para: LexborNode, length: int) -> float:
    links = para.css("a")
    if not links:
        return 0.0
    return sum(len(a.text(deep=True)) for a in links) / length


def _new_candidate(node: LexborNode, cache: ClassCache) -> _Candidate:
    attrs = node.attributes
    names = cache.weight(attrs)
    if names < 0 and heading_anchor(node, attrs):  # id="sharing-with-a-single-developer"
        names = cache.weight({"class": attrs.get("class")})
    weight = _TAG_WEIGHT.get(node.tag or "", 0) + names
    if attrs.get("itemprop") == "articleBody":
        weight += 30
    return _Candidate(node, float(weight), cache.boilerplate_node(node, attrs))


def _best(candidates: dict[int, _Candidate], headline: LexborNode | None) -> _Candidate | None:
    """The best-scoring candidate; among close runners-up, the one nearest the headline."""
    pool = [c for c in candidates.values() if not (c.buried or c.boilerplate)]
    pool = pool or list(candidates.values())
    ranked = sorted(pool, key=lambda c: c.score, reverse=True)[:_RANKED]
    for cand in ranked:
        cand.score *= 1.0 - link_density(cand.node)
    ranked.sort(key=lambda c: c.score, reverse=True)
    if not ranked:
        return None
    if headline is None:
        return ranked[0]
    distances = _ancestor_distances(headline)
    top = ranked[0].score
    limit = top * _CLOSE_SCORE if top > 0 else top
    close = [c for c in ranked if c.score >= limit]
    return min(close, key=lambda c: (_distance(c.node, distances), -c.score))


def _headline_nodes(h1s: list[LexborNode], headlines: tuple[str, ...]) -> list[LexborNode]:
    """The <h1> elements that give this page's headline (a sticky bar may repeat it)."""
    keys = [k for k in (_key(h) for h in headlines) if len(k) >= 8]
    if not keys:
        return []
    found = []
    for h1 in h1s:
        key = _key(h1.text(deep=True))
        if len(key) >= 8 and any(_overlaps(key, k) for k in keys):
            found.append(h1)
    return found


def _overlaps(a: str, b: str) -> bool:
    """One text holds the other, and the shorter is at least half the longer."""
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return short in long and 2 * len(short) >= len(long)


def _nearest_h1(h1s: list[LexborNode], region: LexborNode) -> LexborNode | None:
    """The <h1> sharing the closest ancestor with the region (the first on a tie)."""
    distances = _ancestor_distances(region)
    named = [h1 for h1 in h1s if h1.text(deep=True).strip()]
    return min(named, key=lambda h1: _distance(h1, distances), default=None)


def _key(text: str) -> str:
    return text_key(text)


def _ancestor_distances(node: LexborNode) -> dict[int, int]:
    out: dict[int, int] = {}
    cur: LexborNode | None = node
    level = 0
    while cur is not None:
        out[cur.mem_id] = level
        cur = cur.parent
        level += 1
    return out


def _distance(node: LexborNode, distances: dict[int, int]) -> int:
    cur: LexborNode | None = node
    while cur is not None:
        found = distances.get(cur.mem_id)
        if found is not None:
            return found
        cur = cur.parent
    return 1_000


def _expand(
    top: _Candidate,
    candidates: dict[int, _Candidate],
    cache: ClassCache,
    own_h1s: frozenset[int],
    *,
    look_past: bool,
) -> _Candidate:
    """Climb while all that the climb adds is mostly paragraph text (an article split
    into chunks).  With ``look_past``, a step that tips the balance does not end the
    climb: a higher ancestor that tips it back is taken (an article in many small tables).

    Text in children whose class/id names boilerplate does not count against a step:
    the block walker drops those boxes anyway.  A step that would take in another
    article's headline (an ``<h1>`` that does not give this page's headline) is never made.
    """
    best = current = top
    added_text = 0
    for _ in range(_MAX_CLIMB):
        parent = current.node.parent
        if parent is None or parent.tag in _STOP or parent.tag == "body":
            break
        cand = candidates.get(parent.mem_id)
        if cand is None:
            break
        added_text += _added_text(parent, current.node, cache, own_h1s)
        if added_text >= _BLOCKED:
            break
        current = cand
        if _mostly_paragraphs(added_text, cand.mass - top.mass):
            if cand.mass > best.mass:
                best = current
        elif not look_past:
            break
    return best


def _mostly_paragraphs(added_text: int, added_mass: int) -> bool:
    return added_text <= _NEUTRAL_TEXT or added_mass >= added_text * _MASS_SHARE


def _added_text(
    parent: LexborNode, child: LexborNode, cache: ClassCache, own_h1s: frozenset[int]
) -> int:
    """Characters ``parent`` holds beyond ``child``, boilerplate-named boxes left out."""
    total = len(parent.text(deep=False).strip())
    skip = child.mem_id
    for node in parent.iter():
        if node.mem_id == skip or cache.boilerplate_node(node):
            continue
        for h1 in node.css("h1") if node.tag != "h1" else [node]:
            if h1.mem_id not in own_h1s:
                return _BLOCKED
        total += _text_len(node)
    return total


def _text_len(node: LexborNode) -> int:
    return len(node.text(deep=True, skip_empty=True))


def link_density(node: LexborNode) -> float:
    total = len(node.text(deep=True).strip())
    if total == 0:
        return 1.0
    linked = sum(len(a.text(deep=True).strip()) for a in node.css("a"))
    return min(1.0, linked / total)


def _with_siblings(top: _Candidate, candidates: dict[int, _Candidate]) -> list[LexborNode]:
    parent = top.node.parent
    if parent is None:
        return [top.node]
    threshold = max(10.0, top.score * 0.2)
    top_class = top.node.attributes.get("class")
    roots: list[LexborNode] = []
    for sibling in parent.iter():
        if sibling.mem_id == top.node.mem_id:
            roots.append(sibling)
            continue
        cand = candidates.get(sibling.mem_id)
        bonus = top.score * 0.2 if top_class and sibling.attributes.get("class") == top_class else 0
        if cand is not None and cand.score + bonus >= threshold:
            roots.append(sibling)
        elif sibling.tag == "p" and _good_paragraph(sibling):
            roots.append(sibling)
    return roots


def _good_paragraph(node: LexborNode) -> bool:
    text = node.text(deep=True).strip()
    density = link_density(node)
    if len(text) > 80:
        return density < 0.25
    return density == 0 and len(text) > 0 and text[-1] in ".!?。"


def _describe(node: LexborNode) -> str:
    attrs = node.attributes
    if attrs.get("itemprop") == "articleBody":
        return "articleBody"
    tag = node.tag or "node"
    cls = (attrs.get("class") or "").split()
    return f"{tag}.{cls[0]}" if cls else tag
