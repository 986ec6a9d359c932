"""What a run did, per source and in total: the counts, statuses and exit code."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL

MAX_ERRORS_KEPT = 5
OUTCOMES = (
    "new",  # a new article row (in a new story, or joining the story of another copy)
    "updated",  # a real edit of a stored article: its previous text is kept as a version
    "unchanged",  # fetched again: no real edit (a 304, the same text, or furniture only)
    "duplicate",  # stored in this run already, under another of its URLs
    "fresh",  # stored less than refresh_after ago: not fetched again
    "skipped",  # robots.txt forbids it, or it is not HTML
    "rejected",  # the page held no article (empty, consent, login, error or block page)
    "suspect",  # a re-fetch whose text collapsed against the stored one: not stored
    "failed",  # fetching or extracting failed
)
REFUSED = ("rejected", "suspect")  # pages a site served in place of its articles


@dataclass(frozen=True)
class ArticleEvent:
    """One article handled, for progress displays."""

    source: str
    url: str
    outcome: str  # one of OUTCOMES
    message: str = ""


@dataclass(frozen=True)
class SourceReport:
    """What one source's run did."""

    name: str
    pages_ok: int
    pages_failed: int
    found: int
    counts: dict[str, int]
    errors: tuple[str, ...]

    @property
    def status(self) -> str:
        """ "failed" (no page fetched), "blocked" (most article fetches were pages that
        hold no article, or collapsed), "partial" (something failed) or "ok"."""
        if self.pages_ok == 0:
            return "failed"
        refused = sum(self.counts.get(kind, 0) for kind in REFUSED)
        fetched = refused + sum(
            self.counts.get(kind, 0) for kind in ("new", "updated", "unchanged", "failed")
        )
        if refused and refused * 2 > fetched:
            return "blocked"
        if self.pages_failed or self.counts["failed"] or not self.found:
            return "partial"
        return "ok"


@dataclass(frozen=True)
class RunReport:
    """What a whole run did; ``exit_code`` is what ``scraper run`` exits with."""

    run_id: int
    sources: tuple[SourceReport, ...]
    interrupted: bool = False  # stopped (RunOptions.stop) before all work was done

    @property
    def status(self) -> str:
        if self.interrupted:
            return "interrupted"
        statuses = {s.status for s in self.sources}
        if statuses <= {"ok"}:
            return "ok"
        if statuses == {"failed"}:
            return "failed"
        return "partial"

    @property
    def exit_code(self) -> int:
        codes = {"ok": EXIT_OK, "partial": EXIT_PARTIAL, "interrupted": EXIT_INTERRUPTED}
        return codes.get(self.status, EXIT_FAILED)

    def totals(self) -> dict[str, int]:
        totals = dict.fromkeys(OUTCOMES, 0)
        for source in self.sources:
            for key, value in source.counts.items():
                totals[key] += value
        return totals

    def summary(self) -> str:
        """One line: what was stored, and which sources failed and why."""
        t = self.totals()
        line = (
            f"run {self.run_id} {self.status}: {t['new']} new, {t['updated']} updated, "
            f"{t['unchanged']} unchanged, {t['fresh']} not yet due again, "
            f"{t['duplicate']} duplicates, {t['skipped']} skipped, "
            f"{t['rejected'] + t['suspect']} refused (no article, or collapsed text), "
            f"{t['failed']} failed"
        )
        problems = [
            f"{s.name} {s.status}" + (f" ({s.errors[0]})" if s.errors else "")
            for s in self.sources
            if s.status != "ok"
        ]
        return line + ("; " + "; ".join(problems) if problems else "")
