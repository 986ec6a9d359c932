"""Typed records to column values and back, the same for every backend.

Datetimes are stored as ISO 8601 text: the store's own stamps in UTC, a publication
date with the offset the page gave (a date-only value stays on its calendar day).
Lists and mappings are stored as JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .fingerprint import body_hash
from .records import (
    ArticleWrite,
    FetchRecord,
    RunRecord,
    SourceRun,
    StoredArticle,
    StoredVersion,
    StoryRecord,
)

# Columns a re-fetch replaces only when it has a value: a failed field never erases a
# stored one.  The first column of a group decides for the whole group.
_KEEP_GROUPS = (
    ("body", "body_hash"),
    ("published", "date_precision"),
    *((column,) for column in "title authors language description image modified".split()),
    *((column,) for column in "etag last_modified hint_title hint_published".split()),
)
# Columns whose change makes a new version of an article.
VERSIONED = ("body_hash", "title", "published")


def iso_utc(value: datetime, name: str) -> str:
    return _aware(value, name).astimezone(UTC).isoformat()


def iso_or_none(value: datetime | None, name: str) -> str | None:
    """Keeps the value's own offset (a date-precision value stays on its calendar day)."""
    return None if value is None else _aware(value, name).isoformat()


def _aware(value: datetime, name: str) -> datetime:
    if value.utcoffset() is None:
        raise ValueError(f"{name}: datetime must be timezone-aware, got {value.isoformat()}")
    return value


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def article_columns(write: ArticleWrite) -> dict[str, Any]:
    """The article columns an extraction sets (content, metadata, validators, hints)."""
    article, hints = write.article, write.hints
    return {
        "source": write.source,
        "title": article.title,
        "published": iso_or_none(article.published, "published"),
        "date_precision": article.date_precision,
        "body": article.body,
        "body_hash": body_hash(article.body),
        "authors": to_json(list(article.authors)),
        "language": article.language,
        "description": article.description,
        "image": article.image,
        "modified": iso_or_none(article.modified, "modified"),
        "extraction_errors": to_json(dict(article.errors)),
        "provenance": to_json(dict(article.provenance)),
        "etag": write.validators.etag,
        "last_modified": write.validators.last_modified,
        "hint_title": hints.title if hints else None,
        "hint_published": iso_or_none(hints.published if hints else None, "hint_published"),
    }


def merge_columns(row: Mapping[str, Any], columns: Mapping[str, Any]) -> dict[str, Any]:
    """The new columns, except where they lack a value the stored row has."""
    merged = dict(columns)
    for group in _KEEP_GROUPS:
        if not _present(columns[group[0]]) and _present(row[group[0]]):
            merged.update({column: row[column] for column in group})
    return merged


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and value.strip() in ("", "[]"))


def stored_article(row: Mapping[str, Any]) -> StoredArticle:
    return StoredArticle(
        id=int(row["id"]),
        url=str(row["url"]),
        source=str(row["source"]),
        title=row["title"],
        published=_time(row["published"]),
        body=str(row["body"]),
        first_seen=_stamp(row["first_seen"]),
        last_fetched=_stamp(row["last_fetched"]),
        last_changed=_stamp(row["last_changed"]),
        version=int(row["version"]),
        change_seq=int(row["change_seq"] or 0),
        date_precision=row["date_precision"],
        authors=tuple(json.loads(row["authors"] or "[]")),
        language=row["language"],
        description=row["description"],
        image=row["image"],
        modified=_time(row["modified"]),
        body_hash=str(row["body_hash"]),
        etag=row["etag"],
        last_modified=row["last_modified"],
        hint_title=row["hint_title"],
        hint_published=_time(row["hint_published"]),
        extraction_errors=json.loads(row["extraction_errors"] or "{}"),
        provenance=json.loads(row["provenance"] or "{}"),
        duplicate_count=int(row["duplicate_count"] or 0),
        story_id=row.get("story_id"),
    )


def story_record(row: Mapping[str, Any]) -> StoryRecord:
    return StoryRecord(
        id=int(row["id"]),
        representative=int(row["representative"]),
        members=int(row["members"]),
        first_seen=_stamp(row["first_seen"]),
        last_seen=_stamp(row["last_seen"]),
    )


def stored_version(row: Mapping[str, Any]) -> StoredVersion:
    return StoredVersion(
        article_id=int(row["article_id"]),
        version=int(row["version"]),
        title=row["title"],
        published=_time(row["published"]),
        body=str(row["body"] or ""),
        fetched_at=_stamp(row["fetched_at"]),
    )


def fetch_columns(record: FetchRecord) -> dict[str, Any]:
    return {
        "run_id": record.run_id,
        "source": record.source,
        "url": record.url,
        "kind": record.kind,
        "outcome": record.outcome,
        "status": record.status,
        "final_url": record.final_url,
        "error_kind": record.error_kind,
        "error": record.error,
        "elapsed_ms": record.elapsed_ms,
        "bytes": record.bytes,
        "attempts": record.attempts,
        "fetched_at": iso_utc(record.fetched_at, "fetched_at"),
    }


def fetch_record(row: Mapping[str, Any]) -> FetchRecord:
    return FetchRecord(
        run_id=int(row["run_id"]),
        source=str(row["source"]),
        url=str(row["url"]),
        kind=str(row["kind"]),
        outcome=str(row["outcome"]),
        fetched_at=_stamp(row["fetched_at"]),
        status=row["status"],
        final_url=row["final_url"],
        error_kind=row["error_kind"],
        error=row["error"],
        elapsed_ms=row["elapsed_ms"],
        bytes=row["bytes"],
        attempts=int(row["attempts"] or 1),
    )


def run_record(row: Mapping[str, Any]) -> RunRecord:
    return RunRecord(
        id=int(row["id"]),
        status=str(row["status"]),
        started_at=_stamp(row["started_at"]),
        sources=tuple(json.loads(row["sources"] or "[]")),
        finished_at=_time(row["finished_at"]),
        pid=row["pid"],
        counts=json.loads(row["counts"] or "{}"),
        error=row["error"],
    )


def source_run_columns(run: SourceRun) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "source": run.source,
        "started_at": iso_utc(run.started_at, "started_at"),
        "finished_at": None if run.finished_at is None else iso_utc(run.finished_at, "finished_at"),
        "status": run.status,
        "counts": to_json(dict(run.counts)),
        "new": run.new,
        "failed": run.failed,
        "found": run.found,
        "pages_ok": run.pages_ok,
        "pages_failed": run.pages_failed,
        "error": run.error,
    }


def source_run(row: Mapping[str, Any]) -> SourceRun:
    return SourceRun(
        source=str(row["source"]),
        status=str(row["status"]),
        started_at=_stamp(row["started_at"]),
        finished_at=_time(row["finished_at"]),
        run_id=row["run_id"],
        counts=json.loads(row["counts"] or "{}"),
        found=int(row["found"] or 0),
        pages_ok=int(row["pages_ok"] or 0),
        pages_failed=int(row["pages_failed"] or 0),
        error=row["error"],
    )


def _time(value: str | None) -> datetime | None:
    return None if value is None else _stamp(value)


def _stamp(value: str) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
