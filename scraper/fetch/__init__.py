"""Fetching, politely: one async httpx client, robots.txt, per-host spacing, bounded bodies.

Only this package sees httpx; every failure leaves it as a :mod:`scraper.errors` kind.
"""

from .client import FEED_TYPES, HTML_TYPES, SITEMAP_TYPES, Fetcher, FetchEvent
from .politeness import HostSpacing
from .robots import RobotsMemory

__all__ = [
    "FEED_TYPES",
    "HTML_TYPES",
    "SITEMAP_TYPES",
    "FetchEvent",
    "Fetcher",
    "HostSpacing",
    "RobotsMemory",
]
