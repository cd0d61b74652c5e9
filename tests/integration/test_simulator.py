"""The simulated Flinks itself: its HTTP contract, its scripting, and its demo and bulk data."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from app.demo.simulator import (
    LISTING_PATH,
    NEXT_STATUS,
    FlinksSimulator,
    bulk_rows,
    demo_rows,
    format_timestamp,
    mutate_status,
)
from app.flinks.client import parse_answer
from tests.builders import FakeClock

STEP = {"PENDING_APPROVAL": 0, "PENDING_ACTIVATION": 1, "ACTIVE": 2}
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> Iterator[FlinksSimulator]:
    rows = demo_rows(6, random.Random(1), now=NOW)
    with FlinksSimulator(
        client_id="id", client_secret="pw", rows=rows, clock=clock.monotonic
    ) as simulator:
        yield simulator


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client


def _token(sim: FlinksSimulator, http: httpx.Client) -> str:
    fields = {"grant_type": "client_credentials", "client_id": "id", "client_secret": "pw",
              "scope": "client:admin"}  # fmt: skip
    response = http.post(sim.token_url, json=fields)
    assert response.status_code == 200
    return str(response.json()["access_token"])


def _get(sim: FlinksSimulator, http: httpx.Client, token: str, url: str = "") -> httpx.Response:
    return http.get(url or sim.listing_url(), headers={"Authorization": f"Bearer {token}"})


def test_the_listing_serves_the_rows_to_a_valid_token(
    sim: FlinksSimulator, http: httpx.Client
) -> None:
    response = _get(sim, http, _token(sim, http))

    assert response.status_code == 200
    assert response.json() == sim.rows
    assert response.headers["ob-correlation-id"]
    assert sim.token_requests == 1
    assert sim.listing_requests == 1


@pytest.mark.parametrize("authorization", [None, "Bearer nope", "Basic aWQ6cHc="])
def test_the_listing_refuses_a_missing_or_unknown_token(
    sim: FlinksSimulator, http: httpx.Client, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    assert http.get(sim.listing_url(), headers=headers).status_code == 401


def test_tokens_expire_and_can_be_revoked(
    sim: FlinksSimulator, http: httpx.Client, clock: FakeClock
) -> None:
    sim.expires_in = 100
    token = _token(sim, http)
    clock.advance(seconds=99)
    assert _get(sim, http, token).status_code == 200
    clock.advance(seconds=1)
    assert _get(sim, http, token).status_code == 401

    fresh = _token(sim, http)
    sim.revoke_tokens()
    assert _get(sim, http, fresh).status_code == 401


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"json": {"grant_type": "client_credentials", "client_id": "id", "client_secret": "x",
                   "scope": "client:admin"}}, "invalid_client"),
        ({"data": {"grant_type": "client_credentials", "scope": "client:admin"},
          "auth": ("id", "wrong")}, "invalid_client"),
        ({"data": {"grant_type": "password", "client_id": "id", "client_secret": "pw"}},
         "unsupported_grant_type"),
        ({"json": {"grant_type": "client_credentials", "client_id": "id", "client_secret": "pw",
                   "scope": "other"}}, "invalid_scope"),
    ],
)  # fmt: skip
def test_the_token_endpoint_answers_oauth_errors(
    sim: FlinksSimulator, http: httpx.Client, kwargs: dict[str, object], error: str
) -> None:
    response = http.post(sim.token_url, **kwargs)  # type: ignore[arg-type]

    assert response.status_code == 400
    assert response.json()["error"] == error


def test_basic_auth_and_form_bodies_are_accepted(sim: FlinksSimulator, http: httpx.Client) -> None:
    fields = {"grant_type": "client_credentials", "scope": "client:admin"}

    response = http.post(sim.token_url, data=fields, auth=("id", "pw"))

    assert response.status_code == 200
    assert response.json()["expires_in"] == 299


def test_the_recipient_listing_is_filtered(sim: FlinksSimulator, http: httpx.Client) -> None:
    client_id = sim.rows[0]["client_id"]

    response = _get(sim, http, _token(sim, http), sim.listing_url(client_id))

    assert response.status_code == 200
    assert response.json() == [r for r in sim.rows if r["client_id"] == client_id]


def test_scripted_failures_delays_and_raw_bodies(sim: FlinksSimulator, http: httpx.Client) -> None:
    token = _token(sim, http)
    sim.fail_next(1, 503, body=b"busy", headers={"Retry-After": "3"})
    sim.fail_next(1, 0)  # drop the connection
    sim.set_raw_body(b"not json")

    first = _get(sim, http, token)
    assert (first.status_code, first.text, first.headers["retry-after"]) == (503, "busy", "3")
    with pytest.raises(httpx.RemoteProtocolError):
        _get(sim, http, token)
    assert _get(sim, http, token).content == b"not json"
    sim.set_raw_body(None)
    assert _get(sim, http, token).json() == sim.rows


def test_a_delay_can_outlast_the_client_timeout(sim: FlinksSimulator) -> None:
    with httpx.Client(timeout=0.1) as http:
        token = _token(sim, http)
        sim.delay_next(5.0)
        with pytest.raises(httpx.ReadTimeout):
            _get(sim, http, token)


def test_unknown_paths_and_methods(sim: FlinksSimulator, http: httpx.Client) -> None:
    assert http.get(sim.base_url + "/api/v2/providers").status_code == 404
    assert http.get(sim.token_url).status_code == 405
    assert http.post(sim.listing_url()).status_code == 405


def test_new_rows_are_served_after_set_rows(sim: FlinksSimulator, http: httpx.Client) -> None:
    token = _token(sim, http)
    before = _get(sim, http, token).json()
    rows = sim.rows
    rows[0]["registration_status"] = "SUSPENDED"  # a copy: the simulator is unchanged

    assert _get(sim, http, token).json() == before
    sim.set_rows(rows)
    assert _get(sim, http, token).json()[0]["registration_status"] == "SUSPENDED"


def test_stop_refuses_further_connections_and_is_idempotent(http: httpx.Client) -> None:
    sim = FlinksSimulator().start()
    url = sim.listing_url()
    sim.stop()
    sim.stop()

    with pytest.raises(httpx.ConnectError):
        http.get(url)
    with pytest.raises(RuntimeError, match="not started"):
        _ = sim.base_url


def test_demo_rows_look_like_the_upstream_sample() -> None:
    rows = demo_rows(8, random.Random(3), now=NOW)

    assert len(rows) == 8
    assert len({(r["client_id"], r["provider_id"]) for r in rows}) == 8
    assert {r["registration_status"] for r in rows} == {"PENDING_APPROVAL"}
    assert all(re.fullmatch(r"dc-[a-z0-9]{25}", r["client_id"]) for r in rows)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", r["requested_on"])
               for r in rows)  # fmt: skip
    answer = parse_answer(json.dumps(rows).encode())
    assert answer.complete
    assert all(r.requested_on < NOW for r in answer.rows)
    assert demo_rows(8, random.Random(3), now=NOW) == rows


def test_format_timestamp_writes_seven_fractional_digits() -> None:
    when = datetime(2024, 2, 29, 14, 24, 42, 605568, tzinfo=UTC)

    assert format_timestamp(when) == "2024-02-29T14:24:42.6055680Z"


def test_advance_only_moves_registrations_forward_until_all_are_active() -> None:
    rng = random.Random(7)
    sim = FlinksSimulator(rows=demo_rows(6, rng, now=NOW))
    previous = {(r["client_id"], r["provider_id"]): r["registration_status"] for r in sim.rows}

    for _ in range(100):
        sim.advance(rng)
        current = {(r["client_id"], r["provider_id"]): r["registration_status"] for r in sim.rows}
        moved = [k for k in previous if current[k] != previous[k]]
        assert 1 <= len(moved) + (len(current) - len(previous)) <= 3
        assert all(STEP[current[k]] == STEP[previous[k]] + 1 for k in moved)
        previous = current

    assert len(previous) > 3 * 8  # every pair got listed, then new recipients came
    assert parse_answer(json.dumps(sim.rows).encode()).complete
    assert Counter(previous.values())["ACTIVE"] >= 6


def test_the_demo_simulator_advances_with_its_own_seeded_rng() -> None:
    first, second = FlinksSimulator.demo(seed=5), FlinksSimulator.demo(seed=5)
    first.advance()
    second.advance()

    def without_time(rows: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{k: v for k, v in r.items() if k != "requested_on"} for r in rows]

    assert without_time(first.rows) == without_time(second.rows)
    assert any(r["registration_status"] == "PENDING_ACTIVATION" for r in first.rows)


def test_bulk_rows_are_unique_deterministic_and_valid() -> None:
    rows = bulk_rows(25_001, seed=11)

    assert len(rows) == 25_001
    assert len({(r["client_id"], r["provider_id"]) for r in rows}) == 25_001
    assert bulk_rows(25_001, seed=11) == rows
    assert bulk_rows(100, seed=12) != rows[:100]
    assert set(Counter(r["registration_status"] for r in rows)) == set(STEP)
    answer = parse_answer(json.dumps(rows[:2000]).encode())
    assert (len(answer.rows), answer.skipped) == (2000, 0)


def test_mutate_status_moves_the_requested_fraction_one_step() -> None:
    rows = bulk_rows(1000, seed=2)
    original = [dict(r) for r in rows]

    mutated = mutate_status(rows, 0.1, random.Random(3))

    assert rows == original  # the input is left alone
    changed = [(a, b) for a, b in zip(rows, mutated, strict=True) if a != b]
    assert len(changed) == 100
    for before, after in changed:
        assert after["registration_status"] == NEXT_STATUS[before["registration_status"]]
        assert {k: v for k, v in after.items() if k != "registration_status"} == {
            k: v for k, v in before.items() if k != "registration_status"
        }


def test_mutate_status_cannot_move_active_rows() -> None:
    rows = [dict(r, registration_status="ACTIVE") for r in bulk_rows(10, seed=1)]

    assert mutate_status(rows, 0.5, random.Random(1)) == rows


def test_listing_path_constant_matches_the_documented_endpoint() -> None:
    assert LISTING_PATH == "/api/v1/recipients/providers/requests"
