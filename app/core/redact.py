"""PURE: secrets out of text, as whole tokens, never garbling what surrounds them.

Two kinds of secret are removed. Values we know (the configured secrets, the access tokens the
program obtained): a value under MIN_ANYWHERE characters only where it stands alone (not inside
a longer word: a one-letter password `o` leaves "connection" whole), a longer one wherever it
appears (it cannot turn up in text by chance). And credentials whatever their value, found by
their shape: an `Authorization` value (`Bearer ...`, `Basic <base64 of a:b>`), the password of
a URL (`scheme://user:PASSWORD@host`, an `@` inside it included) and known fields
(`"access_token": "..."`, `client_secret=...`).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

REDACTED = "[REDACTED]"
MIN_ANYWHERE = 8  # shorter known values are redacted only as whole tokens

_BEARER = re.compile(r"(?i)\b(bearer\s+)([A-Za-z0-9\-._~+/]+=*)")
_BASIC = re.compile(r"(?i)\b(basic\s+)([A-Za-z0-9+/]{4,}={0,2})(?![A-Za-z0-9+/=])")
# scheme://user:password@ - greedy to the last @ before the path: a password may hold @ and :
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s/:@\"']*:)([^\s/\"']*)@")
_KEYS = (
    r"access_token|refresh_token|id_token|client_secret|password|passwd|api_key|apikey|secret|token"
)
# A known field in JSON ("token": "v", also inside a JSON string: \"token\": \"v\") or in a
# query or form (token=v); never a word and a colon in prose ("/api/v1/token: HTTP 400").
_JSON_FIELD = re.compile(rf'(?i)(\\?"(?:{_KEYS})\\?"\s*:\s*\\?")((?:[^"\\]|\\[^"])+)')
_FORM_FIELD = re.compile(rf"(?i)((?:^|(?<=[\s?&;,]))(?:{_KEYS})=)([^&\s\"',;]+)")
_WORD = "A-Za-z0-9"
# Before a known value: no letter or digit, except the end of an escape (%3D, \n) in front.
_BEFORE = rf"(?:(?<![{_WORD}])|(?<=%[0-9A-Fa-f]{{2}})|(?<=\\[nrt]))"
_AFTER = rf"(?![{_WORD}])"


def spellings(secret: str) -> set[str]:
    """A secret as written, and as it looks inside a URL, a JSON string or a repr()."""
    return {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        json.dumps(secret)[1:-1],
        repr(secret)[1:-1],
    }


def _known(values: Iterable[str]) -> re.Pattern[str] | None:
    forms = sorted({f for v in values if v for f in spellings(v)}, key=len, reverse=True)
    if not forms:
        return None
    parts = []
    for form in forms:  # longest first: a secret containing another is replaced whole
        if len(form) >= MIN_ANYWHERE:
            parts.append(re.escape(form))
        else:
            before = _BEFORE if form[0].isalnum() else ""
            after = _AFTER if form[-1].isalnum() else ""
            parts.append(f"{before}{re.escape(form)}{after}")
    return re.compile("|".join(parts))


def _basic(match: re.Match[str]) -> str:
    try:
        decoded = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        return match.group(0)  # "Basic authentication" is words, not a credential
    return match.group(1) + REDACTED if b":" in decoded else match.group(0)


def _url_password(match: re.Match[str]) -> str:
    if match.group(2) in ("", "***", REDACTED):  # no password, or one already hidden
        return match.group(0)
    return match.group(1) + REDACTED + "@"


def redact_shapes(text: str) -> str:
    """Credentials found by their shape, whatever their value (upstream text quoting ours)."""
    text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    text = _BASIC.sub(_basic, text)
    text = _URL_PASSWORD.sub(_url_password, text)
    text = _JSON_FIELD.sub(lambda m: m.group(1) + REDACTED, text)
    return _FORM_FIELD.sub(lambda m: m.group(1) + REDACTED, text)


class Redactor:
    """Removes the given secret values (see the module) and every credential-shaped text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._known = _known(secrets)

    def __call__(self, text: str) -> str:
        if self._known is not None:
            text = self._known.sub(REDACTED, text)
        return redact_shapes(text)
