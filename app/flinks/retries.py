"""One Flinks request with bounded retries on network errors, timeouts, 429 and 5xx: stamina
decides whether and how often, we do the waits (through an injected `pause` that ends on
shutdown: a `Retry-After: 60` storm must not hold a SIGTERM for minutes). Attempts and waits
stay inside the caller's overall deadline (app.deadline), which ends a dripping answer."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import stamina

from app import deadline
from app.core.retry_after import retry_after_seconds
from app.flinks.listing import FlinksBadAnswer, FlinksUnavailable, snippet

log = logging.getLogger("app.flinks.client")  # the logger these lines always had

ATTEMPTS = 4  # per request, the first one included
MAX_RETRY_AFTER = 60.0  # seconds; a longer Retry-After would stall the whole cycle
MIB = 2**20  # FLINKS_MAX_ANSWER_MB counts in MiB


class _Transient(Exception):
    """A 429 or 5xx answer, raised inside the retry loop so stamina retries it."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


def _retryable(exc: Exception) -> bool | float:
    """stamina hook: what to retry. Its own wait is 0.0: `send_with_retries` waits through
    `pause` at the start of the next attempt instead, so a shutdown interrupts the wait."""
    if isinstance(exc, _Transient):
        return 0.0
    if isinstance(exc, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError):
        return 0.0
    return False


def send_with_retries(
    http: httpx.Client,
    method: str,
    url: httpx.URL,
    *,
    timeout: float,
    total_timeout: float,
    pause: Callable[[float], None],
    max_bytes: int | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """The first answer that is not 429/5xx, or FlinksUnavailable once the attempts or
    `total_timeout` are spent. Waits: Retry-After when given (clamped), else stamina's
    exponential backoff; none under `stamina.set_testing`. An exception raised by `pause`
    (app.watch.service.Stopping) is not retried: it ends the request. A body over `max_bytes` is
    refused (_request)."""
    scope = deadline.current()
    tries = _Tries(method, url, pause, scope)
    try:
        for attempt in stamina.retry_context(
            on=_retryable,
            attempts=ATTEMPTS,
            timeout=min(total_timeout, scope.remaining()) if scope else total_timeout,
            wait_initial=0.5,
            wait_max=10.0,
        ):
            with attempt:
                tries.begin(attempt.next_wait)  # stamina's backoff (0 under set_testing)
                try:
                    response = _request(http, method, url, timeout, max_bytes, kwargs)
                    tries.check_deadline()  # cut short by it: the body may be truncated
                    return tries.answer(response)
                except (_Transient, httpx.TransportError) as exc:
                    tries.cause = _describe(exc)
                    tries.check_deadline()  # a dripping answer cut short is not retried
                    raise
    except (_Transient, httpx.TransportError) as exc:
        raise FlinksUnavailable(
            f"Flinks unavailable: {method} {where(url)} failed after {tries.count} attempt(s),"
            f" last: {_describe(exc)}"
        ) from (None if isinstance(exc, _Transient) else exc)
    raise AssertionError("unreachable: stamina either returns or raises")


@dataclass
class _Tries:
    """One request's attempts: the wait before the next one, and why the last one failed."""

    method: str
    url: httpx.URL
    pause: Callable[[float], None]
    scope: deadline.Deadline | None = None
    count: int = 0
    wait: float = 0.0
    cause: str = ""

    def begin(self, backoff: float) -> None:
        """Before an attempt: after a failed one, say what is retried and why, then wait.
        Our line, not stamina's (whose `stamina.retry_scheduled` names none of this, and
        whose own wait is always 0: see _retryable)."""
        if self.count:
            log.warning(
                "flinks.retry method=%s target=%s attempt=%d/%d wait=%.1fs cause=%r",
                self.method,
                where(self.url),
                self.count + 1,
                ATTEMPTS,
                self.wait,
                self.cause,
            )
            if self.scope is not None and self.wait >= self.scope.remaining():
                self.check_deadline(waiting=True)  # the wait alone would outlast it
            if self.wait > 0:
                self.pause(self.wait)
        self.check_deadline()
        self.wait = backoff
        self.count += 1

    def check_deadline(self, *, waiting: bool = False) -> None:
        """FlinksUnavailable, one line, once the overall deadline has passed, or when the
        next wait (`waiting`) would outlast it."""
        scope = self.scope
        if scope is None:
            return
        if waiting:
            why = f"{self.count} attempt(s) failed, last: {self.cause}; no time left to retry"
        elif scope.expired or scope.remaining() <= 0:
            why = "the answer was still missing or still arriving when it passed"
        else:
            return
        raise FlinksUnavailable(
            f"Flinks unavailable: {self.method} {where(self.url)} did not finish within the"
            f" {scope.seconds:g} s deadline ({why})"
        )

    def answer(self, response: httpx.Response) -> httpx.Response:
        """The response, or _Transient for a 429/5xx (its Retry-After becomes the wait)."""
        asked = retry_after_seconds(response.headers.get("retry-after"), high=MAX_RETRY_AFTER)
        _log_response(self.method, response, asked)
        if response.status_code == 429 or response.status_code >= 500:
            if asked is not None and not stamina.is_testing():
                self.wait = asked
            raise _Transient(response.status_code, asked)
        return response


def _request(
    http: httpx.Client,
    method: str,
    url: httpx.URL,
    timeout: float,
    max_bytes: int | None,
    kwargs: dict[str, Any],
) -> httpx.Response:
    if max_bytes is None:
        return _unlinked(http.request(method, url, timeout=timeout, **kwargs))
    response = http.send(http.build_request(method, url, timeout=timeout, **kwargs), stream=True)
    try:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise _too_large(max_bytes, f"Content-Length {int(declared):,} bytes")
        # One buffer grown in place (bytearray over-allocates, the allocator moves large blocks
        # without copying): b"".join of the chunks held the body twice (44 MB for 100,000 rows).
        body = bytearray()
        for chunk in response.iter_bytes():  # decoded: the limit bounds what is held
            if len(body) + len(chunk) > max_bytes:
                raise _too_large(max_bytes, f"more than {max_bytes:,} bytes read")
            body += chunk
        # What Response.read() itself does once the stream is consumed: .content works as usual
        # (a bytes-like object: everything that reads the body takes one).
        response._content = body  # type: ignore[assignment]
    finally:
        response.close()
    return _unlinked(response)


def _unlinked(response: httpx.Response) -> httpx.Response:
    """A read, closed response whose stream no longer points back at it. httpx's stream and
    response refer to each other: a cycle only the garbage collector frees, which kept a
    100,000-row body (22 MB) alive through the cycle that read it (app.watch.memory pauses the
    collector there). Without the cycle, the body goes as soon as the caller lets go of it."""
    response.stream = httpx.ByteStream(b"")
    return response


def _too_large(max_bytes: int, seen: str) -> FlinksBadAnswer:
    return FlinksBadAnswer(
        f"Flinks answer is larger than FLINKS_MAX_ANSWER_MB={max_bytes // MIB} ({seen}): refused"
        " before buffering it; raise FLINKS_MAX_ANSWER_MB if the listing really is this large"
    )


def where(url: httpx.URL) -> str:
    return f"{url.host}{':' + str(url.port) if url.port else ''}{url.path}"


def _describe(exc: Exception) -> str:
    return (
        str(exc)
        if isinstance(exc, _Transient)
        else f"{type(exc).__name__}: {snippet(str(exc), 120)}"
    )


def _log_response(method: str, response: httpx.Response, wait: float | None) -> None:
    # Flinks support asks for these two headers when a problem is escalated.
    ids = (
        f"ob_correlation_id={snippet(response.headers.get('ob-correlation-id', '-'))}"
        f" ob_trace_id={snippet(response.headers.get('ob-trace-id', '-'))}"
    )
    where = f"status={response.status_code} method={method} path={response.request.url.path}"
    if response.is_success:
        log.debug("flinks.http_ok %s size=%d %s", where, len(response.content), ids)
    else:
        # retry_after is the wait actually asked of stamina (parsed and clamped).
        extra = "" if wait is None else f" retry_after={wait:.1f}"
        log.warning("flinks.http_error %s %s%s", where, ids, extra)
