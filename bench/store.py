"""Benchmark the SQLite store: ingest with dedupe and full-text search on, and search latency.

Run from the repository root::

    python bench/store.py [--articles N]... [--queries 200] [--seed 7] [--profile N] [--keep DIR]

Without ``--articles`` it runs 10,000 and then 100,000 articles, each into a fresh store
in a temporary folder (100,000 take several minutes).  Articles are generated: bodies of
400-800 words in paragraphs of sentences, drawn from a Zipf-distributed vocabulary
(English function words first, then made-up words), 20 sources, dates over a year, and
``--copies`` (5 %) near copies of a recent article under another source (a sentence
replaced, a dateline added), so the near-duplicate search finds matches as it would in a
real archive.  Generation is not timed: only ``save_article``.

Reported per run: articles/s overall; the cost per article in each tenth of the run
(flat when the store's cost does not grow with its size: judged on CPU time, since the
wall clock of a shared machine moves with its other load); bytes per article from the
file size (and per table and index, from SQLite's ``dbstat``); how many copies joined
their original's story; and, on the full store, search latency over ``--queries``
queries of 1-3 content words (log-uniform over the vocabulary ranks 30-20,000, so
common and rare words both come up): median, p95 and the slowest query.  Targets (issue
13): at least 1,000 articles/s at 100,000 with a flat cost, search p95 at most 50 ms; the
exit status is 1 when one is missed.  ``--profile N`` profiles N more saves into the full
store (cProfile) and prints where their time goes; ``--keep DIR`` keeps the stores.
The machine's other load shows in the wall-clock figures: "CPU ms/article" is this
process's own CPU time in ``save_article`` (the rest is disk I/O, fsync and waiting).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import math
import pstats
import random
import shlex
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scraper.models import Article
from scraper.store import ArticleWrite, SQLiteStore

TARGET_RATE = 1000.0  # articles/s at 100,000
TARGET_FLAT = 1.5  # last tenth's cost per article at most this many times the first's
TARGET_P95_MS = 50.0
SOURCES = 20
VOCABULARY = 30_000
ZIPF_S = 1.07
T0 = datetime(2025, 1, 1, tzinfo=UTC)
FUNCTION_WORDS = (
    "the of and to a in that is was he for it with as his on be at by i this had not are"
    " but from or have an they which one you were her all she there would their we him"
    " been has when who will more no if out so said what up its about into than them can"
    " only other new some could time these two may then do first any my now such like our"
    " over man me even most made after also did many before must through back years where"
).split()
SYLLABLES = (
    "ka ri to men sa lo ver an del por tis ba ne gu ra hal mo quin ter sol ad vi ce"
    " lun far gri mel os tra ex pan dor zu bel kir ost wen fa li da ro mi"
).split()


def vocabulary(rng: random.Random) -> list[str]:
    """Function words, then distinct made-up words of 2-4 syllables, in rank order."""
    words, seen = list(FUNCTION_WORDS), set(FUNCTION_WORDS)
    while len(words) < VOCABULARY:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


class Writer:
    """Prose-like text from a Zipf vocabulary: sentences, paragraphs, headlines."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.words = vocabulary(self.rng)
        weights = [1 / (rank**ZIPF_S) for rank in range(1, len(self.words) + 1)]
        self.cumulative = list(_accumulate(weights))

    def sentence(self) -> str:
        tokens = self.rng.choices(
            self.words, cum_weights=self.cumulative, k=self.rng.randint(8, 25)
        )
        if self.rng.random() < 0.3:  # figures, as news has them
            tokens.insert(self.rng.randrange(len(tokens)), str(self.rng.randint(2, 2000)))
        return " ".join(tokens).capitalize() + "."

    def body(self) -> str:
        target, paragraphs, count = self.rng.randint(400, 800), [], 0
        while count < target:
            sentences = [self.sentence() for _ in range(self.rng.randint(2, 5))]
            count += sum(len(s.split()) for s in sentences)
            paragraphs.append(" ".join(sentences))
        return "\n\n".join(paragraphs)

    def title(self) -> str:
        tokens = self.rng.choices(self.words[30:], k=self.rng.randint(5, 10))
        return " ".join(tokens).capitalize()

    def near_copy(self, body: str) -> str:
        """Another outlet's copy: a dateline, and one sentence of a paragraph replaced."""
        paragraphs = body.split("\n\n")
        i = self.rng.randrange(len(paragraphs))
        sentences = paragraphs[i].split(". ")
        sentences[self.rng.randrange(len(sentences))] = self.sentence().rstrip(".")
        paragraphs[i] = ". ".join(sentences)
        return "PORT ALDER (Wire) - " + "\n\n".join(paragraphs)

    def query(self) -> str:
        """1-3 content words, ranks log-uniform over 30-20,000."""
        ranks = (int(math.exp(self.rng.uniform(math.log(30), math.log(20_000)))) for _ in "abc")
        return " ".join(self.words[r] for r in list(ranks)[: self.rng.randint(1, 3)])


def _accumulate(values: list[float]) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


def articles(
    writer: Writer, count: int, copies: float
) -> Iterator[tuple[ArticleWrite, int | None]]:
    """``count`` writes in crawl order, each with the index of the write it is a near copy
    of (None for an original)."""
    recent: list[tuple[int, str, str, str]] = []  # (index, source, title, body) of originals
    rng = writer.rng
    for n in range(count):
        when = T0 + timedelta(seconds=n * 300)
        original: int | None = None
        if recent and rng.random() < copies:
            original, source, title, body = rng.choice(recent[-2000:])
            source = f"source{(int(source[6:]) + rng.randint(1, SOURCES - 1)) % SOURCES:02d}"
            body = writer.near_copy(body)
        else:
            source, title, body = (
                f"source{rng.randrange(SOURCES):02d}",
                writer.title(),
                writer.body(),
            )
            recent.append((n, source, title, body))
            del recent[:-2000]
        published = when - timedelta(minutes=rng.randint(5, 600))
        article = Article(
            url=None,
            title=title,
            published=published,
            body=body,
            authors=(f"Reporter {rng.randrange(500)}",),
            language="en",
            date_precision="datetime",
        )
        url = f"https://{source}.example/news/{n}-{title[:30].lower().replace(' ', '-')}"
        yield ArticleWrite(source=source, url=url, article=article, fetched_at=when), original


@dataclass
class Ingest:
    count: int
    seconds: float
    cpu_seconds: float  # this process's CPU time in save_article (the rest is I/O or waiting)
    slices: list[float]  # seconds per article in each tenth
    cpu_slices: list[float]  # CPU seconds per article in each tenth
    copies: int
    joined: int  # near copies that joined their original's story
    path: Path


def ingest(path: Path, count: int, seed: int, copies: float) -> Ingest:
    writer = Writer(seed)
    slice_size = max(1, count // 10)
    slices: list[float] = []
    cpu_slices: list[float] = []
    spent = slice_spent = cpu = slice_cpu = 0.0
    made = joined = 0
    story_of: dict[int, int | None] = {}  # original's index -> its story
    with SQLiteStore(path) as store:
        for n, (write, original) in enumerate(articles(writer, count, copies), start=1):
            start, start_cpu = time.perf_counter(), time.process_time()
            result = store.save_article(write)
            took = time.perf_counter() - start
            used = time.process_time() - start_cpu
            cpu += used
            slice_cpu += used
            spent += took
            slice_spent += took
            if original is None:
                story_of[n - 1] = result.story_id
            else:
                made += 1
                joined += result.story_id == story_of[original]
            if n % slice_size == 0 or n == count:
                done = slice_size if n % slice_size == 0 else n % slice_size
                slices.append(slice_spent / done)
                cpu_slices.append(slice_cpu / done)
                slice_spent = slice_cpu = 0.0
                rate = 1 / max(slices[-1], 1e-9)
                line = (
                    f"{n:>9} articles {rate:>7.0f}/s ({slices[-1] * 1000:.2f} ms/article,"
                    f" CPU {cpu_slices[-1] * 1000:.2f} ms)"
                )
                print(line, file=sys.stderr, flush=True)
    return Ingest(count, spent, cpu, slices, cpu_slices, made, joined, path)


def table_sizes(path: Path) -> list[tuple[str, int]]:
    """Bytes per table and index (dbstat), largest first; [] when SQLite lacks dbstat."""
    with sqlite3.connect(path) as conn:
        try:
            rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
        except sqlite3.Error:
            return []
    return sorted(((str(n), int(s)) for n, s in rows), key=lambda r: -r[1])


def search_latency(path: Path, queries: int, seed: int) -> list[tuple[float, str, int]]:
    """(milliseconds, query, articles it matches) per query, in the order run."""
    writer = Writer(seed + 1)
    texts = [writer.query() for _ in range(queries)]
    times: list[float] = []
    with SQLiteStore(path) as store:
        store.search(texts[0])  # warm the page cache as a running service would be
        for text in texts:
            start = time.perf_counter()
            store.search(text, limit=20)
            times.append((time.perf_counter() - start) * 1000)
    with sqlite3.connect(path) as conn:  # how many articles each query matches (untimed)
        sql = "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?"
        quoted = (" ".join(f'"{w}"' for w in text.split()) for text in texts)
        matches = [int(conn.execute(sql, [q]).fetchone()[0]) for q in quoted]
    return list(zip(times, texts, matches, strict=True))


def profile(path: Path, count: int, seed: int, copies: float) -> str:
    """cProfile of ``count`` more saves into the store at ``path``."""
    writes = [w for w, _ in articles(Writer(seed + 2), count, copies)]
    writes = [
        ArticleWrite(w.source, w.url.replace("/news/", "/more/"), w.article, w.fetched_at)
        for w in writes
    ]
    profiler = cProfile.Profile()
    with SQLiteStore(path) as store:
        profiler.enable()
        for write in writes:
            store.save_article(write)
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(30)
    return out.getvalue()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, action="append", help="run size (repeatable)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--copies", type=float, default=0.05, help="share of near copies")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument("--keep", type=Path, help="write the stores into this folder and keep them")
    args = parser.parse_args(argv)
    sizes = args.articles or [10_000, 100_000]
    command = "python bench/store.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    missed: list[str] = []
    lines = [
        "| articles | articles/s | ms/article, first → last tenth | CPU ms/article per tenth"
        " | CPU last/first | bytes/article | CPU ms/article | copies joined | search median ms"
        " | p95 ms | max ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-store-") as temporary:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        for size in sizes:
            path = folder / f"store-{size}.db"
            if path.exists():
                raise SystemExit(f"{path} exists: the benchmark needs a fresh store")
            print(f"ingesting {size} articles into {path}", file=sys.stderr)
            run = ingest(path, size, args.seed, args.copies)
            rate = run.count / run.seconds
            growth = run.cpu_slices[-1] / run.cpu_slices[0]
            per_article = path.stat().st_size / run.count
            print(f"searching {args.queries} queries", file=sys.stderr)
            searches = search_latency(path, args.queries, args.seed)
            times = [ms for ms, _, _ in searches]
            median, p95 = statistics.median(times), percentile(times, 0.95)
            tenths = " ".join(f"{s * 1000:.2f}" for s in run.slices)
            cpu_tenths = " ".join(f"{s * 1000:.2f}" for s in run.cpu_slices)
            lines.append(
                f"| {size:,} | {rate:,.0f} | {tenths} | {cpu_tenths} | {growth:.2f}"
                f" | {per_article:,.0f} | {run.cpu_seconds / run.count * 1000:.2f}"
                f" | {run.joined}/{run.copies}"
                f" | {median:.1f} | {p95:.1f} | {max(times):.1f} |"
            )
            slowest = sorted(searches, reverse=True)[:3]
            notes.append(
                f"{size:,}: slowest queries: "
                + ", ".join(f"{q!r} {ms:.0f} ms ({m:,} matches)" for ms, q, m in slowest)
            )
            narrow = [ms for ms, _, m in searches if m <= size // 20]
            if narrow:
                notes.append(
                    f"{size:,}: queries matching at most 5 % of the articles ({len(narrow)}):"
                    f" median {statistics.median(narrow):.1f} ms,"
                    f" p95 {percentile(narrow, 0.95):.1f} ms"
                )
            sizes_by_table = table_sizes(path)
            if sizes_by_table:
                notes.append(
                    f"{size:,}: bytes/article by table: "
                    + ", ".join(f"{n} {b / run.count:,.0f}" for n, b in sizes_by_table[:8])
                )
            if size >= 100_000:
                if rate < TARGET_RATE:
                    missed.append(f"{rate:.0f} articles/s < {TARGET_RATE:.0f} at {size:,}")
                if growth > TARGET_FLAT:
                    missed.append(f"cost per article grew {growth:.2f}x over the run")
                if p95 > TARGET_P95_MS:
                    missed.append(f"search p95 {p95:.1f} ms > {TARGET_P95_MS:.0f} ms")
            if args.profile and size == sizes[-1]:
                notes.append(profile(path, args.profile, args.seed, args.copies))
    print(f"\n{command}\n")
    print("\n".join(lines))
    print()
    print("\n".join(notes))
    if missed:
        print("\nmissed: " + "; ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
