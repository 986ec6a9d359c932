"""Commands that crawl: ``run``, ``demo``, ``serve-demo``, ``schedule``, ``status``, ``extract``."""

from __future__ import annotations

import dataclasses
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import EXIT_PARTIAL
from .base import (
    DEMO_PORT,
    FilePath,
    Seconds,
    cli,
    config_option,
    db_option,
    quiet_option,
    read_file,
    require_db,
)
from .logs import log_fetch_event
from .render import Progress, article_json, explanation, json_lines, run_report, table

if TYPE_CHECKING:
    from ..config import Config
    from ..run.pipeline import RunOptions
    from ..run.report import RunReport
    from ..run.scheduler import Controls


@cli.command("run")
@config_option
@db_option
@click.option("--source", "sources", multiple=True, help="Run only this source (repeatable).")
@click.option(
    "--wait",
    "lock_wait",
    type=Seconds(86400),
    default=0.0,
    show_default=True,
    help="Seconds to wait for another run's lock before skipping (exit 4).",
)
@quiet_option
def run_command(
    config_path: str, db: str, sources: tuple[str, ...], lock_wait: float, quiet: bool
) -> None:
    """Run every configured source once (for cron): fetch, extract, store."""
    from ..config import load_config
    from ..run.pipeline import RunOptions

    config = load_config(config_path)
    report = _run(config, db, RunOptions(sources=sources, lock_wait=lock_wait), quiet)
    sys.exit(report.exit_code)


@cli.command("demo")
@click.option(
    "--db",
    "db",
    default="db/demo.db",
    show_default=True,
    type=FilePath("database file"),
    help="SQLite database file.",
)
@click.option(
    "--port",
    type=int,
    default=None,
    help=f"Port for the bundled site on 127.0.0.1 (default {DEMO_PORT} "
    "if free, else any; 0: any free port).",
)
@quiet_option
def demo_command(db: str, port: int | None, quiet: bool) -> None:
    """Serve the bundled sample news site on 127.0.0.1 and run the pipeline on it."""
    from .. import demo as demo_site
    from ..run.pipeline import RunOptions
    from ..store import open_store

    with demo_site.serve(port) as base_url:
        config = demo_site.config(base_url)
        report = _run(config, db, RunOptions(), quiet)
    with open_store(db) as store:
        rows = store.articles(limit=100, source="demo")
    click.echo(table([row.to_dict() for row in rows], ["published", "title", "url"]))
    problems = demo_site.check_rows(demo_site.expectations(), rows)
    for problem in problems:
        click.echo(f"check failed: {problem}", err=True)
    click.echo(
        f"{len(rows)} articles in {db}; {report.summary()}; "
        f"{'all' if not problems else 'NOT all'} checked against the expected results"
    )
    sys.exit(report.exit_code or (EXIT_PARTIAL if problems else 0))


@cli.command("serve-demo")
@click.option("--port", type=int, default=DEMO_PORT, show_default=True)
def serve_demo_command(port: int) -> None:
    """Serve the bundled sample site until interrupted (for trying configs by hand)."""
    from .. import demo as demo_site

    with demo_site.serve(port) as base_url:
        click.echo(f"serving the demo site at {base_url} (Ctrl-C to stop)")
        demo_site.wait_forever()


@cli.command("extract")
@click.argument("page", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--url", help="The page's URL (resolves links, canonical URL, URL dates).")
@click.option("--explain", is_flag=True, help="Show which rule or signal produced each field.")
def extract_command(page: str, url: str | None, explain: bool) -> None:
    """Extract title, date and body from one HTML file (or - for stdin) as JSON."""
    from ..extract import extract as extract_article

    data = sys.stdin.buffer.read() if page == "-" else read_file(page)
    article = extract_article(data, url)
    click.echo(article_json(article, explain=explain))
    if explain:
        click.echo(explanation(article), err=True)


@cli.command("schedule")
@config_option
@db_option
@click.option(
    "--grace",
    type=Seconds(3600),
    default=30.0,
    show_default=True,
    help="Seconds requests in flight get after SIGTERM/SIGINT before they are cancelled.",
)
@click.option(
    "--wait",
    "lock_wait",
    type=Seconds(86400),
    default=0.0,
    show_default=True,
    help="Seconds to wait at start for another run's database lock before exiting (4).",
)
@click.option("--now", "start_now", is_flag=True, help="Run every source once at start.")
def schedule_command(
    config_path: str, db: str, grace: float, lock_wait: float, start_now: bool
) -> None:
    """Run each source on its schedule until SIGTERM/SIGINT; SIGHUP re-reads the config."""
    from ..run.scheduler import Controls, Daemon, DaemonOptions, serve

    options = DaemonOptions(
        Path(config_path), Path(db), grace=grace, lock_wait=lock_wait, start_now=start_now
    )
    options = dataclasses.replace(options, on_fetch_event=log_fetch_event)
    controls = Controls()
    _install_signal_handlers(controls)
    serve(Daemon(options), controls)


@cli.command("status")
@config_option
@db_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source.")
def status_command(config_path: str, db: str, as_json: bool) -> None:
    """Show each source's health; exit 1 when any source is degraded or failing."""
    from ..config import load_config
    from ..run.health import TABLE_COLUMNS, source_health
    from ..store import open_store

    config = load_config(config_path)
    require_db(db)
    with open_store(db) as store:
        report = source_health(store, config)
    click.echo(json_lines(report.dicts()) if as_json else table(report.rows(), TABLE_COLUMNS))
    sys.exit(report.exit_code)


def _run(config: Config, db: str, options: RunOptions, quiet: bool) -> RunReport:
    from ..run.pipeline import run

    show = not quiet and sys.stdout.isatty()
    progress = Progress(enabled=show)
    stop = threading.Event()  # SIGTERM: stop taking work, finish within the grace period
    options = dataclasses.replace(
        options, progress=progress, on_fetch_event=log_fetch_event, stop=stop
    )
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        report = run(config, db, options)
    finally:
        signal.signal(signal.SIGTERM, previous)
        progress.close()
    if show:
        click.echo(run_report(report))
    if report.exit_code:
        click.echo(report.summary(), err=True)
    elif show:
        click.echo(report.summary())
    return report


def _install_signal_handlers(controls: Controls) -> None:
    """SIGTERM/SIGINT ask the scheduler to stop, SIGHUP to reload (flags only: signal-safe)."""

    def stop(signum: int, frame: object) -> None:
        controls.stop_requested = True

    def reload(signum: int, frame: object) -> None:
        controls.reload_requested = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, reload)
