"""Tree cleaning and the class/id vocabulary of boilerplate, shared by the body extractor.

Only tag-based removal runs over the whole document (one combined CSS selector, in C);
class/id patterns are tested later and only on the nodes inside the chosen content
region, which keeps the per-node Python work small.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = [
    "BR_MARK",
    "JUNK_TAGS",
    "ClassCache",
    "heading_anchor",
    "text_key",
    "prune_tree",
]

BR_MARK = "\u2029"  # stands in for <br> in text; two in a row split a paragraph

JUNK_TAGS = (
    "script, style, noscript, template, svg, iframe, video, button, select, nav, footer, "
    "aside, figure, [hidden], [aria-hidden=true], form"
)
# Rarer non-content elements are not worth a CSS alternative each (every one costs a
# pass over the document); the block walker skips them instead, and the common ones
# too, so that it also works on an unpruned tree (for a per-site body rule).
SKIP_TAGS = frozenset(
    """math object embed canvas audio picture source input textarea option label dialog
    menu figcaption img hr head title meta link script style noscript template svg iframe
    video button select""".split()
)
# Class-less comment sections are known by their heading.
_COMMENTS = re.compile(
    r"\s*(?:\d+\s+)?(?:comments?|kommentare?|leserkommentare|commentaires?|comentarios?|"
    r"commenti|reacties|reactions|responses|replies|leave a reply|komentarze|kommentarer|"
    r"kommentit|yorumlar|hozzászólások|komentáře|diskuse|diskusia|dyskusja|keskustelu|"
    r"комментари\w*|коментар\w*|обсуждение|"
    r"评论|留言|コメント|댓글|discussion|diskussion)\b[\s\d():]*$",
    re.IGNORECASE,
)
_BOX_TAGS = frozenset({"div", "section", "aside"})
_BOX_HEADINGS = frozenset({"h2", "h3", "h4", "h5"})
_ANCHOR_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_NON_ALNUM = re.compile(r"[\W_]+")
_HEADING_LOOKAHEAD = 3
_MAX_BOX_HEADING = 40
# The classes WordPress derives from a post's taxonomy say nothing about the layout.
_TAXONOMY = re.compile(r"(?:^|\s)(?:category|tag|format|post_format)-\S+")
_BLOCK_JUNK = frozenset(
    "script style noscript template iframe video nav footer aside figure form".split()
)
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "summary", "dt"})
_FORM_KEEP_CHARS = 2000  # a <form> that wraps this much text is a page wrapper (ASP.NET)

# Words in class/id values that mark a whole subtree as boilerplate when it sits inside
# the content region.  ``_STRONG`` words match anywhere (substring of the lower-cased
# value), ``_WEAK`` words only as a whole token (split on space, "-", "_").
_STRONG = tuple(
    """share sharing social comment kommentar related recommend newsletter subscri abonn
    cookie consent gdpr advert adslot adunit sponsor promo outbrain taboola plista
    breadcrumb pagination popup modal sidebar mostread most-read mostpopular most-popular
    trending readmore read-more readalso read-also alsoread also-read seealso see-also morestories
    more-stories more-articles moreart further-read toolbar signup login byline caption
    credit copyright disclaimer visually-hidden sr-only screen-reader d-none taglist
    tag-list keywords author-bio authorbio authorbox author-box author-info rating gallery
    slideshow carousel swiper slider teaserlist teaser-list inline-teaser tweet instagram
    tiktok facebook bluesky factbox fact-box faktabox fakta infobox tooltip popover
    dropdown affiliate editsection sitenotice sitesub talkback donat reviews""".split()
)
_WEAK = frozenset(
    """ad ads anzeige werbung dfp tag tags topics nav navi navigation menu print skip
    embed embedded media image img photo picture video player meta info infobox date
    time timestamp author authors source footer foot share more latest poll survey quiz fact
    audio podcast banner badge label icon button btn links card cards
    recirculation recirc aside cta overlay noprint support""".split()
)
# Hidden only as a class of its own: "hidden-xs", "mobile-hide" or "quick-add-hidden" hide a
# box on some screens or in some views, and it is visible in the others.
_HIDDEN = frozenset({"hidden", "hide", "is-hidden", "u-hidden", "invisible"})
_POSITIVE = tuple(
    """article body content entry main post story text richtext prose detail paragraph
    artikel beitrag inhalt cuerpo corpo contenu noticia materia texto testo""".split()
)
_NEGATIVE = tuple(
    """comment related share social sidebar footer nav menu promo sponsor teaser recommend
    widget banner advert newsletter outbrain taboola trending popular most more breadcrumb
    tag byline caption header masthead meta card list rail aside module overlay modal
    footnote""".split()
)
_TOKEN_SPLIT = re.compile(r"[\s_-]+")
# A name that says "the article's text" outweighs any boilerplate word beside it.
_ARTICLE_NAME = re.compile(
    r"(?:^|\s)(?:article|story|entry|post|blog|news)[-_]*(?:body|content|text)(?:$|\s)|"
    r"(?:^|\s)articlebody(?:$|\s)"
)


def _trie_regex(words: tuple[str, ...]) -> re.Pattern[str]:
    """One regex matching any of ``words``, with common prefixes factored out.

    Python's regex engine tries alternatives one by one; a trie-shaped pattern lets it
    reject most positions on the first character, several times faster than a plain
    alternation or a loop of substring tests.
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:
            return f"(?:{body})?"
        return body

    return re.compile(build(trie))


_STRONG_RE = _trie_regex(_STRONG)
_POSITIVE_RE = _trie_regex(_POSITIVE)
_NEGATIVE_RE = _trie_regex(_NEGATIVE)


def is_boilerplate_name(value: str) -> bool:
    """True when a class/id value names a non-content box (share bar, caption, ...)."""
    low = value.lower()
    if not _HIDDEN.isdisjoint(low.split()):
        return True
    if _ARTICLE_NAME.search(low):  # "entry-content entry-content-read-more"
        return False
    if "subscriber" in low:  # text for subscribers is the article; "subscribe" boxes are not
        low = low.replace("subscriber", "")
    if _STRONG_RE.search(low):
        return True
    return not _WEAK.isdisjoint(_TOKEN_SPLIT.split(low))


def class_weight(value: str) -> int:
    """readability's class weight: +25 for content-like names, -25 for boilerplate."""
    low = value.lower()
    positive = _POSITIVE_RE.search(low) is not None
    negative = _NEGATIVE_RE.search(low) is not None
    return 25 * positive - 25 * negative


class ClassCache:
    """Memoizes class/id verdicts for one document (class strings repeat a lot)."""

    def __init__(self) -> None:
        self._boiler: dict[str, bool] = {}
        self._weight: dict[str, int] = {}
        self._boxes: dict[int, bool] = {}  # mem_id -> headed by "Comments"

    def boilerplate(self, attrs: Mapping[str, str | None]) -> bool:
        key = _class_key(attrs)
        if not key or attrs.get("itemprop") == "articleBody":
            return False  # the page says this is the article: its class names do not count
        hit = self._boiler.get(key)
        if hit is None:
            hit = self._boiler[key] = is_boilerplate_name(key)
        return hit

    def boilerplate_node(
        self, node: LexborNode, attrs: Mapping[str, str | None] | None = None
    ) -> bool:
        """:meth:`boilerplate` by class/id, or a box whose own heading names comments."""
        attrs = node.attributes if attrs is None else attrs
        if self.boilerplate(attrs):
            return not heading_anchor(node, attrs) or self.boilerplate(_class_only(attrs))
        if node.tag not in _BOX_TAGS:
            return False
        key = node.mem_id
        hit = self._boxes.get(key)
        if hit is None:
            hit = self._boxes[key] = _comments_heading(node)
        return hit

    def weight(self, attrs: Mapping[str, str | None]) -> int:
        key = _class_key(attrs)
        if not key:
            return 0
        hit = self._weight.get(key)
        if hit is None:
            hit = self._weight[key] = class_weight(key)
        return hit


def heading_anchor(node: LexborNode, attrs: Mapping[str, str | None]) -> bool:
    """Whether the node's id is made from its own heading's text, as documentation tools,
    wikis and blogs name sections ("sharing-with-a-single-developer"): words of the text,
    not a name of the layout."""
    ident = attrs.get("id") or ""
    if ident.count("-") + ident.count("_") < 2:
        return False
    for index, child in enumerate(node.iter()):
        if index >= _HEADING_LOOKAHEAD:
            return False
        if child.tag in _ANCHOR_HEADINGS:
            want, have = text_key(ident), text_key(child.text(deep=True))
            return len(want) >= 8 and (have.startswith(want) or want.startswith(have))
    return False


def _class_only(attrs: Mapping[str, str | None]) -> dict[str, str | None]:
    return {"class": attrs.get("class")}


def _comments_heading(node: LexborNode) -> bool:
    """Whether one of the box's first children is a heading like "Kommentare (30)"."""
    for index, child in enumerate(node.iter()):
        if index >= _HEADING_LOOKAHEAD:
            return False
        if child.tag in _BOX_HEADINGS:
            text = child.text(deep=True)
            return len(text) <= _MAX_BOX_HEADING and _COMMENTS.match(text) is not None
    return False


def text_key(text: str) -> str:
    """Letters and digits only, case-folded: for comparing texts across markup changes."""
    return _NON_ALNUM.sub("", text.casefold())


def _class_key(attrs: Mapping[str, str | None]) -> str:
    cls = attrs.get("class") or ""
    if "hentry" in cls or "status-publish" in cls:
        cls = _TAXONOMY.sub("", cls)  # WordPress names the post's tags: "tag-social-media"
    ident = attrs.get("id") or ""
    return f"{cls} {ident}".strip() if ident else cls


def prune_tree(tree: LexborHTMLParser) -> None:
    """Remove non-content elements in place (one CSS pass over the document).

    Each leaves a space behind, so that the words on either side stay apart
    ("Co.<span aria-hidden>: </span>Erkältet").
    """
    for node in tree.css(JUNK_TAGS):
        if node.tag == "button" and _in_heading(node):
            node.unwrap()  # an accordion's question: <h3><button>How do I…?</button></h3>
        elif node.tag != "form" or not _page_form(node):
            _remove(node)


def _remove(node: LexborNode) -> None:
    """Remove ``node``; an inline one leaves a space behind, so the words around stay apart."""
    if node.tag in _BLOCK_JUNK:
        node.remove()
    else:
        node.replace_with(" ")


def _page_form(form: LexborNode) -> bool:
    """A <form> around the page (ASP.NET): much text, or the page's headline inside."""
    return len(form.text(deep=True)) >= _FORM_KEEP_CHARS or form.css_first("h1") is not None


def _in_heading(node: LexborNode) -> bool:
    parent = node.parent
    return parent is not None and parent.tag in _HEADING_TAGS
