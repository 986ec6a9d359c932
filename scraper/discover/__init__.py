"""Find article links on listing pages, feeds and sitemaps, with title and date hints.

Every URL is normalized (:func:`scraper.urls.normalize_url`) and listed once, in the
order first seen; a later occurrence only fills hints the first one lacked.  Each
page gives at most ``LinkRules.max_links`` links, and a parser stops reading there.
"""

from __future__ import annotations

from .announced import announced_feeds
from .feeds import parse_feed, parse_sitemap
from .linkrules import LinkRules, looks_like_article, merge
from .listing import listing_of, parse_listing

__all__ = [
    "LinkRules",
    "announced_feeds",
    "listing_of",
    "looks_like_article",
    "merge",
    "parse_feed",
    "parse_listing",
    "parse_sitemap",
]
