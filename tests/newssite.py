"""A tiny news site on a FaultServer and TOML configs pointing at it, for schedule/health tests."""

from __future__ import annotations

import random
from collections.abc import Iterable

from faultserver import FaultServer

_WORDS = (
    "council budget river bridge harbour minister school election storm museum festival"
    " railway hospital market farmers court police mayor report citizens energy prices"
    " weather football library garden tourism airport factory workers union climate"
).split()


def body_text(seed: int, words: int = 90) -> str:
    """Deterministic prose; different seeds give unrelated texts (no duplicate detection)."""
    rng = random.Random(seed)
    out = [rng.choice(_WORDS) + str(rng.randrange(1000)) for _ in range(words)]
    return " ".join(out).capitalize() + "."


def article_page(seed: int, *, wrapper: str = "story") -> bytes:
    """An article with title, date and a long body inside ``div.<wrapper>``."""
    day = 1 + seed % 28
    first, second = body_text(seed), body_text(seed + 10_000)
    return (
        f"<html><head><title>Story {seed}</title>"
        f'<meta property="article:published_time" content="2024-05-{day:02d}T10:00:00Z">'
        f'</head><body><article><h1>Story number {seed}</h1><div class="{wrapper}">'
        f"<p>{first}</p><p>{second}</p></div></article></body></html>"
    ).encode()


def listing_page(paths: Iterable[str]) -> bytes:
    items = "".join(f'<li><a href="{p}">Story at {p}</a></li>' for p in paths)
    return f"<html><body><ul class='news'>{items}</ul></body></html>".encode()


def publish(
    server: FaultServer, listing: str, seeds: Iterable[int], *, wrapper: str = "story"
) -> list[str]:
    """Serve a listing at ``listing`` linking to ``/a/<seed>`` article pages."""
    numbers = list(seeds)
    paths = [f"/a/{seed}" for seed in numbers]
    for path, seed in zip(paths, numbers, strict=True):
        server.page(path, article_page(seed, wrapper=wrapper))
    server.page(listing, listing_page(paths))
    return paths


def source_toml(
    name: str, listing_url: str, *, schedule: str = "every 1h", body: str = "div.story"
) -> str:
    return f"""
[[source]]
name = "{name}"
listings = ["{listing_url}"]
schedule = "{schedule}"
delay = 0
concurrency = 2
[source.links]
selector = "ul.news a"
[source.rules]
body = "{body}"
"""


def config_toml(*sources: str) -> str:
    """A whole config: fast fetch settings (no retries) and the given ``[[source]]`` blocks."""
    head = "[fetch]\nretries = 0\nconnect_timeout = 2\nread_timeout = 5\ntotal_timeout = 10\n"
    return head + "".join(sources)
