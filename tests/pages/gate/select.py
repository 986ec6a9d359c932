"""Choose the quality-gate pages from the shared dev corpus and write them here.

    python tests/pages/gate/select.py [--corpus ../shared/corpus]

Only collections whose licence allows keeping copies in this repository are used:
fundus_dev (MIT), scrapinghub_dev (MIT) and htmldate_dev (Apache-2.0).  From each, pages
whose gzip file is under 25 KB are drawn at random (fixed seed, at most one page per
site, none of the publishers already stored in ``tests/pages``), so that the gate is
neither picked for the extractor nor heavy; htmldate_dev's pages that show no date are
all taken.  Each page is
stored gzipped beside a JSON file holding the collection's own annotation (title, date,
body, or "no date"), never the extractor's output.  Run it only to rebuild the gate;
then update ``CORPUS_SHA256`` and, if needed, the floors in ``tests/test_quality_gate.py``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
TAKE = {"fundus_dev": 14, "scrapinghub_dev": 13, "htmldate_dev": 13}
MAX_GZ = 25_000
SEED = 11
STORED = {p.name.split("_")[0] for p in HERE.parent.glob("*/*.html.gz")}


def site(case: dict[str, object]) -> str:
    meta = case.get("meta")
    if isinstance(meta, dict) and meta.get("publisher"):
        return str(meta["publisher"])
    host = urlsplit(str(case.get("url") or "")).hostname or str(case["id"])
    return host.removeprefix("www.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=HERE.parents[2].parent / "shared" / "corpus")
    args = ap.parse_args()
    rng = random.Random(SEED)
    for name, count in TAKE.items():
        folder = args.corpus / name
        cases = [json.loads(line) for line in (folder / "cases.jsonl").open(encoding="utf-8")]
        small = [c for c in cases if (folder / c["html"]).stat().st_size < MAX_GZ]
        rng.shuffle(small)
        chosen: list[dict[str, object]] = []
        sites = set(STORED)  # publishers of tests/pages already
        for case in small:
            if case.get("expect_no_date"):
                chosen.append(case)  # the few pages that show no date: all of them
            elif site(case) not in sites and len(chosen) < count:
                sites.add(site(case))
                chosen.append(case)
        out = HERE / name
        out.mkdir(exist_ok=True)
        for case in chosen:
            stem = str(case["id"]).split(":", 1)[1].replace("/", "_")
            data = (folder / str(case["html"])).read_bytes()
            if not str(case["html"]).endswith(".gz"):
                data = gzip.compress(data, mtime=0)
            (out / f"{stem}.html.gz").write_bytes(data)
            truth = {
                "id": case["id"],
                "url": case.get("url"),
                "title": case.get("title"),
                "published": case.get("published"),
                "expect_no_date": bool(case.get("expect_no_date")),
                "body": case.get("body"),
                "source": case.get("source"),
            }
            text = json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
            (out / f"{stem}.json").write_text(text, encoding="utf-8")
        print(f"{name}: {len(chosen)} pages")


if __name__ == "__main__":
    main()
