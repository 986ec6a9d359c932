"""Fetching, politely: one async httpx client, robots.txt, per-host spacing, bounded bodies.

A source fetches through ``Fetcher.for_source``, which refuses internal addresses
(:mod:`.addresses`) outside the source's own hosts; ``Fetcher.stop`` ends every wait.

Only this package sees httpx; every failure leaves it as a :mod:`scraper.errors` kind.
"""

from .addresses import AddressPolicy, classify
from .client import (
    FEED_TYPES,
    HTML_TYPES,
    SITEMAP_TYPES,
    Fetcher,
    FetchEvent,
    PageFetcher,
    SourceFetcher,
)
from .politeness import HostSpacing
from .robots import RobotsMemory

__all__ = [
    "FEED_TYPES",
    "HTML_TYPES",
    "SITEMAP_TYPES",
    "AddressPolicy",
    "FetchEvent",
    "Fetcher",
    "HostSpacing",
    "PageFetcher",
    "RobotsMemory",
    "SourceFetcher",
    "classify",
]
