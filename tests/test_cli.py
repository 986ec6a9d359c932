"""The ``scraper`` command as a user runs it: exit codes, one-line errors, output formats.

Most tests run the command in this process (``helpers.run_cli``, through the entry
point's own error handling); the few that need a real process say why.
"""

from __future__ import annotations

import ast
import json
import logging
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import faultserver as fs
import pytest
from faultserver import FaultServer
from helpers import article_html, listing_html, run_cli, slow_site, write_config

import scraper
import scraper.cli
from scraper.cli import cli
from scraper.run.lock import RunLock

ROOT = Path(__file__).resolve().parent.parent


def test_run_exit_0_then_articles_lists_them(fault_server: FaultServer, tmp_path: Path) -> None:
    path = "/news/2026/01/council-approves-harbour-plan"
    fault_server.page("/news/", listing_html([path]).encode())
    fault_server.page(
        path, article_html("Council approves plan", "2026-01-03T10:00:00+01:00").encode()
    )
    cfg, db = write_config(tmp_path / "c.toml", fault_server.base), tmp_path / "db" / "n.db"
    done = run_cli("run", "--config", str(cfg), "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # quiet when stdout is not a terminal
    listed = run_cli("articles", "--db", str(db), "--json")
    assert listed.returncode == 0
    (row,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert row["title"] == "Council approves plan"
    assert row["published"] == "2026-01-03T10:00:00+01:00"
    assert row["url"] == fault_server.url(path)
    table = run_cli("articles", "--db", str(db))
    assert "Council approves plan" in table.stdout and "published" in table.stdout


def test_failed_source_exits_nonzero_with_one_line(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    fault_server.route("/news/", fs.status(503))
    cfg = write_config(tmp_path / "c.toml", fault_server.base)
    done = run_cli("run", "--config", str(cfg), "--db", str(tmp_path / "n.db"))
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "site failed" in lines[0] and "503" in lines[0]
    assert "Traceback" not in done.stderr


def test_bad_config_exits_2_naming_file_and_key(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[[source]]\nname = "x"\nlistings = ["https://a.example/"]\ndelay = "soon"\n')
    db = tmp_path / "n.db"
    done = run_cli("run", "--config", str(cfg), "--db", str(db))
    assert done.returncode == 2
    assert (
        done.stderr.strip() == f"Error: {cfg}: source.x.delay: expected a number, got string 'soon'"
    )
    assert not db.exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["run", "--config", "/nonexistent/c.toml"], "file not found"),
        (["articles", "--db", "/nonexistent/n.db"], "no database"),
        (["articles", "--limit", "0"], "--limit"),
        (["articles", "--since", "yesterday"], "ISO 8601"),
        (["frobnicate"], "No such command"),
        (["extract", "/nonexistent.html"], "cannot read"),
    ],
)
def test_usage_errors_exit_2(args: list[str], words: str) -> None:
    done = run_cli(*args)
    assert done.returncode == 2, done.stderr
    assert words in done.stderr and "Traceback" not in done.stderr


def test_locked_database_exits_4(fault_server: FaultServer, tmp_path: Path) -> None:
    cfg, db = write_config(tmp_path / "c.toml", fault_server.base), tmp_path / "n.db"
    with RunLock(db):
        done = run_cli("run", "--config", str(cfg), "--db", str(db))
    assert done.returncode == 4
    assert "another run" in done.stderr


def test_extract_file_and_stdin(tmp_path: Path) -> None:
    html = article_html("Харбор план", "2026-01-03T10:00:00+03:00", charset="windows-1251")
    page = tmp_path / "page.html"
    page.write_bytes(html.encode("cp1251"))
    done = run_cli("extract", str(page), "--url", "https://news.example.com/a/1")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["title"] == "Харбор план"
    assert data["published"] == "2026-01-03T10:00:00+03:00"
    assert "paragraph 0" in data["body"] and "Latest news" not in data["body"]
    assert {"url", "title", "published", "body"} <= set(data)
    piped = run_cli("extract", "-", "--explain", input=html.encode("cp1251"))
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["title"] == "Харбор план"
    assert "title" in piped.stderr  # the explanation names each field's signal


def test_public_api_is_pinned() -> None:
    assert sorted(scraper.__all__) == [
        "Article", "Config", "ConfigError", "ConnectionFailed", "ExtractError", "FetchError",
        "FetchSettings", "FetchTimeout", "Fetcher", "HTTPStatusFailure", "Listing",
        "ListingItem", "LockHeld", "NotHTML", "Page", "RobotsDisallowed", "RunLock",
        "RunOptions", "RunReport", "Schedule", "ScraperError", "SiteRules", "Source",
        "SourceReport", "Store", "StoreError", "StoredArticle", "TooLarge", "TooManyRedirects",
        "Validators", "crawl", "decode_html", "extract", "load_config", "normalize_url",
        "open_store", "parse_config", "run",
    ]  # fmt: skip
    for name in scraper.__all__:
        assert getattr(scraper, name) is not None


def test_extract_and_run_stay_functions_beside_their_subpackages() -> None:
    """``scraper.extract``/``scraper.run`` are functions and packages; importing the
    packages' modules later must not rebind the names to the modules."""
    code = (
        "import scraper, scraper.extract.dates, scraper.run.pipeline, scraper.run.scheduler\n"
        "from scraper.extract import extract\n"
        "assert callable(scraper.extract) and callable(scraper.run)\n"
        "assert scraper.extract('<p>one</p>').body == 'one' and extract is not scraper.extract\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_extract_from_python_returns_typed_article() -> None:
    html = article_html("Typed result", "2026-01-03")
    for data in (html, html.encode()):
        article = scraper.extract(data)
        assert isinstance(article, scraper.Article)
        assert article.title == "Typed result"
        assert article.published is not None and article.published.tzinfo is not None
        assert "\n\n" in article.body


def test_every_command_is_thin_documented_and_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    functions = {
        node.name: node
        for module in (ROOT / "scraper" / "cli").glob("*.py")
        for node in ast.parse(module.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef)
    }
    for name, command in cli.commands.items():
        assert command.help, f"command {name} has no help text"
        assert re.search(rf"`scraper {name}\b", readme), f"README does not mention scraper {name}"
        func = functions[command.callback.__name__]  # type: ignore[union-attr]
        body = func.body[1:] if isinstance(func.body[0], ast.Expr) else func.body  # docstring
        length = (body[-1].end_lineno or 0) - body[0].lineno + 1
        assert length <= 30, f"command {name} is {length} lines; move logic into the library"


def test_logs_go_to_stderr_and_logging_is_left_as_it_was(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    fault_server.route("/news/", fs.status(503))
    cfg = write_config(tmp_path / "c.toml", fault_server.base)
    db = str(tmp_path / "n.db")
    done = run_cli("-v", "--log-format", "json", "run", "--config", str(cfg), "--db", db)
    assert done.returncode == 3
    events = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert any(e["kind"] == "retry" and e["status"] == 503 for e in events), done.stderr
    assert "site failed" in done.stderr.splitlines()[-1]  # the summary comes last
    assert logging.getLogger("scraper").propagate  # the next test's caplog still works


def test_heavy_modules_load_only_when_a_command_runs() -> None:
    """``import scraper.cli`` (all that ``scraper --help`` needs) loads click and little else."""
    heavy = [
        "httpx", "sqlite_utils", "apscheduler", "selectolax", "scraper.extract.article",
        "scraper.run.pipeline", "scraper.store", "scraper.fetch", "scraper.config",
    ]  # fmt: skip
    code = f"import sys, scraper.cli; print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run(  # a fresh interpreter: this one has imported everything already
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout
    code = "import sys, scraper.config; print('apscheduler' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"  # the scheduler's own import stays with its triggers


def test_cli_copies_of_library_constants_agree() -> None:
    from scraper import demo, export

    assert scraper.cli.DEMO_PORT == demo.PREFERRED_PORT
    assert scraper.cli.EXPORT_FORMATS == export.FORMATS


@pytest.mark.parametrize(
    "args",
    [["--help"], ["frobnicate"], ["articles", "--db", "/nonexistent/n.db"], ["run", "--config"]],
)
def test_installed_console_script_matches_the_in_process_runner(args: list[str]) -> None:
    """A real process: the installed ``scraper`` script, its exit code and its stderr."""
    script = Path(sys.executable).with_name("scraper")
    done = subprocess.run([script, *args], capture_output=True, text=True, check=False)
    in_process = run_cli(*args)
    assert (done.returncode, done.stderr) == (in_process.returncode, in_process.stderr)
    # Only help wraps differently: at 80 columns in CliRunner, at the terminal's width here.
    assert done.stdout.splitlines()[:1] == in_process.stdout.splitlines()[:1]


def test_sigterm_stops_a_cron_run_cleanly(fault_server: FaultServer, tmp_path: Path) -> None:
    """A real process: SIGTERM is delivered to it, and it must exit 130 on its own."""
    slugs = slow_site(fault_server, 10, hold=0.2)
    cfg = write_config(tmp_path / "c.toml", fault_server.base, concurrency=1)
    db = tmp_path / "n.db"
    args = [sys.executable, "-m", "scraper", "run", "--config", str(cfg), "--db", str(db)]
    child = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and sum(fault_server.hits[s] for s in slugs) < 2:
            time.sleep(0.02)
        child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate(timeout=20)
    finally:
        child.kill()
    assert child.returncode == 130, stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("select status from runs").fetchall() == [("interrupted",)]
        stored = conn.execute("select count(*) from articles").fetchone()[0]
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
    assert 1 <= stored < len(slugs)
    assert "interrupted" in stderr
