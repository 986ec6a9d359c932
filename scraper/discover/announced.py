"""Feeds a page announces in its head: ``<link rel="alternate" type="application/rss+xml">``.

Feed autodiscovery (the RSS Autodiscovery and Atom conventions): a site names its
RSS or Atom feeds with ``<link rel="alternate">`` elements of those media types.  Only
same-site feeds count (the rules' domains, or the page's host).
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from ..urls import host_of, normalize_url, same_site
from .linkrules import LinkRules, resolve

FEED_LINK_TYPES = frozenset({"application/rss+xml", "application/atom+xml"})


def announced_feeds(html: str, url: str, rules: LinkRules) -> tuple[str, ...]:
    """The same-site feeds the page at ``url`` announces, in page order, at most
    ``rules.max_links``; ``<base href>`` is honoured."""
    tree = LexborHTMLParser(html)
    page_url = normalize_url(url)
    base = tree.css_first("base[href]")
    base_url = (resolve(base.attributes.get("href"), page_url) if base else None) or page_url
    return feeds_of(tree, base_url, page_url, rules)


def feeds_of(
    tree: LexborHTMLParser, base_url: str, page_url: str, rules: LinkRules
) -> tuple[str, ...]:
    """:func:`announced_feeds` on a page parsed already (links resolved against ``base_url``)."""
    domains = rules.domains or (host_of(page_url),)
    found: dict[str, None] = {}
    for node in tree.css("link[href][type]"):
        attrs = node.attributes
        kind = (attrs.get("type") or "").split(";")[0].strip().lower()
        if kind not in FEED_LINK_TYPES:
            continue
        if "alternate" not in (attrs.get("rel") or "").lower().split():
            continue
        link = resolve(attrs.get("href"), base_url)
        if link is not None and same_site(link, domains):
            found[link] = None
            if len(found) >= rules.max_links:
                break
    return tuple(found)
