"""The long-running scheduler: one APScheduler job per source, from its ``schedule``.

Concurrency and locking: the daemon holds the database's :class:`~scraper.lock.RunLock`
from :meth:`Daemon.start` to :meth:`Daemon.shutdown`, so a ``scraper run`` from cron
meets the lock and skips (exit 4) or waits (``--wait``), and a second daemon on the same
database refuses to start.  Inside the daemon, sources run concurrently, each job in a
worker thread with its own store connection and fetcher (request starts to one host
stay its ``delay`` apart across all of them: a shared ``HostSpacing``); ``max_instances=1`` means a
source never runs twice at once (a run still going when the next one is due makes the
scheduler skip that one), ``coalesce`` folds a backlog of missed runs into one, and a run
later than its misfire grace is recorded as ``missed``.

Failures are stored, not only logged: every crawl writes its ``source_runs`` rows, and a
listener records job errors, misses and skipped overlaps there too.  A failing source
backs off (:func:`scraper.health.backoff_until`) and returns to its schedule after a
success.

Stopping: :meth:`Daemon.shutdown` sets the stop event every crawl watches: workers take
no new article, requests in flight get ``grace`` seconds and are then cancelled, and the
run is recorded ``interrupted``.  Signal handling is left to the caller (the CLI), which
sets :class:`Controls` flags that :func:`serve` acts on.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger

from ..clock import utc_now
from ..config import Config, load_config
from ..errors import ConfigError, ScraperError
from ..fetch import FetchEvent, HostSpacing
from ..schedules import Schedule, schedule_period
from ..store import SourceRun, Store, open_store
from ..store.records import ATTEMPTS
from .health import Thresholds, backoff_until
from .lock import RunLock
from .pipeline import RunOptions, crawl

__all__ = [
    "Controls",
    "Daemon",
    "DaemonOptions",
    "JobChanges",
    "JobSpec",
    "SchedulePolicy",
    "plan_jobs",
    "run_job",
    "serve",
]

log = logging.getLogger("scraper.schedule")


@dataclass(frozen=True)
class SchedulePolicy:
    """How a source's ``schedule`` becomes a job: jitter and lateness allowed."""

    jitter_fraction: float = 0.1  # random delay of up to this share of the period ...
    max_jitter: float = 60.0  # ... capped at this many seconds
    misfire_fraction: float = 0.5  # a run this late (share of the period) still runs ...
    max_misfire: float = 3600.0  # ... up to this many seconds late; later is "missed"


@dataclass(frozen=True)
class JobSpec:
    """One source's job: what APScheduler is told, as a plain comparable value."""

    source: str  # also the job id
    schedule: Schedule
    jitter: float  # seconds
    misfire_grace: int  # seconds (APScheduler wants an integer)

    def trigger(self, timezone: tzinfo | None = None) -> BaseTrigger:
        """The APScheduler trigger; cron fields are read in ``timezone`` (None: local)."""
        return self.schedule.trigger(jitter=self.jitter, timezone=timezone)


def plan_jobs(
    config: Config, policy: SchedulePolicy = SchedulePolicy(), *, now: datetime | None = None
) -> list[JobSpec]:
    """The job table for ``config``: one job per source (pure: no scheduler involved)."""
    when = now or utc_now()
    specs = []
    for source in config.sources:
        period = schedule_period(source.schedule, when)
        specs.append(
            JobSpec(
                source=source.name,
                schedule=source.schedule,
                jitter=min(period * policy.jitter_fraction, policy.max_jitter),
                misfire_grace=_misfire_grace(period, policy),
            )
        )
    return specs


def _misfire_grace(period: float, policy: SchedulePolicy) -> int:
    return max(1, int(min(period * policy.misfire_fraction, policy.max_misfire)))


@dataclass(frozen=True)
class DaemonOptions:
    """Everything the daemon needs, built at the CLI edge."""

    config_path: Path
    db_path: Path
    grace: float = 30.0  # seconds in-flight requests get after a stop request
    lock_wait: float = 0.0  # seconds to wait at start for another run's database lock
    start_now: bool = False  # run every source once right away, then on schedule
    workers: int = 8  # sources crawled at the same time
    policy: SchedulePolicy = SchedulePolicy()
    thresholds: Thresholds = Thresholds()  # backoff cap
    timezone: tzinfo | None = None  # for cron expressions; None: the local zone
    load: Callable[[Path], Config] = load_config
    on_fetch_event: Callable[[FetchEvent], None] | None = None
    now: Callable[[], datetime] = utc_now


@dataclass(frozen=True)
class JobChanges:
    """What a reload did to the job table (source names)."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def __str__(self) -> str:
        parts = [f"{k} {', '.join(v)}" for k, v in vars(self).items() if v]
        return "; ".join(parts) or "no job changes"


def run_job(daemon: Daemon, name: str) -> str:
    """The function every scheduled job calls (a module-level reference)."""
    return daemon.run_source(name)


class Daemon:
    """A BackgroundScheduler running each source on its schedule; see the module doc."""

    def __init__(self, options: DaemonOptions) -> None:
        self.options = options
        self._stop = threading.Event()
        self._lock = RunLock(options.db_path, wait=options.lock_wait)
        self._config: Config | None = None
        self._specs: dict[str, JobSpec] = {}
        self._spacing = HostSpacing()  # one host's delay holds across all sources' crawls
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=max(1, options.workers))},
            job_defaults={"max_instances": 1, "coalesce": True},
            timezone=options.timezone or _local_zone(),
            logger=logging.getLogger("scraper.apscheduler"),
        )
        self._scheduler.add_listener(
            self._on_event,
            EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES,
        )

    @property
    def jobs(self) -> list[JobSpec]:
        """The job table now in effect."""
        return list(self._specs.values())

    @property
    def scheduler(self) -> BackgroundScheduler:
        """The APScheduler instance (for inspection; the daemon manages its jobs)."""
        return self._scheduler

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def start(self) -> None:
        """Read the config, take the database lock, close stale runs and start the jobs."""
        config = self.options.load(self.options.config_path)
        self._lock.acquire()
        try:
            with open_store(self.options.db_path, now=self.options.now) as store:
                store.abort_stale_runs()
            self._config = config
            now = datetime.now(self._scheduler.timezone) if self.options.start_now else None
            for spec in plan_jobs(config, self.options.policy, now=self.options.now()):
                self._add(spec, next_run_time=now)
            self._scheduler.start()
        except BaseException:
            self._lock.release()
            raise
        log.info("scheduler started: %d sources", len(self._specs))

    def reload(self) -> JobChanges:
        """Re-read the config and add, change and remove jobs; a bad file changes nothing."""
        config = self.options.load(self.options.config_path)
        planned = plan_jobs(config, self.options.policy, now=self.options.now())
        new = {spec.source: spec for spec in planned}
        old = self._specs
        changes = JobChanges(
            added=tuple(n for n in new if n not in old),
            changed=tuple(n for n in new if n in old and new[n] != old[n]),
            removed=tuple(n for n in old if n not in new),
        )
        self._config = config  # running jobs keep the config they started with
        for name in changes.removed:
            self._scheduler.remove_job(name)
            del self._specs[name]
        for name in (*changes.added, *changes.changed):
            self._add(new[name])
        log.info("config reloaded: %s", changes)
        return changes

    def shutdown(self) -> None:
        """Stop taking work, let running crawls finish or abandon within the grace time."""
        self._stop.set()
        try:
            if self._scheduler.running:
                self._scheduler.shutdown(wait=True)
        finally:
            self._lock.release()
        log.info("scheduler stopped")

    def _add(self, spec: JobSpec, next_run_time: datetime | None = None) -> None:
        extra: dict[str, Any] = {"next_run_time": next_run_time} if next_run_time else {}
        self._scheduler.add_job(
            run_job,
            trigger=spec.trigger(self.options.timezone),
            args=(self, spec.source),
            id=spec.source,
            name=f"source {spec.source}",
            replace_existing=True,
            misfire_grace_time=spec.misfire_grace,
            **extra,
        )
        self._specs[spec.source] = spec

    # -- the job ----------------------------------------------------------------------

    def run_source(self, name: str) -> str:
        """Crawl one source unless stopping, removed or backing off; returns the outcome."""
        config = self._config
        if self._stop.is_set() or config is None:
            return "stopped"
        if name not in {s.name for s in config.sources}:
            return "removed"
        o = self.options
        started = time.monotonic()
        with open_store(o.db_path, now=o.now) as store:
            until = self._backoff(store, config, name)
            if until is not None:
                log.info("source %s is failing: no retry before %s", name, until.isoformat())
                return "backoff"
            options = RunOptions(
                sources=(name,),
                stop=self._stop,
                grace=o.grace,
                on_fetch_event=o.on_fetch_event,
                now=o.now,
                spacing=self._spacing,
            )
            report = asyncio.run(crawl(config, store, options))
        elapsed = time.monotonic() - started
        log.info(
            "source %s %s in %.1fs: %s",
            name,
            report.status,
            elapsed,
            report.summary(),
            extra={"source": name, "outcome": report.status, "elapsed_ms": round(elapsed * 1000)},
        )
        return report.status

    def _backoff(self, store: Store, config: Config, name: str) -> datetime | None:
        now = self.options.now()
        period = schedule_period(config.source(name).schedule, now)
        runs = store.recent_source_runs(name, limit=100, statuses=ATTEMPTS)
        return backoff_until(runs, period, now, self.options.thresholds.backoff_cap)

    # -- failures reach the database ---------------------------------------------------

    def _on_event(self, event: JobEvent) -> None:
        name = str(event.job_id)
        now = self.options.now()
        if event.code == EVENT_JOB_ERROR:
            exc = getattr(event, "exception", None)
            status, message = "error", f"the job raised {type(exc).__name__}: {exc}"
        elif event.code == EVENT_JOB_MISSED:
            status, message = "missed", "started too late (past the misfire grace time)"
        else:
            status, message = "skipped", "the previous run of this source was still going"
        log.warning("source %s: %s", name, message, extra={"source": name, "outcome": status})
        scheduled = _scheduled_time(event) or now
        try:
            with open_store(self.options.db_path, now=self.options.now) as store:
                store.record_source_runs(
                    [SourceRun(name, status, scheduled, finished_at=now, error=message)]
                )
        except ScraperError as exc:
            log.error("source %s: could not record the %s event: %s", name, status, exc)


def _scheduled_time(event: JobEvent) -> datetime | None:
    value = getattr(event, "scheduled_run_time", None)
    if value is None:
        times: Sequence[datetime] = getattr(event, "scheduled_run_times", ()) or ()
        value = times[-1] if times else None
    return value if isinstance(value, datetime) else None


def _local_zone() -> tzinfo:
    from tzlocal import get_localzone

    return get_localzone()


@dataclass
class Controls:
    """Requests from signal handlers to :func:`serve`'s loop (plain flags: signal-safe)."""

    reload_requested: bool = False
    stop_requested: bool = False
    reloads: list[JobChanges | str] = field(default_factory=list)  # what each reload did


def serve(
    daemon: Daemon,
    controls: Controls,
    *,
    poll: float = 0.2,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Start the daemon and run until ``controls.stop_requested``; reload when asked."""
    daemon.start()
    try:
        while not controls.stop_requested:
            sleep(poll)
            if controls.reload_requested:
                controls.reload_requested = False
                try:
                    controls.reloads.append(daemon.reload())
                except ConfigError as exc:
                    log.error("config not reloaded, keeping the previous one: %s", exc)
                    controls.reloads.append(str(exc))
    finally:
        daemon.shutdown()
