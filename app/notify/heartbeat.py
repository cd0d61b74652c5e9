"""Heartbeat pings (SPEC 8): a GET of HEARTBEAT_URL after each successful cycle and of
HEARTBEAT_FAIL_URL after each failed one, for the dead-man's switches of healthchecks.io,
Uptime Kuma, Cronitor and Better Stack. A ping that fails is logged and changes nothing else;
the URLs carry their service's secret, so no log line ever names them."""

from __future__ import annotations

import logging

import httpx

from app.domain import INTERRUPTED, LEADERSHIP_LOST, CycleResult, Outcome
from app.notify.same_origin import RedirectRefused, refuse_cross_origin

log = logging.getLogger(__name__)

PING_TIMEOUT_SECONDS = 5.0  # a stuck monitoring service must not hold up the cycle


class Heartbeat:
    def __init__(self, success_url: str | None, fail_url: str | None) -> None:
        self.success_url, self.fail_url = success_url or None, fail_url or None
        # Redirects are followed within the URL's own origin only: the URL carries a secret.
        self.http = httpx.Client(
            timeout=PING_TIMEOUT_SECONDS,
            follow_redirects=True,
            event_hooks={"response": [refuse_cross_origin]},
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
        try:
            status = self.http.get(url).status_code
        except RedirectRefused as exc:
            log.warning("heartbeat.failed ping=%s error=%r", which, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - never fail the cycle; the text may hold the URL
            log.warning("heartbeat.failed ping=%s error=%s", which, type(exc).__name__)
            return
        if status >= 300:
            log.warning("heartbeat.failed ping=%s status=%d", which, status)
        else:
            log.debug("heartbeat.sent ping=%s status=%d", which, status)

    def close(self) -> None:
        self.http.close()
