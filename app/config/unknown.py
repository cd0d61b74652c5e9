"""Settings that look like ours but are not (issue 27): a variable of the environment or `.env`
with one of our prefixes that no setting reads, and a STUCK_AFTER status no registration can
be in. Both are warnings, never refusals: platforms inject look-alikes (Kubernetes' `WEB_PORT`
for a service named `web`), and Flinks may add a status before we know it."""

from __future__ import annotations

import difflib
import os
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

from pydantic_settings import BaseSettings

from app.config.settings import SECRET_FIELDS, Settings
from app.config.sources import ENV_FILE
from app.domain import KNOWN_STATUSES

# A variable starting with one of these is meant for us (SPEC 3's list).
PREFIXES = (
    "FLINKS_",
    "SLACK_",
    "SMTP_",
    "EMAIL_",
    "WEB_",
    "HTTP_",
    "POLL_",
    "STUCK_",
    "QUIET_",
    "DIGEST_",
    "BLIND_",
    "HEARTBEAT_",
    "APPRISE_",
    "WEBHOOK_",
    "LATE_",
    "DATABASE_",
    "REMOVAL_",
    "DELIVERY_",
    "ALERT_",
    "LOG_",
)
# Look-alikes that are someone else's on purpose: httpx reads HTTP_PROXY for the Flinks client.
NOT_OURS = frozenset({"HTTP_PROXY"})


def known_settings(settings_cls: type[BaseSettings] = Settings) -> frozenset[str]:
    """Every variable name the settings read, from the model itself (a new field is known the
    moment it is declared), with the `<NAME>_FILE` form of each secret."""
    names = set()
    for name, info in settings_cls.model_fields.items():
        names.add(name.upper())
        if isinstance(info.validation_alias, str):
            names.add(info.validation_alias.upper())
    names.update(f"{name.upper()}_FILE" for name in SECRET_FIELDS)
    return frozenset(names)


def unknown_settings(
    sources: Mapping[str, Iterable[str]], known: Collection[str] | None = None
) -> list[str]:
    """One warning per look-alike name, its source named ("the environment", ".env"), with the
    closest setting when there is one. Names are compared upper-cased, as the settings are."""
    known = known_settings() if known is None else known
    warned: set[str] = set()
    lines = []
    for source, names in sources.items():
        for raw in sorted(names):
            name = raw.upper()
            if name in known or name in NOT_OURS or name in warned or not name.startswith(PREFIXES):
                continue
            warned.add(name)
            close = closest(name, known)
            hint = f": did you mean {close}?" if close else ": no setting has a name like it"
            lines.append(f"unknown setting {raw}{hint} (set in {source}, not applied)")
    return lines


def closest(name: str, known: Collection[str], cutoff: float = 0.72) -> str | None:
    """The known name most like `name`, if it is like enough (difflib's ratio, taken both ways:
    it is not symmetric), one holding every word of `name` first: SLACK_TOKEN ->
    SLACK_BOT_TOKEN, FLINKS_SECRET -> FLINKS_CLIENT_SECRET (not FLINKS_SCOPE), WEB_PORT -> None."""
    words = set(name.split("_")) - {""}

    def score(candidate: str) -> float:
        return max(
            difflib.SequenceMatcher(None, name, candidate).ratio(),
            difflib.SequenceMatcher(None, candidate, name).ratio(),
        )

    alike = [(words <= set(c.split("_")), score(c), c) for c in sorted(known)]
    best = max((a for a in alike if a[1] >= cutoff), default=None)
    return best[2] if best is not None else None


def unknown_settings_here() -> list[str]:
    """The look-alikes of this process's environment and of `.env` in the working directory."""
    sources: dict[str, Iterable[str]] = {"the environment": list(os.environ)}
    if Path(ENV_FILE).is_file():
        from dotenv import dotenv_values  # what pydantic-settings reads .env with

        sources[f"{Path(ENV_FILE).absolute()}"] = list(dotenv_values(ENV_FILE))
    return unknown_settings(sources)


def unknown_stuck_statuses(statuses: Iterable[str], seen: Iterable[str] = ()) -> list[str]:
    """A STUCK_AFTER status neither of the lifecycle nor ever had by a registration (`seen`,
    when the database can say): its reminders can never fire, maybe a typo."""
    known = sorted(set(KNOWN_STATUSES) | set(seen))
    lines = []
    for status in statuses:
        if status in known:
            continue
        close = closest(status, known)
        hint = f": did you mean {close}?" if close else ""
        lines.append(
            f"STUCK_AFTER names {status}, a status no registration has had and not one of"
            f" {', '.join(KNOWN_STATUSES)}{hint} (its reminders cannot fire until one has it)"
        )
    return lines
