"""Flinks client: OAuth token (cached, renewed), the registration listing, bounded retries.
Validation of the body and the error hierarchy live in app.listing."""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Literal

import httpx

from app import deadline
from app.config.settings import ConfigError
from app.core.redact import Redactor
from app.core.rowprints import Fetched
from app.flinks.listing import (
    FlinksAuthError,
    FlinksBadAnswer,
    FlinksError,
    FlinksRequestError,
    FlinksUnavailable,
    parse_answer,
    parse_timestamp,
    snippet,
)
from app.flinks.retries import ATTEMPTS, MAX_RETRY_AFTER, MIB, send_with_retries
from app.flinks.retries import where as _where
from app.flinks.rows import fetched

log = logging.getLogger(__name__)

__all__ = [
    "ATTEMPTS",
    "MAX_RETRY_AFTER",
    "MIB",
    "Fetched",
    "FlinksAuthError",
    "FlinksBadAnswer",
    "FlinksClient",
    "FlinksError",
    "FlinksRequestError",
    "FlinksUnavailable",
    "parse_answer",
    "parse_timestamp",
]

DEFAULT_EXPIRES_IN = 299  # the only lifetime Flinks documents
MAX_EXPIRES_IN = 86_400  # a longer one is not believed: renewing early costs one request
RENEW_MARGIN = 30.0  # renew when less than max(this, 20 % of the lifetime) remains
_RENEWABLE = frozenset({400, 401, 403})  # Flinks reports an expired token with any of these


# ---- HTTP ---------------------------------------------------------------------------------------


def ssl_verify(verify: str | bool) -> ssl.SSLContext | bool:
    # httpx 0.28 deprecates a path in verify=; a context built from the CA bundle is the way.
    if isinstance(verify, str) and verify:
        try:
            return ssl.create_default_context(cafile=verify)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise ConfigError(f"FLINKS_CA_BUNDLE: cannot load {verify}: {reason}") from None
    return verify if isinstance(verify, bool) else True


class FlinksClient:
    """The Flinks endpoints this service needs. One instance per process; not for concurrent
    fetches, though token() is guarded so `check` may run beside a poll."""

    def __init__(
        self,
        listing_url: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str = "client:admin",
        token_auth: Literal["body", "basic"] = "body",  # noqa: S107 - a mode, not a password
        token_format: Literal["json", "form"] = "json",  # noqa: S107 - same
        timeout: float = 30.0,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
        verify: str | bool = True,
        deadline_seconds: float = 120.0,  # app.deadline.flinks_seconds
        pause: Callable[[float], None] = time.sleep,
        max_answer_bytes: int | None = 64 * MIB,  # FLINKS_MAX_ANSWER_MB
    ) -> None:
        self._listing_url = httpx.URL(listing_url)
        self._token_url = httpx.URL(token_url)
        self._client_id = client_id
        self._secret = client_secret
        self._scope = scope
        self._token_auth = token_auth
        self._token_format = token_format
        self._timeout = timeout
        self._deadline = deadline_seconds
        self._clock = clock
        # The wait between two attempts; the service passes one that raises on shutdown.
        self._pause = pause
        self._max_answer_bytes = max_answer_bytes
        self._owns_http = http is None
        self._http = http or _unpooled(verify)
        self._lock = threading.Lock()
        self._token: str | None = None
        # Upstream text quoting a credential never becomes our error text: the secret, the
        # tokens obtained (the current one and the one before), anything shaped like one.
        self._tokens: tuple[str, ...] = ()
        self._redact = Redactor([client_secret, client_id])  # both configured as secrets
        self._renew_at = 0.0
        self._expires_in = 0
        self.token_renewals = 0  # tokens obtained, the first included; read by the metrics

    def __enter__(self) -> FlinksClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    # ---- public operations ------------------------------------------------------------------
    def fetch(self) -> Fetched:
        """GET the listing and read it as a JSON array; its rows are validated on first use of
        `answer`. A refused token is renewed once (Flinks signals an expired token with 400,
        401 or 403), then the refusal is an error. All of it (token, listing, retries and their
        waits) within the overall deadline, else FlinksUnavailable."""
        with self._scrubbed(), deadline.deadline(self._deadline):
            return self._fetch()

    def _fetch(self) -> Fetched:
        response = self._get_listing()
        if response.status_code in _RENEWABLE:
            log.info("flinks.token_rejected status=%d", response.status_code)
            self._drop_token()
            response = self._get_listing()
        if not response.is_success:
            raise FlinksRequestError(
                f"Flinks refused GET {_where(self._listing_url)}: HTTP {response.status_code}"
                f"{self._detail(response)}"
            )
        # FlinksBadAnswer now unless the body is a JSON array; the rows are validated only
        # when the cycle asks for them (app.flinks.rows.fetched).
        return fetched(response.content)

    def token(self) -> str:
        """The cached access token, renewed when little of its lifetime remains."""
        with self._lock, self._scrubbed():
            if self._token is None or self._clock() >= self._renew_at:
                self._token = self._request_token()
                self._tokens = (self._token, *self._tokens[:1])
                self._redact = Redactor([self._secret, self._client_id, *self._tokens])
            return self._token

    def check(self) -> str:
        """Obtain a fresh token and describe it in a few words (for `flinkswatch check`)."""
        self._drop_token()
        with deadline.deadline(self._deadline):
            self.token()
        return f"token ok (expires in {self._expires_in} s)"

    # ---- token --------------------------------------------------------------------------------
    def _drop_token(self) -> None:
        with self._lock:
            self._token = None

    def _request_token(self) -> str:
        fields = {"grant_type": "client_credentials", "scope": self._scope}
        auth: httpx.BasicAuth | None = None
        if self._token_auth == "basic":
            auth = httpx.BasicAuth(self._client_id, self._secret)
        else:
            fields |= {"client_id": self._client_id, "client_secret": self._secret}
        body: dict[str, Any] = (
            {"json": fields} if self._token_format == "json" else {"data": fields}
        )
        response = self._send("POST", self._token_url, auth=auth, **body)
        where = _where(self._token_url)
        if response.status_code in _RENEWABLE:
            refusal = self._oauth_error(response)
            raise FlinksAuthError(
                f"Flinks token endpoint {where} refused the credentials: {refusal}"
            )
        if not response.is_success:
            raise FlinksRequestError(
                f"Flinks refused POST {where}: HTTP {response.status_code}{self._detail(response)}"
            )
        token, expires_in = _read_token(response)
        self._expires_in = expires_in
        # Capped at half the lifetime: a token living under 30 s is not renewed on every poll.
        margin = min(max(RENEW_MARGIN, 0.2 * expires_in), expires_in / 2)
        self._renew_at = self._clock() + expires_in - margin
        self.token_renewals += 1
        log.info("flinks.token_obtained expires_in=%d", expires_in)
        return token

    def _oauth_error(self, response: httpx.Response) -> str:
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("error"), str):
            return f"HTTP {response.status_code}"
        text = snippet(self._redact(data["error"]))
        description = data.get("error_description")
        if isinstance(description, str) and description:
            text += f" ({snippet(self._redact(description), 120)})"
        return f"{text} [HTTP {response.status_code}]"

    # ---- transport ----------------------------------------------------------------------------
    def _get_listing(self) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token()}", "Accept": "application/json"}
        return self._send(
            "GET", self._listing_url, headers=headers, max_bytes=self._max_answer_bytes
        )

    def _send(
        self, method: str, url: httpx.URL, max_bytes: int | None = None, **kwargs: Any
    ) -> httpx.Response:
        return send_with_retries(
            self._http,
            method,
            url,
            timeout=self._timeout,
            total_timeout=self._deadline,
            pause=self._pause,
            max_bytes=max_bytes,
            **kwargs,
        )

    @contextmanager
    def _scrubbed(self) -> Iterator[None]:
        """Every FlinksError leaving the client, redacted (a body quoted by app.flinks.body)."""
        try:
            yield
        except FlinksError as exc:
            exc.args = (self._redact(str(exc)),)
            raise

    def _detail(self, response: httpx.Response) -> str:
        text = response.text.strip()
        detail = f" ({snippet(self._redact(text), 120)})" if text else ""
        location = response.headers.get("location")
        if response.is_redirect and location:  # never followed: the token would go with it
            target = response.url.join(location)
            where = f"{target.scheme}://{target.netloc.decode()}"
            detail = f" (a redirect to {where}, not followed){detail}"
        return detail


def _read_token(response: httpx.Response) -> tuple[str, int]:
    try:
        # A number too long to be a lifetime is read as absent, not as json's ValueError.
        data = response.json(parse_int=_lifetime_or_none)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise FlinksBadAnswer("Flinks token answer has no access_token")
    token = data.get("access_token")
    if not isinstance(token, str) or not token:
        raise FlinksBadAnswer("Flinks token answer has no access_token")
    expires_in = data.get("expires_in")
    if isinstance(expires_in, str):
        expires_in = _lifetime_or_none(expires_in.strip())
    if not isinstance(expires_in, int) or isinstance(expires_in, bool):
        expires_in = None
    if expires_in is None or not 0 < expires_in <= MAX_EXPIRES_IN:
        expires_in = DEFAULT_EXPIRES_IN  # absent, or no lifetime we could believe
    return token, expires_in


def _unpooled(verify: str | bool) -> httpx.Client:
    """No connection kept between requests: each opens its own inside the caller's deadline,
    which can then cut it (app.deadline); a cycle makes one or two requests anyway."""
    return httpx.Client(
        verify=ssl_verify(verify),
        follow_redirects=False,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


def _lifetime_or_none(text: str) -> int | None:
    """ASCII digits, at most 12 of them, as an int; anything else None ("²" is a digit to
    str.isdigit but not to int(); 5,000 digits exceed int()'s limit)."""
    if text.isascii() and text.isdigit() and len(text) <= 12:
        return int(text)
    return None
