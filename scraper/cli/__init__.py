"""The ``scraper`` command: a thin layer that turns arguments into library calls.

Exit codes: 0 ok, 1 partial (some source or article failed), 2 usage or config error,
3 nothing worked, 4 another run holds the database lock, 130 interrupted.

Importing this module loads click and little else, so ``scraper --help`` starts quickly:
each command imports the pipeline, store, scheduler or extraction it needs when it runs
(``tests/test_cli.py`` checks that the heavy modules stay unloaded).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from ..errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_PARTIAL, EXIT_USAGE, ScraperError
from .logs import log_fetch_event, setup_logging
from .render import Progress, article_json, explanation, json_lines, run_report, table

if TYPE_CHECKING:
    from ..config import Config
    from ..run.pipeline import RunOptions
    from ..run.report import RunReport
    from ..run.scheduler import Controls

DEFAULT_DB = "db/news.db"
DEFAULT_CONFIG = "config/sources.toml"
# Copies of library constants, so that building the options imports neither the demo
# nor the export (and through them the store); a test checks that they agree.
DEMO_PORT = 8765  # scraper.demo.PREFERRED_PORT
EXPORT_FORMATS = ("jsonl", "csv")  # scraper.export.FORMATS


class _OneLineUsageError(click.ClickException):
    """A usage error shown as one ``Error: ...`` line (exit 2), without click's usage block."""

    exit_code = EXIT_USAGE


class _FilePath(click.Path):
    """``click.Path(dir_okay=False)`` whose "is a directory" error is one line naming the path.

    click's own message for it is a four-line usage error; a cron mail or a log wants
    ``Error: <path>: is a directory, not a <what>`` and exit 2, like every other error.
    """

    def __init__(self, what: str) -> None:
        super().__init__(dir_okay=False)
        self.what = what

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str | os.PathLike) and os.path.isdir(value):
            raise _OneLineUsageError(f"{os.fspath(value)}: is a directory, not a {self.what}")
        return super().convert(value, param, ctx)


db_option = click.option(
    "--db",
    "db",
    default=DEFAULT_DB,
    show_default=True,
    type=_FilePath("database file"),
    help="SQLite database file.",
)
quiet_option = click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="No progress or summary on stdout (automatic when not a TTY).",
)
config_option = click.option(
    "--config",
    "config_path",
    default=DEFAULT_CONFIG,
    show_default=True,
    type=_FilePath("config file"),
    help="TOML file with the sources.",
)


@click.group()
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-v info, -vv debug).")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines as text or one JSON object per line.",
)
@click.version_option(package_name="newsscraper")
def cli(verbose: int, log_format: str) -> None:
    """Scrape configured news sources into a deduplicated SQLite database."""
    setup_logging(verbose, log_format)


@cli.command("run")
@config_option
@db_option
@click.option("--source", "sources", multiple=True, help="Run only this source (repeatable).")
@click.option(
    "--wait",
    "lock_wait",
    type=float,
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
    type=_FilePath("database file"),
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

    data = sys.stdin.buffer.read() if page == "-" else _read_file(page)
    article = extract_article(data, url)
    click.echo(article_json(article, explain=explain))
    if explain:
        click.echo(explanation(article), err=True)


@cli.command("articles")
@db_option
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--source", help="Only this source.")
@click.option(
    "--since",
    callback=lambda ctx, param, value: _iso_date(value),
    help="Only articles published on or after this ISO 8601 date or time.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def articles_command(
    db: str, limit: int, source: str | None, since: datetime | None, as_json: bool
) -> None:
    """List the most recent stored articles."""
    from ..store import open_store

    _require_db(db)
    with open_store(db) as store:
        dicts = [row.to_dict() for row in store.articles(limit=limit, source=source, since=since)]
    click.echo(
        json_lines(dicts) if as_json else table(dicts, ["published", "source", "title", "url"])
    )


@cli.command("schedule")
@config_option
@db_option
@click.option(
    "--grace",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Seconds requests in flight get after SIGTERM/SIGINT before they are cancelled.",
)
@click.option(
    "--wait",
    "lock_wait",
    type=float,
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
    _require_db(db)
    with open_store(db) as store:
        report = source_health(store, config)
    click.echo(json_lines(report.dicts()) if as_json else table(report.rows(), TABLE_COLUMNS))
    sys.exit(report.exit_code)


@cli.command("export")
@db_option
@click.option(
    "--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="jsonl", show_default=True
)
@click.option("--after", type=click.IntRange(min=0), help="Only changes after this change_seq.")
@click.option(
    "--cursor-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the cursor from this file and save the new one after a complete export.",
)
@click.option("--source", help="Only this source.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many articles.")
def export_command(
    db: str,
    fmt: str,
    after: int | None,
    cursor_file: Path | None,
    source: str | None,
    limit: int | None,
) -> None:
    """Write new and changed articles since a cursor to stdout (JSON lines or CSV)."""
    from ..export import ExportOptions, changed_articles, read_cursor, save_cursor, write
    from ..store import open_store

    _require_db(db)
    start = after if after is not None else read_cursor(cursor_file) if cursor_file else 0
    with open_store(db) as store:
        rows = changed_articles(store, ExportOptions(after=start, source=source, limit=limit))
        last = write(rows, sys.stdout, fmt)
    sys.stdout.flush()
    if cursor_file is not None and last is not None:
        save_cursor(cursor_file, last)
    click.echo(f"cursor: {last if last is not None else start}", err=True)


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


def _iso_date(value: str | None) -> datetime | None:
    """An ISO 8601 date or time; one without an offset is read as UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 date or time (e.g. 2026-01-14)",
            param_hint="--since",
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _read_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint="PAGE") from None


def _require_db(db: str) -> None:
    if not Path(db).exists():
        raise click.BadParameter(f"no database at {db}; run 'scraper run' first", param_hint="--db")


def _install_signal_handlers(controls: Controls) -> None:
    """SIGTERM/SIGINT ask the scheduler to stop, SIGHUP to reload (flags only: signal-safe)."""

    def stop(signum: int, frame: object) -> None:
        controls.stop_requested = True

    def reload(signum: int, frame: object) -> None:
        controls.reload_requested = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, reload)


def main(args: Sequence[str] | None = None, prog_name: str | None = None) -> NoReturn:
    """Console-script entry: errors become one line on stderr and a documented exit code."""
    sys.exit(run_command_line(args, prog_name))


def run_command_line(args: Sequence[str] | None = None, prog_name: str | None = None) -> int:
    """Run the command line ``args`` (default ``sys.argv[1:]``) and return its exit code.

    Every failure becomes one line on stderr and a documented exit code; :func:`main`
    and the in-process test runner (``tests/helpers.py``) both come through here.
    """
    try:
        result = cli.main(args, prog_name, standalone_mode=False)
    except SystemExit as exc:  # a command's sys.exit(code)
        return _exit_status(exc.code)
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE if exc.exit_code == 2 else exc.exit_code
    except ScraperError as exc:
        click.echo(f"Error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: still one line for the user, the traceback in the log
        logging.getLogger("scraper").debug("unexpected error", exc_info=True)
        click.echo(f"Error: internal error: {exc!r} (run with -vv for the traceback)", err=True)
        return EXIT_FAILED
    # click returns ctx.exit()'s code (0 after --help or --version), else the command's value
    return result if isinstance(result, int) else 0


def _exit_status(code: object) -> int:
    """The status ``sys.exit(code)`` gives a process (a message is printed, then 1)."""
    if code is None or isinstance(code, int):
        return code or 0
    click.echo(code, err=True)
    return 1
