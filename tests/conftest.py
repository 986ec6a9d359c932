"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from faultserver import FaultServer


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    """A fresh fault-injecting HTTP server on 127.0.0.1 (see tests/faultserver.py)."""
    with FaultServer() as server:
        yield server
