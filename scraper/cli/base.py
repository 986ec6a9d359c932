"""What every ``scraper`` command shares: the group, the common options, small helpers.

Importing it loads click and little else; each command imports what it needs when it
runs.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ..errors import EXIT_USAGE
from .logs import setup_logging

DEFAULT_DB = "db/news.db"
DEFAULT_CONFIG = "config/sources.toml"
# Copies of library constants, so that building the options imports neither the demo
# nor the export (and through them the store); a test checks that they agree.
DEMO_PORT = 8765  # scraper.demo.PREFERRED_PORT
EXPORT_FORMATS = ("jsonl", "csv", "parquet")  # scraper.export.FORMATS


class OneLineUsageError(click.ClickException):
    """A usage error shown as one ``Error: ...`` line (exit 2), without click's usage block."""

    exit_code = EXIT_USAGE


class FilePath(click.Path):
    """``click.Path(dir_okay=False)`` whose "is a directory" error is one line naming the path.

    click's own message for it is a four-line usage error; a cron mail or a log wants
    ``Error: <path>: is a directory, not a <what>`` and exit 2, like every other error.
    """

    def __init__(self, what: str) -> None:
        super().__init__(dir_okay=False)
        self.what = what

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str | os.PathLike) and os.path.isdir(value):
            raise OneLineUsageError(f"{os.fspath(value)}: is a directory, not a {self.what}")
        return super().convert(value, param, ctx)


class Seconds(click.FloatRange):
    """A number of seconds from 0 to ``most``: ``nan`` and ``inf`` are refused too."""

    name = "seconds"

    def __init__(self, most: float) -> None:
        super().__init__(min=0, max=most)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if number != number:  # nan compares unequal to itself
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        return number


db_option = click.option(
    "--db",
    "db",
    default=DEFAULT_DB,
    show_default=True,
    type=FilePath("database file"),
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
    type=FilePath("config file"),
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


def iso_date(value: str | None, option: str = "--since") -> datetime | None:
    """An ISO 8601 date or time; one without an offset is read as UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 date or time (e.g. 2026-01-14)",
            param_hint=option,
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def read_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint="PAGE") from None


def require_db(db: str) -> None:
    if not Path(db).exists():
        raise OneLineUsageError(f"--db: no database at {db}; run 'scraper run' first")
