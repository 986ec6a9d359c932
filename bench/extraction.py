"""Benchmark the article extractor against trafilatura and readability-lxml.

Run from the repository root::

    python bench/extraction.py [--corpus ../shared/corpus] [--limit N] [--tools scraper,...]
        [--keep DIR] [--reuse DIR] [--bootstrap 1000] [--worst N]

Every set folder under the corpus (a folder holding ``cases.jsonl``) is loaded, the HTML is
decompressed once (outside any timing), and each tool runs in its own subprocess so that
peak memory is measured per tool: a short warm-up, then one timed pass over all pages
(single process, extraction only).  Tools take turns for ``--rounds`` rounds and each
tool's fastest round counts, so that a slow spell of a shared machine does not land on one
tool only.  The predictions of each tool are written as JSONL into
a temporary folder and scored with the corpus's own ``score.py``.  trafilatura and
readability-lxml come from the ``bench`` extra; a tool that is not installed is skipped.

For work on the extractor: ``--keep DIR`` stores every tool's predictions and timing, and
``--reuse DIR`` with ``--tools scraper`` scores the peers from there without running them
again.  ``--bootstrap N`` prints, per collection, a 95 % interval of the scraper's body F1
and of its difference to the best peer (the same resampled pages for every tool), so that
noise is not read as progress; ``--worst N`` lists the N pages of each collection where
the scraper does worst, with what it missed and what it added.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import importlib.util
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TOOLS = ("scraper", "trafilatura", "readability")
WARM_UP = 20  # pages run before the timed pass (imports, caches)

Prediction = dict[str, Any]
Runner = Callable[[bytes, str | None], Prediction]


@dataclass(frozen=True)
class Page:
    id: str
    url: str | None
    html: bytes


# ----------------------------------------------------------------------------- corpus


SHARED_CORPUS = REPO.parent / "shared" / "corpus"


def load_score_module(corpus: Path) -> ModuleType:
    """Import the scorer: the corpus's own ``score.py`` (in its folder or the parent), else
    the one of ``../shared/corpus`` (for ``bench/synthetic``, which ships none)."""
    for folder in (corpus, corpus.parent, SHARED_CORPUS):
        path = folder / "score.py"
        if path.is_file():
            spec = importlib.util.spec_from_file_location("corpus_score", path)
            if spec is None or spec.loader is None:
                break
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    sys.exit(f"error: no score.py in {corpus}, {corpus.parent} or {SHARED_CORPUS}")


def case_files(corpus: Path) -> list[Path]:
    if (corpus / "cases.jsonl").is_file():
        return [corpus / "cases.jsonl"]
    return sorted(corpus.glob("*/cases.jsonl"))


def iter_cases(corpus: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in case_files(corpus):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield path.parent, json.loads(line)


def load_pages(corpus: Path, limit: int | None) -> list[Page]:
    pages: list[Page] = []
    for folder, case in iter_cases(corpus):
        if limit is not None and len(pages) >= limit:
            break
        path = folder / case["html"]
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        pages.append(Page(case["id"], case.get("url"), data))
    return pages


# ----------------------------------------------------------------------------- tools


def scraper_runner() -> Runner:
    sys.path.insert(0, str(REPO))
    from scraper.extract import extract

    def run(html: bytes, url: str | None) -> Prediction:
        article = extract(html, url)
        published = article.published.isoformat() if article.published else None
        return {"title": article.title, "published": published, "body": article.body}

    return run


def trafilatura_runner() -> Runner:
    import trafilatura

    def run(html: bytes, url: str | None) -> Prediction:
        out = trafilatura.extract(html, url=url, output_format="json", with_metadata=True)
        if not out:
            return {"title": None, "published": None, "body": ""}
        data = json.loads(out)
        return {"title": data.get("title"), "published": data.get("date"), "body": data["text"]}

    return run


_BLOCK_END = re.compile(r"(?i)</(?:p|div|h[1-6]|li|blockquote|pre|tr|section|article)>|<br\s*/?>")


def readability_runner() -> Runner:
    import lxml.html
    from readability import Document

    def run(html: bytes, url: str | None) -> Prediction:
        doc = Document(html, url=url)
        summary = _BLOCK_END.sub("\n\n", doc.summary(html_partial=True))
        text = lxml.html.fromstring(summary).text_content() if summary.strip() else ""
        paragraphs = (" ".join(part.split()) for part in text.split("\n\n"))
        body = "\n\n".join(p for p in paragraphs if p)
        return {"title": doc.short_title(), "published": None, "body": body}

    return run


RUNNERS: dict[str, Callable[[], Runner]] = {
    "scraper": scraper_runner,
    "trafilatura": trafilatura_runner,
    "readability": readability_runner,
}


# ----------------------------------------------------------------------------- worker


def _rss_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0) so the peak covers extraction only."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def run_worker(tool: str, corpus: Path, limit: int | None, out: Path) -> None:
    """One round for one tool: a short warm-up, then one timed pass whose output is kept."""
    try:
        runner = RUNNERS[tool]()
    except ImportError as exc:
        out.with_suffix(".stats.json").write_text(json.dumps({"skipped": str(exc)}))
        return
    pages = load_pages(corpus, limit)
    for page in pages[:WARM_UP]:
        run_one(runner, page)
    gc.collect()
    base = _rss_kib("VmRSS")
    reset = _reset_peak()
    start = time.perf_counter()
    preds = [run_one(runner, page) for page in pages]
    elapsed = time.perf_counter() - start
    peak = _rss_kib("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with out.open("w", encoding="utf-8") as fh:
        for page, pred in zip(pages, preds, strict=True):
            fh.write(json.dumps({"id": page.id, **pred}, ensure_ascii=False) + "\n")
    stats = {
        "pages": len(pages),
        "seconds": elapsed,
        "peak_mib": ((peak or 0) - (base or 0)) / 1024,
        "errors": sum(1 for p in preds if "error" in p),
    }
    out.with_suffix(".stats.json").write_text(json.dumps(stats))


def run_one(runner: Runner, page: Page) -> Prediction:
    try:
        return runner(page.html, page.url)
    except Exception as exc:  # noqa: BLE001 - a tool's crash is a wrong answer, not a stop
        return {"title": None, "published": None, "body": "", "error": repr(exc)}


# ----------------------------------------------------------------------------- main


def spawn(tool: str, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        tool,
        "--corpus",
        str(args.corpus),
        "--out",
        str(out),
    ]
    if args.limit is not None:
        cmd += ["--limit", str(args.limit)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"skipped": f"worker failed: {proc.stderr.strip().splitlines()[-1:]}"}
    stats: dict[str, Any] = json.loads(out.with_suffix(".stats.json").read_text())
    return stats


def _better(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """Keep the fastest round; the peak memory is the highest seen in any round."""
    if old is None or "skipped" in old:
        return new
    if "skipped" in new:
        return old
    fastest = new if new["seconds"] < old["seconds"] else old
    return {**fastest, "peak_mib": max(old["peak_mib"], new["peak_mib"])}


def overall(result: dict[str, Any]) -> dict[str, Any]:
    group: dict[str, Any] = result.get("OVERALL") or next(
        v for k, v in result.items() if "[" not in k
    )
    return group


def fmt(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def print_table(rows: list[tuple[str, dict[str, Any], dict[str, Any] | None]]) -> None:
    base = next((s for t, s, _ in rows if t == "trafilatura" and "seconds" in s), None)
    base_rate = base["pages"] / base["seconds"] if base else None
    head = f"{'tool':<12} {'title':>6} {'date':>6} {'body_P':>7} {'body_R':>7} {'body_F1':>7}"
    print(head + f" {'pages/s':>8} {'x traf':>7} {'peak MiB':>9} {'errors':>6}")
    for tool, stats, res in rows:
        if res is None:
            print(f"{tool:<12} skipped: {stats.get('skipped')}")
            continue
        rate = stats["pages"] / stats["seconds"] if stats["seconds"] else None
        ratio = rate / base_rate if rate and base_rate else None
        print(
            f"{tool:<12} {fmt(res['title_acc']):>6} {fmt(res['date_acc']):>6} "
            f"{fmt(res['body_p']):>7} {fmt(res['body_r']):>7} {fmt(res['body_f1']):>7} "
            f"{fmt(rate, '.1f'):>8} {fmt(ratio, '.1f'):>7} {fmt(stats['peak_mib'], '.1f'):>9} "
            f"{stats['errors']:>6}"
        )


def print_sets(results: dict[str, dict[str, Any]]) -> None:
    """One row per set and tool: the quality figures of each collection on its own."""
    sets = sorted({name for res in results.values() for name in res if "[" not in name})
    if len(sets) < 2:
        return
    print()
    head = f"{'set':<22} {'tool':<12} {'title':>6} {'date':>6} {'nodate':>6} {'body_P':>7}"
    print(head + f" {'body_R':>7} {'body_F1':>7} {'must_in':>7} {'must_out':>8}")
    for name in sets:
        for tool, res in results.items():
            r = res.get(name)
            if r is None:
                continue
            print(
                f"{name:<22} {tool:<12} {fmt(r['title_acc']):>6} {fmt(r['date_acc']):>6} "
                f"{fmt(r['nodate_acc']):>6} {fmt(r['body_p']):>7} {fmt(r['body_r']):>7} "
                f"{fmt(r['body_f1']):>7} {fmt(r['must_in']):>7} {fmt(r['must_out']):>8}"
            )


# ----------------------------------------------------------------------------- analysis


def _page_pr(score: ModuleType, truth: str, pred: str) -> tuple[float | None, float | None]:
    """One page's precision and recall as ``score.py`` counts them (None: left out)."""
    tp, fp, fn = score.shingle_tp_fp_fn(truth, pred)
    p = score._prec(tp, fp, fn) if tp + fp > 0 else None
    r = score._rec(tp, fp, fn) if tp + fn > 0 else None
    return p, r


def _f1(pages: Sequence[tuple[float | None, float | None]]) -> float:
    """``score.body_prf``'s F1 (F1 of the mean precision and the mean recall)."""
    ps = [p for p, _ in pages if p is not None]
    rs = [r for _, r in pages if r is not None]
    if not ps:
        return 0.0
    mp, mr = sum(ps) / len(ps), (sum(rs) / len(rs) if rs else 0.0)
    return 2 * mp * mr / (mp + mr) if mp + mr > 0 else 0.0


def _body_sets(cases: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        if case.get("body") is not None:
            out.setdefault(case["set"], []).append(case)
    return out


def _per_page(
    score: ModuleType, group: list[dict[str, Any]], preds: dict[str, Prediction]
) -> list[tuple[float | None, float | None]]:
    return [_page_pr(score, c["body"], (preds.get(c["id"]) or {}).get("body") or "") for c in group]


def print_bootstrap(
    score: ModuleType,
    cases: list[dict[str, Any]],
    preds: dict[str, dict[str, Prediction]],
    resamples: int,
) -> None:
    """Per collection: the scraper's body F1 and its lead over the best peer, 95 % intervals.

    Pages are resampled with replacement, the same pages for every tool (a paired
    bootstrap); the lead is over the best peer *of each resample*.
    """
    if "scraper" not in preds:
        return
    peers = [t for t in preds if t != "scraper"]
    print(f"\nbody F1, 95 % interval of {resamples} page resamples (paired across tools)")
    print(f"{'set':<22} {'n':>4} {'scraper':>22} {'best peer':>20} {'scraper - best peer':>24}")
    rng = random.Random(0)
    for name, group in sorted(_body_sets(cases).items()):
        pages = {tool: _per_page(score, group, p) for tool, p in preds.items()}
        full = {tool: _f1(v) for tool, v in pages.items()}
        own: list[float] = []
        lead: list[float] = []
        for _ in range(resamples):
            idx = [rng.randrange(len(group)) for _ in group]
            mine = _f1([pages["scraper"][i] for i in idx])
            best = max((_f1([pages[t][i] for i in idx]) for t in peers), default=0.0)
            own.append(mine)
            lead.append(mine - best)
        peer = max(peers, key=lambda t: full[t], default=None)
        peer_text = f"{peer} {full[peer]:.3f}" if peer else "-"
        gap = full["scraper"] - (full[peer] if peer else 0.0)
        print(
            f"{name:<22} {len(group):>4} {full['scraper']:>7.3f} {_interval(own):>14} "
            f"{peer_text:>20} {gap:>+8.3f} {_interval(lead, '+.3f'):>15}"
        )


def _interval(values: list[float], spec: str = ".3f") -> str:
    ordered = sorted(values)
    if not ordered:
        return "-"
    lo = ordered[int(0.025 * (len(ordered) - 1))]
    hi = ordered[int(0.975 * (len(ordered) - 1))]
    return f"[{lo:{spec}}, {hi:{spec}}]"


def print_worst(
    score: ModuleType,
    cases: list[dict[str, Any]],
    preds: dict[str, dict[str, Prediction]],
    count: int,
) -> None:
    """The ``count`` worst pages of each collection for the scraper, and why."""
    mine = preds.get("scraper")
    if mine is None:
        return
    peers = {t: p for t, p in preds.items() if t != "scraper"}
    for name, group in sorted(_body_sets(cases).items()):
        print(f"\n== {name}: the {count} worst pages by body F1")
        rows = []
        for case in group:
            p, r = _page_pr(score, case["body"], (mine.get(case["id"]) or {}).get("body") or "")
            rows.append((_f1([(p if p is not None else 0.0, r)]), p, r, case))
        rows.sort(key=lambda row: row[0])
        for f1, p, r, case in rows[:count]:
            body = (mine.get(case["id"]) or {}).get("body") or ""
            others = " ".join(
                f"{t} {_f1([_page_pr(score, case['body'], (v.get(case['id']) or {}).get('body') or '')]):.2f}"  # noqa: E501
                for t, v in peers.items()
            )
            print(f"{case['id']}  F1 {f1:.2f} P {fmt(p, '.2f')} R {fmt(r, '.2f')}  | {others}")
            for label, src, ref in (("missed", case["body"], body), ("extra ", body, case["body"])):
                lost = _unmatched(score, src, ref)
                if lost:
                    total = sum(len(x) for x in lost)
                    print(f"    {label} {total:>6} chars: " + " | ".join(x[:90] for x in lost[:3]))
    _print_must_misses(cases, mine, count)
    _print_field_misses(cases, mine, count)


def _unmatched(score: ModuleType, text: str, other: str) -> list[str]:
    """Paragraphs of ``text`` whose shingles are mostly absent from ``other``."""
    have = score._shingles(other)
    out = []
    for para in re.split(r"\n\s*\n|\n", text):
        shingles = score._shingles(para)
        total = sum(shingles.values())
        if para.strip() and total and sum(n for s, n in shingles.items() if s in have) < total / 2:
            out.append(" ".join(para.split()))
    return out


def _ws(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _print_must_misses(
    cases: list[dict[str, Any]], mine: dict[str, Prediction], count: int
) -> None:
    rows = []
    for case in cases:
        body = _ws((mine.get(case["id"]) or {}).get("body") or "")
        missed = [s for s in case.get("must_contain") or [] if _ws(s) not in body]
        kept = [s for s in case.get("must_not_contain") or [] if _ws(s) in body]
        if missed or kept:
            rows.append((len(missed) + len(kept), case, missed, kept))
    if not rows:
        return
    rows.sort(key=lambda row: -row[0])
    print(f"\n== must-contain / must-not-contain: {len(rows)} pages fail; the worst {count}")
    for _, case, missed, kept in rows[:count]:
        print(f"{case['id']}  body {len((mine.get(case['id']) or {}).get('body') or '')} chars")
        for s in missed:
            print(f"    missing  {s[:100]}")
        for s in kept:
            print(f"    present  {s[:100]}")


def _print_field_misses(
    cases: list[dict[str, Any]], mine: dict[str, Prediction], count: int
) -> None:
    misses: dict[str, list[str]] = {}
    for case in cases:
        pred = mine.get(case["id"]) or {}
        got = (pred.get("published") or "")[:10] or None
        if case.get("published") is not None and got != case["published"]:
            line = f"{case['id']}  date {got} (truth {case['published']})"
            misses.setdefault(f"{case['set']} date", []).append(line)
        elif case.get("expect_no_date") and got:
            line = f"{case['id']}  date {got} (truth: no date)"
            misses.setdefault(f"{case['set']} date", []).append(line)
        if case.get("title") is not None and _ws(pred.get("title") or "") != _ws(case["title"]):
            line = f"{case['id']}  title {pred.get('title')!r} (truth {case['title']!r})"
            misses.setdefault(f"{case['set']} title", []).append(line)
    for key, lines in sorted(misses.items()):
        print(f"\n== {key}: {len(lines)} misses (exact text; score.py normalises), first {count}")
        for line in lines[:count]:
            print(line)


def load_reused(folder: Path, tool: str) -> dict[str, Any] | None:
    """Stats of an earlier run kept with ``--keep`` (its predictions lie beside them)."""
    stats = folder / f"{tool}.stats.json"
    if not stats.is_file() or not (folder / f"{tool}.jsonl").is_file():
        return None
    found: dict[str, Any] = json.loads(stats.read_text())
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("../shared/corpus"))
    ap.add_argument("--limit", type=int, default=None, help="use only the first N pages")
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of tools")
    ap.add_argument(
        "--rounds", type=int, default=3, help="timed rounds per tool; the fastest counts"
    )
    ap.add_argument(
        "--keep", type=Path, default=None, help="write predictions here, not a temp dir"
    )
    ap.add_argument(
        "--reuse", type=Path, default=None, help="score tools not run from this --keep folder"
    )
    ap.add_argument(
        "--bootstrap", type=int, default=0, help="page resamples for 95 %% intervals (0: off)"
    )
    ap.add_argument("--worst", type=int, default=0, help="list the N worst pages of each set")
    ap.add_argument("--worker", choices=TOOLS, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.corpus = args.corpus.resolve()
    if not args.corpus.is_dir() or not case_files(args.corpus):
        sys.exit(f"error: corpus folder {args.corpus} is absent or holds no cases.jsonl")
    if args.worker:
        run_worker(args.worker, args.corpus, args.limit, args.out)
        return
    score = load_score_module(args.corpus)
    cases = score.load_cases(args.corpus)
    if args.limit is not None:
        cases = cases[: args.limit]
    with tempfile.TemporaryDirectory(prefix="bench-extraction-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        tools = args.tools.split(",")
        best: dict[str, dict[str, Any]] = {}
        for _ in range(max(1, args.rounds)):  # interleaved, so load changes hit every tool
            for tool in tools:
                stats = spawn(tool, args, folder / f"{tool}.jsonl")
                best[tool] = _better(best.get(tool), stats)
        where = {tool: folder for tool in tools}
        for tool in TOOLS:
            reused = load_reused(args.reuse, tool) if args.reuse and tool not in tools else None
            if reused is not None:
                best[tool], where[tool] = reused, args.reuse
        rows: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        by_set: dict[str, dict[str, Any]] = {}
        preds: dict[str, dict[str, Prediction]] = {}
        for tool in [t for t in TOOLS if t in best]:
            stats = best[tool]
            res = None
            if "skipped" not in stats:
                preds[tool] = score.load_predictions(where[tool] / f"{tool}.jsonl")
                by_set[tool] = score.score(cases, preds[tool])
                res = overall(by_set[tool])
            rows.append((tool if tool in tools else f"{tool}*", stats, res))
        print(f"corpus: {args.corpus}  pages: {len(cases)}")
        if len(rows) > len(tools):
            print(f"(* scored from {args.reuse}, not run now)")
        print_table(rows)
        print_sets(by_set)
        if args.bootstrap:
            print_bootstrap(score, cases, preds, args.bootstrap)
        if args.worst:
            print_worst(score, cases, preds, args.worst)


if __name__ == "__main__":
    main()
