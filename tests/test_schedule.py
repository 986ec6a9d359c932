"""The scheduler daemon: job table, triggers, no overlap, reload, stop, lock, backoff, events."""

from __future__ import annotations

import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from faultserver import FaultServer, hold, ok, status
from newssite import config_toml, listing_page, publish, source_toml

from scraper.config import Config, load_config, parse_config
from scraper.errors import ConfigError, LockHeld
from scraper.run.lock import RunLock
from scraper.run.pipeline import RunOptions, run
from scraper.run.scheduler import (
    Controls,
    Daemon,
    DaemonOptions,
    JobChanges,
    JobSpec,
    SchedulePolicy,
    plan_jobs,
    serve,
)
from scraper.schedules import Schedule, cron_trigger, cron_weekdays
from scraper.store import SQLiteStore

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)  # a Wednesday
NEVER = "0 0 1 1 *"  # a cron schedule that does not fire during a test


def wait_for(condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Poll (50 ms) until ``condition()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def fast(seconds: float) -> Callable[[Path], Config]:
    """A config loader that turns every interval schedule into ``seconds`` (below the 1 s floor)."""

    def load(path: Path) -> Config:
        config = load_config(path)
        sources = tuple(
            dataclasses.replace(s, schedule=Schedule("interval", seconds=seconds, text="fast"))
            if s.schedule.kind == "interval"
            else s
            for s in config.sources
        )
        return dataclasses.replace(config, sources=sources)

    return load


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "sources.toml", tmp_path / "news.db"


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    """Daemons to shut down at the end of a test, whatever happened."""
    started: list[Daemon] = []
    yield started
    for daemon in started:
        if daemon.running:
            daemon.shutdown()


def runs(db: Path) -> list[tuple[str, str, str | None]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT status, started_at, finished_at FROM runs ORDER BY id"
        ).fetchall()


# -- the job table (pure) -------------------------------------------------------------------


def test_plan_jobs_gives_each_source_its_trigger() -> None:
    config = parse_config(
        config_toml(
            source_toml("a", "http://127.0.0.1:1/", schedule="*/15 * * * *"),
            source_toml("b", "http://127.0.0.1:1/", schedule="every 30s"),
            source_toml("c", "http://127.0.0.1:1/", schedule="every 2h"),
        )
    )
    a, b, c = plan_jobs(config, SchedulePolicy(), now=T0)
    assert a == JobSpec("a", Schedule.parse("*/15 * * * *"), jitter=60.0, misfire_grace=450)
    assert b == JobSpec("b", Schedule.parse("every 30s"), jitter=3.0, misfire_grace=15)
    assert a.schedule is config.source("a").schedule  # held, not copied out and rebuilt
    assert (c.jitter, c.misfire_grace) == (60.0, 3600.0)  # capped
    cron, interval = a.trigger(UTC), b.trigger(UTC)
    assert isinstance(cron, CronTrigger) and cron.jitter == 60
    assert str(cron.fields[6]) == "*/15"  # minute
    assert isinstance(interval, IntervalTrigger) and interval.interval == timedelta(seconds=30)
    assert interval.jitter == 3.0


def test_cron_weekdays_follow_crontab_not_apscheduler_numbering() -> None:
    assert cron_weekdays("1-5") == "mon,tue,wed,thu,fri"
    assert cron_weekdays("0") == cron_weekdays("7") == cron_weekdays("sun") == "sun"
    assert cron_weekdays("*/2") == "sun,tue,thu,sat"
    assert cron_weekdays("mon,5-7") == "sun,mon,fri,sat"
    with pytest.raises(ValueError, match="is not a day"):
        cron_weekdays("8")
    monday_6am = cron_trigger("0 6 * * 1", timezone=UTC).get_next_fire_time(None, T0)
    assert monday_6am == datetime(2024, 5, 6, 6, 0, tzinfo=UTC)


def test_job_specs_compare_by_what_the_schedule_means() -> None:
    config = parse_config(config_toml(source_toml("a", "http://127.0.0.1:1/", schedule="every 1h")))
    same = parse_config(config_toml(source_toml("a", "http://127.0.0.1:1/", schedule="every 60m")))
    other = parse_config(config_toml(source_toml("a", "http://127.0.0.1:1/", schedule="every 2h")))
    (spec,) = plan_jobs(config, now=T0)
    assert plan_jobs(same, now=T0) == [spec] and hash(plan_jobs(same, now=T0)[0]) == hash(spec)
    assert plan_jobs(other, now=T0) != [spec]  # a reload re-adds this job
    sundays = parse_config(
        config_toml(source_toml("a", "http://127.0.0.1:1/", schedule="0 9 * * 7"))
    )
    (sunday,) = plan_jobs(sundays, now=T0)
    fire = sunday.trigger(UTC).get_next_fire_time(None, T0)
    assert fire is not None and sunday.jitter == 60.0
    late = fire - datetime(2024, 5, 5, 9, tzinfo=UTC)  # Sunday 9:00, plus jitter
    assert timedelta(0) <= late <= timedelta(seconds=sunday.jitter)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.jitter = 0.0  # type: ignore[misc]


def test_cron_with_day_and_weekday_fires_on_either_like_crontab() -> None:
    trigger = cron_trigger("0 0 13 * 5", timezone=UTC)  # the 13th, and every Friday
    assert isinstance(trigger, OrTrigger)
    fires, fire = [], trigger.get_next_fire_time(None, T0)
    while fire is not None and len(fires) < 3:
        fires.append(fire.day)
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    assert fires == [3, 10, 13]  # Fridays 3 and 10 May, then the 13th (a Monday)


# -- the daemon -----------------------------------------------------------------------------


def test_daemon_schedules_one_job_per_source(
    paths: tuple[Path, Path], daemons: list[Daemon]
) -> None:
    config_path, db = paths
    config_path.write_text(
        config_toml(
            source_toml("a", "http://127.0.0.1:1/a", schedule=NEVER),
            source_toml("b", "http://127.0.0.1:1/b", schedule="every 10m"),
        )
    )
    daemon = Daemon(DaemonOptions(config_path, db, timezone=UTC))
    daemons.append(daemon)
    daemon.start()
    jobs = {job.id: job for job in daemon.scheduler.get_jobs()}
    assert sorted(jobs) == ["a", "b"]
    assert all(j.max_instances == 1 and j.coalesce for j in jobs.values())
    assert jobs["b"].misfire_grace_time == 300
    assert isinstance(jobs["a"].trigger, CronTrigger)
    assert jobs["b"].trigger.interval == timedelta(minutes=10)
    daemon.shutdown()
    assert not daemon.running
    RunLock(db).acquire()  # released


def test_no_overlap_when_a_run_outlasts_its_interval(
    paths: tuple[Path, Path], fault_server: FaultServer, daemons: list[Daemon]
) -> None:
    config_path, db = paths
    publish(fault_server, "/list", [1])
    fault_server.route("/list", hold(0.8, listing_page(["/a/1"])))
    config_path.write_text(config_toml(source_toml("slow", fault_server.url("/list"))))
    daemon = Daemon(DaemonOptions(config_path, db, start_now=True, load=fast(0.2)))
    daemons.append(daemon)
    daemon.start()
    wait_for(lambda: fault_server.hits["/list"] >= 2)  # the second run, after the first ended
    daemon.shutdown()
    assert fault_server.max_in_flight["/list"] == 1
    done = [r for r in runs(db) if r[0] != "interrupted"]
    assert done and all(end is not None for _, _, end in done)
    for (_, _, first_end), (_, second_start, _) in zip(done, done[1:], strict=False):
        assert first_end is not None and first_end <= second_start  # one after another
    with SQLiteStore(db) as store:
        statuses = [r.status for r in store.recent_source_runs("slow", limit=100)]
    assert "skipped" in statuses  # the fires that met the running job, recorded
    assert statuses.count("ok") >= 1


def test_reload_adds_changes_and_removes_jobs(
    paths: tuple[Path, Path], daemons: list[Daemon]
) -> None:
    config_path, db = paths
    url = "http://127.0.0.1:1/"
    config_path.write_text(
        config_toml(
            source_toml("keep", url, schedule=NEVER),
            source_toml("change", url, schedule="every 1h"),
            source_toml("drop", url, schedule="every 1h"),
        )
    )
    daemon = Daemon(DaemonOptions(config_path, db, timezone=UTC))
    daemons.append(daemon)
    daemon.start()
    config_path.write_text(
        config_toml(
            source_toml("keep", url, schedule=NEVER, body="div.other"),  # not a job change
            source_toml("change", url, schedule="every 2h"),
            source_toml("new", url, schedule="*/5 * * * *"),
        )
    )
    changes = daemon.reload()
    assert changes == JobChanges(added=("new",), changed=("change",), removed=("drop",))
    jobs = {job.id: job for job in daemon.scheduler.get_jobs()}
    assert sorted(jobs) == ["change", "keep", "new"]
    assert jobs["change"].trigger.interval == timedelta(hours=2)
    assert [s.source for s in daemon.jobs] == ["keep", "change", "new"]

    config_path.write_text("[[source]]\nname = 'broken'\n")
    with pytest.raises(ConfigError, match="needs at least one of"):
        daemon.reload()
    assert sorted(job.id for job in daemon.scheduler.get_jobs()) == ["change", "keep", "new"]


def test_serve_reloads_and_stops_on_request(paths: tuple[Path, Path]) -> None:
    config_path, db = paths
    url = "http://127.0.0.1:1/"
    config_path.write_text(config_toml(source_toml("a", url, schedule=NEVER)))
    controls = Controls()
    daemon = Daemon(DaemonOptions(config_path, db, timezone=UTC))
    script = [
        lambda: config_path.write_text(config_toml(source_toml("b", url, schedule=NEVER))),
        lambda: setattr(controls, "reload_requested", True),
        lambda: config_path.write_text("not toml ["),
        lambda: setattr(controls, "reload_requested", True),
        lambda: setattr(controls, "stop_requested", True),
    ]

    def sleep(seconds: float) -> None:  # each loop turn acts out the next step
        assert daemon.running
        script.pop(0)()

    serve(daemon, controls, sleep=sleep)
    assert not daemon.running and not script
    assert controls.reloads[0] == JobChanges(added=("b",), removed=("a",))
    assert "invalid TOML" in str(controls.reloads[1])
    assert [s.source for s in daemon.jobs] == ["b"]  # the bad file changed nothing
    RunLock(db).acquire()


def test_shutdown_during_a_crawl_is_bounded_and_leaves_a_consistent_database(
    paths: tuple[Path, Path], fault_server: FaultServer, daemons: list[Daemon]
) -> None:
    config_path, db = paths
    publish(fault_server, "/list", range(1, 4))
    fault_server.route("/a/3", hold(20))  # an article request that would take long
    config_path.write_text(config_toml(source_toml("news", fault_server.url("/list"))))
    daemon = Daemon(DaemonOptions(config_path, db, start_now=True, grace=0.3))
    daemons.append(daemon)
    daemon.start()
    wait_for(lambda: fault_server.hits["/a/3"] == 1)
    started = time.monotonic()
    daemon.shutdown()
    assert time.monotonic() - started < 2.0
    assert [r[0] for r in runs(db)] == ["interrupted"]
    with SQLiteStore(db) as store:
        (row,) = store.recent_source_runs("news")
        articles = store.articles(limit=10)
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        orphans = (
            "SELECT count(*) FROM articles WHERE id NOT IN (SELECT article_id FROM article_urls)"
        )
        assert store.db.execute(orphans).fetchone()[0] == 0
    assert (row.status, row.new) == ("interrupted", 2)
    assert sorted(a.title or "" for a in articles) == ["Story number 1", "Story number 2"]

    fault_server.route("/a/3", ok(b"<html><body><h1>Late</h1><p>" + b"word " * 80 + b"</p>"))
    report = run(load_config(config_path), db, RunOptions())  # the next start resumes
    assert report.status == "ok" and report.totals()["new"] == 1
    assert report.totals()["fresh"] == 2


def test_stop_set_before_any_work_records_interrupted(
    paths: tuple[Path, Path], fault_server: FaultServer
) -> None:
    config_path, db = paths
    publish(fault_server, "/list", range(1, 3))
    config_path.write_text(config_toml(source_toml("news", fault_server.url("/list"))))
    stop = threading.Event()
    stop.set()
    report = run(load_config(config_path), db, RunOptions(stop=stop))
    assert report.status == "interrupted" and report.exit_code == 130
    assert fault_server.hits["/list"] == 0
    assert [r[0] for r in runs(db)] == ["interrupted"]


def test_lock_between_cron_runs_and_the_scheduler(
    paths: tuple[Path, Path], daemons: list[Daemon]
) -> None:
    config_path, db = paths
    config_path.write_text(config_toml(source_toml("a", "http://127.0.0.1:1/", schedule=NEVER)))
    config = load_config(config_path)
    cron_run = RunLock(db)
    cron_run.acquire()  # a `scraper run` is going on
    daemon = Daemon(DaemonOptions(config_path, db))
    with pytest.raises(LockHeld, match="another run"):
        daemon.start()
    assert not daemon.running
    cron_run.release()

    daemons.append(daemon)
    daemon.start()
    with pytest.raises(LockHeld) as info:
        run(config, db, RunOptions(lock_wait=0.1))  # cron meets the scheduler: skipped
    assert info.value.exit_code == 4
    assert runs(db) == []  # nothing crawled, nothing recorded
    daemon.shutdown()
    assert run(config, db, RunOptions()).status == "failed"  # free again (port 1 refuses)


def test_failing_source_backs_off_and_recovers(
    paths: tuple[Path, Path], fault_server: FaultServer, daemons: list[Daemon]
) -> None:
    config_path, db = paths
    fault_server.route("/list", status(503))
    config_path.write_text(config_toml(source_toml("news", fault_server.url("/list"))))  # 1h
    clock = [T0]
    daemon = Daemon(DaemonOptions(config_path, db, now=lambda: clock[0]))
    daemons.append(daemon)
    daemon.start()  # the first fire is an hour away: the test drives the job itself

    def run_at(hours: int) -> str:
        clock[0] = T0 + timedelta(hours=hours)
        return daemon.run_source("news")

    outcomes = {h: run_at(h) for h in range(8)}
    assert outcomes == {
        0: "failed",
        1: "failed",  # 2 in a row: wait 2 periods
        2: "backoff",
        3: "failed",  # 3 in a row: wait 4 periods
        4: "backoff",
        5: "backoff",
        6: "backoff",
        7: "failed",
    }
    assert fault_server.hits["/list"] == 4
    publish(fault_server, "/list", [1])
    assert run_at(15) == "ok"  # 4 in a row waited 8 periods; then success
    assert [run_at(h) for h in (16, 17)] == ["ok", "ok"]  # back on its schedule


def test_job_errors_and_misses_are_stored(
    paths: tuple[Path, Path], daemons: list[Daemon], monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path, db = paths
    config_path.write_text(config_toml(source_toml("news", "http://127.0.0.1:1/")))
    daemon = Daemon(DaemonOptions(config_path, db, start_now=True, load=fast(30)))
    daemons.append(daemon)

    def explode(name: str) -> str:
        raise RuntimeError(f"disk on fire while running {name}")

    monkeypatch.setattr(daemon, "run_source", explode)
    daemon.start()

    def recorded() -> list[str]:
        with SQLiteStore(db) as store:
            return [r.status for r in store.recent_source_runs("news")]

    wait_for(lambda: recorded() == ["error"])
    missed = JobExecutionEvent(EVENT_JOB_MISSED, "news", "default", T0)
    daemon._on_event(missed)  # what APScheduler sends for a run later than its grace
    daemon.shutdown()
    with SQLiteStore(db) as store:
        missed_row, error_row = store.recent_source_runs("news")
    assert error_row.error == "the job raised RuntimeError: disk on fire while running news"
    assert (missed_row.status, missed_row.started_at) == ("missed", T0)


# -- real signals to a real process ---------------------------------------------------------


def test_sighup_reloads_and_sigterm_stops_a_crawl_cleanly(
    paths: tuple[Path, Path], fault_server: FaultServer
) -> None:
    config_path, db = paths
    fault_server.route("/list", hold(20, listing_page([])))
    first = source_toml("news", fault_server.url("/list"))
    config_path.write_text(config_toml(first))
    command = "from scraper.cli import main; main()"
    args = ["-v", "schedule", "--config", str(config_path), "--db", str(db), "--now"]
    lines: list[str] = []
    with subprocess.Popen(
        [sys.executable, "-c", command, *args, "--grace", "0.3"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as child:
        assert child.stderr is not None
        reader = threading.Thread(target=lambda: lines.extend(child.stderr or ()))
        reader.start()
        try:
            wait_for(lambda: fault_server.hits["/list"] == 1)  # a crawl is in flight
            extra = source_toml("extra", fault_server.url("/x"))
            config_path.write_text(config_toml(first, extra))
            child.send_signal(signal.SIGHUP)
            wait_for(lambda: any("config reloaded: added extra" in line for line in lines))
            child.send_signal(signal.SIGTERM)
            assert child.wait(timeout=10) == 0
        finally:
            if child.poll() is None:
                child.kill()
            reader.join(timeout=5)
    assert [r[0] for r in runs(db)] == ["interrupted"]
    with SQLiteStore(db) as store:
        assert [r.status for r in store.recent_source_runs("news")] == ["interrupted"]
    for path in ("/list", "/x"):
        publish(fault_server, path, [1])
    assert run(load_config(config_path), db, RunOptions()).status == "ok"  # lock free, resumes
