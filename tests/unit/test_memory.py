"""app.watch.memory: release_freed_memory runs after every cycle of `run` and must never raise, on
any platform; collector_paused keeps the cyclic collector off during a cycle, and only then."""

from __future__ import annotations

import gc
import logging
import platform
import sys
import weakref
from collections.abc import Iterator

import pytest

from app.core.lifetimes import collector_paused
from app.watch import memory


class _Node:
    """Something that can refer to itself: a reference cycle only the collector frees."""

    other: object = None


def _unreachable_cycle() -> weakref.ref[_Node]:
    node = _Node()
    node.other = node
    return weakref.ref(node)


@pytest.fixture
def automatic_collection_off() -> Iterator[None]:
    """So that only release_freed_memory's own collection can free a cycle."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.usefixtures("automatic_collection_off")
def test_release_freed_memory_collects_cycles_and_trims_each_time_it_is_called(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trims: list[int] = []
    monkeypatch.setattr(memory, "_malloc_trim", lambda: lambda pad: trims.append(pad) or 1)
    for call in range(1, 4):
        cycle = _unreachable_cycle()
        assert cycle() is not None  # only a collection frees it
        memory.release_freed_memory()
        assert cycle() is None
        assert trims == [0] * call  # malloc_trim(0): give back every free page


@pytest.mark.usefixtures("automatic_collection_off")
def test_a_failing_trim_is_logged_not_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def trim(_pad: int) -> int:
        raise OSError("no trim here")

    monkeypatch.setattr(memory, "_malloc_trim", lambda: trim)
    caplog.set_level(logging.DEBUG, logger="app.memory")
    cycle = _unreachable_cycle()
    memory.release_freed_memory()
    assert cycle() is None
    assert "memory.trim_failed error=no trim here" in caplog.text


def test_found_where_glibc_is() -> None:
    trim = memory._malloc_trim()
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        assert trim is None  # musl and other systems have no malloc_trim
        return
    assert trim is not None
    assert trim(0) in (0, 1)  # glibc: 1 if memory was given back, else 0


@pytest.mark.usefixtures("automatic_collection_off")
def test_without_malloc_trim_it_only_collects(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_malloc_trim", lambda: None)
    cycle = _unreachable_cycle()
    memory.release_freed_memory()
    assert cycle() is None


def test_the_collector_is_paused_inside_and_resumed_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_resumes_after_an_error() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_paused_before_stays_paused() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
