"""The small HTTP header parsers and builders the fetcher needs (nothing here knows httpx)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from ..errors import TooLarge
from ..models import Validators

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def media_type(content_type: str | None) -> str:
    """``"text/HTML; charset=x"`` -> ``"text/html"``; empty when the header is missing."""
    return (content_type or "").split(";")[0].strip().lower()


def looks_like_markup(prefix: bytes) -> bool:
    """True when the body starts with ``<`` after an optional BOM and whitespace."""
    head = prefix[:1024]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="ignore").lstrip().startswith("<")
    return head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<")


def parse_retry_after(value: str | None, date: str | None = None, *, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None.

    An HTTP-date is measured against the response's own Date header when present, so a
    skewed server clock does not matter; otherwise against ``now`` (the caller's clock).
    """
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    when = _http_date(text)
    if when is None:
        return None
    reference = _http_date(date) if date else None
    return max(0.0, (when - (reference or now)).total_seconds())


def _http_date(text: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def request_headers(accept: tuple[str, ...], validators: Validators | None) -> dict[str, str]:
    """Accept and conditional-GET headers for one request."""
    headers = {"Accept": ", ".join((*accept, "*/*;q=0.1"))}
    if validators is not None and validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators is not None and validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers


def redirect_location(url: str, status: int, headers: dict[str, str]) -> str | None:
    """The absolute URL a redirect points to, or None when the response is no redirect."""
    location = headers.get("location", "").strip()
    if status not in REDIRECT_STATUSES or not location:
        return None
    return urljoin(url, location)


def check_content_length(url: str, declared: str | None, cap: int) -> None:
    """Fail before reading when the declared (encoded) length is already past the cap."""
    try:
        length = int(declared or "")
    except ValueError:
        return
    if length > cap:
        raise TooLarge(f"Content-Length {length} exceeds the {cap}-byte cap", url=url)
