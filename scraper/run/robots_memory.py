"""robots.txt copies kept in the store, so an outage of robots.txt does not stop a source."""

from __future__ import annotations

from datetime import UTC, datetime

from ..store import Store
from ..store.schema import translate_errors, write_transaction


class StoredRobots:
    """A :class:`~scraper.robots.RobotsMemory` on the ``robots`` table of a store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def recall(self, url: str) -> bytes | None:
        with translate_errors(self.store.path, f"reading the stored copy of {url}"):
            row = self.store.db.execute(
                "SELECT content FROM robots WHERE url = ?", [url]
            ).fetchone()
        if row is None or row[0] is None:
            return None
        content = row[0]
        return content if isinstance(content, bytes) else str(content).encode("utf-8")

    def remember(self, url: str, content: bytes) -> None:
        with write_transaction(self.store.db, self.store.path, f"storing {url}"):
            self.store.db.execute(
                "INSERT OR REPLACE INTO robots (url, content, fetched_at) VALUES (?, ?, ?)",
                [url, content, datetime.now(UTC).isoformat()],
            )
