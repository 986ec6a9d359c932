"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from faultserver import FaultServer

from scraper.store import Store, open_store


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    """A fresh fault-injecting HTTP server on 127.0.0.1 (see tests/faultserver.py)."""
    with FaultServer() as server:
        yield server


# -- the store contract: every backend gets the same tests --------------------------------

STORE_BACKENDS = ("sqlite",)


class StepClock:
    """A clock the test moves by hand: every store stamp comes from it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def tick(self, minutes: int = 5) -> datetime:
        self.now += timedelta(minutes=minutes)
        return self.now


@pytest.fixture
def clock() -> StepClock:
    return StepClock(datetime(2024, 5, 1, 8, 0, tzinfo=UTC))


@pytest.fixture(params=STORE_BACKENDS)
def open_test_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Store]:
    """Opens a fresh store of the parametrized backend; call it again to reopen the same one."""
    backend = request.param
    target = tmp_path / "news.db"

    def opener(now: Callable[[], datetime] | None = None) -> Store:
        if backend == "sqlite":
            return open_store(target, now=now) if now else open_store(target)
        raise AssertionError(f"unknown backend {backend}")  # pragma: no cover

    return opener


@pytest.fixture
def store(open_test_store: Callable[..., Store], clock: StepClock) -> Iterator[Store]:
    with open_test_store(clock) as opened:
        yield opened
