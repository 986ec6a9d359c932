"""Rewrite the expected fields of every stored page from the current extractor.

    python tests/pages/regenerate.py            # all pages
    python tests/pages/regenerate.py de/JungeWelt_2024_04_26

Run it only after checking that a changed result is an improvement: the JSON files are
what ``tests/test_stored_pages.py`` holds the extractor to.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

from scraper import extract

HERE = Path(__file__).resolve().parent


def expected(page: Path, url: str) -> dict[str, object]:
    article = extract(gzip.decompress(page.read_bytes()), url)
    return {
        "url": url,
        "title": article.title,
        "published": article.published.isoformat() if article.published else None,
        "body": article.body,
        "language": article.language,
    }


def main(names: list[str]) -> None:
    for page in sorted(HERE.glob("*/*.html.gz")):
        name = f"{page.parent.name}/{page.name.removesuffix('.html.gz')}"
        if names and name not in names:
            continue
        target = page.with_name(page.name.removesuffix(".html.gz") + ".json")
        old = json.loads(target.read_text(encoding="utf-8"))
        data = expected(page, old["url"]) | {"annotated": old["annotated"]}
        target.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
        print(f"{name}: {data['title']!r} {data['published']}")


if __name__ == "__main__":
    main(sys.argv[1:])
