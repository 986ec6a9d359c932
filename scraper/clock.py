"""The one definition of "now": every layer takes a :data:`Clock` and defaults to :func:`utc_now`.

Tests pass a fixed or stepping clock instead of patching :mod:`datetime`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeAlias

__all__ = ["Clock", "utc_now"]

Clock: TypeAlias = Callable[[], datetime]
"""A callable returning the current time as an aware datetime."""


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)
