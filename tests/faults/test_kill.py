"""SIGKILL of `flinkswatch run` at random moments while registrations move: afterwards every
transition is in the history exactly once and reached Slack, email, an Apprise json:// endpoint
and the signed webhook at least once; the duplicates (a crash between a send and its
bookkeeping) are counted and written to build/fault-report.json. A webhook duplicate carries
the webhook-id of the first send, so a receiver dropping repeated ids sees each alert once.
FLINKSWATCH_FAULT_SEED replays a run; FLINKSWATCH_FAULT_KILLS sets the kills per backend (25)."""

from __future__ import annotations

import base64
import json
import os
import random
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from standardwebhooks import Webhook

from app.db import engine as db
from app.db.store import Store
from app.db.tables import deliveries, registration_events
from app.demo.simulator import FlinksSimulator
from app.domain import EventKind
from tests.fakes.receiver import Receiver, Request
from tests.fakes.slack_server import FakeSlack
from tests.fakes.smtp_server import FakeSMTP
from tests.faults.harness import (
    Alert,
    Launcher,
    alerts_in,
    record_figures,
    section_alerts,
    service_env,
    wait_until,
)
from tests.faults.upstream import MovingUpstream, seed_rows

pytestmark = pytest.mark.faults

KILLS = int(os.environ.get("FLINKSWATCH_FAULT_KILLS", "25"))
INTERVAL = 1.0
HOOK_SECRET = "whsec_" + base64.b64encode(b"fault-suite-webhook-key-32-bytes").decode()


@pytest.fixture
def seed() -> int:
    given = os.environ.get("FLINKSWATCH_FAULT_SEED")
    return int(given) if given else random.SystemRandom().randrange(1_000_000)


def kill_delay(rng: random.Random) -> float:
    """Half of the kills land right after a fetch (inside record and deliver), the rest
    anywhere in two intervals."""
    if rng.random() < 0.5:
        return rng.uniform(0.0, 0.3)
    return rng.uniform(0.0, 2 * INTERVAL)


def recorded(engine: Engine) -> Counter[Alert]:
    e = registration_events.c
    stmt = sa.select(e.event, e.client_id, e.provider_id, e.from_status, e.to_status).where(
        e.event != EventKind.BASELINE.value
    )
    with db.reading(engine) as conn:
        return Counter((r[0], r[1], int(r[2]), r[3], r[4]) for r in conn.execute(stmt))


def unsettled_deliveries(engine: Engine) -> int:
    stmt = sa.select(sa.func.count()).where(deliveries.c.status != "sent")
    with db.reading(engine) as conn:
        return int(conn.execute(stmt).scalar_one())


def test_sigkill_at_random_moments_loses_nothing_and_records_nothing_twice(
    db_url: str, launcher: Launcher, seed: int
) -> None:
    backend = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    print(f"\nfaults: backend={backend} seed={seed} kills={KILLS}")
    rng = random.Random(seed)
    started = time.monotonic()
    with (
        FlinksSimulator("fault-client", "fault-secret-value", rows=seed_rows(20, rng)) as sim,
        FakeSlack(token="xoxb-fault-token") as slack,
        FakeSMTP() as smtp,
        Receiver() as apprise_in,
        Receiver(verify=Webhook(HOOK_SECRET).verify) as hook_in,
    ):
        env = service_env(
            db_url,
            sim.base_url,
            {
                "SLACK_BOT_TOKEN": slack.token,
                "SLACK_CHANNEL": "C0FAULTS",
                "SLACK_API_URL": slack.api_url,
                "SMTP_HOST": smtp.host,
                "SMTP_PORT": str(smtp.port),
                "SMTP_SECURITY": "none",
                "EMAIL_FROM": "flinkswatch@example.com",
                "EMAIL_TO": "ops@example.com",
                "APPRISE_URLS": f"json://{apprise_in.host}/apprise",
                "WEBHOOK_URL": hook_in.url("/hook"),
                "WEBHOOK_SECRET": HOOK_SECRET,
            },
        )
        engine = db.make_engine(db_url)
        upstream = MovingUpstream(sim, engine, random.Random(seed + 1))
        delays = []
        try:
            for number in range(KILLS):
                before = sim.listing_requests
                proc = launcher.start(env)
                wait_until(lambda b=before: sim.listing_requests > b, 30, "the service to poll")
                if number == 0:  # the baseline first: the upstream reads the migrated schema
                    wait_until(
                        lambda: Store(engine).last_success_id() is not None, 30, "the baseline"
                    )
                    upstream.start()
                delay = kill_delay(rng)
                time.sleep(delay)  # the fault schedule itself, not a synchronisation
                proc.kill()
                delays.append(delay)
            upstream.stop()

            final = launcher.start(env)
            wait_until(
                lambda: upstream.in_sync() and unsettled_deliveries(engine) == 0,
                90,
                "the final run to catch up and drain the outbox",
            )
            assert final.terminate() == 0, final.text()[-2000:]
            got = recorded(engine)
        finally:
            upstream.stop()
            engine.dispose()

        expected = upstream.expected()
        lost, doubled = expected - got, got - expected
        slack_got = sum((section_alerts(m.blocks) for m in slack.received), Counter[Alert]())
        mail_got = sum((alerts_in(_plain_text(m)) for m in smtp.messages), Counter[Alert]())
        apprise_got = sum((alerts_in(_markdown(r)) for r in apprise_in.accepted), Counter[Alert]())
        hooks = [r for r in hook_in.accepted if r.json()["type"].startswith("registration.")]
        hook_got, hook_unique = _hook_alerts(hooks), _hook_alerts(_unique(hooks))
        assert hook_in.verify_errors == [], hook_in.verify_errors[:3]
    figures = {
        "runs": KILLS + 1,
        "kills": KILLS,
        "seed": seed,
        "kill_delay_seconds": {"min": min(delays), "max": max(delays), "interval": INTERVAL},
        "transitions": sum(expected.values()),
        "by_kind": dict(Counter(kind for kind, *_ in upstream.log)),
        "recorded": sum(got.values()),
        "lost": sum(lost.values()),
        "double_recorded": sum(doubled.values()),
        "slack_undelivered": sum((expected - slack_got).values()),
        "slack_duplicates": sum((slack_got - expected).values()),
        "email_undelivered": sum((expected - mail_got).values()),
        "email_duplicates": sum((mail_got - expected).values()),
        "apprise_undelivered": sum((expected - apprise_got).values()),
        "apprise_duplicates": sum((apprise_got - expected).values()),
        "webhook_undelivered": sum((expected - hook_got).values()),
        "webhook_duplicates": sum((hook_got - expected).values()),
        "webhook_after_dropping_repeated_ids": sum(hook_unique.values()),
        "seconds": round(time.monotonic() - started, 1),
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d"),
    }
    print(f"faults: {backend} {figures}")
    record_figures(backend, figures)
    assert figures["transitions"] >= KILLS, "the upstream hardly moved: the test proves little"
    assert not lost, f"transitions never recorded: {sorted(lost)[:5]}"
    assert not doubled, f"transitions recorded twice: {sorted(doubled)[:5]}"
    assert not expected - slack_got, f"never reached Slack: {sorted(expected - slack_got)[:5]}"
    assert not expected - mail_got, f"never emailed: {sorted(expected - mail_got)[:5]}"
    assert not expected - apprise_got, (
        f"never through Apprise: {sorted(expected - apprise_got)[:5]}"
    )
    assert hook_unique == expected, "the webhook's distinct ids are not one per transition"
    assert figures["webhook_duplicates"] <= KILLS, "more than one duplicate send per kill"


def _markdown(request: Request) -> str:
    """The Markdown body with its escapes and emphasis removed, for alerts_in."""
    return str(request.json()["message"]).replace("\\", "").replace("**", "")


def _unique(hooks: list[Request]) -> list[Request]:
    """What a receiver keeps when it drops a webhook-id it has seen."""
    return list({r.headers["webhook-id"]: r for r in hooks}.values())


def _hook_alerts(hooks: list[Request]) -> Counter[Alert]:
    found: Counter[Alert] = Counter()
    for request in hooks:
        data = json.loads(request.body)["data"]
        kind, cid, pid = data["event"], data["client_id"], int(data["provider_id"])
        found[kind, cid, pid, data["from_status"], data["to_status"]] += 1
    return found


def _plain_text(mail: object) -> str:
    message = mail.message  # type: ignore[attr-defined]
    body = message.get_body(preferencelist=("plain",))
    return str(body.get_content()) if body is not None else ""
