"""PURE: the signed webhook's bodies (docs/webhooks.md has their JSON Schema).

`{"type": "registration.<event kind>", "timestamp": ..., "data": {history's fields}}` per event;
the watcher's own messages are `watcher.<kind>`: one `watcher.baseline` with the counts by status
(never one message per registration), `watcher.removals_held`, `watcher.blind`,
`watcher.recovered`, `watcher.channel_failing`, `watcher.channel_recovered`, `watcher.digest`.
The `webhook-id` is derived from the outbox delivery's id and the content, so a retry carries
the same one and receivers can drop duplicates.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from app.core.digest import Digest
from app.core.text import iso_z
from app.domain import BaselineSummary, Event, RemovalsHeld, WatcherNotice

SCHEMA_VERSION = 1


def event_body(event: Event) -> dict[str, Any]:
    data: dict[str, Any] = {
        "observed_at": iso_z(event.observed_at),
        "event": event.event.value,
        "client_id": event.client_id,
        "client_name": event.client_name,
        "provider_id": event.provider_id,
        "provider_name": event.provider_name,
        "country": event.country,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "requested_on": iso_z(event.requested_on),
        "previous_status_since": _when(event.previous_status_since),
        "changes": [{"field": f, "from": a, "to": b} for f, a, b in event.changes],
    }
    return _envelope(f"registration.{event.event.value}", event.observed_at, data)


def summary_body(summary: BaselineSummary) -> dict[str, Any]:
    """A baseline, a removals hold, a watcher notice or a digest: one message each."""
    counts = dict(summary.by_status)
    if isinstance(summary, Digest):
        content = summary.content
        data: dict[str, Any] = {
            "start": iso_z(content.start),
            "end": iso_z(content.end),
            "zone": content.zone,
            "moves": dict(content.moves),
            "polls": content.polls,
            "failed_polls": content.failed_polls,
        }
        return _envelope("watcher.digest", summary.observed_at, data)
    if isinstance(summary, WatcherNotice):
        kind = summary.kind.value.removeprefix("watcher_")
        return _envelope(f"watcher.{kind}", *_notice(summary))
    data = {"poll_id": summary.poll_id, "total": summary.total, "by_status": counts}
    if isinstance(summary, RemovalsHeld):
        data |= {"present": summary.present, "listed": summary.listed}
        return _envelope("watcher.removals_held", summary.observed_at, data)
    return _envelope("watcher.baseline", summary.observed_at, data)


def _notice(notice: WatcherNotice) -> tuple[datetime, dict[str, Any]]:
    return notice.observed_at, {
        "since": _when(notice.since),
        "cause": notice.cause,
        "last_error": notice.last_error,
        "failures": notice.failures,
        "count": notice.count,
        "channel": notice.channel,
        "repeat": notice.repeat,
    }


def encode(body: dict[str, Any]) -> bytes:
    """The bytes that are signed and sent (compact, UTF-8)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def message_id(delivery_id: int, content: bytes) -> str:
    """Stable across retries (the delivery's id and what it says), unique across databases."""
    digest = hashlib.sha256(content).hexdigest()[:12]
    return f"msg_fw{delivery_id}_{digest}"


def _envelope(kind: str, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "timestamp": iso_z(at), "version": SCHEMA_VERSION, "data": data}


def _when(value: datetime | None) -> str | None:
    return iso_z(value) if value is not None else None
