"""Where a date sits on the page: near the headline, or in a sidebar, teaser or comment.

Produces the date candidates that come from the document itself (``<time>``, ``itemprop``
elements, visible text) with a weight that says how much each one looks like the
article's own dateline.  :mod:`scraper.extract.dates` weighs them against the metadata.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ..clock import utc_now
from .dateparse import DateHit, ParseOptions, parse_with, search_date
from .fields import join_url

__all__ = ["Candidate", "PageContext", "element_candidates", "page_context", "text_candidates"]

_ELEMENTS = "time, [itemprop=datePublished], [itemprop=dateCreated], [itemprop=dateModified]"
_EXCLUDED_TAGS = frozenset({"aside", "nav"})
_EXCLUDED_CLASS = re.compile(
    r"(?:^|[\s_-])(?:related|teasers?|recommend\w*|comments?|sidebar|widget|popular|most-?read|"
    r"trending|promo|newsletter|nav|navigation|menu|rail|modal|outbrain|taboola|ticker|carousel|"
    r"latest|more-?(?:news|stories|articles)|read-?more|also-?read|see-?also|breadcrumbs?)"
    r"(?:$|[\s_-])",
    re.IGNORECASE,
)
_FOOTER_NAME = re.compile(r"(?:^|\s)(?:(?:site|page|global|main)[-_]?)?footer(?:$|\s)", re.I)
_LIST_DAYS = 3  # this many different days in one repeated markup shape make a list
_SENTENCE_WORDS = 12
_ENTRY_WORDS = 10  # besides the date's own element: a byline in the item is shorter
_RANGE_START = re.compile(
    r"\d{1,2}\.?\s*(?:[^\W\d_]+\.?\s*)?(?:[–—-]|\b(?:al|to|bis|until|till|au|hasta|tot|do|до)\b)\s*$",
    re.IGNORECASE,
)
_COMMENT_CLASS = re.compile(
    r"(?:^|[\s_-])(?:comments?|kommentare?|talkbacks?|disqus|replies)(?:$|[\s_-])", re.IGNORECASE
)
_HINT_CLASS = re.compile(r"date|time|publi|posted|dateline|byline|meta|info|stamp", re.I)
_UPDATED = re.compile(
    r"updated|update|modified|edited|aktualisiert|geändert|mis à jour|maj\b|modifié|actualizado|"
    r"actualización|aggiornat|atualizad|обновлен|обновлён|оновлено|bijgewerkt|gewijzigd|"
    r"oppdatert|uppdaterad|opdateret|päivitetty|güncellen|güncelleme|zaktualizowan|aktualizac|"
    r"aktualizov|diperbarui|更新|修正|수정|업데이트",
    re.IGNORECASE,
)
_PUBLISHED = re.compile(
    r"published|posted|publiziert|veröffentlicht|erschienen|erstellt|publié|publicad|pubblicat|"
    r"опубликован|опубліковано|gepubliceerd|geplaatst|publisert|publicerad|publiceret|julkaistu|"
    r"yayınlan|opublikowan|publikováno|diterbitkan|発行|公開|配信|입력|등록|fecha|дата|"
    r"(?<![^\W\d_])(?:datum|date)\b",
    re.IGNORECASE,
)
_OTHER = re.compile(  # dates that are on the page but are not its publication
    r"(?<![^\W\d_])(?:bis|until|till|expires?|verfügbar|available|gültig|valid|jusqu|hasta|fino|"
    r"geboren|born|né|died|gestorben|seit|since|depuis|desde|termin|event|veranstaltung|"
    r"received|accepted|revised|eingereicht|angenommen|reçu|accepté|deadline|frist)"
    r"(?![^\W\d_])",
    re.IGNORECASE,
)
_AUTHOR_LINK = re.compile(r"author|autor|auteur|/people/|/profile|/by/|mailto:|/journalist", re.I)
_SKIP_TEXT_PARENTS = frozenset({"script", "style", "noscript", "template", "title"})
_INLINE_TAGS = frozenset({"span", "time", "strong", "b", "em", "i", "small", "a", "font", "abbr"})
_CHROME_TAGS = frozenset({"nav", "a", "li", "aside", "footer", "dialog"})
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class Candidate:
    """One date seen on the page, how much it is trusted, and which signal family saw it."""

    value: datetime
    has_time: bool
    source: str
    weight: float
    family: str  # "ld", "meta", "element", "url", "text": agreement across families counts
    modified: bool = False

    def days(self) -> set[date]:
        if not self.has_time:
            return {self.value.date()}
        return {self.value.date(), self.value.astimezone(UTC).date()}


@dataclass(frozen=True)
class PageContext:
    """What every signal needs to know about the page: parse options and the headline."""

    opts: ParseOptions
    limit: datetime  # later than this is a placeholder, not a publication date
    anchor: LexborNode | None  # the headline (or the article element) dates are measured from
    chain: Mapping[int, int]  # mem_id of each anchor ancestor -> its distance from the anchor
    scope: int  # ancestors up to this distance count as "near the headline"
    many_articles: bool
    page_key: str | None
    headline: str
    url: str = ""

    def parse(self, text: str | None) -> DateHit | None:
        return parse_with(text, self.opts) if text else None


def page_context(
    tree: LexborHTMLParser, url: str | None, tz: tzinfo, now: datetime | None
) -> PageContext:
    now = (now or utc_now()).astimezone(UTC)
    lang = (tree.root.attributes.get("lang") or "") if tree.root is not None else ""
    opts = ParseOptions(tz=tz, now=now, dayfirst=lang.lower().replace("_", "-") != "en-us")
    anchor = _headline(tree)
    chain: dict[int, int] = {}
    scope: int | None = None if anchor is not None and anchor.tag == "h1" else 0
    node = anchor if anchor is not None and anchor.tag != "h1" else anchor and anchor.parent
    while node is not None and node.tag not in ("html", "#document"):
        chain[node.mem_id] = len(chain)
        itemtype = (node.attributes.get("itemtype") or "").lower()
        if scope is None and (node.tag in ("article", "main") or "article" in itemtype):
            scope = len(chain) - 1
        node = node.parent
    headline = norm(anchor.text(deep=True)) if anchor is not None and anchor.tag == "h1" else ""
    return PageContext(
        opts=opts,
        limit=now + timedelta(days=1),
        anchor=anchor,
        chain=chain,
        scope=3 if scope is None else scope,
        many_articles=len(tree.css("article")) > 1,
        page_key=url_key(url),
        headline=headline,
        url=url or "",
    )


def _headline(tree: LexborHTMLParser) -> LexborNode | None:
    """The headline, else the article element (some sites put the h1 in a breadcrumb)."""
    h1s = [
        node
        for selector in ("article h1", "main h1", "h1")
        for node in tree.css(selector)
        if len(node.text(deep=True).strip()) >= 10
    ]
    for node in h1s:
        if not _in_chrome(node):
            return node
    for node in h1s:
        current = node.parent
        while current is not None and current.tag not in ("body", "html"):
            if current.tag == "article":
                return current
            current = current.parent
    return tree.css_first("article") or tree.css_first("main") or (h1s[0] if h1s else None)


def _in_chrome(node: LexborNode) -> bool:
    """Whether ``node`` sits in navigation, a link or a list (a logo or breadcrumb h1)."""
    current = node.parent
    while current is not None and current.tag not in ("body", "html"):
        if current.tag in _CHROME_TAGS:
            return True
        current = current.parent
    return False


# -- <time> and itemprop elements ----------------------------------------------------------


def element_candidates(tree: LexborHTMLParser, ctx: PageContext) -> Iterator[Candidate]:
    rank = 0  # later datelines in the article are more often "updated" stamps
    for node in tree.css(_ELEMENTS):
        place = _placement(node, ctx)
        if place is None:
            continue
        attrs = node.attributes
        prop = (attrs.get("itemprop") or "").lower()
        hit = ctx.parse(attrs.get("datetime")) or ctx.parse(attrs.get("content"))
        hit = hit or ctx.parse(" ".join(node.text(deep=True).split())[:120])
        if hit is None or (hit.relative and place < 1.5):
            continue  # "vor 3 Stunden" is only trusted right at the headline
        kind = _kind(_names(node), _label(node))
        if kind == "other" and prop != "datepublished":
            continue  # "Received:", "Accepted:", "available until"
        modified = prop == "datemodified" or (prop != "datepublished" and kind == "updated")
        weight = (8.0 if prop in ("datepublished", "datecreated") else 5.5) + place - rank * 0.3
        weight += 1.0 if "pubdate" in attrs or kind == "published" else 0.0
        weight -= (2.0 if hit.relative else 0.0) + (2.5 if _teaser(node) else 0.0)
        if not modified:
            rank = min(rank + 1, 5)
        source = f"itemprop:{attrs.get('itemprop')}" if prop else "time[datetime]"
        yield Candidate(hit.value, hit.has_time, source, weight, "element", modified)


def _placement(node: LexborNode, ctx: PageContext) -> float | None:
    """None when ``node`` sits in a sidebar, teaser or comment; else a nearness bonus.

    Only the branch below the nearest ancestor shared with the headline is inspected, so a
    page-wide wrapper named "with-sidebar" does not hide the article's own dateline; a
    "sidebar" right beside the headline (an article-header column) only costs weight.
    """
    current: LexborNode | None = node
    soft = False
    while current is not None and current.tag not in ("html", "body", "#document"):
        level = ctx.chain.get(current.mem_id)
        if level is not None:
            if soft and level > 1:
                return None
            return (1.5 if level <= ctx.scope else -1.0) - (1.0 if soft else 0.0)
        if current.tag == "a" and current is not node and not _links_here(current, ctx):
            return None  # a date inside a link to another page belongs to that page
        names = _names(current)
        if _in_other_article(current, ctx) or _COMMENT_CLASS.search(names):
            return None  # a comment's date is never the article's, however near
        soft = soft or _excluded(current, names)
        current = current.parent
    return None if soft else -1.0 if ctx.anchor is not None else 0.0


def _links_here(link: LexborNode, ctx: PageContext) -> bool:
    """Whether ``link`` is the page's own permalink (a blog's "Posted on <date>" link)."""
    href = link.attributes.get("href")
    if not href or ctx.page_key is None:
        return False
    return url_key(join_url(ctx.url, href)) == ctx.page_key


def _in_other_article(node: LexborNode, ctx: PageContext) -> bool:
    return node.tag == "article" and ctx.many_articles and ctx.anchor is not None


def _excluded(node: LexborNode, names: str) -> bool:
    if node.tag in _EXCLUDED_TAGS or (node.tag == "li" and _long_link(node)):
        return True
    if _page_footer(node, names):
        return True
    return bool(names.strip()) and bool(_EXCLUDED_CLASS.search(names))


def _page_footer(node: LexborNode, names: str) -> bool:
    """The page's footer ("Last modified", "generated on"); an article's own footer is not."""
    footer = (
        node.tag == "footer"
        or node.attributes.get("role") == "contentinfo"
        or bool(_FOOTER_NAME.search(names))
    )
    if not footer:
        return False
    current = node.parent
    while current is not None and current.tag not in ("body", "html"):
        if current.tag == "article":
            return False
        current = current.parent
    return True


def _long_link(node: LexborNode) -> bool:
    """Whether ``node`` holds a link that reads like a headline (a teaser of another page)."""
    for link in node.css("a[href]"):
        if _AUTHOR_LINK.search(f"{link.attributes.get('href')} {link.attributes.get('rel')}"):
            continue
        text = link.text(deep=True)
        if len(text) >= 25 and len(text.split()) >= 4:
            return True
    return False


def _teaser(node: LexborNode) -> bool:
    """Whether the date belongs to a link to another page (a "latest news" entry).

    Climbs from the date through its own item (up to three levels) and stops at a list
    container, so a date next to unrelated links elsewhere in the same list is not a teaser.
    """
    current: LexborNode | None = node
    for _ in range(3):
        if current is None or current.tag in ("body", "article", "main", "ul", "ol"):
            return False
        if len(current.text(deep=True)) > 400 or _is_list(current):
            return False
        if _long_link(current):
            return True
        current = current.parent
    return False


def _is_list(node: LexborNode) -> bool:
    tags = [child.tag for child in node.iter()]
    return len(tags) >= 3 and max(tags.count(tag) for tag in set(tags)) >= 3


def _label(node: LexborNode) -> str:
    """The words just before ``node`` ("Updated:", "Publiziert am") and its own text."""
    return f"{_before(node)} {norm(node.text(deep=True))[:60]}"


def _before(node: LexborNode) -> str:
    """Up to 40 characters of the siblings before ``node`` (or before its inline wrapper)."""
    parts: list[str] = []
    current = node
    for _ in range(3):
        sibling = current.prev
        while sibling is not None and sum(map(len, parts)) < 40:
            parts.insert(0, sibling.text(deep=True))
            sibling = sibling.prev
        parent = current.parent
        if "".join(parts).strip() or parent is None or parent.tag not in _INLINE_TAGS:
            break
        current = parent
    return norm(" ".join(parts))[-40:]


def _names(node: LexborNode) -> str:
    attrs = node.attributes
    return f"{attrs.get('class') or ''} {attrs.get('id') or ''}"


def _kind(names: str, label: str) -> str | None:
    """What the last telling word before the date says: published, updated or other.

    Class names count for published/updated only: "event-date" or "date__since" in a class
    says nothing against the date.
    """
    text = f"{names} | {label}"
    kind, at = None, -1
    for name, pattern in (("published", _PUBLISHED), ("updated", _UPDATED), ("other", _OTHER)):
        for match in pattern.finditer(text, len(names) if name == "other" else 0):
            if match.start() >= at:
                kind, at = name, match.start()
    return kind


# -- visible text --------------------------------------------------------------------------


def text_candidates(tree: LexborHTMLParser, ctx: PageContext) -> list[Candidate]:
    """Dates written in text nodes; used only when the stronger signals are missing or split."""
    root = tree.body
    if root is None:
        return []
    hits: list[tuple[LexborNode, DateHit, int, int]] = []
    anchor_at = 0
    anchor_id = ctx.anchor.mem_id if ctx.anchor is not None else None
    for index, node in enumerate(root.traverse(include_text=True)):
        if node.mem_id == anchor_id:
            anchor_at = index
        if node.tag != "-text":
            continue
        text = node.text_content or ""
        if not 6 <= len(text) <= 200 or _DIGIT.search(text) is None:
            continue
        parent = node.parent
        if parent is None or parent.tag in _SKIP_TEXT_PARENTS:
            continue
        hit = search_date(text, ctx.opts)
        if hit is not None:
            hits.append((node, hit, len(text.strip()), index))
    hits = _without_date_lists(hits)
    found = (_text_candidate(n, hit, size, index - anchor_at, ctx) for n, hit, size, index in hits)
    return [candidate for candidate in found if candidate is not None]


def _without_date_lists(
    hits: list[tuple[LexborNode, DateHit, int, int]],
) -> list[tuple[LexborNode, DateHit, int, int]]:
    """Drop dates that sit in repeated, alike places with different days.

    An archive list, a table column of dates or a run of comments repeats one markup
    shape; the article's dateline is one of a kind (or repeats the same day).
    """
    shapes = [_shape(node) for node, _, _, _ in hits]
    days: dict[tuple[str, ...], set[date]] = {}
    for shape, (_, hit, _, _) in zip(shapes, hits, strict=True):
        days.setdefault(shape, set()).add(hit.value.date())
    return [h for shape, h in zip(shapes, hits, strict=True) if len(days[shape]) < _LIST_DAYS]


def _shape(node: LexborNode) -> tuple[str, ...]:
    """The tags and classes of a text node's three nearest ancestors."""
    shape: list[str] = []
    current = node.parent
    for _ in range(3):
        if current is None:
            break
        shape.append(f"{current.tag}.{current.attributes.get('class') or ''}")
        current = current.parent
    return tuple(shape)


def _text_candidate(
    node: LexborNode, hit: DateHit, length: int, distance: int, ctx: PageContext
) -> Candidate | None:
    parent = node.parent
    if parent is None:
        return None
    place = _placement(parent, ctx)
    if place is None or _teaser(parent):
        return None
    near = ctx.anchor is not None and -30 <= distance <= 120
    if _list_entry(parent):
        return None  # "14 Sep 2023 Invited talk at…": one entry of a dated list
    if hit.relative and not (near and distance <= 40 and place > 0):
        return None  # "vor 3 Stunden" is only trusted right at the headline
    text_before = (node.text_content or "")[: hit.start]
    if _RANGE_START.search(text_before):
        return None  # "15 marzo – 28 luglio 2024": the end of a run of days, an event's
    # Only the words before the date label it: "Published 2 May, updated 4 May".
    label = f"{_before(node)} {norm(text_before)}"
    kind = _kind(_names(parent), label)
    if kind == "other":
        return None  # "available until", "born on", "accepted": a date, but not this page's
    if kind is None and len((node.text_content or "").split()) >= _SENTENCE_WORDS:
        return None  # a date mentioned in a sentence of the text is not its dateline
    weight = 2.0 + (1.5 if near else 0.0) + max(place, 0.0) - (2.0 if hit.relative else 0.0)
    weight += 1.0 if length <= 32 else 0.0  # the node is a dateline, not a sentence
    weight += 1.0 if _HINT_CLASS.search(_ancestor_names(parent)) else 0.0
    weight += 1.0 if kind == "published" else 0.0
    return Candidate(hit.value, hit.has_time, "text", weight, "text", kind == "updated")


def _list_entry(node: LexborNode) -> bool:
    """Whether ``node`` is in a list item that says much more than its date (a news list).

    An article's own dateline may sit in a list of metadata ("<li>28.04.2023</li>"), but
    it does not share its item with a sentence.
    """
    current: LexborNode | None = node
    for _ in range(3):
        if current is None:
            return False
        if current.tag == "li":
            own = len((node.text(deep=True)).split())
            return len(current.text(deep=True).split()) - own >= _ENTRY_WORDS
        current = current.parent
    return False


def _ancestor_names(node: LexborNode) -> str:
    parts = []
    current: LexborNode | None = node
    for _ in range(3):
        if current is None:
            break
        parts.append(_names(current))
        current = current.parent
    return " ".join(parts)


def url_key(url: str | None) -> str | None:
    """Host and path of a URL, for comparing a JSON-LD ``url`` with the page's."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # "http://[x": not a URL
        return None
    host = parts.netloc.lower().removeprefix("www.")
    return f"{host}{parts.path.rstrip('/')}" if host else None


def norm(text: str) -> str:
    return " ".join(text.split()).casefold()
