"""Benchmark the article extractor against trafilatura and readability-lxml.

Run from the repository root::

    python bench/extraction.py [--corpus ../shared/corpus] [--limit N] [--tools scraper,...]

Every set folder under the corpus (a folder holding ``cases.jsonl``) is loaded, the HTML is
decompressed once (outside any timing), and each tool runs in its own subprocess so that
peak memory is measured per tool: a short warm-up, then one timed pass over all pages
(single process, extraction only).  Tools take turns for ``--rounds`` rounds and each
tool's fastest round counts, so that a slow spell of a shared machine does not land on one
tool only.  The predictions of each tool are written as JSONL into
a temporary folder and scored with the corpus's own ``score.py``.  trafilatura and
readability-lxml come from the ``bench`` extra; a tool that is not installed is skipped.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import importlib.util
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
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
        rows: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        by_set: dict[str, dict[str, Any]] = {}
        for tool in tools:
            stats = best[tool]
            res = None
            if "skipped" not in stats:
                preds = score.load_predictions(folder / f"{tool}.jsonl")
                by_set[tool] = score.score(cases, preds)
                res = overall(by_set[tool])
            rows.append((tool, stats, res))
        print(f"corpus: {args.corpus}  pages: {len(cases)}")
        print_table(rows)
        print_sets(by_set)


if __name__ == "__main__":
    main()
