"""The fetch log: one ``fetches`` row and one log event per fetch, with its outcome."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from ..config import Source
from ..errors import FetchError, NotHTML, RobotsDisallowed
from ..models import Page
from ..store import FetchRecord
from .storelane import StoreLane

log = logging.getLogger("scraper")


class FetchLog:
    """Records every fetch of one run, so a 404, a robots.txt refusal and a timeout stay
    distinguishable afterwards."""

    def __init__(self, lane: StoreLane, run_id: int, now: Callable[[], datetime]) -> None:
        self.lane = lane
        self.run_id = run_id
        self.now = now

    async def page(
        self,
        source: Source,
        page: Page,
        kind: str,
        *,
        refused: tuple[str, str, str] | None = None,
    ) -> None:
        """A page fetched; ``refused`` is (outcome, kind, why) when its content was not
        taken: "rejected" (no article on it) or "suspect" (its text collapsed)."""
        outcome, error_kind, error = refused or (
            "not-modified" if page.not_modified else "ok",
            None,
            None,
        )
        await self.record(
            FetchRecord(
                run_id=self.run_id,
                source=source.name,
                url=page.requested_url,
                kind=kind,
                outcome=outcome,
                error_kind=error_kind,
                error=error,
                status=page.status,
                final_url=page.final_url,
                elapsed_ms=round(page.elapsed * 1000),
                bytes=len(page.content),
                attempts=page.attempts,
                fetched_at=page.fetched_at,
            )
        )

    async def error(self, source: Source, url: str, kind: str, exc: FetchError) -> None:
        skipped = isinstance(exc, RobotsDisallowed | NotHTML)
        await self.record(
            FetchRecord(
                run_id=self.run_id,
                source=source.name,
                url=url,
                kind=kind,
                outcome="skipped" if skipped else "error",
                status=exc.status,
                error_kind=exc.kind,
                error=str(exc),
                fetched_at=self.now(),
            )
        )

    async def record(self, record: FetchRecord) -> None:
        """Store one fetch and log it as one event line (source, URL, status, timing)."""
        await self.lane.call(self.lane.store.record_fetch, record)
        log.info(
            "fetch %s %s %s %s %s%s",
            record.source,
            record.kind,
            record.outcome,
            record.status if record.status is not None else "-",
            record.url,
            f" ({record.elapsed_ms} ms)" if record.elapsed_ms is not None else "",
            extra={
                "source": record.source,
                "url": record.url,
                "status": record.status,
                "elapsed_ms": record.elapsed_ms,
                "outcome": record.outcome,
                "kind": record.kind,
            },
        )
