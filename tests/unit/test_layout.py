"""The size rules of docs/design.md, checked: small modules, short functions, so that a newcomer
can read each room of app/ in one sitting. The layering rules are import-linter's contracts
(pyproject.toml), run by scripts/check."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).parents[2] / "app"
MODULE_LINES = 300
FUNCTION_LINES = 45  # "about 40": a docstring and a signature over several lines included
MODULES = sorted(p for p in APP.rglob("*.py") if "migrations" not in p.parts)


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(APP)))
def test_module_is_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MODULE_LINES, f"{path.relative_to(APP)} has {lines} lines"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(APP)))
def test_functions_are_short(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = {
        f.name: (f.end_lineno or f.lineno) - f.lineno + 1
        for f in _functions(tree)
        if (f.end_lineno or f.lineno) - f.lineno + 1 > FUNCTION_LINES
    }
    assert long == {}, f"{path.relative_to(APP)}: {long}"


def test_the_size_check_sees_every_package() -> None:
    packages = {p.parent.name for p in MODULES}
    assert {
        "app",
        "cli",
        "config",
        "core",
        "db",
        "demo",
        "flinks",
        "notify",
        "watch",
        "web",
        "wiring",
    } <= packages


# The ground that every stage stands on, and the entry points; everything else lives in a room
# (docs/design.md's map says why each of these is loose).
LOOSE = {
    "__init__.py",
    "__main__.py",
    "deadline.py",
    "delivery.py",
    "domain.py",
    "errors.py",
    "logs.py",
}


def test_app_keeps_only_the_ground_loose() -> None:
    loose = {p.name for p in APP.glob("*.py")}
    assert loose == LOOSE, f"new loose modules in app/: {sorted(loose - LOOSE)}"
    assert len(loose) <= 8
