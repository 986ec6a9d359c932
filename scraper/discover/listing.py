"""Article links on an HTML listing page (a section front, or an article's "Latest news")."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ..models import Listing, ListingItem
from ..urls import host_of, normalize_url, same_site
from .announced import feeds_of
from .linkrules import (
    DateReader,
    LinkRules,
    clean_text,
    looks_like_article,
    merge,
    non_article,
    path_family,
    path_key,
    resolve,
    title_like,
    title_strength,
)

_NAV_ROLES = frozenset({"navigation", "search", "menu", "menubar"})
_EDGE_ROLES = frozenset({"banner", "contentinfo"})
# class or id tokens of site chrome: menus and link clouds anywhere ...
_NAV_TOKENS = frozenset(
    {
        "menu", "nav", "navbar", "navigation", "main-menu", "breadcrumb", "breadcrumbs",
        "pagination", "pager", "skip-link", "share", "sharing", "social", "tag-list",
        "tag-cloud", "tags",
    }
)  # fmt: skip
# ... and page headers and footers, unless they belong to an <article> card.
_EDGE_TOKENS = frozenset(
    {"header", "footer", "site-header", "site-footer", "masthead", "page-header", "page-footer"}
)
_HEADINGS = "h1, h2, h3, h4, h5, h6"
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# class or id tokens around author links (a byline), and rel values of non-article links
_BYLINE_TOKENS = frozenset({"byline", "by-line", "author", "authors", "post-author"})
_SKIP_RELS = frozenset({"author", "tag", "category", "prev", "next"})
_COMMENT_FRAGMENT = re.compile(r"#.*(?:comment|respond|reply|disqus|discussion)", re.IGNORECASE)
_BOX_LEVELS = 6  # how far up from a link its list item / card may be
_SIBLINGS = 3  # non-empty siblings after an item searched for its date
# The generic rule weighs evidence (see ``_ListingPage.points``):
_ACCEPT = 4  # points a link needs
_LIST_MIN = 3  # items in a repeated list; links of one list sharing a path family
_CARD_TEXT = 600  # characters at most in an item or card whose date counts as evidence
_TOP = frozenset({"body", "html", "-document"})
# A page's links past this many per allowed article link are not looked at (so a page of
# 100,000 links costs what one of 4 * max_links does).
_ANCHORS_PER_LINK = 4


def parse_listing(html: str, url: str, rules: LinkRules, *, now: datetime | None = None) -> Listing:
    """The article links of a listing page at ``url``, in page order, with hints.

    With ``rules.selector`` the links are those in the selected elements.  Otherwise
    every link outside site chrome (menus, page header and footer, bylines) that is
    same-site, matches ``rules.pattern`` and is no :func:`~.rules.non_article` is
    weighed: it is taken when its text reads like a headline and enough other evidence
    adds up -- URL shape, a date in its item, being one of a repeated list whose links
    share a path (see ``_ListingPage.points``).

    Each item's title hint is a heading in (or around) the link or the link's own
    text; its date hint is a ``<time>`` or a date text in the same list item or card
    (or right after the link).  ``now`` anchors relative dates such as "2 hours ago".

    At most ``rules.max_links`` links are taken, and only the page's first
    ``4 * rules.max_links`` links are looked at.  ``Listing.feeds`` are the same-site
    RSS and Atom feeds the page announces (``<link rel="alternate" type=...>``).
    """
    return listing_of(LexborHTMLParser(html), url, rules, now=now)


def listing_of(
    tree: LexborHTMLParser, url: str, rules: LinkRules, *, now: datetime | None = None
) -> Listing:
    """:func:`parse_listing` on a page parsed already; the tree is only read."""
    return _ListingPage(tree, url, rules).listing(DateReader(rules, now))


class _ListingPage:
    """One parsed listing page; resolves each link once."""

    def __init__(self, tree: LexborHTMLParser, url: str, rules: LinkRules) -> None:
        self.url = normalize_url(url)
        self.rules = rules
        self.tree = tree
        base = self.tree.css_first("base[href]")
        self.base = (resolve(base.attributes.get("href"), self.url) if base else None) or self.url
        self._links: dict[str, str | None] = {}
        self._kinds: dict[int, Counter[str]] = {}
        self._held: dict[int, set[str]] = {}  # node -> up to two wanted links inside it

    def link_of(self, node: LexborNode) -> str | None:
        href = node.attributes.get("href")
        if href is None:
            return None
        if href not in self._links:
            self._links[href] = resolve(href, self.base)
        return self._links[href]

    def listing(self, dates: DateReader) -> Listing:
        found = self.generic(dates) if self.rules.selector is None else self.selected()
        self.want(found)
        items: dict[str, ListingItem] = {}
        for anchor, link in found:
            if len(items) >= self.rules.max_links and link not in items:
                continue  # only hints for links already taken
            box = self.box(anchor, link)
            title = _title_hint(anchor, box)
            merge(items, ListingItem(url=link, title=title, published=self.date(box, dates)))
        return Listing(
            url=self.url,
            items=tuple(items.values()),
            next_url=self.next_url(),
            feeds=feeds_of(self.tree, self.base, self.url, self.rules),
        )

    def anchors(self) -> list[LexborNode]:
        """The page's first links, as many as are ever looked at."""
        return self.tree.css("a[href]")[: _ANCHORS_PER_LINK * self.rules.max_links]

    def selected(self) -> list[tuple[LexborNode, str]]:
        """The links in the configured selector's elements (no shape or text check)."""
        found: list[tuple[LexborNode, str]] = []
        links: set[str] = set()
        budget = _ANCHORS_PER_LINK * self.rules.max_links
        for node in self.tree.css(self.rules.selector or ""):
            anchors = [node] if node.tag == "a" and "href" in node.attributes else None
            for anchor in islice(anchors or node.css("a[href]"), budget):
                budget -= 1
                if (link := self.candidate_link(anchor)) is not None:
                    found.append((anchor, link))
                    links.add(link)
            if budget <= 0 or len(links) >= self.rules.max_links:
                break
        return found

    def candidate_link(self, anchor: LexborNode) -> str | None:
        link = self.link_of(anchor)
        if link is None or not self.rules.accepts(link, self.url):
            return None
        if _COMMENT_FRAGMENT.search(anchor.attributes.get("href") or ""):
            return None
        return link

    def generic(self, dates: DateReader) -> list[tuple[LexborNode, str]]:
        """The links outside site chrome whose evidence of being an article adds up.

        Two passes: first every candidate (a link past the hard rejections) with its
        own evidence, then the decision, which needs the others (list kin, and the
        item boxes bounded by the other plausible links).
        """
        candidates = [c for a in self.anchors() if (c := self.candidate(a))]
        plausible = [c for c in candidates if c.shape or c.title]
        self.want([(c.anchor, c.link) for c in plausible])
        weigh = _Weighing(
            parents=frozenset(f for c in plausible if (f := path_family(c.link)) is not None),
            kin=_kin_counts(candidates),
        )
        return [(c.anchor, c.link) for c in candidates if self.points(c, weigh, dates) >= _ACCEPT]

    def candidate(self, anchor: LexborNode) -> _Candidate | None:
        if _in_chrome(anchor) or _byline_or_rel(anchor):
            return None
        link = self.candidate_link(anchor)
        if link is None or non_article(link):
            return None
        item = self.list_item(anchor)
        return _Candidate(anchor, link, looks_like_article(link), _headline(anchor), item)

    def points(self, c: _Candidate, weigh: _Weighing, dates: DateReader) -> int:
        """The evidence that a candidate is an article, in points (``_ACCEPT`` needed).

        Link text: 2 when it reads like a headline (three words or more, or a heading),
        1 for two words, and nothing is accepted without it.  URL shape
        (:func:`looks_like_article`): 2.  Being an item of a repeated list or card row:
        1, and 1 more when ``_LIST_MIN`` headline-like items of that list share the
        link's path family (``/news/…``).  A date in its item or card: 2.  The page
        itself and a section above other candidates (``/news/`` over ``/news/drip``)
        count on URL shape only.
        """
        if not c.title:
            return 0
        points = c.title + 2 * c.shape
        if c.link == self.url or path_key(c.link) in weigh.parents:
            return points
        if c.item is not None:
            points += 1 + (weigh.kin[_kin_key(c.item, c.link)] >= _LIST_MIN)
        if _ACCEPT - 2 <= points < _ACCEPT and self.dated(c, dates):
            points += 2
        return points

    def dated(self, c: _Candidate, dates: DateReader) -> bool:
        box = self.box(c.anchor, c.link)
        if len(box.text(deep=True)) > _CARD_TEXT:
            return False
        return self.date(box, dates) is not None

    def list_item(self, anchor: LexborNode) -> LexborNode | None:
        """The anchor or ancestor that is one of ``_LIST_MIN`` siblings of its kind."""
        node = anchor
        for _ in range(_BOX_LEVELS):
            parent = node.parent
            if parent is None or parent.tag in _TOP:
                return None
            prose = node.tag == "p" or parent.tag == "p"
            if not prose and self.kinds(parent)[_kind(node)] >= _LIST_MIN:
                return node
            node = parent
        return None

    def kinds(self, parent: LexborNode) -> Counter[str]:
        key = parent.mem_id
        if key not in self._kinds:
            self._kinds[key] = Counter(_kind(child) for child in parent.iter())
        return self._kinds[key]

    def box(self, anchor: LexborNode, link: str) -> LexborNode:
        """The largest ancestor (a list item, a card) holding no other wanted link."""
        box, node = anchor, anchor.parent
        for _ in range(_BOX_LEVELS):
            if node is None or node.tag in _TOP:
                break
            if self.holds_other_link(node, link):
                break
            box, node = node, node.parent
        return box

    def want(self, found: list[tuple[LexborNode, str]]) -> None:
        """Set the article links that bound item boxes (see ``box``)."""
        self._held = {}
        for anchor, link in found:
            node: LexborNode | None = anchor
            while node is not None:
                held = self._held.setdefault(node.mem_id, set())
                if len(held) < 2:
                    held.add(link)
                node = node.parent

    def holds_other_link(self, node: LexborNode, link: str | None = None) -> bool:
        """True when a wanted link other than ``link`` is (or is inside) the node."""
        return any(other != link for other in self._held.get(node.mem_id, ()))

    def date(self, box: LexborNode, dates: DateReader) -> datetime | None:
        for text in (*_time_texts(box), *_loose_texts(box), *self.texts_after(box)):
            if any(c.isdigit() for c in text) and (found := dates.parse(text)):
                return found
        return None

    def texts_after(self, box: LexborNode) -> Iterator[str]:
        """Texts of the siblings after an item, up to the next article link."""
        node, seen = box.next, 0
        while node is not None and seen < _SIBLINGS:
            if node.tag == "-text":
                text = node.text_content or ""
            elif self.holds_other_link(node):
                return
            else:
                text = node.text(deep=True, separator=" ")
            if text.strip():
                seen += 1
                yield text.strip()
            node = node.next

    def next_url(self) -> str | None:
        nodes: list[LexborNode] = []
        if self.rules.next_selector:
            nodes += self.tree.css(self.rules.next_selector)
        nodes += self.tree.css("link[rel~=next]") + self.tree.css("a[rel~=next]")
        domains = self.rules.domains or (host_of(self.url),)
        for node in nodes:
            anchor = node if node.attributes.get("href") is not None else node.css_first("a[href]")
            link = self.link_of(anchor) if anchor is not None else None
            if link and link != self.url and same_site(link, domains):
                return link
        return None


@dataclass(frozen=True)
class _Candidate:
    """A link past the hard rejections, with the evidence it carries on its own."""

    anchor: LexborNode
    link: str
    shape: bool  # the URL looks like an article's
    title: int  # 2: the text reads like a headline, 1: two words, 0: not a title
    item: LexborNode | None  # its item in a repeated list or row of cards


@dataclass(frozen=True)
class _Weighing:
    """What the decision knows of all candidates."""

    parents: frozenset[str]  # paths that hold other candidates (sections)
    kin: Counter[tuple[int, str]]  # (list, path family) -> headline-like items


def _kin_counts(candidates: list[_Candidate]) -> Counter[tuple[int, str]]:
    """How many items of each list hold a headline-like link of each path family."""
    items: set[tuple[tuple[int, str], int]] = set()
    for c in candidates:
        if c.item is not None and c.title and path_family(c.link):
            items.add((_kin_key(c.item, c.link), c.item.mem_id))
    return Counter(key for key, _ in items)


def _kin_key(item: LexborNode, link: str) -> tuple[int, str]:
    parent = item.parent
    return (parent.mem_id if parent is not None else 0, path_family(link) or "")


def _kind(node: LexborNode) -> str:
    """What repeats in a list: the tag, and the first class of an element other than <li>."""
    if node.tag == "li":
        return "li"
    classes = (node.attributes.get("class") or "").split()
    return f"{node.tag}.{classes[0]}" if classes else node.tag or ""


def _ancestors(node: LexborNode) -> Iterator[LexborNode]:
    parent = node.parent
    while parent is not None and parent.tag != "-document":
        yield parent
        parent = parent.parent


def _in_chrome(anchor: LexborNode) -> bool:
    """True for a link in navigation, or in a page header/footer outside any <article>."""
    ancestors = list(_ancestors(anchor))
    for i, node in enumerate(ancestors):
        attrs = node.attributes
        role = (attrs.get("role") or "").lower()
        tokens = set((attrs.get("class") or "").lower().split())
        tokens.add((attrs.get("id") or "").lower())
        if node.tag == "nav" or role in _NAV_ROLES or tokens & _NAV_TOKENS:
            return True
        edge = node.tag in ("header", "footer") or role in _EDGE_ROLES or tokens & _EDGE_TOKENS
        if edge and not any(a.tag == "article" for a in ancestors[i + 1 :]):
            return True
    return False


def _byline_or_rel(anchor: LexborNode) -> bool:
    """True for a link in a byline, or with ``rel`` author, tag, category, prev or next."""
    if set((anchor.attributes.get("rel") or "").lower().split()) & _SKIP_RELS:
        return True
    for node, _ in zip(_ancestors(anchor), range(_BOX_LEVELS), strict=False):
        tokens = set((node.attributes.get("class") or "").lower().split())
        if (tokens | {(node.attributes.get("id") or "").lower()}) & _BYLINE_TOKENS:
            return True
    return False


def _headline(anchor: LexborNode) -> int:
    """How much the link text reads like a headline (:func:`title_strength`); in or
    around a heading, any :func:`title_like` text does fully."""
    text = anchor.text(deep=True, separator=" ")
    strength = title_strength(text)
    if strength == 2 or not title_like(text):
        return strength
    in_heading = any(a.tag in _HEADING_TAGS for a in _ancestors(anchor))
    return 2 if in_heading or anchor.css_first(_HEADINGS) is not None else strength


def _title_hint(anchor: LexborNode, box: LexborNode) -> str | None:
    inner = anchor.css_first(_HEADINGS)
    if inner is not None and (text := clean_text(inner.text(deep=True, separator=" "))):
        return text
    text = clean_text(anchor.text(deep=True, separator=" "))
    if text and title_strength(text):
        return text
    heading = box.css_first(_HEADINGS) if box is not anchor else None
    if heading is not None and (found := clean_text(heading.text(deep=True, separator=" "))):
        return found
    return clean_text(anchor.attributes.get("title")) or text


def _time_texts(box: LexborNode) -> Iterator[str]:
    nodes = [box] if box.tag == "time" else box.css("time, [itemprop=datePublished]")
    for node in nodes:
        for value in (node.attributes.get("datetime"), node.attributes.get("content")):
            if value:
                yield value
        yield node.text(deep=True, separator=" ")


def _loose_texts(box: LexborNode) -> Iterator[str]:
    """Short texts in an item outside its links and headings (a date line, a byline)."""
    for node in box.traverse(include_text=True):
        if node.tag != "-text":
            continue
        text = (node.text_content or "").strip()
        if not text or len(text) > 60:
            continue
        if any(a.tag == "a" or a.tag in _HEADING_TAGS for a in _up_to(node, box)):
            continue
        yield text


def _up_to(node: LexborNode, top: LexborNode) -> Iterator[LexborNode]:
    """The node's ancestors up to and including ``top`` (the node itself included)."""
    current: LexborNode | None = node
    while current is not None:
        yield current
        if current == top:
            return
        current = current.parent
