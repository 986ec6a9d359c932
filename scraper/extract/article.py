"""``extract()``: one HTML page in, one :class:`~scraper.models.Article` out.

The page is parsed once (:func:`~.document.parse_document`); a caller that also reads
the page's links parses it itself and hands the :class:`~.document.Document` to
:func:`extract_document` after reading them.  Metadata (JSON-LD, meta tags) and the
publication date are read from the untouched tree; then per-site ``exclude`` rules and
non-content elements are removed and the body is found.  Per-site rules win field by
field; when one gives nothing the generic result is used and the reason lands in
``Article.errors``.

Failure policy: ``extract`` never raises for odd or broken HTML.  Even input that is not
a document at all (empty bytes, only whitespace) gives an ``Article`` with an empty
body and ``errors["document"]`` set, because a caller storing fetch outcomes wants one
result type; only a wrong argument type raises (``TypeError``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from selectolax.lexbor import LexborHTMLParser

from ..models import Article, SiteRules
from . import fields
from .body import BodyHints, BodyResult, find_body
from .clean import ClassCache, prune_tree
from .dates import find_published
from .document import Document, parse_document
from .embedded import embedded_article_html
from .metadata import PageMeta, clean_text, read_metadata
from .siterules import RuleMiss, remove_excluded, rule_body, rule_published, rule_title
from .title import choose_title, signals_from

__all__ = ["extract", "extract_document"]

T = TypeVar("T")


@dataclass
class _Notes:
    """Provenance and errors collected while one article is built."""

    provenance: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Page:
    """One parsed page and what extraction needs to know about it."""

    tree: LexborHTMLParser
    document: str | bytes  # as parsed, for the rare second look (script data)
    meta: PageMeta
    url: str | None
    rules: SiteRules
    tz: tzinfo
    now: datetime | None


@dataclass(frozen=True)
class _Dated:
    published: datetime | None = None
    modified: datetime | None = None
    precision: str | None = None


_NO_RULES = SiteRules()


def extract(
    html: str | bytes,
    url: str | None = None,
    *,
    rules: SiteRules | None = None,
    headers: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Article:
    """Extract the article on one page (see the module docstring for the failure policy)."""
    return extract_document(parse_document(html, headers), url, rules=rules, now=now)


def extract_document(
    document: Document,
    url: str | None = None,
    *,
    rules: SiteRules | None = None,
    now: datetime | None = None,
) -> Article:
    """Extract the article from a parsed page; the tree is pruned on the way."""
    if document.empty:
        return Article(url=url, title=None, published=None, body="", errors=dict(_EMPTY))
    notes = _Notes()
    tree = document.tree
    rules = rules or _NO_RULES
    headers = document.headers
    page = _Page(tree, document.markup, read_metadata(tree), url, rules, _zone(rules, notes), now)
    dated = _published(page, notes)
    rule_title_value = _rule_title(page, notes)
    canonical, source = fields.canonical_url(page.meta, url)
    notes.provenance["url"] = source
    for problem in remove_excluded(tree, rules.exclude):
        notes.errors["exclude"] = problem
    body, h1_text = _body(page, notes)
    title = rule_title_value or _generic_title(page, h1_text, notes)
    meta = page.meta
    return Article(
        url=canonical,
        title=title,
        published=dated.published,
        body=body,
        authors=_note(fields.authors(meta), "authors", notes) or (),
        language=_note(fields.language(meta, headers, body), "language", notes),
        description=_note(fields.description(meta), "description", notes),
        image=_note(fields.image(meta, canonical or url), "image", notes),
        modified=dated.modified,
        date_precision=dated.precision,
        provenance=notes.provenance,
        errors=notes.errors,
    )


_EMPTY = {"document": "empty document: no HTML to extract from"}


def _note(found: tuple[T, str | None], name: str, notes: _Notes) -> T:
    value, source = found
    if source:
        notes.provenance[name] = source
    return value


def _zone(rules: SiteRules, notes: _Notes) -> tzinfo:
    if rules.timezone in ("UTC", ""):
        return UTC
    try:
        return ZoneInfo(rules.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        notes.errors["timezone"] = f"unknown timezone {rules.timezone!r}; used UTC"
        return UTC


def _published(page: _Page, notes: _Notes) -> _Dated:
    rules = page.rules
    if rules.published:
        hit = rule_published(
            page.tree, rules.published, date_format=rules.date_format, tz=page.tz, now=page.now
        )
        if not isinstance(hit, RuleMiss):
            notes.provenance["published"] = f"rule:{rules.published}"
            return _Dated(hit[0], None, "datetime" if hit[1] else "date")
        notes.errors["published"] = hit.fallback()
    found = find_published(
        page.tree, url=page.url, jsonld=page.meta.jsonld, tz=page.tz, now=page.now
    )
    if found is None:
        notes.errors.setdefault("published", "no date found")
        return _Dated()
    notes.provenance["published"] = found.source
    if found.disagreement:
        notes.provenance["published_disagreement"] = found.disagreement
    return _Dated(found.value, found.modified, "datetime" if found.has_time else "date")


def _rule_title(page: _Page, notes: _Notes) -> str | None:
    selector = page.rules.title
    if not selector:
        return None
    value = rule_title(page.tree, selector)
    if isinstance(value, RuleMiss):
        notes.errors["title"] = value.fallback()
        return None
    notes.provenance["title"] = f"rule:{selector}"
    return value


def _body(page: _Page, notes: _Notes) -> tuple[str, str | None]:
    """The body text, and the text of the <h1> nearest to it (for the title)."""
    cache = ClassCache()
    selector = page.rules.body
    if selector:  # before pruning: the rule may name any element
        value = rule_body(page.tree, selector, cache)
        if not isinstance(value, RuleMiss):
            notes.provenance["body"] = f"rule:{selector}"
            return value, None
        notes.errors["body"] = value.fallback()
    prune_tree(page.tree)
    hints = _hints(page.meta)
    found: BodyResult | None = find_body(page.tree, cache, hints)
    if found is None or len(found.text) < _THIN_BODY:
        found = _embedded_body(page.document, hints) or found
    if found is None:
        notes.errors.setdefault("body", "no main content found")
        return "", None
    notes.provenance["body"] = found.source
    return found.text, found.h1


_THIN_BODY = 200  # characters: below this the page may carry its article in scripts


def _embedded_body(document: str | bytes, hints: BodyHints) -> BodyResult | None:
    """The body from the article data a client-rendered page keeps in its scripts."""
    html = embedded_article_html(document)
    if html is None:
        return None
    tree = LexborHTMLParser(html)
    found = find_body(tree, ClassCache(), hints)
    if found is None or len(found.text) < _THIN_BODY:
        return None
    return replace(found, source="embedded:script-data", h1=None)


def _hints(meta: PageMeta) -> BodyHints:
    headlines = (
        meta.first("og:title"),
        clean_text(meta.ld_value("headline")),
        meta.first("twitter:title"),
        meta.title_tag,
    )
    ld_body = meta.ld_value("articleBody")
    return BodyHints(
        headlines=tuple(h for h in headlines if h),
        ld_body=ld_body if isinstance(ld_body, str) else None,
        description=fields.description(meta)[0],
    )


def _generic_title(page: _Page, h1_text: str | None, notes: _Notes) -> str | None:
    h1 = h1_text if h1_text is not None else _first_h1(page.tree)
    host = fields.host(page.url) if page.url else None
    chosen = choose_title(signals_from(page.meta, h1=h1, host=host))
    if chosen is None:
        notes.errors.setdefault("title", "no title found")
        return None
    notes.provenance["title"] = chosen[1]
    return chosen[0]


def _first_h1(tree: LexborHTMLParser) -> str | None:
    for h1 in tree.css("h1"):
        text = h1.text(deep=True)
        if text.strip():
            return text
    return None
