"""app.watch.memory: release_freed_memory runs after every cycle of `run` and must never raise, on
any platform; collector_paused keeps the cyclic collector off during a cycle, and only then."""

from __future__ import annotations

import gc
import sys

import pytest

from app.watch import memory


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


def test_the_collector_is_paused_inside_and_resumed_after() -> None:
    assert gc.isenabled()
    with memory.collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_resumes_after_an_error() -> None:
    with pytest.raises(RuntimeError), memory.collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_paused_before_stays_paused() -> None:
    gc.disable()
    try:
        with memory.collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
