"""Turn results into text for a terminal: tables, JSON lines, progress."""

from __future__ import annotations

import difflib
import json
import shutil
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # the CLI imports this module at start: keep it light
    from ..models import Article
    from ..run.report import ArticleEvent, RunReport
    from ..store import SearchHit, StoredArticle, StoredVersion, StoryView


def table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *, width: int | None = None
) -> str:
    """A plain-text table; on a terminal the last column is cut to fit its width."""
    if not rows:
        return "(no rows)"
    if width is None and sys.stdout.isatty():
        width = shutil.get_terminal_size().columns
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    if width is not None:
        fixed = sum(widths[:-1]) + 2 * (len(columns) - 1)
        widths[-1] = max(10, min(widths[-1], width - fixed))
    lines = [_line(columns, widths), _line(["-" * w for w in widths], widths)]
    lines += [_line(r, widths) for r in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return " ".join(text.split())


def _line(cells: Iterable[str], widths: Sequence[int]) -> str:
    out = []
    for cell, w in zip(cells, widths, strict=True):
        out.append(cell[: w - 1] + "…" if len(cell) > w else cell.ljust(w))
    return "  ".join(out).rstrip()


def json_lines(rows: Iterable[Mapping[str, Any]]) -> str:
    return "\n".join(json.dumps(dict(r), ensure_ascii=False, default=str) for r in rows)


def article_json(article: Article, *, explain: bool) -> str:
    data = article.to_dict()
    if not explain:
        data.pop("provenance")
    return json.dumps(data, ensure_ascii=False, indent=2)


def explanation(article: Article) -> str:
    """Which rule or signal produced each field, and why a field is missing."""
    lines = []
    for name in ("url", "title", "published", "body", "authors", "language", "image"):
        value = getattr(article, name)
        shown = _cell(value.isoformat() if hasattr(value, "isoformat") else value)[:70]
        how = article.provenance.get(name, "-")
        lines.append(f"{name:<10} {how:<28} {shown}")
        if name in article.errors:
            lines.append(f"{'':<10} ! {article.errors[name]}")
        if name == "published" and "published_disagreement" in article.provenance:
            lines.append(
                f"{'':<10} ~ sources disagree: {article.provenance['published_disagreement']}"
            )
    return "\n".join(lines)


class Progress:
    """A one-line live counter on a terminal; silent elsewhere."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self.stream = sys.stderr if stream is None else stream  # stderr as it is now
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.counts: dict[str, int] = {}

    def __call__(self, event: ArticleEvent) -> None:
        if not self.enabled:
            return
        self.counts[event.outcome] = self.counts.get(event.outcome, 0) + 1
        text = " ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))
        self.stream.write(f"\r\x1b[K{event.source}: {text}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.counts:
            self.stream.write("\n")
            self.stream.flush()


def run_report(report: RunReport) -> str:
    rows = [
        {
            "source": s.name,
            "status": s.status,
            "found": s.found,
            **s.counts,
            "error": s.errors[0] if s.errors else "",
        }
        for s in report.sources
    ]
    columns = [
        "source",
        "status",
        "found",
        "new",
        "updated",
        "unchanged",
        "fresh",
        "duplicate",
        "skipped",
        "rejected",
        "suspect",
        "failed",
        "error",
    ]
    return table(rows, columns)


def word_diff(old: str, new: str, *, context: int = 8) -> str:
    """``new`` against ``old`` word by word, as ``git diff --word-diff`` shows it:
    ``[-removed-]`` and ``{+added+}``, with ``context`` unchanged words around each change
    and ``…`` for the unchanged stretches between."""
    before, after = old.split(), new.split()
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    parts: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            same = before[i1:i2]
            if len(same) > 2 * context:
                first = same[:context] if parts else []
                last = same[-context:] if i2 < len(before) else []
                parts += [*first, "…", *last]
            else:
                parts += same
            continue
        if i2 > i1:
            parts.append("[-" + " ".join(before[i1:i2]) + "-]")
        if j2 > j1:
            parts.append("{+" + " ".join(after[j1:j2]) + "+}")
    return " ".join(parts)


def history(article: StoredArticle, versions: Sequence[StoredVersion]) -> str:
    """An article's versions, oldest first, each with what changed from the one before."""
    texts = [(v.version, v.title, v.published, v.body, v.fetched_at) for v in versions] + [
        (article.version, article.title, article.published, article.body, article.last_changed)
    ]
    lines = [f"{article.url} ({article.source}), {len(texts)} version(s)"]
    previous: tuple[Any, ...] | None = None
    for version, title, published, body, when in texts:
        lines.append(f"\n== version {version}, seen {when.isoformat()}")
        if previous is None:
            lines += [f"title: {title}", f"published: {published}", body]
        else:
            if title != previous[1]:
                lines.append(f"title: {word_diff(previous[1] or '', title or '')}")
            if published != previous[2]:
                lines.append(f"published: [-{previous[2]}-] {{+{published}+}}")
            if body != previous[3]:
                lines.append(word_diff(previous[3], body))
        previous = (version, title, published, body)
    return "\n".join(lines)


def search_rows(hits: Sequence[SearchHit]) -> list[dict[str, Any]]:
    return [
        {
            "rank": f"{hit.rank:.2f}",
            "published": hit.article.published.isoformat() if hit.article.published else "",
            "source": hit.article.source,
            "title": hit.article.title,
            "snippet": hit.snippet,
            "url": hit.article.url,
        }
        for hit in hits
    ]


def story_rows(views: Sequence[StoryView]) -> list[dict[str, Any]]:
    return [
        {
            "story": view.story.id,
            "first seen": view.story.first_seen.isoformat(timespec="minutes"),
            "outlets": ", ".join(view.sources),
            "titles": " | ".join(dict.fromkeys(m.title or "-" for m in view.members)),
        }
        for view in views
    ]
