"""Source health: figures from runs and articles, statuses, backoff, and `scraper status`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from faultserver import FaultServer, status
from newssite import config_toml, publish, source_toml
from sqlite_utils import Database

from scraper.cli import cli
from scraper.config import Source, parse_config
from scraper.models import SiteRules
from scraper.run.health import (
    Thresholds,
    article_health,
    backoff_delay,
    backoff_until,
    consecutive_failures,
    judge,
    source_health,
)
from scraper.run.pipeline import RunOptions, run
from scraper.schedules import schedule_period
from scraper.store import SQLiteStore
from scraper.store.records import ATTEMPTS, ArticleSample, SourceRun
from scraper.store.sqlite_schema import MIGRATIONS, SCHEMA_VERSION

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
HOUR = 3600.0
SOURCE = Source(name="news", listings=("http://127.0.0.1:1/",), rules=SiteRules(body="div.story"))


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def ran(status: str, hours: float = 0, **kwargs: object) -> SourceRun:
    defaults: dict[str, object] = {"pages_ok": 1, "found": 10, "counts": {"new": 3}}
    if status in ("failed", "error"):
        defaults = {"pages_failed": 1, "error": "http://x/: connection refused"}
    return SourceRun("news", status, at(hours), **(defaults | kwargs))  # type: ignore[arg-type]


def good(n: int) -> list[ArticleSample]:
    return [ArticleSample(body_length=900, has_title=True, has_date=True) for _ in range(n)]


def broken(n: int) -> list[ArticleSample]:
    miss = {"body": "selector 'div.story' matched nothing; used generic extractor"}
    return [ArticleSample(900, True, True, errors=miss) for _ in range(n)]


# -- figures and statuses (pure) ------------------------------------------------------------


def test_article_health_shares() -> None:
    samples = [
        ArticleSample(body_length=50, has_title=False, has_date=True),
        ArticleSample(body_length=0, has_title=True, has_date=False),
        *broken(1),
        *good(1),
    ]
    health = article_health(samples, short_body=200)
    assert health.sample == 4
    assert (health.short_body, health.missing_title, health.missing_date) == (0.5, 0.25, 0.25)
    assert health.rule_fallbacks == {"body": 0.25}
    assert article_health([]).sample == 0


def test_never_run_then_ok() -> None:
    assert judge(SOURCE, [], [], T0).status == "never-run"
    health = judge(SOURCE, [ran("ok", counts={"new": 4}), ran("ok", -1)], good(10), at(0.1))
    assert health.status == "ok" and health.reasons == ()
    assert health.last_success == T0 and health.consecutive_failures == 0
    assert health.last_new == 4 and health.new_per_run == 3.5


def test_selector_fallback_on_most_recent_articles_degrades() -> None:
    runs = [ran("ok")]
    assert judge(SOURCE, runs, broken(5) + good(5), at(0.1)).status == "ok"  # half: not more
    health = judge(SOURCE, runs, broken(6) + good(4), at(0.1))
    assert health.status == "degraded"
    assert health.reasons == ("60% of recent articles: body selector 'div.story' fell back",)
    assert judge(SOURCE, runs, broken(4), at(0.1)).status == "ok"  # too few to judge


@pytest.mark.parametrize(
    ("run", "samples", "reason"),
    [
        (ran("ok"), [ArticleSample(120, True, True)] * 6, "body under 200 chars"),
        (ran("ok"), [ArticleSample(900, False, True)] * 6, "no title"),
        (ran("ok"), [ArticleSample(900, True, False)] * 6, "no date"),
        (ran("ok", found=0), good(6), "found no article links"),
        (ran("partial", counts={"new": 1, "failed": 9}), good(6), "9 of 10 articles failed"),
        (ran("partial", pages_ok=1, pages_failed=2), good(6), "2 of 3 listing pages failed"),
    ],
)
def test_degraded_reasons(run: SourceRun, samples: list[ArticleSample], reason: str) -> None:
    health = judge(SOURCE, [run], samples, at(0.1))
    assert health.status == "degraded"
    assert any(reason in r for r in health.reasons), health.reasons


def test_one_failed_article_is_not_degraded() -> None:
    health = judge(SOURCE, [ran("partial", counts={"new": 9, "failed": 1})], good(6), at(0.1))
    assert health.status == "ok"


def test_failing_counts_failures_since_last_success() -> None:
    runs = [ran("failed", 3), ran("skipped", 2.5), ran("error", 2), ran("missed", 1.5)]
    runs += [ran("interrupted", 1.2), ran("failed", 1), ran("ok", 0), ran("failed", -1)]
    assert consecutive_failures(runs) == 3
    health = judge(SOURCE, runs, good(6), at(3.1))
    assert health.status == "failing" and health.consecutive_failures == 3
    assert "3 failed run(s) in a row: http://x/: connection refused" in health.reasons[0]
    assert health.last_run == at(3) and health.last_success == T0


def test_stale_source_is_degraded() -> None:
    source = Source(name="news", listings=("http://127.0.0.1:1/",))  # every 15m
    assert judge(source, [ran("ok")], good(6), at(1.9)).status == "ok"
    health = judge(source, [ran("ok")], good(6), at(2.1))  # 4 periods, at least 2 h
    assert health.status == "degraded" and "no run since 2024-05-01 08:00:00" in health.reasons


# -- backoff (pure, injected time) ----------------------------------------------------------


def test_backoff_delay_doubles_up_to_cap() -> None:
    delays = [backoff_delay(n, 900, cap=6 * HOUR) for n in range(7)]
    assert delays == [0, 900, 1800, 3600, 7200, 14400, 21600]
    assert backoff_delay(100, 900, cap=6 * HOUR) == 6 * HOUR
    assert backoff_delay(3, 86400, cap=6 * HOUR) == 86400  # never shorter than the schedule


def test_backoff_skips_runs_until_retry_and_recovers_after_success() -> None:
    period, cap = HOUR, 8 * HOUR
    runs = [ran("failed", 0)]
    assert backoff_until(runs, period, at(1), cap) is None  # one failure: keep the schedule
    runs.insert(0, ran("failed", 1))  # two in a row: next try 2 periods after the last
    assert backoff_until(runs, period, at(2), cap) == at(3)
    assert backoff_until(runs, period, at(3), cap) is None
    runs.insert(0, ran("failed", 3))  # three: 4 periods
    assert [backoff_until(runs, period, at(h), cap) for h in (4, 5, 6)] == [at(7)] * 3
    assert backoff_until(runs, period, at(6.6), cap) is None  # within half a period: go
    runs.insert(0, ran("ok", 7))
    assert backoff_until(runs, period, at(8), cap) is None
    runs.insert(0, ran("failed", 8))
    assert backoff_until(runs, period, at(9), cap) is None  # counting starts afresh


def test_schedule_period_of_cron_is_its_longest_gap() -> None:
    config = parse_config(
        config_toml(
            source_toml("a", "http://127.0.0.1:1/", schedule="*/15 * * * *"),
            source_toml("b", "http://127.0.0.1:1/", schedule="0 6 * * 1-5"),
            source_toml("c", "http://127.0.0.1:1/", schedule="every 2h"),
        )
    )
    a, b, c = (schedule_period(s.schedule, T0) for s in config.sources)
    assert (a, b, c) == (900, 3 * 86400, 7200)  # b: Friday to Monday


# -- against a real site and database -------------------------------------------------------


def test_source_flips_to_degraded_when_its_selector_stops_matching(
    tmp_path: Path, fault_server: FaultServer
) -> None:
    db, config_path = tmp_path / "news.db", tmp_path / "sources.toml"
    config_path.write_text(config_toml(source_toml("news", fault_server.url("/list"))))
    config = parse_config(config_path.read_text())
    publish(fault_server, "/list", range(1, 5))
    assert run(config, db, RunOptions()).status == "ok"
    runner = CliRunner()
    result = runner.invoke(cli, ["status", "--config", str(config_path), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "news" in result.output and " ok " in result.output

    publish(fault_server, "/list", range(11, 17), wrapper="content")  # the site redesigned
    assert run(config, db, RunOptions()).status == "ok"  # nothing failed outright
    with SQLiteStore(db) as store:
        (health,) = source_health(store, config).sources
        assert [r.new for r in store.recent_source_runs("news")] == [6, 4]
    assert health.status == "degraded" and health.articles.sample == 10
    assert health.articles.rule_fallbacks == {"body": 0.6}
    result = runner.invoke(cli, ["status", "--config", str(config_path), "--db", str(db), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["status"] == "degraded" and data["last_new"] == 6
    assert data["reasons"] == ["60% of recent articles: body selector 'div.story' fell back"]


def test_failing_source_is_recorded_and_status_exits_1(
    tmp_path: Path, fault_server: FaultServer
) -> None:
    db, config_path = tmp_path / "news.db", tmp_path / "sources.toml"
    fault_server.route("/list", status(503))
    publish(fault_server, "/fine", range(1, 3))
    text = config_toml(
        source_toml("down", fault_server.url("/list")),
        source_toml("up", fault_server.url("/fine")),
    )
    config_path.write_text(text)
    config = parse_config(text)
    for _ in range(2):
        assert run(config, db, RunOptions()).status == "partial"
    with SQLiteStore(db) as store:
        down, up = source_health(store, config).sources
        rows = store.recent_source_runs("down")
    assert [r.status for r in rows] == ["failed", "failed"] and rows[0].run_id == 2
    assert rows[0].pages_failed == 1 and "503" in (rows[0].error or "")
    assert (down.status, down.consecutive_failures, up.status) == ("failing", 2, "ok")
    result = CliRunner().invoke(cli, ["status", "--config", str(config_path), "--db", str(db)])
    assert result.exit_code == 1
    assert "failing" in result.output and "2 failed run(s) in a row" in result.output


def test_status_needs_an_existing_database(tmp_path: Path) -> None:
    config_path = tmp_path / "sources.toml"
    config_path.write_text(config_toml(source_toml("news", "http://127.0.0.1:1/")))
    args = ["status", "--config", str(config_path), "--db", str(tmp_path / "none.db")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "no database" in result.output


def test_version_1_database_gains_source_runs(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = Database(path)
    MIGRATIONS[0](old)
    old.execute("PRAGMA user_version = 1")
    old.table("runs").insert({"started_at": T0.isoformat(), "status": "ok"})
    old.close()
    with SQLiteStore(path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 2
        store.record_source_runs([SourceRun("news", "ok", T0, run_id=1, counts={"new": 2})])
        (row,) = store.recent_source_runs("news")
        assert store.db.table("runs").count == 1
    assert (row.status, row.new, row.run_id, row.started_at) == ("ok", 2, 1, T0)


def test_source_run_rejects_unknown_status() -> None:
    with pytest.raises(ValueError, match="unknown source run status 'great'"):
        SourceRun("news", "great", T0)


def test_thresholds_are_adjustable() -> None:
    strict = Thresholds(max_share=0.1)
    assert judge(SOURCE, [ran("ok")], broken(2) + good(8), at(0.1), strict).status == "degraded"


def test_failures_are_counted_past_many_skipped_events(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "news.db") as store:
        store.record_source_runs([ran("ok", 0), ran("failed", 1), ran("failed", 2)])
        store.record_source_runs([ran("skipped", 2 + i / 100) for i in range(150)])
        runs = store.recent_source_runs("news", 100, statuses=ATTEMPTS)
        assert len(store.recent_source_runs("news", 100)) == 100
    assert [r.status for r in runs] == ["failed", "failed", "ok"]
    assert backoff_until(runs, HOUR, at(3), cap=6 * HOUR) == at(4)
