"""Per-source run records (table ``source_runs``), the history source health is computed from.

``crawl()`` writes one row per source at the end of every run (``ok``, ``partial``,
``failed`` or ``interrupted``); the scheduler's event listener writes a row for an
attempt that never became a crawl (``error``: the job raised; ``missed``: it fired too
late; ``skipped``: the previous run of the source was still going).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .schema import iso_utc, to_json, translate_errors, write_transaction

if TYPE_CHECKING:
    from .sqlite import Store

__all__ = [
    "ATTEMPTS",
    "FAILURES",
    "SOURCE_RUN_STATUSES",
    "SUCCESSES",
    "SourceRun",
    "record_source_runs",
    "recent_source_runs",
]

SUCCESSES = frozenset({"ok", "partial"})
FAILURES = frozenset({"failed", "error"})
ATTEMPTS = SUCCESSES | FAILURES | {"interrupted"}  # rows that are a run of the source
SOURCE_RUN_STATUSES = ATTEMPTS | {"missed", "skipped"}


@dataclass(frozen=True)
class SourceRun:
    """What one run (or one scheduler event) did for one source."""

    source: str
    status: str  # one of SOURCE_RUN_STATUSES
    started_at: datetime  # timezone-aware
    finished_at: datetime | None = None
    run_id: int | None = None  # None for scheduler events that started no run
    counts: Mapping[str, int] = field(default_factory=dict)  # article outcomes
    found: int = 0  # article links discovered
    pages_ok: int = 0  # listing, feed and sitemap pages fetched
    pages_failed: int = 0
    error: str | None = None

    def __post_init__(self) -> None:
        if self.status not in SOURCE_RUN_STATUSES:
            raise ValueError(f"status: unknown source run status {self.status!r}")

    @property
    def new(self) -> int:
        return int(self.counts.get("new", 0))

    @property
    def failed(self) -> int:
        return int(self.counts.get("failed", 0))

    @property
    def attempted(self) -> int:
        """Article pages requested (everything but 'fresh' and deliberate skips)."""
        kinds = ("new", "updated", "unchanged", "duplicate", "failed")
        return sum(int(self.counts.get(k, 0)) for k in kinds)


def record_source_runs(store: Store, runs: Iterable[SourceRun]) -> None:
    """Insert the rows in one transaction."""
    rows = [_row(run) for run in runs]
    if not rows:
        return
    with write_transaction(store.db, store.path, "recording source runs"):
        store.db.table("source_runs").insert_all(rows)


def recent_source_runs(
    store: Store, source: str, limit: int = 20, *, statuses: Collection[str] | None = None
) -> list[SourceRun]:
    """The source's last ``limit`` rows (only those with one of ``statuses``), newest first."""
    if limit < 1:
        raise ValueError(f"limit: must be >= 1, got {limit}")
    wanted = sorted(statuses if statuses is not None else SOURCE_RUN_STATUSES)
    marks = ", ".join("?" * len(wanted))
    sql = (
        f"SELECT * FROM source_runs WHERE source = ? AND status IN ({marks})"
        " ORDER BY id DESC LIMIT ?"
    )
    with translate_errors(store.path, f"reading the runs of source {source!r}"):
        return [_decode(row) for row in store.db.query(sql, [source, *wanted, limit])]


def _row(run: SourceRun) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "source": run.source,
        "started_at": iso_utc(run.started_at, "started_at"),
        "finished_at": None if run.finished_at is None else iso_utc(run.finished_at, "finished_at"),
        "status": run.status,
        "counts": to_json(dict(run.counts)),
        "new": run.new,
        "failed": run.failed,
        "found": run.found,
        "pages_ok": run.pages_ok,
        "pages_failed": run.pages_failed,
        "error": run.error,
    }


def _decode(row: Mapping[str, Any]) -> SourceRun:
    finished = row["finished_at"]
    return SourceRun(
        source=str(row["source"]),
        status=str(row["status"]),
        started_at=datetime.fromisoformat(row["started_at"]),
        finished_at=None if finished is None else datetime.fromisoformat(finished),
        run_id=row["run_id"],
        counts=json.loads(row["counts"] or "{}"),
        found=int(row["found"] or 0),
        pages_ok=int(row["pages_ok"] or 0),
        pages_failed=int(row["pages_failed"] or 0),
        error=row["error"],
    )
