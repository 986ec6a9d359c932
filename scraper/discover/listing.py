"""Article links on an HTML listing page (a section front, or an article's "Latest news")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ..models import Listing, ListingItem
from ..urls import host_of, normalize_url, same_site
from .rules import DateReader, LinkRules, clean_text, looks_like_article, merge, resolve

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
_READ_MORE = frozenset(
    {
        "read more", "more", "continue reading", "full story", "read the full story",
        "read full article", "read article", "подробнее", "читать далее", "далее",
        "weiterlesen", "mehr", "lire la suite", "leer más", "czytaj więcej",
    }
)  # fmt: skip
# "Read 12 comments", "3 replies", "Leave a comment": links to a part of an article.
_COMMENTS = re.compile(
    r"^(?:read|view|show|add|leave|post|see|join)?\s*(?:an?|the|all|\d+)?\s*"
    r"(?:comments?|replies|reactions|discussion)$",
    re.IGNORECASE,
)
_COMMENT_FRAGMENT = re.compile(r"#.*(?:comment|respond|reply|disqus|discussion)", re.IGNORECASE)
_BOX_LEVELS = 6  # how far up from a link its list item / card may be
_SIBLINGS = 3  # non-empty siblings after an item searched for its date


def parse_listing(html: str, url: str, rules: LinkRules, *, now: datetime | None = None) -> Listing:
    """The article links of a listing page at ``url``, in page order, with hints.

    Each item's title hint is a heading in (or around) the link or the link's own
    text; its date hint is a ``<time>`` or a date text in the same list item or card
    (or right after the link).  ``now`` anchors relative dates such as "2 hours ago".
    """
    return _ListingPage(html, url, rules).listing(DateReader(rules, now))


class _ListingPage:
    """One parsed listing page; resolves each link once."""

    def __init__(self, html: str, url: str, rules: LinkRules) -> None:
        self.url = normalize_url(url)
        self.rules = rules
        self.tree = LexborHTMLParser(html)
        base = self.tree.css_first("base[href]")
        self.base = (resolve(base.attributes.get("href"), self.url) if base else None) or self.url
        self._links: dict[str, str | None] = {}
        self.wanted: frozenset[str] = frozenset()

    def link_of(self, node: LexborNode) -> str | None:
        href = node.attributes.get("href")
        if href is None:
            return None
        if href not in self._links:
            self._links[href] = resolve(href, self.base)
        return self._links[href]

    def listing(self, dates: DateReader) -> Listing:
        found = [(a, link) for a in self.anchors() if (link := self.accepted(a)) is not None]
        self.wanted = frozenset(link for _, link in found)
        items: dict[str, ListingItem] = {}
        for anchor, link in found:
            box = self.box(anchor, link)
            title = _title_hint(anchor, box)
            merge(items, ListingItem(url=link, title=title, published=self.date(box, dates)))
        return Listing(url=self.url, items=tuple(items.values()), next_url=self.next_url())

    def anchors(self) -> Iterator[LexborNode]:
        if self.rules.selector is None:
            yield from (a for a in self.tree.css("a[href]") if not _in_chrome(a))
            return
        for node in self.tree.css(self.rules.selector):
            if node.tag == "a" and node.attributes.get("href") is not None:
                yield node
            else:
                yield from node.css("a[href]")

    def accepted(self, anchor: LexborNode) -> str | None:
        link = self.link_of(anchor)
        if link is None or not self.rules.accepts(link, self.url):
            return None
        if self.rules.selector is None and not (looks_like_article(link) and _headline(anchor)):
            return None
        if _COMMENT_FRAGMENT.search(anchor.attributes.get("href") or ""):
            return None
        return link

    def box(self, anchor: LexborNode, link: str) -> LexborNode:
        """The largest ancestor (a list item, a card) holding no other article link."""
        box, node = anchor, anchor.parent
        for _ in range(_BOX_LEVELS):
            if node is None or node.tag in ("body", "html", "-document"):
                break
            if self.holds_other_link(node, link):
                break
            box, node = node, node.parent
        return box

    def holds_other_link(self, node: LexborNode, link: str | None = None) -> bool:
        nodes = [node] if node.tag == "a" else node.css("a[href]")
        return any((other := self.link_of(a)) in self.wanted and other != link for a in nodes)

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


def _headline(anchor: LexborNode) -> bool:
    """Link text that reads like a headline: several words, or a heading."""
    text = clean_text(anchor.text(deep=True, separator=" ")) or ""
    if not text or text.lower() in _READ_MORE or _COMMENTS.match(text):
        return False
    if len(text.split()) >= 3 or (" " not in text and len(text) >= 12):  # also unspaced scripts
        return True
    in_heading = any(a.tag in _HEADING_TAGS for a in _ancestors(anchor))
    return in_heading or anchor.css_first(_HEADINGS) is not None


def _title_hint(anchor: LexborNode, box: LexborNode) -> str | None:
    inner = anchor.css_first(_HEADINGS)
    if inner is not None and (text := clean_text(inner.text(deep=True, separator=" "))):
        return text
    text = clean_text(anchor.text(deep=True, separator=" "))
    if text and text.lower() not in _READ_MORE and len(text.split()) >= 2:
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
