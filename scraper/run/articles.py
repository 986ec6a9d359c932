"""Where an article is stored and what it leads to: canonical URL, aliases, hints, links."""

from __future__ import annotations

import dataclasses

from ..config import Source
from ..discover import LinkRules, parse_listing
from ..models import Article, ListingItem, Page
from ..urls import host_of, normalize_url, same_site


def link_rules(source: Source) -> LinkRules:
    return LinkRules(
        domains=source.domains,
        selector=source.link_selector,
        pattern=source.link_pattern,
        next_selector=source.next_selector,
        timezone=source.rules.timezone,
        date_format=source.rules.date_format,
    )


def article_links(html: str, page: Page, source: Source) -> tuple[ListingItem, ...]:
    """Article links on an article page (its "Latest news" list), other than itself."""
    own = {normalize_url(page.final_url), normalize_url(page.requested_url)}
    listing = parse_listing(html, page.final_url, link_rules(source))
    return tuple(item for item in listing.items if item.url not in own)


def canonical_url(article: Article, page: Page, domains: tuple[str, ...]) -> str:
    """The article's own canonical URL when it stays on the source's site, else the final URL."""
    final = normalize_url(page.final_url)
    if article.url:
        try:
            canonical = normalize_url(article.url, page.final_url)
        except ValueError:
            return final
        if same_site(canonical, domains or (host_of(final),)):
            return canonical
    return final


def alias_urls(item: ListingItem, page: Page) -> set[str]:
    urls = {item.url}
    for url in (page.requested_url, page.final_url, *page.redirects):
        try:
            urls.add(normalize_url(url))
        except ValueError:
            continue
    return urls


def with_listing_hints(article: Article, item: ListingItem) -> Article:
    """Fill a missing title or date from the listing's own entry for the article."""
    changes: dict[str, object] = {}
    provenance = dict(article.provenance)
    if not article.title and item.title:
        changes["title"] = item.title
        provenance["title"] = "listing"
    if article.published is None and item.published is not None:
        changes["published"] = item.published
        provenance["published"] = "listing"
    if not changes:
        return article
    return dataclasses.replace(article, provenance=provenance, **changes)  # type: ignore[arg-type]
