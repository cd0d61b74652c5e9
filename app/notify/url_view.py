"""PURE: what may be shown of a secret URL (APPRISE_URLS, WEBHOOK_URL): its scheme and host,
and the pieces of it to scrub from any text a library gives us."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

_DNS_NAME = re.compile(r"(?:[a-z0-9-]+\.)+[a-z0-9-]+|localhost|\[[0-9a-f:.]+\]")


def where(url: str) -> str:
    """`scheme://host` when the host is a network name; else only the scheme (for several
    schemes the 'host' is a token: tgram://<bot token>/, ntfy://<topic>)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return "(unreadable URL)"
    scheme = parts.scheme.lower() or "?"
    if parts.netloc.startswith("[") and host:
        host = f"[{host}]"
    return f"{scheme}://{host}" if _DNS_NAME.fullmatch(host) else f"{scheme}://…"


def secret_parts(url: str) -> set[str]:
    """The URL, and each piece of it (user, password, path and query values) that is not the
    scheme nor a network host name."""
    pieces = {url}
    for piece in re.split(r"[/:@?&=#,]+", url.split("://", 1)[-1]):
        for variant in (piece, unquote(piece)):
            if len(variant) >= 4 and not _DNS_NAME.fullmatch(variant.lower()):
                pieces.add(variant)
    return pieces


def scrub(text: str, url: str) -> str:
    """`text` without any part of `url` that could be a credential."""
    for piece in sorted(secret_parts(url), key=len, reverse=True):
        text = text.replace(piece, "***")
    return text
