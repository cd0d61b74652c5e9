"""FlinksClient against the simulated Flinks over real HTTP: token, retries, errors, logging."""

from __future__ import annotations

import base64
import gc
import hashlib
import json
import logging
import weakref
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import stamina
from pydantic import SecretStr

from app.config.settings import ConfigError, Settings
from app.core.retry_after import retry_after_seconds
from app.demo.simulator import FlinksSimulator
from app.flinks.client import (
    FlinksAuthError,
    FlinksBadAnswer,
    FlinksClient,
    FlinksRequestError,
    FlinksUnavailable,
)
from app.wiring import build_flinks
from tests.builders import FakeClock

CLIENT_ID = "partner-123"
SECRET = "s3cr3t-Value-Never-Logged"
ROWS = [
    {
        "client_id": client,
        "client_name": name,
        "provider_id": provider,
        "provider_name": bank,
        "country": "CA",
        "registration_status": "PENDING_APPROVAL",
        "requested_on": "2024-02-29T14:24:42.6055680Z",
    }
    for client, name in (("dc-alpha", "Alpha Lending"), ("dc-beta", "Beta Payroll"))
    for provider, bank in ((2000, "NBC"), (1000, "Flinks Capital"))
]
MakeClient = Callable[..., FlinksClient]
# Expected values written out, not read from the code under test: Flinks' paths, the attempts a
# request gets (the first one included) and the longest Retry-After honoured, in seconds.
TOKEN_PATH = "/api/v1/token"
LISTING_PATH = "/api/v1/recipients/providers/requests"
ATTEMPTS = 4
MAX_RETRY_AFTER = 60.0


@pytest.fixture(autouse=True)
def _instant_retries() -> Iterator[None]:
    # No backoff sleeps; cap=True keeps the client's own attempt count (ATTEMPTS).
    with stamina.set_testing(True, attempts=100, cap=True):
        yield


@pytest.fixture
def sim() -> Iterator[FlinksSimulator]:
    with FlinksSimulator(client_id=CLIENT_ID, client_secret=SECRET, rows=ROWS) as simulator:
        yield simulator


@pytest.fixture
def make_client(sim: FlinksSimulator) -> Iterator[MakeClient]:
    clients: list[FlinksClient] = []

    def make(**overrides: Any) -> FlinksClient:
        args: dict[str, Any] = {
            "listing_url": sim.listing_url(),
            "token_url": sim.token_url,
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
            "timeout": 5.0,
        }
        clients.append(FlinksClient(**(args | overrides)))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


def _token_requests(sim: FlinksSimulator) -> list[Any]:
    return [r for r in sim.requests if r.path == TOKEN_PATH]


def test_fetch_returns_the_validated_rows_with_digest_and_size(
    sim: FlinksSimulator, make_client: MakeClient
) -> None:
    fetched = make_client().fetch()

    raw = json.dumps(ROWS, separators=(",", ":")).encode()
    assert [r.key for r in fetched.answer.rows] == sorted(
        (r["client_id"], r["provider_id"]) for r in ROWS
    )
    assert fetched.answer.complete
    assert fetched.digest == hashlib.sha256(raw).hexdigest()
    assert fetched.size == len(raw)
    listing = next(r for r in sim.requests if r.path == LISTING_PATH)
    assert listing.headers["accept"] == "application/json"
    assert listing.headers["authorization"].startswith("Bearer ")


def test_the_token_is_cached_across_fetches(sim: FlinksSimulator, make_client: MakeClient) -> None:
    client = make_client()

    for _ in range(3):
        client.fetch()

    assert sim.token_requests == 1
    assert sim.listing_requests == 3
    assert client.token_renewals == 1


@pytest.mark.parametrize(
    ("expires_in", "still_cached_at", "renewed_at"),
    [
        (299, 239.0, 240.0),  # margin max(30, 59.8) = 59.8 s: renewal due at 239.2
        (100, 69.0, 70.0),  # margin 30 s (20 % would be only 20 s)
        (1000, 799.0, 800.0),  # margin 200 s
    ],
)
def test_the_token_is_renewed_when_little_lifetime_remains(
    sim: FlinksSimulator,
    make_client: MakeClient,
    expires_in: int,
    still_cached_at: float,
    renewed_at: float,
) -> None:
    sim.expires_in = expires_in
    clock = FakeClock()
    client = make_client(clock=clock.monotonic)
    start = clock.now
    first = client.token()

    clock.now = start + timedelta(seconds=still_cached_at)
    assert client.token() == first
    clock.now = start + timedelta(seconds=renewed_at)
    second = client.token()

    assert second != first
    assert client.token_renewals == 2
    assert sim.token_requests == 2


def test_a_token_answer_without_expires_in_lasts_299_seconds(
    sim: FlinksSimulator, make_client: MakeClient
) -> None:
    answer = json.dumps({"access_token": "opaque", "token_type": "Bearer"}).encode()
    sim.fail_next(1, 200, body=answer, path="token")

    assert make_client().check() == "token ok (expires in 299 s)"


def test_a_token_answer_without_access_token_is_a_bad_answer(
    sim: FlinksSimulator, make_client: MakeClient
) -> None:
    sim.fail_next(1, 200, body=b'{"token_type": "Bearer"}', path="token")

    with pytest.raises(FlinksBadAnswer, match="no access_token"):
        make_client().fetch()


def test_check_always_obtains_a_fresh_token(sim: FlinksSimulator, make_client: MakeClient) -> None:
    client = make_client()
    client.token()

    assert client.check() == "token ok (expires in 299 s)"
    assert sim.token_requests == 2


@pytest.mark.parametrize("token_auth", ["body", "basic"])
@pytest.mark.parametrize("token_format", ["json", "form"])
def test_token_request_carries_credentials_as_configured(
    sim: FlinksSimulator, make_client: MakeClient, token_auth: str, token_format: str
) -> None:
    make_client(token_auth=token_auth, token_format=token_format, scope="client:admin").fetch()

    [request] = _token_requests(sim)
    content_type = request.headers["content-type"]
    if token_format == "json":
        assert content_type == "application/json"
        fields = json.loads(request.body)
    else:
        assert content_type == "application/x-www-form-urlencoded"
        fields = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
    assert fields["grant_type"] == "client_credentials"
    assert fields["scope"] == "client:admin"
    if token_auth == "body":
        assert (fields["client_id"], fields["client_secret"]) == (CLIENT_ID, SECRET)
        assert "authorization" not in request.headers
    else:
        assert "client_id" not in fields
        assert "client_secret" not in fields
        expected = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
        assert request.headers["authorization"] == f"Basic {expected}"


@pytest.mark.parametrize("token_auth", ["body", "basic"])
def test_wrong_credentials_raise_auth_error_without_the_secret(
    sim: FlinksSimulator, make_client: MakeClient, token_auth: str
) -> None:
    client = make_client(client_secret=SECRET + "-wrong", token_auth=token_auth)

    with pytest.raises(FlinksAuthError) as caught:
        client.fetch()

    message = str(caught.value)
    assert "invalid_client" in message
    assert f"127.0.0.1:{sim.base_url.rsplit(':', 1)[1]}{TOKEN_PATH}" in message
    assert SECRET not in message
    assert "\n" not in message
    assert sim.token_requests == 1  # a refusal is not retried
    assert sim.listing_requests == 0


def test_a_secret_echoed_by_the_token_endpoint_is_redacted(
    sim: FlinksSimulator, make_client: MakeClient
) -> None:
    refusal = {"error": "invalid_client", "error_description": f"bad secret {SECRET}"}
    sim.fail_next(1, 401, body=json.dumps(refusal).encode(), path="token")

    with pytest.raises(FlinksAuthError) as caught:
        make_client().fetch()

    assert "invalid_client (bad secret [REDACTED]) [HTTP 401]" in str(caught.value)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize("status", [400, 401, 403])
def test_a_refused_token_is_renewed_once_then_the_fetch_succeeds(
    sim: FlinksSimulator, make_client: MakeClient, status: int
) -> None:
    client = make_client()
    client.fetch()
    sim.fail_next(1, status)

    fetched = client.fetch()

    assert len(fetched.answer.rows) == len(ROWS)
    assert client.token_renewals == 2
    assert sim.listing_requests == 3


def test_a_revoked_token_is_renewed(sim: FlinksSimulator, make_client: MakeClient) -> None:
    client = make_client()
    client.fetch()
    sim.revoke_tokens()

    client.fetch()

    assert sim.token_requests == 2


def test_a_second_refusal_is_a_request_error(sim: FlinksSimulator, make_client: MakeClient) -> None:
    sim.fail_next(2, 401, body=b'{"message": "Unauthorized"}')

    with pytest.raises(FlinksRequestError, match="HTTP 401") as caught:
        make_client().fetch()

    assert LISTING_PATH in str(caught.value)
    assert sim.listing_requests == 2
    assert sim.token_requests == 2


def test_a_token_endpoint_refusing_during_renewal_is_an_auth_error(
    sim: FlinksSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    client.fetch()
    sim.revoke_tokens()
    refusal = b'{"error": "invalid_client", "error_description": "client disabled"}'
    sim.fail_next(1, 400, body=refusal, path="token")

    with pytest.raises(FlinksAuthError, match="invalid_client"):
        client.fetch()


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 0])
def test_transient_failures_are_retried(
    sim: FlinksSimulator, make_client: MakeClient, status: int
) -> None:
    sim.fail_next(2, status)  # 0: the connection drops without an answer

    fetched = make_client().fetch()

    assert len(fetched.answer.rows) == len(ROWS)
    assert sim.listing_requests == 3


def test_transient_token_failures_are_retried(
    sim: FlinksSimulator, make_client: MakeClient
) -> None:
    sim.fail_next(1, 503, path="token")

    make_client().fetch()

    assert sim.token_requests == 2


def test_persistent_5xx_is_unavailable_after_bounded_attempts(
    sim: FlinksSimulator, make_client: MakeClient
) -> None:
    sim.fail_next(10, 503)

    with pytest.raises(FlinksUnavailable) as caught:
        make_client().fetch()

    message = str(caught.value)
    assert f"GET 127.0.0.1:{sim.base_url.rsplit(':', 1)[1]}{LISTING_PATH}" in message
    assert f"after {ATTEMPTS} attempt(s), last: HTTP 503" in message
    assert sim.listing_requests == ATTEMPTS


@pytest.mark.parametrize(
    ("header", "expected_wait"),
    [
        ("7", "7.0"),
        ("3600", "60.0"),  # clamped
        (format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True), "60.0"),
        (format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True), "0.0"),
    ],
)
def test_retry_after_is_honoured(
    sim: FlinksSimulator,
    make_client: MakeClient,
    caplog: pytest.LogCaptureFixture,
    header: str,
    expected_wait: str,
) -> None:
    caplog.set_level(logging.WARNING, logger="app.flinks")
    sim.fail_next(1, 429, headers={"Retry-After": header})

    make_client().fetch()

    assert f"flinks.http_error status=429 method=GET path={LISTING_PATH}" in caplog.text
    assert f"retry_after={expected_wait}" in caplog.text
    assert sim.listing_requests == 2


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("", None),
        ("12", 12.0),
        (" 5 ", 5.0),
        ("999", 60.0),
        ("soon", None),
        ("-3", None),
        ("Tue, 24 Nov 2026 05:00:30 GMT", 30.0),
        ("Tue, 24 Nov 2026 04:59:00 GMT", 0.0),
    ],
)
def test_retry_after_parsing(header: str | None, seconds: float | None) -> None:
    now = datetime(2026, 11, 24, 5, 0, 0, tzinfo=UTC)

    assert retry_after_seconds(header, now=now, high=MAX_RETRY_AFTER) == seconds


@pytest.mark.parametrize("status", [404, 405, 409, 422, 302])
def test_other_client_errors_are_not_retried(
    sim: FlinksSimulator, make_client: MakeClient, status: int
) -> None:
    sim.fail_next(
        1,
        status,
        body=b'{"message": "Recipient not found"}',
        headers={"Location": "http://example.invalid/"},
    )

    with pytest.raises(FlinksRequestError) as caught:
        make_client().fetch()

    assert f"HTTP {status}" in str(caught.value)
    assert "Recipient not found" in str(caught.value)
    assert sim.listing_requests == 1


def test_a_stopped_server_is_unavailable_naming_host_and_path(
    sim: FlinksSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    client.fetch()  # leaves a kept-alive connection in the pool
    port = sim.base_url.rsplit(":", 1)[1]
    sim.stop()

    with pytest.raises(FlinksUnavailable) as caught:
        client.fetch()

    message = str(caught.value)
    assert f"127.0.0.1:{port}{LISTING_PATH}" in message
    assert "ConnectError" in message
    assert "\n" not in message


def test_a_read_timeout_is_unavailable(sim: FlinksSimulator, make_client: MakeClient) -> None:
    client = make_client(timeout=0.2)
    client.token()
    sim.delay_next(10.0, n=ATTEMPTS)

    with pytest.raises(FlinksUnavailable, match="ReadTimeout"):
        client.fetch()

    assert sim.listing_requests == ATTEMPTS


@pytest.mark.parametrize(
    ("raw", "pattern"),
    [
        (b'{"rows": []}', r"not a JSON array \(got object\)"),
        (b"[{", "not valid JSON"),
        # The body's own text, however the client buffered it.
        (b"<html>maintenance</html>", r'not valid JSON: .* \(starts with "<html>maintenance</'),
    ],
)
def test_a_malformed_body_is_a_bad_answer(
    sim: FlinksSimulator, make_client: MakeClient, raw: bytes, pattern: str
) -> None:
    sim.set_raw_body(raw)

    with pytest.raises(FlinksBadAnswer, match=pattern):
        make_client().fetch()


def test_the_recipient_specific_url_is_used_when_set(
    sim: FlinksSimulator, make_client: MakeClient
) -> None:
    fetched = make_client(listing_url=sim.listing_url("dc-beta")).fetch()

    assert {r.client_id for r in fetched.answer.rows} == {"dc-beta"}
    assert [r.path for r in sim.requests if r.method == "GET"] == [
        "/api/v1/recipients/dc-beta/providers/requests"
    ]


def test_from_settings_builds_a_working_client(sim: FlinksSimulator) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        flinks_client_id=SecretStr(CLIENT_ID),
        flinks_client_secret=SecretStr(SECRET),
        flinks_base_url=sim.base_url,
        flinks_token_url=sim.token_url,
        flinks_recipient_id="dc-alpha",
        flinks_token_auth="basic",
        flinks_token_format="form",
    )

    with build_flinks(settings) as client:
        fetched = client.fetch()

    assert {r.client_id for r in fetched.answer.rows} == {"dc-alpha"}
    assert _token_requests(sim)[0].headers["authorization"].startswith("Basic ")


def test_an_unreadable_ca_bundle_is_a_config_error_naming_the_setting(tmp_path: Path) -> None:
    bundle = tmp_path / "missing.pem"

    with pytest.raises(ConfigError, match=r"^FLINKS_CA_BUNDLE: cannot load .*missing.pem"):
        FlinksClient("https://x/l", "https://x/t", CLIENT_ID, SECRET, verify=str(bundle))


def test_correlation_headers_are_logged_on_errors_and_at_debug_on_success(
    sim: FlinksSimulator, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="app.flinks")
    ids = {"ob-correlation-id": "corr-123", "ob-trace-id": "trace-456"}
    sim.fail_next(1, 503, headers=ids)

    make_client().fetch()

    assert (
        f"flinks.http_error status=503 method=GET path={LISTING_PATH}"
        " ob_correlation_id=corr-123 ob_trace_id=trace-456"
    ) in caplog.text
    ok = [
        r
        for r in caplog.records
        if r.getMessage().startswith("flinks.http_ok status=200 method=GET")
    ]
    assert ok
    assert ok[0].levelno == logging.DEBUG
    assert "ob_correlation_id=" in ok[0].getMessage()


def test_neither_secret_nor_token_ever_reaches_the_logs(
    sim: FlinksSimulator, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    for auth in ("body", "basic"):
        client = make_client(token_auth=auth)
        client.fetch()
        sim.fail_next(1, 401)
        client.fetch()
    with pytest.raises(FlinksAuthError):
        make_client(client_secret=SECRET + "x").fetch()
    sim.fail_next(10, 503, path="token")
    with pytest.raises(FlinksUnavailable):
        make_client().fetch()

    tokens = {
        r.headers["authorization"].split(" ", 1)[1] for r in sim.requests if r.method == "GET"
    }
    assert len(tokens) == 4
    assert SECRET not in caplog.text
    assert base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode() not in caplog.text
    for token in tokens:
        assert token not in caplog.text


@pytest.mark.parametrize("max_answer_bytes", [None, 10 * 2**20])
def test_a_read_answer_is_freed_without_the_garbage_collector(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch, max_answer_bytes: int | None
) -> None:
    """httpx's response and its stream refer to each other; a cycle pauses the collector
    (app.watch.memory), so a response left in that loop would hold the whole body to the cycle's
    end."""
    from app.flinks import retries

    seen: list[weakref.ref[httpx.Response]] = []
    request = retries._request

    def spy(*args: Any) -> httpx.Response:
        response = request(*args)
        seen.append(weakref.ref(response))
        return response

    monkeypatch.setattr(retries, "_request", spy)
    client = make_client(max_answer_bytes=max_answer_bytes)
    gc.disable()
    try:
        fetched = client.fetch()
        assert len(seen) == 2  # the token, the listing
        assert [ref() for ref in seen] == [None, None]
    finally:
        gc.enable()
    assert fetched.answer.complete
    assert len(fetched.answer.rows) == len(ROWS)


@pytest.mark.parametrize(
    "expires_in",
    [
        '"\u00b2"',  # a digit to str.isdigit, not to int()
        '"' + "9" * 5000 + '"',  # past int()'s 4,300 digits
        "9" * 5000,  # the same as a JSON number: json.loads' own ValueError
        "1" + "0" * 400,  # an int too big to be a float
        '"-5"',
        '"٣٠٠"',  # Arabic-Indic digits
        "true",
    ],
)
def test_an_unbelievable_expires_in_is_read_as_absent(
    sim: FlinksSimulator, make_client: MakeClient, expires_in: str
) -> None:
    answer = f'{{"access_token": "opaque", "expires_in": {expires_in}}}'.encode()
    sim.fail_next(1, 200, body=answer, path="token")

    assert make_client().check() == "token ok (expires in 299 s)"
