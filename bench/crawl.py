"""Benchmark a whole crawl: pages per second and memory over a long run, against a peer.

Run from the repository root::

    python bench/crawl.py [--articles 2000] [--concurrency 8]

A synthetic news site (paginated "Latest news" listings and ``--articles`` distinct
article pages of realistic size) is served on 127.0.0.1 from a separate process.  Two
crawlers then fetch every article once into a fresh SQLite file, each in its own
process so that their peak memory is their own:

- ``scraper``: ``scraper.run`` with the site's listings, no politeness delay,
  ``--concurrency`` requests in flight;
- ``peer``: what a hand-written crawler typically does — httpx with the same
  concurrency, trafilatura for title/date/body, and one SQLite insert per article
  (needs the ``bench`` extra; skipped when trafilatura is missing).

Printed per crawler: articles stored, wall time, articles/s, the speed ratio, peak RSS,
and RSS growth between the first and the last tenth of the crawl (a leak shows as growth).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PER_PAGE = 50
WORDS = (
    "council harbour ferry budget plan vote members ward cost timetable businesses river "
    "school bridge tram market fishermen island museum library storm repairs rents police "
    "hospital nurses farmers grain quota festival season tourists port workers union court"
).split()


def article_page(n: int) -> bytes:
    rng = random.Random(n)
    paragraphs = "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(60)) + ".</p>" for _ in range(8)
    )
    day = 1 + n % 28
    nav = "".join(f'<li><a href="/section/{w}/">{w}</a></li>' for w in WORDS[:12])
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Story {n} about the {rng.choice(WORDS)} | Bench Gazette</title>"
        f"<meta property='og:title' content='Story {n} about the harbour'>"
        f"<meta property='article:published_time' content='2026-01-{day:02d}T10:00:00+01:00'>"
        f"</head><body><nav><ul>{nav}</ul></nav><article><h1>Story {n} about the harbour</h1>"
        f"{paragraphs}</article><aside><h3>Latest news</h3><ul>"
        + "".join(
            f'<li><a href="/news/story-number-{m}-about-the-harbour">Story {m}</a> '
            f"0{1 + m % 9}.Jan.2026</li>"
            for m in range(max(0, n - 5), n)
        )
        + "</ul></aside><footer>Bench Gazette, all rights reserved.</footer></body></html>"
    ).encode()


def listing_page(page: int, total: int) -> bytes:
    first = (page - 1) * PER_PAGE
    items = "".join(
        f'<li><a href="/news/story-number-{n}-about-the-harbour">Story {n} about the '
        f"harbour and the ferry</a> 0{1 + n % 9}.Jan.2026</li>"
        for n in range(first, min(total, first + PER_PAGE))
    )
    more = ""
    if first + PER_PAGE < total:
        more = f'<a rel="next" href="/news/page/{page + 1}/">Older</a>'

    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Latest news</title></head>"
        f"<body><main><h2>Latest news</h2><ul>{items}</ul>{more}</main></body></html>"
    ).encode()


def serve(total: int, ready: Any, port: Any) -> None:
    """Serve the synthetic site until the process is terminated (run in a child process)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == "/robots.txt":
                body, status = b"User-agent: *\nAllow: /\n", 200
            elif path == "/news/":
                body, status = listing_page(1, total), 200
            elif path.startswith("/news/page/"):
                body, status = listing_page(int(path.split("/")[3]), total), 200
            elif path.startswith("/news/story-number-"):
                body, status = article_page(int(path.split("-")[2])), 200
            else:
                body, status = b"not found", 404
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port.value = server.server_address[1]
    ready.set()
    server.serve_forever()


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def crawl_scraper(base: str, total: int, concurrency: int, db: Path) -> dict[str, object]:
    import scraper

    pages = -(-total // PER_PAGE)
    config = scraper.parse_config(
        f'[fetch]\nconcurrency = {concurrency}\n[[source]]\nname = "bench"\n'
        f'listings = ["{base}/news/"]\nmax_pages = {pages + 1}\nmax_articles = {total}\n'
        f"delay = 0\nconcurrency = {concurrency}\nfollow_links = false\n"
    )
    samples: list[int] = []

    def progress(_: object) -> None:
        samples.append(rss_kib())

    started = time.perf_counter()
    report = scraper.run(config, db, scraper.RunOptions(progress=progress))
    elapsed = time.perf_counter() - started
    return {"stored": report.totals()["new"], "seconds": elapsed, "samples": samples}


def crawl_peer(base: str, total: int, concurrency: int, db: Path) -> dict[str, object]:
    import asyncio
    import re
    import sqlite3

    import httpx
    import trafilatura

    samples: list[int] = []

    async def main() -> int:
        conn = sqlite3.connect(db)
        conn.execute("create table articles (url text primary key, title, date, body)")
        urls: list[str] = []
        async with httpx.AsyncClient(timeout=30) as client:
            next_url: str | None = f"{base}/news/"
            while next_url:
                html = (await client.get(next_url)).text
                urls += [base + h for h in re.findall(r'href="(/news/story-number-[^"]+)"', html)]
                more = re.search(r'rel="next" href="([^"]+)"', html)
                next_url = base + more.group(1) if more else None
            queue = list(dict.fromkeys(urls))
            gate = asyncio.Semaphore(concurrency)

            async def one(url: str) -> None:
                async with gate:
                    html = (await client.get(url)).text
                doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
                data = doc.as_dict() if hasattr(doc, "as_dict") else (doc or {})
                conn.execute(
                    "insert or replace into articles values (?, ?, ?, ?)",
                    (url, data.get("title"), data.get("date"), data.get("text")),
                )
                conn.commit()
                samples.append(rss_kib())

            await asyncio.gather(*(one(u) for u in queue))
        stored = conn.execute("select count(*) from articles").fetchone()[0]
        conn.close()
        return int(stored)

    started = time.perf_counter()
    stored = asyncio.run(main())
    return {"stored": stored, "seconds": time.perf_counter() - started, "samples": samples}


def child(tool: str, base: str, total: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        crawl = crawl_scraper if tool == "scraper" else crawl_peer
        result = crawl(base, total, concurrency, Path(tmp) / "bench.db")
    samples = result.pop("samples")
    assert isinstance(samples, list)
    tenth = max(1, len(samples) // 10)
    result["growth_kib"] = (
        sum(samples[-tenth:]) // tenth - sum(samples[:tenth]) // tenth if samples else 0
    )
    result["peak_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.base, args.articles, args.concurrency)
        return
    ready, port = multiprocessing.Event(), multiprocessing.Value("i", 0)
    site = multiprocessing.Process(target=serve, args=(args.articles, ready, port), daemon=True)
    site.start()
    ready.wait(10)
    base = f"http://127.0.0.1:{port.value}"
    results: dict[str, dict[str, float]] = {}
    try:
        for tool in ("scraper", "peer"):
            if tool == "peer" and not _installed("trafilatura"):
                print("peer skipped: install the bench extra (pip install -e '.[bench]')")
                continue
            done = subprocess.run(
                [sys.executable, __file__, "--child", tool, "--base", base,
                 "--articles", str(args.articles), "--concurrency", str(args.concurrency)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if done.returncode:
                print(f"{tool} failed:\n{done.stderr}")
                continue
            results[tool] = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        site.terminate()
    print(f"site: {args.articles} articles on {base}, concurrency {args.concurrency}")
    print(f"{'crawler':<9} {'stored':>7} {'seconds':>8} {'art/s':>7} {'x peer':>7} "
          f"{'peak MiB':>9} {'RSS growth MiB':>15}")  # fmt: skip
    peer_rate = None
    if "peer" in results:
        peer_rate = results["peer"]["stored"] / results["peer"]["seconds"]
    for tool, r in results.items():
        rate = r["stored"] / r["seconds"]
        ratio = f"{rate / peer_rate:.1f}" if peer_rate else "-"
        print(f"{tool:<9} {int(r['stored']):>7} {r['seconds']:>8.1f} {rate:>7.1f} {ratio:>7} "
              f"{r['peak_kib'] / 1024:>9.1f} {r['growth_kib'] / 1024:>15.1f}")  # fmt: skip


def _installed(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


if __name__ == "__main__":
    main()
