"""Heartbeat pings (SPEC 8): a GET of HEARTBEAT_URL after each successful cycle and of
HEARTBEAT_FAIL_URL after each failed one, for the dead-man's switches of healthchecks.io,
Uptime Kuma, Cronitor and Better Stack. A ping that fails is logged and changes nothing else;
the URLs carry their service's secret, so no log line ever names them."""

from __future__ import annotations

import logging

import httpx

from app import deadline
from app.domain import INTERRUPTED, LEADERSHIP_LOST, CycleResult, Outcome
from app.notify.same_origin import RedirectRefused, refuse_cross_origin

log = logging.getLogger(__name__)

PING_TIMEOUT_SECONDS = 5.0  # a stuck monitoring service must not hold up the cycle
PING_DEADLINE_SECONDS = deadline.call_seconds(PING_TIMEOUT_SECONDS)  # nor a dripping one


class Heartbeat:
    def __init__(self, success_url: str | None, fail_url: str | None) -> None:
        self.success_url, self.fail_url = success_url or None, fail_url or None
        # Redirects are followed within the URL's own origin only: the URL carries a secret.
        # No kept connection: each ping opens its own, inside its deadline (app.deadline).
        self.http = httpx.Client(
            timeout=PING_TIMEOUT_SECONDS,
            follow_redirects=True,
            event_hooks={"response": [refuse_cross_origin]},
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    def ping(self, result: CycleResult) -> None:
        """Report one cycle: degraded counts as success (it was recorded). A cycle cut short by
        lost leadership says nothing (the instance that took over reports its own), nor one cut
        short by shutdown (nothing was recorded; the next start reports)."""
        if result.failure_kind in (LEADERSHIP_LOST, INTERRUPTED):
            return
        which = "fail" if result.outcome is Outcome.FAILED else "success"
        url = self.fail_url if which == "fail" else self.success_url
        if url is None:
            return
        with deadline.deadline(PING_DEADLINE_SECONDS) as scope:
            try:
                status = self.http.get(url).status_code
            except RedirectRefused as exc:
                log.warning("heartbeat.failed ping=%s error=%r", which, str(exc))
                return
            except Exception as exc:  # noqa: BLE001 - never fail the cycle; the text may hold the URL
                error = "deadline" if scope.expired else type(exc).__name__
                log.warning("heartbeat.failed ping=%s error=%s", which, error)
                return
        if status >= 300:
            log.warning("heartbeat.failed ping=%s status=%d", which, status)
        else:
            log.debug("heartbeat.sent ping=%s status=%d", which, status)

    def close(self) -> None:
        self.http.close()
