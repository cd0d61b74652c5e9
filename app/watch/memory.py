"""A cycle's memory: no cyclic garbage collection while it runs, and what it freed given back
to the system after it (glibc keeps freed heap pages, several MiB after a 100,000-row cycle,
until malloc_trim asks; elsewhere a no-op)."""

from __future__ import annotations

import functools
import gc
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger("app.memory")  # the logger name its lines always had


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:  # the process's own symbols: glibc's when linked with it
        libc = ctypes.CDLL(None)
        trim: Callable[[int], int] = libc.malloc_trim  # glibc only: musl has no malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def release_freed_memory() -> None:
    """Collect the cycle's garbage, then return free heap pages (glibc malloc_trim(0))."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        try:
            trim(0)
        except OSError as exc:  # never worth failing a cycle over
            log.debug("memory.trim_failed error=%s", exc)


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: reading, diffing and recording an answer builds
    hundreds of thousands of objects that live until it ends, and the collector walked them
    again and again for nothing (0.4 s of a 100,000-row first sync, 0.13 s of a 10% cycle:
    docs/performance.md). Almost nothing there forms reference cycles; what does waits for
    the next collection (after the cycle in `run`: release_freed_memory; at exit for `poll`).
    The collector is off for every thread of the process: keep long waits (retries, pacing)
    out of it; the database's own lock waits, bounded to seconds, are inside."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
