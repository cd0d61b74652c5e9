"""release_freed_memory runs after every cycle of `run`: it must never raise, on any platform."""

from __future__ import annotations

import sys

import pytest

from app import memory


def test_release_freed_memory_is_safe_to_call_repeatedly() -> None:
    for _ in range(3):
        memory.release_freed_memory()


def test_found_where_glibc_is() -> None:
    if not sys.platform.startswith("linux"):
        assert memory._malloc_trim() is None
    # On Linux it is glibc's, or None under musl: either way a callable or nothing.
    assert memory._malloc_trim() is None or callable(memory._malloc_trim())


def test_without_malloc_trim_it_only_collects(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_malloc_trim", lambda: None)
    memory.release_freed_memory()
