"""A cycle's memory: what it freed given back to the system after it (glibc keeps freed heap
pages, several MiB after a 100,000-row cycle, until malloc_trim asks; elsewhere a no-op). The
collector's pause during a cycle is app.core.lifetimes.collector_paused."""

from __future__ import annotations

import functools
import gc
import logging
import sys
from collections.abc import Callable

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
