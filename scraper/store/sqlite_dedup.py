"""Near-duplicate search in SQLite: the ``shingle_bands`` index of MinHash band keys.

Each body's keys and its lead's (see :mod:`.fingerprint`) are indexed together, so a copy
cut to its first half meets the whole's lead keys.  Candidates are found by indexed
lookups of the keys, never by a scan; only the few best candidates' bodies are read and
compared.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlite_utils import Database

from .fingerprint import Fingerprint, Profile, is_substantial, resemblance, same_text


def set_band_keys(db: Database, article_id: int, body: str, fingerprint: Fingerprint) -> None:
    """Replace the article's indexed band keys (none for a body too short to deduplicate)."""
    db.execute("DELETE FROM shingle_bands WHERE article_id = ?", [article_id])
    if is_substantial(body):
        db.conn.executemany(
            "INSERT OR IGNORE INTO shingle_bands (band_key, article_id) VALUES (?, ?)",
            [(key, article_id) for key in fingerprint.keys],
        )


def same_body(db: Database, body_hash: str) -> int | None:
    """The oldest article with exactly this body fingerprint."""
    row = db.execute(
        "SELECT id FROM articles WHERE body_hash = ? ORDER BY id LIMIT 1", [body_hash]
    ).fetchone()
    return None if row is None else int(row[0])


def closest_article(db: Database, fingerprint: Fingerprint, limit: int) -> int | None:
    """The stored article most resembling ``fingerprint``'s body, if it is the same text.

    Candidates are the ``limit`` articles sharing the most keys (of the body or its
    lead); only their bodies are read (ties go to the oldest article).
    """
    keys = fingerprint.keys
    if not keys:
        return None
    candidates = [
        int(aid)
        for (aid,) in db.execute(
            f"SELECT article_id FROM shingle_bands WHERE band_key IN ({_marks(keys)})"
            " GROUP BY article_id ORDER BY count(*) DESC, article_id LIMIT ?",
            [*keys, limit],
        )
    ]
    bodies = db.execute(
        f"SELECT id, body FROM articles WHERE id IN ({_marks(candidates)})", candidates
    ).fetchall()
    ours = fingerprint.profile
    matches = [
        (resemblance(ours.shingles, theirs.shingles), -int(aid))
        for aid, theirs in ((aid, Profile.of(body)) for aid, body in bodies)
        if same_text(ours, theirs)
    ]
    return -max(matches)[1] if matches else None


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))
