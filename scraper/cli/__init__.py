"""The ``scraper`` command: a thin layer that turns arguments into library calls.

Exit codes: 0 ok, 1 partial (some source or article failed), 2 usage or config error,
3 nothing worked, 4 another run holds the database lock, 130 interrupted.

Importing this module loads click and little else, so ``scraper --help`` starts quickly:
each command imports the pipeline, store, scheduler or extraction it needs when it runs
(``tests/test_cli.py`` checks that the heavy modules stay unloaded).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

import click

from ..errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, ScraperError
from . import crawl, data  # noqa: F401  (the modules register their commands on the group)
from .base import DEMO_PORT, EXPORT_FORMATS, cli

__all__ = ["DEMO_PORT", "EXPORT_FORMATS", "cli", "main", "run_command_line"]


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
    except click.UsageError as exc:  # one line, naming the option, not click's usage block
        command = exc.ctx.command_path if exc.ctx is not None else "scraper"
        click.echo(f"Error: {exc.format_message()} (see '{command} --help')", err=True)
        return EXIT_USAGE
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
