"""The parsed setting types: each value is read once, when Settings is built, into what its
users need (event kinds, route rules, addresses), with one readable error when it is wrong."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, timedelta, tzinfo
from pathlib import Path
from typing import Annotated, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, PlainValidator, SecretStr
from pydantic_settings import NoDecode

from app.core.quiet import Window, breakthrough_kinds, parse_quiet_hours
from app.core.routing import Rule, parse_routes
from app.domain import EventKind

DEFAULT_DATABASE_URL = "sqlite:///./data/flinkswatch.db"
DEFAULT_STUCK_AFTER = "PENDING_APPROVAL=7d,PENDING_ACTIVATION=14d"
T = TypeVar("T")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d{1,9})\s*([smhdw])")


def psycopg_url(url: str) -> str:
    """SQLAlchemy 2 reads a bare postgresql:// as psycopg2; we ship psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _alert_kinds(value: object) -> object:
    """ALERT_EVENTS, `added, removed`, as the event kinds that get a delivery row per channel."""
    if not isinstance(value, str):
        return value
    names = [part.strip().lower() for part in value.split(",") if part.strip()]
    allowed = [kind.value for kind in EventKind if kind is not EventKind.BASELINE]
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise ValueError(f"unknown event kind {unknown[0]!r} (choose from {', '.join(allowed)})")
    return frozenset(EventKind(name) for name in names)


def _routes(kind: Literal["slack", "email", "apprise"]) -> BeforeValidator:
    return BeforeValidator(lambda v: parse_routes(v, kind) if isinstance(v, str) else v)


def _addresses(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


# Parsed once, when Settings is built; NoDecode keeps pydantic-settings from reading JSON.
_URL_START = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S")


def _apprise_urls(value: object) -> object:
    """APPRISE_URLS: separated by spaces, newlines, or commas before the next `scheme://`.
    The URLs are secrets: an error says which entry, never what it is."""
    if not isinstance(value, str):
        return value
    urls = [u for u in re.split(r"\s+|,(?=\s*[A-Za-z][A-Za-z0-9+.-]*://)", value.strip()) if u]
    for number, url in enumerate(urls, start=1):
        if not _URL_START.match(url):
            raise ValueError(f"entry {number} is not a URL (scheme://...)")
    if len(set(urls)) != len(urls):
        raise ValueError("a URL is listed twice")
    return tuple(SecretStr(url) for url in urls)


def _webhook_secret(value: SecretStr | None) -> SecretStr | None:
    """WEBHOOK_SECRET: `whsec_` + base64 of the key (Standard Webhooks), or the key itself;
    at least 16 bytes of key either way."""
    if value is None:
        return None
    raw = value.get_secret_value().strip()
    key = raw.encode()
    if raw.startswith("whsec_"):
        try:
            encoded = raw.removeprefix("whsec_").rstrip("=")
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except binascii.Error:
            raise ValueError("whsec_ must be followed by base64") from None
    if len(key) < 16:
        raise ValueError("needs at least 16 bytes of key (e.g. whsec_ + 32 random bytes in base64)")
    return SecretStr(raw)


AppriseUrls = Annotated[tuple[SecretStr, ...], NoDecode, BeforeValidator(_apprise_urls)]
AppriseRoutes = Annotated[tuple[Rule, ...], NoDecode, _routes("apprise")]
WebhookSecret = Annotated[SecretStr | None, AfterValidator(_webhook_secret)]
AlertKinds = Annotated[frozenset[EventKind], NoDecode, BeforeValidator(_alert_kinds)]
SlackRoutes = Annotated[tuple[Rule, ...], NoDecode, _routes("slack")]
EmailRoutes = Annotated[tuple[Rule, ...], NoDecode, _routes("email")]
Addresses = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_addresses)]


def parse_duration(text: str) -> timedelta:
    """SPEC 3 durations: a whole number and a unit s, m, h, d or w (`30s`, `12h`, `7d`, `2w`)."""
    match = _DURATION.fullmatch(text.strip().lower())
    if not match:
        raise ValueError(
            f"{text.strip()!r} is not a duration: a number and a unit s, m, h, d or w, e.g. 7d"
        )
    return timedelta(seconds=int(match[1]) * _UNITS[match[2]])


def parse_stuck_after(value: str) -> dict[str, timedelta]:
    """`PENDING_APPROVAL=7d,PENDING_ACTIVATION=14d` -> status -> time allowed in it; empty: {}.
    Statuses are upper-cased (Flinks writes its codes so), each may be named once."""
    limits: dict[str, timedelta] = {}
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        status, sep, duration = (s.strip() for s in part.partition("="))
        if not sep or not status:
            raise ValueError(f"{part!r} is not STATUS=DURATION, e.g. PENDING_APPROVAL=7d")
        status = status.upper()
        if status in limits:
            raise ValueError(f"{status} is given twice")
        limit = parse_duration(duration)
        if not limit:
            raise ValueError(f"{part!r}: the duration must be more than 0")
        limits[status] = limit
    return limits


def _time_zone(value: object) -> tzinfo:
    if isinstance(value, tzinfo):
        return value
    name = str(value).strip()
    if name.upper() == "UTC":
        return UTC  # needs no time zone database (slim images may have none)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone {name!r}: an IANA name such as America/Toronto, or UTC"
        ) from None


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value


def _secret_http_url(value: SecretStr | None) -> SecretStr | None:
    if value is not None:
        _http_url(value.get_secret_value())  # the message never quotes the secret
    return value


def _database_url(value: object) -> object:
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not isinstance(raw, str):
        return value
    raw = psycopg_url(raw.strip() or DEFAULT_DATABASE_URL)
    if "://" not in raw:
        raise ValueError("must be a SQLAlchemy URL such as sqlite:///path or postgresql://")
    if _unencoded_at(raw):  # read as user:pass@host, the rest of the password became the host
        raise ValueError(ENCODE_PASSWORD)
    return SecretStr(raw)


ENCODE_HINT = "URL-encode special characters in the password: @ is %40, : is %3A, / is %2F"
ENCODE_PASSWORD = f"the password holds an @ (no part of it is shown here); {ENCODE_HINT}"


def _unencoded_at(url: str) -> bool:
    """More than one @ before the path: a password with a raw @ (SQLAlchemy would take what
    follows the first one as the host, and show it)."""
    authority = re.split(r"[/?#]", url.partition("://")[2], maxsplit=1)[0]
    return authority.count("@") > 1


def _ca_bundle(value: str) -> str:
    if value and not Path(value).is_file():
        raise ValueError(f"no such file: {value}")
    return value


def _case(upper: bool) -> BeforeValidator:
    def normalise(value: object) -> object:
        if not isinstance(value, str):
            return value
        return value.strip().upper() if upper else value.strip().lower()

    return BeforeValidator(normalise)


HttpUrl = Annotated[str, AfterValidator(_http_url)]
# slack-sdk joins method names onto it: without the trailing slash, /api is dropped.
SlackApiUrl = Annotated[str, AfterValidator(lambda v: _http_url(v).rstrip("/") + "/")]
SecretHttpUrl = Annotated[SecretStr | None, AfterValidator(_secret_http_url)]
DatabaseUrl = Annotated[SecretStr, BeforeValidator(_database_url)]
CaBundle = Annotated[str, AfterValidator(_ca_bundle)]
Lower = Annotated[T, _case(upper=False)]  # choices are read whatever their case and spaces
Upper = Annotated[T, _case(upper=True)]
StuckAfter = Annotated[
    dict[str, timedelta],
    NoDecode,
    BeforeValidator(lambda v: parse_stuck_after(v) if isinstance(v, str) else v),
]
TimeZone = Annotated[tzinfo, PlainValidator(_time_zone)]
# BLIND_REPEAT: a duration, or 0 for never.
Duration = Annotated[
    timedelta,
    BeforeValidator(
        lambda v: (
            (timedelta(0) if v.strip() == "0" else parse_duration(v)) if isinstance(v, str) else v
        )
    ),
]

# QUIET_HOURS windows and QUIET_BREAKTHROUGH kinds (SPEC 9), parsed by app.core.quiet.
QuietWindows = Annotated[
    tuple[Window, ...],
    NoDecode,
    BeforeValidator(lambda v: parse_quiet_hours(v) if isinstance(v, str) else v),
]
Breakthrough = Annotated[
    frozenset[str],
    NoDecode,
    BeforeValidator(lambda v: breakthrough_kinds(v) if isinstance(v, str) else v),
]


def parse_late_after(value: object) -> float | None:
    """LATE_AFTER (SPEC 11): `p50`..`p99` -> the quantile, 0.5..0.99; empty: None (off)."""
    if value is None or isinstance(value, float):
        return value
    text = str(value).strip().lower()
    if not text:
        return None
    if len(text) == 3 and text[0] == "p" and text[1:].isdigit() and 50 <= int(text[1:]) <= 99:
        return int(text[1:]) / 100
    raise ValueError(f"{text!r} is not a percentile p50 to p99 (e.g. p90), or empty to turn it off")


LateAfter = Annotated[float | None, NoDecode, BeforeValidator(parse_late_after)]
