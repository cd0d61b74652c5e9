"""What a test may leave out on a developer's machine but never in CI (CI=true, as .ci/run sets
it): a missing tool or library is a skip with the reason here and a failure there, like the
PostgreSQL tests (tests/conftest.py); and golden files are never rewritten in CI, where
UPDATE_GOLDEN=1 would make every golden test pass whatever the output."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def in_ci() -> bool:
    """CI is set to anything but empty, 0, false or no (CI services set `true` or `1`)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def skip_or_fail(reason: str) -> None:
    """Skip the test with `reason`; in CI, fail it: what CI leaves out is never tested."""
    if in_ci():
        pytest.fail(f"{reason}: required in CI")
    pytest.skip(reason)


def import_or_fail(name: str, hint: str) -> ModuleType:
    """pytest.importorskip at module level, except that in CI a missing module fails."""
    try:
        return importlib.import_module(name)
    except ImportError:
        if in_ci():
            pytest.fail(f"{name} cannot be imported ({hint}): required in CI")
        pytest.skip(f"{name} cannot be imported: {hint}", allow_module_level=True)


def golden_update() -> bool:
    """UPDATE_GOLDEN=1: write the golden files from the current output before comparing.
    Refused in CI, loudly: there it would pass every golden test whatever the output."""
    if os.environ.get("UPDATE_GOLDEN", "").strip() in ("", "0"):
        return False
    if in_ci():
        pytest.fail("UPDATE_GOLDEN is set in CI: golden files are regenerated and reviewed locally")
    return True
