"""Find the original publication date of the article on a page by weighing every signal.

Signals, strongest first: JSON-LD ``datePublished`` of the main article object, publication
``<meta>`` tags, ``<time>``/``itemprop`` elements near the headline, a day in the URL, and
dates written in the text near the headline.  Candidates that agree on a day reinforce each
other; "updated" stamps, sidebars, teaser lists and comments are kept out of the running.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from .datepage import (
    Candidate,
    PageContext,
    element_candidates,
    norm,
    page_context,
    text_candidates,
    url_key,
)
from .dateparse import parse_date

__all__ = ["FoundDate", "find_published", "parse_date"]

_ARTICLE_TYPES = frozenset(
    "article newsarticle blogposting reportagenewsarticle analysisnewsarticle opinionnewsarticle "
    "reviewnewsarticle backgroundnewsarticle askpublicnewsarticle satiricalarticle liveblogposting "
    "scholarlyarticle techarticle report socialmediaposting discussionforumposting claimreview "
    "review medicalscholarlyarticle advertisercontentarticle newsarticlelive".split()
)
_PAGE_TYPES = frozenset("webpage itempage medicalwebpage qapage faqpage".split())
_IGNORED_TYPES = frozenset(
    "breadcrumblist listitem itemlist organization newsmediaorganization person imageobject "
    "videoobject audioobject mediaobject website sitenavigationelement searchaction claim rating "
    "comment correctioncomment speakablespecification webpageelement product place event "
    "collectionpage wpheader wpfooter wpsidebar".split()
)
_META_PUBLISHED: dict[str, float] = {
    **dict.fromkeys(
        "article:published_time og:article:published_time og:published_time article:published "
        "published_time datepublished parsely-pub-date sailthru.date cxenseparse:recs:publishtime "
        "cxenseparse:recs:published_time dc.date.issued dcterms.issued dcterms.created "
        "dc.date.created citation_publication_date citation_online_date prism.publicationdate "
        "article.published publish-date publish_date publishdate publication_date published-date "
        "pubdate pub_date article_date_original original-publish-date og:pubdate bt:pubdate "
        "datecreated article.created".split(),
        9.0,
    ),
    **dict.fromkeys("date dc.date dcterms.date citation_date displaydate".split(), 7.0),
}
_META_MODIFIED = frozenset(
    "article:modified_time og:updated_time datemodified last-modified lastmod lastupdate "
    "dcterms.modified dc.date.modified article.updated modified updated date_modified".split()
)
_URL_DATES = (
    re.compile(r"/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})(?:/|$|[-_])"),
    re.compile(r"(?<!\d)((?:19|20)\d{2})[-_](\d{2})[-_](\d{2})(?!\d)"),
    re.compile(r"(?<![\d])((?:19|20)\d{2})(\d{2})(\d{2})(?!\d)"),
    re.compile(r"/((?:19|20)\d{2})/([a-z]{3,9})/(\d{1,2})(?:/|$)", re.IGNORECASE),
    # an id that starts with a date and a clock time: A2026012914320005196
    re.compile(r"(?<!\d)((?:19|20)\d{2})(\d{2})(\d{2})(?:[01]\d|2[0-3])[0-5]\d\d*"),
)
_FAMILY_BONUS = 0.3


@dataclass(frozen=True)
class FoundDate:
    """The publication date of a page and which signal produced it."""

    value: datetime  # timezone-aware
    has_time: bool  # False when only a day was known (then value is midnight in the source zone)
    source: str  # e.g. "json-ld:datePublished", "meta:article:published_time", "url", "text"
    modified: datetime | None = None  # dateModified/updated when seen (never used as published)
    # the strongest signal that gave another day, e.g. "url 2026-01-05 vs json-ld:datePublished
    # 2026-01-02 (3 days)"; None when every signal agreed
    disagreement: str | None = field(default=None, compare=False)


def find_published(
    tree: LexborHTMLParser,
    *,
    url: str | None = None,
    jsonld: Sequence[Mapping[str, Any]] = (),
    tz: tzinfo = UTC,
    now: datetime | None = None,
) -> FoundDate | None:
    """The original publication date of the article on the page, or None if none is found."""
    ctx = page_context(tree, url, tz, now)
    found = [
        *_jsonld_candidates(jsonld, ctx),
        *_meta_candidates(tree, ctx),
        *element_candidates(tree, ctx),
        *_url_candidates(url, ctx),
    ]
    published = _published(found, ctx)
    clusters = _clusters(published)
    if _uncertain(clusters):
        found += text_candidates(tree, ctx)
        published = _published(found, ctx)
        clusters = _clusters(published)
    if not clusters:
        return None
    modified = max((c for c in found if c.modified), key=lambda c: c.weight, default=None)
    best = _merge_time(clusters[0][1])
    return FoundDate(
        best.value,
        best.has_time,
        best.source,
        modified.value if modified else None,
        _disagreement(best, clusters),
    )


def _published(found: Sequence[Candidate], ctx: PageContext) -> list[Candidate]:
    return [c for c in found if not c.modified and c.value <= ctx.limit]


# -- JSON-LD -------------------------------------------------------------------------------


def _jsonld_candidates(items: Sequence[Mapping[str, Any]], ctx: PageContext) -> Iterator[Candidate]:
    objects = list(_ld_objects(items, set()))
    listed = {id(member) for obj in objects for member in _list_members(obj)}
    useful = [o for o in objects if not _ld_types(o) & _IGNORED_TYPES and id(o) not in listed]
    pool = useful or objects
    article_rank = 0
    for obj in pool:
        types = _ld_types(obj)
        base = 10.0 if types & _ARTICLE_TYPES else 8.0 if types & _PAGE_TYPES else 5.0
        if id(obj) in listed or not useful:
            base = 2.0
        if types & _ARTICLE_TYPES:
            base -= min(article_rank, 4) * 0.5
            article_rank += 1
        base += _ld_match_bonus(obj, ctx)
        for key, weight, modified in (
            ("datePublished", base, False),
            ("dateCreated", base - 2, False),
            ("uploadDate", base - 3, False),
            ("dateModified", base, True),
        ):
            hit = ctx.parse(_ld_text(obj.get(key)))
            if hit:
                yield Candidate(hit.value, hit.has_time, f"json-ld:{key}", weight, "ld", modified)


def _ld_objects(items: Iterable[Any], seen: set[int]) -> Iterator[Mapping[str, Any]]:
    for item in items:
        if isinstance(item, list):
            yield from _ld_objects(item, seen)
        elif isinstance(item, Mapping) and id(item) not in seen:
            seen.add(id(item))
            if "@type" in item:
                yield item
            for key in ("@graph", "mainEntity"):
                nested = item.get(key)
                if isinstance(nested, list | Mapping):
                    yield from _ld_objects([nested], seen)


def _list_members(obj: Mapping[str, Any]) -> Iterator[Any]:
    members = obj.get("itemListElement")
    for member in members if isinstance(members, list) else [members]:
        if isinstance(member, Mapping):
            yield member
            if isinstance(member.get("item"), Mapping):
                yield member["item"]


def _ld_types(obj: Mapping[str, Any]) -> set[str]:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {k.lower().rsplit("/", 1)[-1] for k in kinds if isinstance(k, str)}


def _ld_text(value: Any) -> str | None:
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, Mapping):
        value = value.get("@value")
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(int(value))  # epoch seconds or milliseconds
    return value if isinstance(value, str) else None


def _ld_url(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("@id") or value.get("url")
    return value if isinstance(value, str) else None


def _ld_match_bonus(obj: Mapping[str, Any], ctx: PageContext) -> float:
    bonus = 0.0
    keys = {url_key(_ld_url(obj.get(key))) for key in ("url", "@id", "mainEntityOfPage")}
    if ctx.page_key and ctx.page_key in keys:
        bonus += 1.0
    headline = _ld_text(obj.get("headline")) or _ld_text(obj.get("name"))
    if headline and ctx.headline and norm(headline) == ctx.headline:
        bonus += 0.5
    return bonus


# -- <meta> --------------------------------------------------------------------------------


def _meta_candidates(tree: LexborHTMLParser, ctx: PageContext) -> Iterator[Candidate]:
    for node in tree.css("meta[content]"):
        attrs = node.attributes
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = (attrs.get(attr) or "").strip().lower()
            weight = _META_PUBLISHED.get(key)
            modified = key in _META_MODIFIED
            if (weight is None and not modified) or (attr == "itemprop" and _in_body(node)):
                continue
            hit = ctx.parse(attrs.get("content"))
            if hit:
                source, strength = f"meta:{key}", weight or 9.0
                yield Candidate(hit.value, hit.has_time, source, strength, "meta", modified)
            break


def _in_body(node: LexborNode) -> bool:
    current = node.parent
    while current is not None:
        if current.tag in ("head", "body"):
            return current.tag == "body"
        current = current.parent
    return False


# -- URL -----------------------------------------------------------------------------------


def _url_candidates(url: str | None, ctx: PageContext) -> Iterator[Candidate]:
    try:
        path = urlsplit(url).path if url else ""
    except ValueError:  # not a URL: no date in it
        return
    for pattern in _URL_DATES:
        for m in pattern.finditer(path):
            hit = ctx.parse(f"{m[1]}-{m[2]}-{m[3]}" if m[2].isdigit() else f"{m[3]} {m[2]} {m[1]}")
            if hit:
                yield Candidate(hit.value, False, "url", 4.0, "url")
                return


# -- weighing ------------------------------------------------------------------------------

_Cluster = tuple[float, list[Candidate]]


def _clusters(candidates: list[Candidate]) -> list[_Cluster]:
    groups: list[list[Candidate]] = []
    for cand in sorted(candidates, key=lambda c: -c.weight):
        for group in groups:
            if group[0].days() & cand.days():
                group.append(cand)
                break
        else:
            groups.append([cand])
    scored = [(_score(group), group) for group in groups]
    return sorted(scored, key=lambda pair: -pair[0])


def _score(group: list[Candidate]) -> float:
    best_per_family: dict[str, float] = {}
    for cand in group:
        best_per_family[cand.family] = max(best_per_family.get(cand.family, 0.0), cand.weight)
    top = group[0]
    others = sum(w for fam, w in best_per_family.items() if fam != top.family)
    return top.weight + _FAMILY_BONUS * others


def _uncertain(clusters: list[_Cluster]) -> bool:
    if not clusters:
        return True
    if clusters[0][0] < 7.0:
        return True
    return len(clusters) > 1 and clusters[1][0] >= clusters[0][0] - 1.5


def _disagreement(best: Candidate, clusters: list[_Cluster]) -> str | None:
    """The strongest signal for another day than the chosen one, and how far apart."""
    other = max(
        (c for _, group in clusters[1:] for c in group), key=lambda c: c.weight, default=None
    )
    if other is None:
        return None
    chosen, rival = best.value.date(), other.value.date()
    days = abs((rival - chosen).days)
    unit = "day" if days == 1 else "days"
    return f"{best.source} {chosen} vs {other.source} {rival} ({days} {unit})"


def _merge_time(group: list[Candidate]) -> Candidate:
    top = group[0]
    if top.has_time:
        return top
    day = top.value.date()
    for cand in group:
        if cand.has_time and cand.value.date() == day:
            return replace(cand, source=top.source)
    return top
