"""The export record: one documented, stable field list for every format.

Fields (``FIELDS``), in this order:

- ``change_seq``: the article's last write in commit order (the consumer's cursor);
- ``id``, ``story_id``, ``representative``: the row, its story, whether it represents it;
- ``source``, ``url``, ``urls``: the outlet, its canonical URL, every URL it was seen under;
- ``title``, ``published``, ``date_precision``, ``modified``: as extracted, dates in
  ISO 8601 with the page's own offset;
- ``body``, ``authors``, ``language``, ``description``, ``image``;
- ``version``, ``first_seen``, ``last_fetched``, ``last_changed``: edits and times (UTC);
- ``hint_title``, ``hint_published``: what the listing, feed or sitemap said;
- ``provenance``, ``extraction_errors``: per field, the signal that gave it, or why it
  is missing.

JSON lines keep lists and objects as they are; CSV and Parquet carry ``urls`` and
``authors`` as lists where the format has them (JSON text in CSV), and ``provenance``
and ``extraction_errors`` as JSON text.
"""

from __future__ import annotations

from typing import Any

from ..store import Store, StoredArticle

FIELDS = (
    "change_seq", "id", "story_id", "representative", "source", "url", "urls", "title",
    "published", "date_precision", "modified", "body", "authors", "language", "description",
    "image", "version", "first_seen", "last_fetched", "last_changed", "hint_title",
    "hint_published", "provenance", "extraction_errors",
)  # fmt: skip
LIST_FIELDS = ("urls", "authors")
OBJECT_FIELDS = ("provenance", "extraction_errors")
INT_FIELDS = ("change_seq", "id", "story_id", "version")


def export_record(store: Store, article: StoredArticle) -> dict[str, Any]:
    """The export fields of one article, JSON-ready."""
    data = article.to_dict()
    story = store.story(article.story_id) if article.story_id is not None else None
    data["urls"] = list(store.urls(article.id)) or [article.url]
    data["representative"] = story is None or story.representative == article.id
    return {name: data[name] for name in FIELDS}
