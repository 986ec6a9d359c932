"""Small builders shared by the end-to-end tests: pages, configs, running the CLI."""

from __future__ import annotations

import contextlib
import logging
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import faultserver as fs
from click.testing import CliRunner
from faultserver import FaultServer

from scraper.cli import run_command_line

_WORDS = (
    "council harbour ferry budget plan vote members ward cost timetable businesses river "
    "school bridge tram market fishermen island museum library storm repairs rents police "
    "hospital nurses farmers grain quota festival season tourists port workers union court"
).split()
_VERBS = "approved rejected discussed delayed funded questioned praised extended".split()


def paragraph(title: str, n: int) -> str:
    """A sentence-like paragraph whose words depend on the title: distinct articles."""
    rng = random.Random(f"{title}/{n}")
    sentences = [
        f"The {rng.choice(_WORDS)} {rng.choice(_VERBS)} the {rng.choice(_WORDS)} and the "
        f"{rng.choice(_WORDS)} on {rng.choice(_WORDS)} {rng.randint(2, 99)}, said the "
        f"{rng.choice(_WORDS)} of the {rng.choice(_WORDS)}."
        for _ in range(4)
    ]
    return " ".join(sentences) + f" {title} paragraph {n}."


def article_html(
    title: str,
    published: str,
    *,
    paragraphs: int = 5,
    charset: str | None = "utf-8",
    extra_body: str = "",
    sidebar: tuple[str, ...] = (),
) -> str:
    """An article page; ``sidebar`` paths are listed in a dated "Latest news" box."""
    sidebar_items = "".join(
        f'<li><a href="{path}">Sidebar story number {i} from the desk</a> 0{i + 1}.Jan.2026</li>'
        for i, path in enumerate(sidebar)
    )
    meta = f'<meta charset="{charset}">' if charset else ""
    body = "\n".join(f"<p>{paragraph(title, i)}</p>" for i in range(paragraphs))
    return f"""<!doctype html><html lang="en"><head>{meta}<title>{title} | Test Gazette</title>
<meta property="og:site_name" content="Test Gazette">
<meta property="article:published_time" content="{published}"></head>
<body><nav><a href="/">Home</a> <a href="/about/">About us</a></nav>
<article><h1>{title}</h1><time datetime="{published}">{published}</time>
{body}{extra_body}</article>
<aside><h3>Latest news</h3><ul>{sidebar_items}</ul><a href="/news/">All the news</a></aside>
<footer>Copyright Test Gazette. All rights reserved.</footer></body></html>"""


def listing_html(links: list[str]) -> str:
    items = "\n".join(
        f'<li><a href="{href}">Headline number {i} about the harbour plan</a> '
        f"<span>0{1 + i % 9}.Jan.2026</span></li>"
        for i, href in enumerate(links)
    )
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Latest news</title></head>
<body><nav><a href="/">Home</a><a href="/about/">About</a></nav>
<main><h2>Latest news</h2><ul class="latest">{items}</ul></main>
<footer><a href="/privacy/">Privacy</a></footer></body></html>"""


def write_config(
    path: Path,
    base: str,
    *,
    name: str = "site",
    extra: str = "",
    fetch: str = "",
    concurrency: int = 2,
) -> Path:
    path.write_text(
        f"""[fetch]
retries = 2
backoff_base = 0.01
backoff_max = 0.05
read_timeout = 1.0
connect_timeout = 1.0
max_bytes = 300000
{fetch or "total_timeout = 2.0"}

[[source]]
name = "{name}"
listings = ["{base}/news/"]
delay = 0
concurrency = {concurrency}
{extra}
""",
        encoding="utf-8",
    )
    return path


@dataclass(frozen=True)
class CliResult:
    """How a run of the ``scraper`` command ended (the fields of a ``CompletedProcess``)."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path | None = None, input: str | bytes | None = None) -> CliResult:
    """Run ``scraper ARGS`` in this process and capture its output as a user would see it.

    It comes through ``run_command_line``, the entry point's own error handling, so exit
    codes and one-line errors are the installed script's; stdout and stderr are captured
    in memory (not terminals, like pipes) and ``input`` is stdin.  What a process alone
    can show (signals, the console script itself) is tested with ``subprocess``.
    """
    loggers = [logging.getLogger(name) for name in ("scraper", "apscheduler")]
    saved = [(logger.handlers[:], logger.level, logger.propagate) for logger in loggers]
    try:
        with (
            contextlib.chdir(cwd or "."),
            CliRunner().isolation(input=input) as (stdout, stderr, _),
        ):
            code = run_command_line(list(args), prog_name="scraper")
            sys.stdout.flush()  # the isolation's text wrappers buffer
            sys.stderr.flush()
            out, err = stdout.getvalue(), stderr.getvalue()
    finally:  # the command configured logging for a process; undo it for the next test
        for logger, (handlers, level, propagate) in zip(loggers, saved, strict=True):
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate
    return CliResult(args, code, out.decode(), err.decode())


def slow_site(server: FaultServer, count: int, hold: float) -> list[str]:
    """A listing at /news/ of ``count`` articles, each answered after ``hold`` seconds."""
    slugs = [f"/news/harbour-story-number-{i}" for i in range(count)]
    for i, slug in enumerate(slugs):
        html = article_html(f"Story number {i}", f"2026-01-{1 + i:02d}T09:00:00+00:00")
        server.route(slug, fs.hold(hold, html.encode()))
    server.page("/news/", listing_html(slugs).encode())
    return slugs
