"""Benchmark the store's story grouping: near copies of real articles, and hard negatives.

Run from the repository root::

    python bench/dedupe.py [--corpus ../shared/corpus] [--limit N] [--seed S] [--misses N]

Real article text comes from the annotated bodies (``body``) of the news-like collections
of the corpus (``SETS``; CleanEval's general web pages and Readability's test pages are
left out), bodies of at least ``MIN_CHARS`` characters; mis-decoded pages and the
corpus's own near-copies (``AMBIGUOUS``: their truth is unknown) are left out too.
``--limit`` originals each get ``COPIES`` near copies, each saved under another source and
of one of ``KINDS`` (rotated, so every kind gets as many): another headline, a dateline
and credit line, 5-20 % of sentences edited (words replaced, a sentence rewritten or
dropped), the first half only, and combinations.  The rest of the corpus gives the
negatives: follow-ups quoting a paragraph or two of an original, articles sharing a block
of boilerplate, roundups that quote an original brief whole among other briefs, and every
other real article as it is (same site, same topic: the search results of one query).

Everything is saved in random order (a copy may come before its original) into a fresh
SQLite store in a temporary folder, each save timed (wall clock, and this process's CPU
time, which a busy shared machine disturbs less).  A pair of rows is "grouped" when both
have the same ``story_id``; the truth is that an original and its copies belong together
and everything else apart.  Precision and recall are over pairs; recall is shown per kind
of copy (against its original, then copies of one original among themselves), false
groupings per kind of pair that belongs apart.  ``--misses N`` lists missed and false
pairs with their scores.  The exit status is 1 when a target (precision >= 0.99, recall
>= 0.95) is missed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scraper.models import Article
from scraper.store import ArticleWrite, SQLiteStore
from scraper.store.fingerprint import Profile, same_text

SETS = ("fundus_dev", "scrapinghub_dev", "wceb_big9_dev", "wceb_dragnet_dev", "wceb_chaos_dev")
MIN_CHARS = 800
AMBIGUOUS = 0.6  # corpus pairs sharing this share of the smaller's shingles: one is dropped
COPIES = 3  # near copies per original
TARGETS = {"precision": 0.99, "recall": 0.95}
T0 = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)
PLACES = ("KESTREL BAY", "PORT ALDER", "NEW HARROW", "LINDENFORD", "SALTMARSH")
WIRES = ("Wire", "KBN", "Harbour Press", "Northern Wire")
BOILERPLATE = (
    "Sign up for our morning newsletter and get the day's most important stories in your "
    "inbox before breakfast. You can unsubscribe at any time.\n\nOur journalism is funded by "
    "readers like you. If you value independent local reporting, please consider becoming "
    "a member today.",
    "Comments on this article are moderated. Please keep the discussion civil and on topic; "
    "comments that contain abuse, advertising or personal details will be removed.\n\n"
    "Have a story tip? Write to our newsroom, or send us a message through the secure form "
    "on our contact page.",
    "This article was produced with the support of a regional journalism fund. The fund has "
    "no say in what we cover or how we cover it.\n\nCorrections: we strive for accuracy. If "
    "you spot an error in this story, please let our standards editor know.",
    "Read more: all our coverage of the region, updated throughout the day, with live "
    "blogs, explainers and the weekend long read.\n\nFollow us on social media for breaking "
    "news alerts, photo galleries and video from our reporters in the field.",
    "Copyright of this article belongs to the publisher. It may not be reproduced, "
    "distributed or broadcast without written permission.\n\nSome links in this article are "
    "affiliate links: we may earn a small commission when you buy through them.",
)


@dataclass(frozen=True)
class Kind:
    name: str
    dateline: bool
    edit: float  # share of sentences edited
    half: bool  # truncated to its first half


KINDS = (
    Kind("new headline + dateline", True, 0.0, False),
    Kind("edit 5 %", False, 0.05, False),
    Kind("edit 10 %", False, 0.10, False),
    Kind("edit 20 %", False, 0.20, False),
    Kind("dateline + edit 10 %", True, 0.10, False),
    Kind("first half", False, 0.0, True),
    Kind("first half + dateline", True, 0.0, True),
    Kind("first half + edit 10 %", False, 0.10, True),
    Kind("first half + dateline + edit 20 %", True, 0.20, True),
)


@dataclass(frozen=True)
class Text:
    id: str
    site: str
    topic: str | None  # the search query of a wceb_chaos page
    title: str
    body: str


@dataclass
class Row:
    """One saved article: ``origin`` is shared by an original and its copies only."""

    kind: str  # "original", a copy kind's name, or what negative it is
    source: str
    title: str
    body: str
    site: str | None = None  # of the real text it carries
    topic: str | None = None
    origin: int = -1  # -1: its own
    story: int | None = None
    step: int = 0  # when it was saved
    seconds: float = 0.0  # wall clock
    cpu: float = 0.0  # this process's CPU time


@dataclass
class Bench:
    rows: list[Row] = field(default_factory=list)
    negatives: dict[str, set[tuple[int, int]]] = field(default_factory=lambda: defaultdict(set))

    def add(self, row: Row) -> int:
        if row.origin < 0:
            row.origin = len(self.rows)
        self.rows.append(row)
        return len(self.rows) - 1

    def text(self, text: Text, kind: str, body: str | None = None, source: str = "") -> int:
        """Add a row carrying ``text`` (or ``body`` made of it) as an article of its own."""
        row = Row(kind, source or text.site, text.title, body or text.body, text.site, text.topic)
        return self.add(row)

    def mark(self, kind: str, row: int, others: Iterable[int]) -> None:
        for other in others:
            self.negatives[kind].add((min(row, other), max(row, other)))


# ----------------------------------------------------------------------------- corpus


def load_texts(corpus: Path) -> tuple[list[Text], int]:
    """The usable bodies, and how many were left out as near-copies of an earlier one."""
    texts: list[Text] = []
    for name in SETS:
        path = corpus / name / "cases.jsonl"
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            case = json.loads(line)
            body = (case.get("body") or "").strip()
            if len(body) < MIN_CHARS or body.count(" ") > len(body) * 0.35:  # UTF-16 as bytes
                continue
            meta = case.get("meta") or {}
            site = meta.get("domain") or meta.get("publisher") or case["id"]
            topic = (
                case["id"].split(":", 1)[1].rsplit("_", 1)[0]
                if name.endswith("chaos_dev")
                else None
            )
            title = case.get("title") or body.split("\n", 1)[0][:120]
            texts.append(Text(case["id"], site, topic, title, body))
    kept: list[Text] = []
    sizes: list[int] = []
    owners: defaultdict[str, list[int]] = defaultdict(list)
    for text in texts:
        shingles = Profile.of(text.body).shingles
        shared = Counter(i for s in shingles for i in owners[s])
        if any(n >= AMBIGUOUS * min(len(shingles), sizes[i]) for i, n in shared.items()):
            continue
        for s in shingles:
            owners[s].append(len(kept))
        kept.append(text)
        sizes.append(len(shingles))
    return kept, len(texts) - len(kept)


# ----------------------------------------------------------------------------- copies

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"”’)])\s+|(?<=[。！？])")


def paragraphs(body: str) -> list[list[str]]:
    """The body as paragraphs of sentences."""
    return [
        [s for s in _SENTENCE_END.split(p.strip()) if s]
        for p in re.split(r"\n\s*\n|\n", body)
        if p.strip()
    ]


def join(paras: Iterable[list[str]]) -> str:
    return "\n\n".join(" ".join(p) for p in paras if p)


def is_headline(para: list[str], title: str) -> bool:
    text = " ".join(para)
    return text == title or (len(text) <= 150 and not text.endswith((".", "!", "?", "。")))


def edit(paras: list[list[str]], rate: float, rng: random.Random, vocab: list[str]) -> None:
    """Edit ``rate`` of the sentences in place: replace words, rewrite or drop one."""
    places = [(i, j) for i, p in enumerate(paras) for j in range(len(p))]
    for i, j in rng.sample(places, max(1, round(rate * len(places)))):
        words = paras[i][j].split()
        action = rng.choices(("words", "rewrite", "drop"), (5, 3, 2))[0]
        if action == "drop" and len(places) > 3:
            paras[i][j] = ""
        elif action == "rewrite" or len(words) < 4:
            kept = [
                w if any(c.isdigit() for c in w) or rng.random() < 0.5 else rng.choice(vocab)
                for w in words
            ]
            cut = rng.randrange(len(kept)) if kept else 0
            paras[i][j] = " ".join(kept[cut:] + kept[:cut])
        else:
            for _ in range(rng.randint(1, 3)):
                words[rng.randrange(len(words))] = rng.choice(vocab)
            paras[i][j] = " ".join(words)
    for p in paras:
        p[:] = [s for s in p if s]


def first_half(paras: list[list[str]]) -> list[list[str]]:
    total = sum(len(s) for p in paras for s in p)
    kept: list[list[str]] = []
    seen = 0
    for p in paras:
        kept.append([])
        for s in p:
            if seen >= total / 2:
                return kept
            kept[-1].append(s)
            seen += len(s)
    return kept


def make_copy(text: Text, kind: Kind, rng: random.Random, vocab: list[str]) -> tuple[str, str]:
    """Another outlet's copy of ``text``: (headline, body)."""
    paras = paragraphs(text.body)
    headline = f"{rng.choice(PLACES).title()}: " + " ".join(rng.sample(vocab, 6)).capitalize()
    if len(paras) > 1 and is_headline(paras[0], text.title):
        paras[0] = [headline]
    if kind.edit:
        edit(paras, kind.edit, rng, vocab)
    if kind.half:
        paras = first_half(paras)
    paras = [p for p in paras if p]
    if kind.dateline:
        at = 1 if len(paras) > 1 and paras[0] == [headline] else 0
        paras[at][0] = f"{rng.choice(PLACES)} ({rng.choice(WIRES)}) — {paras[at][0]}"
        paras.insert(at, [f"By Staff, {rng.choice(WIRES)}"])
    return headline, join(paras)


def quote(body: str, cap: int, rng: random.Random) -> list[str]:
    """Consecutive sentences making 15-35 % of ``body``, at most ``cap`` characters (at
    least one sentence)."""
    sentences = [s for p in paragraphs(body) for s in p]
    budget = min(cap, sum(map(len, sentences)) * rng.uniform(0.15, 0.35))
    start = rng.randrange(max(1, len(sentences) // 2))
    span = sentences[start : start + 1]
    for s in sentences[start + 1 :]:
        if sum(map(len, span)) + len(s) > budget:
            break
        span.append(s)
    return span


# ----------------------------------------------------------------------------- the set


def build(texts: list[Text], limit: int, rng: random.Random) -> Bench:
    """Originals and their copies, then the negatives from the rest of the corpus."""
    pool = list(texts)
    rng.shuffle(pool)
    originals, rest = pool[:limit], pool[limit:]
    vocab = sorted({w for t in pool[:200] for w in t.body.split() if w.isalpha() and len(w) > 3})
    bench = Bench()
    first = []  # the row of each original; its copies follow it
    for n, text in enumerate(originals):
        first.append(bench.text(text, "original"))
        for c in range(COPIES):
            kind = KINDS[(n * COPIES + c) % len(KINDS)]
            title, body = make_copy(text, kind, rng, vocab)
            bench.add(Row(kind.name, f"wire{c}", title, body, text.site, text.topic, first[-1]))
    quoting = rest[: min(limit, len(rest) // 5)]
    for text, quoted in zip(quoting, first, strict=False):  # a follow-up quoting an original
        paras = paragraphs(text.body)
        paras.insert(len(paras) // 2 + 1, quote(bench.rows[quoted].body, len(text.body) // 2, rng))
        row = bench.text(text, "quotes a paragraph or two", join(paras))
        bench.mark("quotes a paragraph or two", row, range(quoted, quoted + COPIES + 1))
    blocks: defaultdict[int, list[int]] = defaultdict(list)  # one block per site, 8 texts
    for n, text in enumerate(rest[len(quoting) : len(quoting) + 40]):
        block = n % len(BOILERPLATE)
        body = text.body + "\n\n" + BOILERPLATE[block]
        row = bench.text(text, "shared boilerplate", body, source=f"site-{block}")
        bench.mark("shared boilerplate", row, blocks[block])
        blocks[block].append(row)
    plain = [bench.text(text, "other article") for text in rest[len(quoting) + 40 :]]
    add_roundups(bench, [originals[n] for n in range(limit)], first, plain, rng)
    return bench


def add_roundups(
    bench: Bench, originals: list[Text], first: list[int], plain: list[int], rng: random.Random
) -> None:
    """Roundups quoting a short original whole among other briefs, each a third or less of
    the roundup's words."""
    length = [len(t.body.split()) for t in originals]
    spaced = [n for n in range(len(originals)) if length[n] >= 120]  # words split by spaces
    for n in sorted(spaced, key=length.__getitem__)[: len(originals) // 10]:
        short = [i for i in plain if len(bench.rows[i].body.split()) <= 2 * length[n]]
        others = iter(rng.sample(short, len(short)))
        items, size = [first[n]], [length[n]]
        while sum(size) < 3 * max(size) or len(items) < 4:  # each item a third or less
            items.append(next(others))
            size.append(len(bench.rows[items[-1]].body.split()))
        rng.shuffle(items)
        body = "Our briefing this morning.\n\n" + "\n\n".join(bench.rows[i].body for i in items)
        row = bench.add(Row("roundup", "roundups", "Briefing", body))
        for item in items:
            quoted = range(item, item + COPIES + 1) if item == first[n] else [item]
            bench.mark("roundup quoting a brief whole", row, quoted)


# ----------------------------------------------------------------------------- run, score


def save_all(bench: Bench, folder: Path, rng: random.Random) -> None:
    order = list(range(len(bench.rows)))
    rng.shuffle(order)
    with SQLiteStore(folder / "dedupe.db") as store:
        for step, i in enumerate(order):
            row = bench.rows[i]
            art = Article(url=None, title=row.title, published=T0, body=row.body)
            write = ArticleWrite(
                source=row.source,
                url=f"https://{row.source}.example/{i}",
                article=art,
                fetched_at=T0 + timedelta(seconds=step),
            )
            started, cpu = time.perf_counter(), time.process_time()
            result = store.save_article(write)
            row.seconds = time.perf_counter() - started
            row.cpu = time.process_time() - cpu
            row.story, row.step = result.story_id, step


def pair_kinds(bench: Bench) -> dict[tuple[int, int], str]:
    """Each hard negative pair's kind (explicit kinds first, then same topic, same site)."""
    kinds: dict[tuple[int, int], str] = {}
    for attr, name in (("topic", "same topic (one search query)"), ("site", "same site")):
        groups: defaultdict[str, list[int]] = defaultdict(list)
        for i, row in enumerate(bench.rows):
            if key := getattr(row, attr):
                groups[key].append(i)
        for members in groups.values():
            for a, b in itertools.combinations(members, 2):
                if bench.rows[a].origin != bench.rows[b].origin:
                    kinds.setdefault((a, b), name)
    for name, pairs in bench.negatives.items():
        kinds.update(dict.fromkeys(pairs, name))
    return kinds


def grouped_pairs(bench: Bench) -> Iterator[tuple[int, int]]:
    stories: defaultdict[int, list[int]] = defaultdict(list)
    for i, row in enumerate(bench.rows):
        if row.story is not None:
            stories[row.story].append(i)
    for members in stories.values():
        yield from itertools.combinations(members, 2)


def report(bench: Bench, misses: int) -> bool:
    rows = bench.rows
    grouped = set(grouped_pairs(bench))
    positives: defaultdict[str, list[tuple[int, int]]] = defaultdict(list)
    by_origin: defaultdict[int, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        by_origin[row.origin].append(i)
    for members in by_origin.values():
        for a, b in itertools.combinations(members, 2):
            kind = rows[b].kind if rows[a].kind == "original" else "copy <-> copy"
            positives[kind].append((a, b))
    kinds = pair_kinds(bench)
    false = Counter(
        kinds.get(p, "other") for p in grouped if rows[p[0]].origin != rows[p[1]].origin
    )
    total_pos = sum(map(len, positives.values()))
    found = sum(p in grouped for pairs in positives.values() for p in pairs)
    precision = found / len(grouped) if grouped else 1.0
    recall = found / total_pos if total_pos else 1.0
    print(f"\n{len(rows)} articles saved, {total_pos} true pairs, {len(grouped)} grouped pairs\n")
    print("| copy kind (vs its original) | pairs | grouped | recall |\n|---|---|---|---|")
    for kind in [k.name for k in KINDS] + ["copy <-> copy"]:
        pairs = positives[kind]
        hit = sum(p in grouped for p in pairs)
        print(f"| {kind} | {len(pairs)} | {hit} | {hit / max(1, len(pairs)):.3f} |")
    counts = Counter(kinds.values())
    counts["other"] = len(rows) * (len(rows) - 1) // 2 - total_pos - sum(counts.values())
    print("\n| apart pair kind | pairs | grouped (false) |\n|---|---|---|")
    for kind, n in sorted(counts.items(), key=lambda kv: kv[0] == "other"):
        print(f"| {kind} | {n} | {false[kind]} |")
    ms = sorted(r.seconds * 1000 for r in rows)
    in_order = [r.seconds * 1000 for r in sorted(rows, key=lambda r: r.step)]
    tenth = max(1, len(rows) // 10)
    cpu = statistics.mean(r.cpu * 1000 for r in rows)
    print(
        "\n| precision | recall | save ms: mean | median | p95 | max | first / last tenth | CPU |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {precision:.4f} | {recall:.4f} | {statistics.mean(ms):.2f} | "
        f"{statistics.median(ms):.2f} | {ms[int(len(ms) * 0.95)]:.2f} | {ms[-1]:.2f} | "
        f"{statistics.mean(in_order[:tenth]):.2f} / {statistics.mean(in_order[-tenth:]):.2f} | "
        f"{cpu:.2f} |"
    )
    print(f"\ntargets: precision >= {TARGETS['precision']}, recall >= {TARGETS['recall']}")
    if misses:
        show_misses(bench, positives, grouped, kinds, misses)
    return precision >= TARGETS["precision"] and recall >= TARGETS["recall"]


def show_misses(
    bench: Bench,
    positives: dict[str, list[tuple[int, int]]],
    grouped: set[tuple[int, int]],
    kinds: dict[tuple[int, int], str],
    n: int,
) -> None:
    """The first ``n`` missed and false pairs, with their scores and what went wrong."""

    def scores(a: int, b: int) -> str:
        pa, pb = (Profile.of(bench.rows[i].body) for i in (a, b))
        sa, sb = pa.shingles, pb.shingles
        shared = len(sa & sb)
        why = "judged one text" if same_text(pa, pb) else "judged two texts"
        return (
            f"{why}: shared/larger {shared / max(len(sa), len(sb), 1):.2f}, shared/smaller "
            f"{shared / max(min(len(sa), len(sb)), 1):.2f}, shingles {len(sa)}/{len(sb)}"
        )

    missed = [(k, p) for k, pairs in positives.items() for p in pairs if p not in grouped]
    wrong = [p for p in sorted(grouped) if bench.rows[p[0]].origin != bench.rows[p[1]].origin]
    print(f"\nmissed true pairs (first {n} of {len(missed)}; 'judged one text': other stories)")
    for kind, (a, b) in missed[:n]:
        print(f"  {kind}: rows {a}, {b}: {scores(a, b)}")
    print(f"false pairs (first {n} of {len(wrong)}; 'judged two texts': joined through others)")
    for a, b in wrong[:n]:
        print(f"  {kinds.get((a, b), 'other')}: rows {a}, {b}: {scores(a, b)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("../shared/corpus"))
    ap.add_argument("--limit", type=int, default=500, help="originals to copy (default 500)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--misses", type=int, default=0, help="list N missed and N false pairs")
    args = ap.parse_args()
    if not any((args.corpus / name / "cases.jsonl").is_file() for name in SETS):
        sys.exit(f"error: {args.corpus} holds none of the sets {', '.join(SETS)}")
    texts, dropped = load_texts(args.corpus)
    if len(texts) < args.limit * 3 // 2:
        sys.exit(f"error: {len(texts)} usable bodies in {args.corpus}; lower --limit")
    rng = random.Random(args.seed)
    bench = build(texts, args.limit, rng)
    print(f"{len(texts)} real bodies ({dropped} left out as near-copies of another)")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-dedupe-") as tmp:
        save_all(bench, Path(tmp), rng)
    print(f"saved in {time.perf_counter() - started:.1f} s")
    ok = report(bench, args.misses)
    print(
        f"\n.venv/bin/python bench/dedupe.py --corpus {args.corpus} --limit {args.limit} "
        f"--seed {args.seed}"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
