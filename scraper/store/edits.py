"""When a re-fetched page is a real edit, page furniture, or a collapse: the same for every backend.

- A **real edit** changes the title, the date, or a paragraph of the text that is not
  site furniture.  Only a real edit writes a version.
- **Furniture** is a changed paragraph that is short (a time stamp, a counter, "Updated
  5 min ago") or that also appears in other articles of the same outlet (a box of most
  read stories, a newsletter teaser).  A change of furniture alone leaves the stored
  text as it is.
- A **collapse** is a re-fetch whose text shrank to under a third of a substantial stored
  text, or became the text many of the outlet's other pages now share: a block, consent
  or error page served in place of the article.  It never replaces the stored text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from .fingerprint import normalize, words

SHORT_PARAGRAPH = 6  # words: a changed paragraph shorter than this is furniture
COLLAPSE_RATIO = 1 / 3  # a new text this much shorter than a substantial stored one collapsed
SUBSTANTIAL_STORED = 500  # characters of stored text before a collapse is judged

# shared(paragraph) -> whether other articles of the same outlet carry that paragraph
Shared = Callable[[str], bool]


def paragraphs(body: str) -> list[str]:
    """The body's paragraphs (blank-line separated), each as it stands, empty ones dropped."""
    return [p.strip() for p in body.split("\n\n") if p.strip()]


def changed_paragraphs(old: str, new: str) -> list[str]:
    """Paragraphs added, removed or rewritten between two texts (compared normalized)."""
    before = {normalize(p): p for p in paragraphs(old)}
    after = {normalize(p): p for p in paragraphs(new)}
    counts_before = Counter(normalize(p) for p in paragraphs(old))
    counts_after = Counter(normalize(p) for p in paragraphs(new))
    gone = counts_before - counts_after
    added = counts_after - counts_before
    return [before[key] for key in gone] + [after[key] for key in added]


def is_edit(row: Mapping[str, Any], merged: Mapping[str, Any], shared: Shared) -> bool:
    """Whether ``merged`` (the stored row with a re-fetch's values) is a real edit of ``row``."""
    if merged["title"] != row["title"] or merged["published"] != row["published"]:
        return True
    if merged["body_hash"] == row["body_hash"]:
        return False
    return any(
        len(words(paragraph)) >= SHORT_PARAGRAPH and not shared(paragraph)
        for paragraph in changed_paragraphs(str(row["body"]), str(merged["body"]))
    )


def collapsed(stored_body: str, new_body: str, new_text_shared: bool) -> str | None:
    """Why a re-fetched text must not replace the stored one, or None when it may."""
    old_length, new_length = len(normalize(stored_body)), len(normalize(new_body))
    if old_length >= SUBSTANTIAL_STORED and new_length < old_length * COLLAPSE_RATIO:
        return f"text collapsed from {old_length} to {new_length} characters"
    if new_text_shared:
        return "text is the same as on other pages of the site"
    return None
