"""The architecture as a test: which package may import which, and SQL only in the store."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "scraper"

# package -> the scraper packages it must never import (directly, at any depth)
FORBIDDEN = {
    "fetch": {"discover", "extract", "store", "run", "export", "cli", "demo"},
    "discover": {"store", "run", "export", "cli", "demo"},
    "extract": {"fetch", "discover", "store", "run", "export", "cli", "demo"},
    "store": {"fetch", "discover", "extract", "run", "export", "cli", "demo"},
    "run": {"export", "cli", "demo"},
    "export": {"fetch", "discover", "extract", "run", "cli", "demo"},
}
SHARED = ("config", "schedules", "errors", "models", "urls", "clock")
SQL_MODULES = {"sqlite3", "sqlite_utils", "psycopg", "psycopg_pool"}


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def top_package(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def imported(path: Path) -> set[str]:
    """Absolute names of the modules one file imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ["scraper", *path.relative_to(PACKAGE).parts[:-1]]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_the_layout_shows_the_architecture() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages == {"fetch", "discover", "extract", "store", "run", "export", "cli", "demo"}
    top = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    assert top == set(SHARED)
    for path in modules():  # each module says in its first line what it is for
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc and len(doc.splitlines()[0]) > 20, path


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_flow_one_way(package: str) -> None:
    for path in modules():
        if top_package(path) != package:
            continue
        for name in imported(path):
            parts = name.split(".")
            if parts[0] == "scraper" and len(parts) > 1:
                assert parts[1] not in FORBIDDEN[package], f"{path} imports {name}"


def test_shared_modules_import_no_layer() -> None:
    layers = set(FORBIDDEN) | {"cli", "demo"}
    for name in SHARED:
        for module in imported(PACKAGE / f"{name}.py"):
            parts = module.split(".")
            assert not (parts[0] == "scraper" and len(parts) > 1 and parts[1] in layers), module


def test_no_sql_outside_the_store() -> None:
    for path in modules():
        if top_package(path) == "store":
            continue
        database = {n for n in imported(path) if n.split(".")[0] in SQL_MODULES}
        assert not database, f"{path} imports {database}"
        source = path.read_text(encoding="utf-8")
        for call in (".execute(", ".executemany(", ".query(", ".db."):
            assert call not in source, f"{path} runs SQL ({call!r})"


def test_every_package_imports_alone_without_cycles() -> None:
    """Each package imported first, in a fresh interpreter (a cycle would fail here)."""
    for package in sorted(FORBIDDEN | {"cli": set(), "demo": set()}):
        code = f"import scraper.{package}"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
