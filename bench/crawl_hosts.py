"""Benchmark a crawl at the politeness limit: many hosts, one request at a time each, a delay.

Run from the repository root::

    python bench/crawl_hosts.py [--hosts 20] [--articles 50] [--delay 0.5] [--latency 0.2]
                                [--runs 3]

A loopback news site of ``--hosts`` hosts is served by this process (one asyncio server
on its own thread): host *i* listens on 127.0.0.(i+2), on a port of its own (127.0.0.0/8
is all loopback on Linux; distinct addresses make distinct hostnames, which both crawlers
key their per-host politeness by -- Scrapy's download slots ignore the port).  Each host
has a robots.txt, a front page listing ``--articles`` articles, and the articles (about
20 KB of HTML each: headline, byline and date, paragraphs, a "Latest news" sidebar, site
chrome).  Every response is sent ``--latency`` seconds after its request arrived, and the
arrival of every request is logged per host on the monotonic clock, so the spacing of
request starts is measured at the site.

Two crawlers take turns, ``--runs`` times each, each run in a fresh process:

- ``scraper``: ``scraper.run`` with one source per host (``concurrency = 1`` and
  ``delay = --delay`` per host, ``[fetch] concurrency = 32``, robots.txt obeyed,
  ``follow_links = false``) into a fresh SQLite file;
- ``scrapy``: a minimal spider with the same settings (``CONCURRENT_REQUESTS = 32``,
  ``CONCURRENT_REQUESTS_PER_DOMAIN = 1``, ``DOWNLOAD_DELAY = --delay`` not randomized,
  ``ROBOTSTXT_OBEY``, no AutoThrottle) that reads title, date and body with parsel and
  writes JSON lines (needs Scrapy: skipped when it is missing).

Printed per crawler and run, with R the requests the site got per host (robots.txt, the
front page and the articles):

- ``pages/s``: requests the site served to the crawler / the crawler's wall time;
- ``bound``: the politeness bound's share, ``R x delay / wall time``; equal to pages/s
  over the ideal rate ``hosts / delay`` (a crawler that starts every request at its
  host's first allowed instant needs ``(R - 1) x delay + latency``, so can slightly pass 1);
- ``CPU ms/art``: user + system CPU of the whole crawler process (interpreter start and
  imports included: their share is printed below the table) per stored article;
  ``peak MiB``: the process's peak RSS (``ru_maxrss``);
- from the site's log, over every host's start-to-start gaps: the smallest (and its
  host), the 1st percentile, and how many are shorter than ``delay - 20 ms``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

SLACK = 0.020  # a gap shorter than delay - SLACK breaks the politeness target
ROBOTS = b"User-agent: *\nDisallow: /search\nDisallow: /private/\n"
WORDS = (
    "the council said harbour ferry budget plan vote members ward cost timetable of a "
    "businesses river school bridge tram market fishermen island museum library storm and "
    "repairs rents police hospital nurses farmers grain quota festival season tourists to "
    "port workers union court minister report agreed after weeks talks between residents in "
    "officials warned that prices would rise next year while others expected delays for "
    "the new contract with local families who have lived near station since mayor opposition"
).split()
SECTIONS = ("World", "Politics", "Business", "Science", "Health", "Sport", "Culture", "Opinion")
SUBJECTS = ("Council", "Ferry operator", "Harbour board", "Nurses' union", "Farmers", "Mayor")
VERBS = ("approves", "rejects", "delays", "questions", "backs", "reviews")
OBJECTS = ("tram budget", "storm repairs", "grain quota", "museum plan", "port contract")


# -- the site -------------------------------------------------------------------------------


def _headline(host: int, n: int) -> str:
    rng = random.Random(host * 100_003 + n)
    return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} ({host}-{n})"


def _when(n: int) -> str:
    return f"2026-01-{1 + n % 28:02d}T{8 + n % 12:02d}:{n * 7 % 60:02d}:00+01:00"


def _url(n: int) -> str:
    return f"/2026/01/{1 + n % 28:02d}/story-{n}.html"


def _chrome(host: int) -> tuple[str, str]:
    """The page header (with its menu) and footer every page of a host carries."""
    menu = "".join(f'<li><a href="/{s.lower()}/">{s}</a></li>' for s in SECTIONS)
    links = "".join(f'<li><a href="/about/{w}">{w.title()}</a></li>' for w in WORDS[:24])
    header = (
        f'<header class="site-header"><a class="logo" href="/">Host {host} Gazette</a>'
        f'<nav class="main-menu"><ul>{menu}</ul></nav>'
        '<form class="search" action="/search"><input name="q"></form></header>'
    )
    footer = (
        f'<footer class="site-footer"><ul>{links}</ul><p>&copy; 2026 Host {host} Gazette. '
        "All rights reserved. Registered office: 1 Harbour Street.</p></footer>"
    )
    return header, footer


def _head(title: str, extra: str = "") -> str:
    css = "".join(f".c{i}{{margin:{i}px;padding:{i % 7}px;color:#{i:03x}}}" for i in range(220))
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"<meta name='viewport' content='width=device-width'><style>{css}</style>{extra}</head>"
    )


def article_page(host: int, n: int, total: int) -> bytes:
    rng = random.Random(host * 1_000_003 + n)
    title = _headline(host, n)
    paragraphs = "".join(
        "<p>"
        + " ".join(
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 24))).capitalize() + "."
            for _ in range(rng.randint(3, 5))
        )
        + "</p>"
        for _ in range(16)
    )
    latest = "".join(
        f'<li><a href="{_url(m)}">{_headline(host, m)}</a> <time datetime="{_when(m)}">'
        f"{_when(m)[:10]}</time></li>"
        for m in range(max(0, n - 8), n)
    )
    most_read = "".join(
        f'<li><a href="{_url(m)}">{_headline(host, m)}</a></li>'
        for m in sorted({rng.randrange(total) for _ in range(5)})
    )
    ld = json.dumps(
        {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
         "datePublished": _when(n), "author": {"@type": "Person", "name": "A. Reporter"}}
    )  # fmt: skip
    meta = (
        f"<meta property='og:title' content='{title}'>"
        f"<meta property='article:published_time' content='{_when(n)}'>"
        f"<script type='application/ld+json'>{ld}</script>"
    )
    header, footer = _chrome(host)
    return (
        _head(f"{title} | Host {host} Gazette", meta)
        + f"<body>{header}<main><article><h1>{title}</h1>"
        f'<p class="byline">By A. Reporter, <time datetime="{_when(n)}">{_when(n)[:10]}</time></p>'
        f"{paragraphs}</article>"
        f'<aside class="sidebar"><h3>Latest news</h3><ul>{latest}</ul>'
        f"<h3>Most read</h3><ol>{most_read}</ol></aside></main>{footer}</body></html>"
    ).encode()


def front_page(host: int, total: int) -> bytes:
    teasers = "".join(
        f'<article class="teaser"><h2><a href="{_url(n)}">{_headline(host, n)}</a></h2>'
        f'<time datetime="{_when(n)}">{_when(n)[:10]}</time>'
        f"<p>{' '.join(WORDS[n % 40 : n % 40 + 18])}.</p></article>"
        for n in range(total)
    )
    header, footer = _chrome(host)
    return (
        _head(f"Latest news | Host {host} Gazette")
        + f"<body>{header}<main><h1>Latest news</h1>{teasers}</main>{footer}</body></html>"
    ).encode()


class Site:
    """The hosts' pages, served on 127.0.0.2... from an asyncio loop on its own thread.

    ``log`` holds ``(host, path, arrival)`` for every request, ``time.monotonic()`` times.
    """

    def __init__(self, hosts: int, articles: int, latency: float) -> None:
        self.latency = latency
        self.pages: list[dict[str, bytes]] = []  # built before serving: no work per request
        for h in range(hosts):
            pages = {_url(n): article_page(h, n, articles) for n in range(articles)}
            pages |= {"/": front_page(h, articles), "/robots.txt": ROBOTS}
            self.pages.append(pages)
        self.log: list[tuple[int, str, float]] = []
        self.bases: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> Site:
        self._thread.start()
        for h in range(len(self.pages)):
            future = asyncio.run_coroutine_threadsafe(self._listen(h), self._loop)
            self.bases.append(future.result(10))
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _listen(self, host: int) -> str:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._connection(host, reader, writer)

        address = f"127.0.0.{host + 2}"
        server = await asyncio.start_server(handle, address, 0)
        return f"http://{address}:{server.sockets[0].getsockname()[1]}"

    async def _connection(
        self, host: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while True:  # one request after another on a kept-alive connection
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                arrived = time.monotonic()
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1] if lines[0].count(" ") == 2 else "?"
                self.log.append((host, path, arrived))
                close = any(line.lower() == "connection: close" for line in lines)
                status, kind, body = "200 OK", "text/html", self.pages[host].get(path)
                if path == "/robots.txt":
                    kind = "text/plain"
                if body is None:
                    status, kind, body = "404 Not Found", "text/plain", b"not found"
                await asyncio.sleep(self.latency - (time.monotonic() - arrived))
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Type: {kind}; charset=utf-8\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
                if close:
                    return
        finally:
            writer.close()


# -- the crawlers (each in a child process) -------------------------------------------------


def crawl_scraper(bases: list[str], articles: int, delay: float, out: Path) -> int:
    import scraper

    sources = "".join(
        f'[[source]]\nname = "host{h}"\nlistings = ["{base}/"]\nmax_pages = 1\n'
        f"max_articles = {articles}\ndelay = {delay}\nconcurrency = 1\nfollow_links = false\n"
        for h, base in enumerate(bases)
    )
    config = scraper.parse_config(f"[fetch]\nconcurrency = 32\nrespect_robots = true\n{sources}")
    report = scraper.run(config, out)
    return int(report.totals()["new"])


def crawl_scrapy(bases: list[str], articles: int, delay: float, out: Path) -> int:
    import scrapy
    from scrapy.crawler import CrawlerProcess

    class Spider(scrapy.Spider):
        name = "bench"
        start_urls = [f"{base}/" for base in bases]

        def parse(self, response: Any) -> Any:
            for href in response.css("main article h2 a::attr(href)").getall():
                yield response.follow(href, callback=self.article)

        def article(self, response: Any) -> Any:
            date = response.css("meta[property='article:published_time']::attr(content)").get()
            yield {
                "url": response.url,
                "title": response.css("h1::text").get(),
                "published": date or response.css("time::attr(datetime)").get(),
                "body": "\n".join(response.css("article p:not(.byline)::text").getall()),
            }

    process = CrawlerProcess(
        {
            "CONCURRENT_REQUESTS": 32,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
            "DOWNLOAD_DELAY": delay,
            "RANDOMIZE_DOWNLOAD_DELAY": False,
            "ROBOTSTXT_OBEY": True,
            "AUTOTHROTTLE_ENABLED": False,
            # the default since Scrapy 2.13, and what its docs advise for broad crawls
            "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.DownloaderAwarePriorityQueue",
            "TELNETCONSOLE_ENABLED": False,
            "LOG_LEVEL": "WARNING",
            "FEEDS": {str(out): {"format": "jsonlines", "encoding": "utf-8"}},
        }
    )
    process.crawl(Spider)
    process.start()
    with out.open(encoding="utf-8") as lines:
        return sum(1 for line in lines if line.strip())


def child(tool: str, bases: list[str], articles: int, delay: float) -> None:
    """One crawl; prints its figures: CPU is the whole process's (start and imports too)."""
    crawl = crawl_scraper if tool == "scraper" else crawl_scrapy
    if tool == "scrapy":
        import scrapy.crawler  # noqa: F401
    else:
        import scraper  # noqa: F401
    with tempfile.TemporaryDirectory() as tmp:
        before = _cpu()
        started = time.perf_counter()
        stored = crawl(bases, articles, delay, Path(tmp) / "out")
        seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)  # ru_maxrss: KiB on Linux
    result = {"stored": stored, "seconds": seconds, "cpu": _cpu(), "cpu_before": before}
    print(json.dumps(result | {"peak_kib": usage.ru_maxrss}))


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- the figures ----------------------------------------------------------------------------


def spacing(log: list[tuple[int, str, float]], delay: float) -> dict[str, Any]:
    """Start-to-start gaps per host from the site's log: the smallest, p1, those too short."""
    per_host: dict[int, list[tuple[float, str]]] = {}
    for host, path, arrived in log:
        per_host.setdefault(host, []).append((arrived, path))
    gaps: list[tuple[float, int, str, str]] = []
    for host, arrivals in per_host.items():
        arrivals.sort()
        for (t0, p0), (t1, p1) in zip(arrivals, arrivals[1:], strict=False):
            gaps.append((t1 - t0, host, p0, p1))
    gaps.sort()
    counts = [len(a) for a in per_host.values()] or [0]
    return {
        "requests": len(log),
        "per_host": statistics.fmean(counts),
        "min": gaps[0] if gaps else None,
        "p1": gaps[max(0, -(-len(gaps) // 100) - 1)][0] if gaps else None,
        "short": [g for g in gaps if g[0] < delay - SLACK],
        "gaps": len(gaps),
    }


def run_one(tool: str, site: Site, args: argparse.Namespace) -> dict[str, Any] | None:
    site.log.clear()
    bound = args.delay * (args.articles + 2) + args.latency
    done = subprocess.run(
        [sys.executable, __file__, "--child", tool, "--bases", ",".join(site.bases),
         "--articles", str(args.articles), "--delay", str(args.delay)],
        capture_output=True, text=True, check=False, timeout=10 * bound + 120,
    )  # fmt: skip
    if done.returncode:
        print(f"{tool} failed:\n{done.stderr[-3000:]}")
        return None
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["site"] = spacing(list(site.log), args.delay)
    return result


def figures(r: dict[str, Any], delay: float) -> dict[str, Any]:
    """One run's figures: rates and shares from the crawler's wall time, gaps from the site."""
    s, nan = r["site"], float("nan")
    gap, host, _, _ = s["min"] or (nan, -1, "", "")
    return {
        "stored": r["stored"],
        "requests": s["requests"],
        "seconds": r["seconds"],
        "rate": s["requests"] / r["seconds"],
        "share": s["per_host"] * delay / r["seconds"],
        "cpu_ms": 1000 * r["cpu"] / max(1, r["stored"]),
        "start_ms": 1000 * r["cpu_before"] / max(1, r["stored"]),
        "peak_mib": r["peak_kib"] / 1024,
        "min_ms": 1000 * gap,
        "host": f" (127.0.0.{host + 2})" if host >= 0 else "",
        "p1_ms": 1000 * s["p1"] if s["p1"] is not None else nan,
        "short": len(s["short"]),
        "gaps": s["gaps"],
    }


def median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over a crawler's runs; the smallest gap is the smallest of all runs."""
    keys = "stored requests seconds rate share cpu_ms peak_mib p1_ms start_ms".split()
    out = {k: statistics.median(r[k] for r in runs) for k in keys}
    worst = min(runs, key=lambda r: r["min_ms"])
    out |= {"min_ms": worst["min_ms"], "host": worst["host"]}
    out |= {"short": sum(r["short"] for r in runs), "gaps": sum(r["gaps"] for r in runs)}
    return out


def row(tool: str, run: str, f: dict[str, Any]) -> str:
    return (
        f"| {tool} | {run} | {f['stored']:.0f} | {f['requests']:.0f} | {f['seconds']:.1f} "
        f"| {f['rate']:.1f} | {f['share']:.3f} | {f['cpu_ms']:.1f} | {f['peak_mib']:.1f} "
        f"| {f['min_ms']:.1f}{f['host']} | {f['p1_ms']:.1f} | {f['short']} / {f['gaps']} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--articles", type=int, default=50)
    parser.add_argument("--delay", type=float, default=0.5)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--bases", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.bases.split(","), args.articles, args.delay)
        return
    if not 1 <= args.hosts <= 250 or args.articles < 1 or args.runs < 1:
        parser.error("--hosts must be 1 to 250, --articles and --runs at least 1")
    tools = ["scraper"]
    if _installed("scrapy"):
        tools.append("scrapy")
    else:
        print("scrapy skipped: pip install scrapy (the bench extra)")
    revision = _revision()
    done: dict[str, list[tuple[int, dict[str, Any]]]] = {tool: [] for tool in tools}
    short: list[tuple[str, int, tuple[float, int, str, str]]] = []
    with Site(args.hosts, args.articles, args.latency) as site:
        size = statistics.fmean(len(site.pages[0][_url(n)]) for n in range(args.articles))
        for run in range(1, args.runs + 1):
            for tool in tools:  # the crawlers take turns, so both see the machine's moods
                result = run_one(tool, site, args)
                if result is None:
                    continue
                done[tool].append((run, figures(result, args.delay)))
                short += [(tool, run, gap) for gap in result["site"]["short"][:5]]
                print(row(tool, str(run), done[tool][-1][1]), flush=True)
    if _revision() != revision:
        revision += f" then {_revision()} (the code changed during the benchmark)"
    print(
        f"\npython bench/crawl_hosts.py --hosts {args.hosts} --articles {args.articles} "
        f"--delay {args.delay:g} --latency {args.latency:g} --runs {args.runs}\n"
        f"site: {args.hosts} hosts on 127.0.0.2-{args.hosts + 1} x ({args.articles} articles "
        f"of {size / 1024:.1f} KiB + front page + robots.txt), latency {args.latency:g} s, "
        f"delay {args.delay:g} s: ideal {args.hosts / args.delay:g} pages/s; code at {revision}\n"
    )
    under = 1000 * (args.delay - SLACK)
    print("| crawler | run | stored | requests | seconds | pages/s | bound | CPU ms/art "
          f"| peak MiB | min gap ms (host) | p1 gap ms | gaps < {under:.0f} ms |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for tool, runs in done.items():
        for run, f in runs:
            print(row(tool, str(run), f))
        if len(runs) > 1:
            print(row(tool, "median", median([f for _, f in runs])))
    start = ", ".join(
        f"{t} {median([f for _, f in r])['start_ms']:.1f}" for t, r in done.items() if r
    )
    print(f"CPU ms/art counts the whole process; spent before the crawl (start, imports): {start}")
    for tool, run, (gap, host, first, second) in short:
        print(f"{tool} run {run}: 127.0.0.{host + 2} {first} -> {second}: {1000 * gap:.1f} ms")


def _revision() -> str:
    """The commit measured (``+`` when the package has uncommitted changes)."""
    git = ["git", "-C", str(Path(__file__).resolve().parent.parent)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "scraper"], capture_output=True)
    return head.stdout.strip() + ("+" if dirty.stdout.strip() else "") or "unknown"


def _installed(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


if __name__ == "__main__":
    main()
