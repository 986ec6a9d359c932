"""Source health: is each source still running, succeeding and extracting well?

Computed from the ``source_runs`` history and the source's most recently fetched
articles.  A source is

- ``never-run``: no run of it is recorded yet;
- ``failing``: its last run failed (nothing fetched: DNS, refused, 403, 5xx...) or the
  scheduler job raised;
- ``blocked``: in its last run most article fetches got pages that hold no article
  (block, consent, login or error pages) or whose text collapsed against the stored
  one; nothing of them was stored;
- ``degraded``: it runs, but something a redesign or a block would cause is off (see
  :class:`Thresholds`): more than half of its pages or article fetches failed in the
  last run, the last run found no article links, more than half of its recent
  articles have a short or empty body, no title or no date, a configured selector
  fell back to the generic extractor on more than half of them, or it has not run
  for several schedule periods;
- ``ok`` otherwise.

A failing source is retried less and less often (:func:`backoff_until`): after *n*
consecutive failures the next run waits ``period * 2**(n-1)`` from the last failed
start, capped, and the first success puts it back on its schedule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..clock import utc_now
from ..config import Config, Source
from ..errors import EXIT_OK, EXIT_PARTIAL
from ..schedules import schedule_period
from ..store import ArticleSample, SourceRun, Store
from ..store.records import ATTEMPTS, FAILURES, SUCCESSES

__all__ = [
    "TABLE_COLUMNS",
    "ArticleHealth",
    "HealthReport",
    "SourceHealth",
    "Thresholds",
    "article_health",
    "backoff_delay",
    "backoff_until",
    "consecutive_failures",
    "judge",
    "source_health",
]

RULE_FALLBACK_MARK = "used generic extractor"  # how extract records a selector that gave nothing
RULE_FIELDS = ("title", "published", "body")
TABLE_COLUMNS = (
    "source",
    "status",
    "last run",
    "last success",
    "fails",
    "new/run",
    "articles",
    "short",
    "no title",
    "no date",
    "selector miss",
    "why",
)


@dataclass(frozen=True)
class Thresholds:
    """When a source counts as degraded, and how far failing sources back off."""

    recent_runs: int = 10  # runs averaged for "new per run"
    recent_articles: int = 30  # most recently fetched articles examined
    min_articles: int = 5  # fewer than this: article figures shown but not judged
    short_body: int = 200  # characters: a body shorter than this counts as short
    max_share: float = 0.5  # short bodies, missing titles/dates, selector fallbacks
    max_fetch_failures: float = 0.5  # share of pages or articles failed in the last run
    stale_periods: float = 4.0  # no run for this many schedule periods ...
    stale_min: float = 2 * 3600.0  # ... and at least this many seconds: degraded
    backoff_cap: float = 6 * 3600.0  # longest wait between retries of a failing source


@dataclass(frozen=True)
class ArticleHealth:
    """Shares (0..1) over the most recently fetched articles of a source."""

    sample: int = 0
    short_body: float = 0.0
    missing_title: float = 0.0
    missing_date: float = 0.0
    rule_fallbacks: Mapping[str, float] = field(default_factory=dict)  # field -> share


@dataclass(frozen=True)
class SourceHealth:
    source: str
    status: str  # "ok" | "degraded" | "blocked" | "failing" | "never-run"
    reasons: tuple[str, ...]
    last_run: datetime | None
    last_status: str | None
    last_success: datetime | None
    consecutive_failures: int
    last_new: int | None  # articles added by the last successful run
    new_per_run: float | None  # mean over the recent successful runs
    articles: ArticleHealth
    retry_at: datetime | None  # a failing source is not run before this time

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("last_run", "last_success", "retry_at"):
            value = getattr(self, key)
            data[key] = value.isoformat() if value else None
        data["reasons"] = list(self.reasons)
        return data

    def row(self) -> dict[str, Any]:
        """Flat cells for a table."""
        a = self.articles
        worst_rule = max(a.rule_fallbacks.items(), key=lambda kv: kv[1], default=None)
        return {
            "source": self.source,
            "status": self.status,
            "last run": _short_time(self.last_run),
            "last success": _short_time(self.last_success),
            "fails": self.consecutive_failures,
            "new/run": "-" if self.new_per_run is None else f"{self.new_per_run:.1f}",
            "articles": a.sample,
            "short": _share(a.short_body, a.sample),
            "no title": _share(a.missing_title, a.sample),
            "no date": _share(a.missing_date, a.sample),
            "selector miss": f"{worst_rule[0]} {_percent(worst_rule[1])}" if worst_rule else "-",
            "why": "; ".join(self.reasons),
        }


@dataclass(frozen=True)
class HealthReport:
    sources: tuple[SourceHealth, ...]

    @property
    def exit_code(self) -> int:
        """0 when no source is degraded or failing (never-run counts as fine), else 1."""
        bad = any(s.status in ("degraded", "failing", "blocked") for s in self.sources)
        return EXIT_PARTIAL if bad else EXIT_OK

    def rows(self) -> list[dict[str, Any]]:
        return [s.row() for s in self.sources]

    def dicts(self) -> list[dict[str, Any]]:
        return [s.to_dict() for s in self.sources]


def source_health(
    store: Store,
    config: Config,
    *,
    now: Callable[[], datetime] = utc_now,
    thresholds: Thresholds = Thresholds(),
) -> HealthReport:
    """The health of every configured source, from the database's records."""
    when = now()
    results = []
    for source in config.sources:
        limit = max(100, thresholds.recent_runs)
        runs = store.recent_source_runs(source.name, limit, statuses=ATTEMPTS)
        samples = store.article_samples(source.name, thresholds.recent_articles)
        results.append(judge(source, runs, samples, when, thresholds))
    return HealthReport(tuple(results))


def judge(
    source: Source,
    runs: Sequence[SourceRun],
    samples: Sequence[ArticleSample],
    now: datetime,
    thresholds: Thresholds = Thresholds(),
) -> SourceHealth:
    """Health of one source from its runs (newest first) and recent article samples."""
    attempts = [r for r in runs if r.status in ATTEMPTS]
    successes = [r for r in attempts if r.status in SUCCESSES]
    recent = successes[: thresholds.recent_runs]
    failures = consecutive_failures(runs)
    articles = article_health(samples, thresholds.short_body)
    period = schedule_period(source.schedule, now)
    status, reasons = "never-run", []
    if attempts:
        reasons = _problems(attempts[0], articles, source, thresholds)
        if failures:
            status = "failing"
            last = next(r for r in attempts if r.status in FAILURES)
            reasons.insert(0, f"{failures} failed run(s) in a row: {last.error or last.status}")
        elif attempts[0].status == "blocked":
            status = "blocked"
            refused = sum(attempts[0].counts.get(k, 0) for k in ("rejected", "suspect"))
            why = attempts[0].error or "pages that hold no article"
            reasons.insert(0, f"last run: {refused} article page(s) refused: {why}")
        else:
            status = "degraded" if reasons else "ok"
        stale = _stale(attempts[0], period, now, thresholds)
        if stale and status == "ok":
            status = "degraded"
        reasons += [stale] if stale else []
    return SourceHealth(
        source=source.name,
        status=status,
        reasons=tuple(reasons),
        last_run=attempts[0].started_at if attempts else None,
        last_status=attempts[0].status if attempts else None,
        last_success=successes[0].started_at if successes else None,
        consecutive_failures=failures,
        last_new=recent[0].new if recent else None,
        new_per_run=sum(r.new for r in recent) / len(recent) if recent else None,
        articles=articles,
        retry_at=_retry_at(runs, period, thresholds.backoff_cap),
    )


def _problems(last: SourceRun, articles: ArticleHealth, source: Source, t: Thresholds) -> list[str]:
    """Why a running source counts as degraded (empty: it does not)."""
    reasons = []
    pages = last.pages_ok + last.pages_failed
    if last.status in SUCCESSES:
        if pages and last.pages_failed / pages > t.max_fetch_failures:
            reasons.append(f"last run: {last.pages_failed} of {pages} listing pages failed")
        if last.attempted and last.failed / last.attempted > t.max_fetch_failures:
            reasons.append(f"last run: {last.failed} of {last.attempted} articles failed")
        if last.pages_ok and last.found == 0:
            reasons.append("last run found no article links")
    if articles.sample < t.min_articles:
        return reasons
    shares = {
        f"body under {t.short_body} chars": articles.short_body,
        "no title": articles.missing_title,
        "no date": articles.missing_date,
    }
    rules = source.rules
    configured = {"title": rules.title, "published": rules.published, "body": rules.body}
    for name, share in articles.rule_fallbacks.items():
        shares[f"{name} selector {configured.get(name)!r} fell back"] = share
    reasons += [
        f"{_percent(share)} of recent articles: {what}"
        for what, share in shares.items()
        if share > t.max_share
    ]
    return reasons


def _stale(last: SourceRun, period: float, now: datetime, t: Thresholds) -> str | None:
    limit = max(t.stale_periods * period, t.stale_min)
    if (now - last.started_at).total_seconds() <= limit:
        return None
    return f"no run since {_short_time(last.started_at)}"


def article_health(samples: Sequence[ArticleSample], short_body: int = 200) -> ArticleHealth:
    """Shares of short bodies, missing titles and dates, and selector fallbacks per field."""
    n = len(samples)
    if not n:
        return ArticleHealth()
    fallbacks = {
        name: sum(1 for s in samples if RULE_FALLBACK_MARK in s.errors.get(name, "")) / n
        for name in RULE_FIELDS
    }
    return ArticleHealth(
        sample=n,
        short_body=sum(1 for s in samples if s.body_length < short_body) / n,
        missing_title=sum(1 for s in samples if not s.has_title) / n,
        missing_date=sum(1 for s in samples if not s.has_date) / n,
        rule_fallbacks={name: share for name, share in fallbacks.items() if share},
    )


def consecutive_failures(runs: Sequence[SourceRun]) -> int:
    """Failed runs (newest first) before the last success; skips, misses, interrupts ignored."""
    count = 0
    for run in runs:
        if run.status in SUCCESSES:
            break
        if run.status in FAILURES:
            count += 1
    return count


def backoff_delay(failures: int, period: float, cap: float) -> float:
    """Seconds from a failed start to the next try: the period doubled per extra failure."""
    if failures <= 0:
        return 0.0
    return min(period * 2.0 ** min(failures - 1, 60), max(cap, period))


def _retry_at(runs: Sequence[SourceRun], period: float, cap: float) -> datetime | None:
    failures = consecutive_failures(runs)
    if failures < 2:  # one failure: the next scheduled run is the retry
        return None
    last = next(r for r in runs if r.status in FAILURES)
    return last.started_at + timedelta(seconds=backoff_delay(failures, period, cap))


def backoff_until(
    runs: Sequence[SourceRun], period: float, now: datetime, cap: float
) -> datetime | None:
    """When a failing source may run again, if a run now would come too early; else None.

    A run is let through from half a period before the retry time on, so that scheduled
    runs (which jitter) fall on the right side of it.
    """
    retry_at = _retry_at(runs, period, cap)
    if retry_at is None or now + timedelta(seconds=period / 2) >= retry_at:
        return None
    return retry_at


def _share(share: float, sample: int) -> str:
    return _percent(share) if sample else "-"


def _percent(share: float) -> str:
    return f"{round(share * 100)}%"


def _short_time(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
