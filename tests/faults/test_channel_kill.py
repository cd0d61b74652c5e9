"""A SIGKILL of `flinkswatch run` between a send and its bookkeeping, on the Apprise and signed
webhook channels: the receiver got the message, the process died before marking it sent. The
next run sends it once more, and only once: exactly one duplicate, which for the webhook carries
the same webhook-id (verified by the standardwebhooks package) so a receiver can drop it."""

from __future__ import annotations

import base64
import random

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from app.db import engine as db
from app.db.tables import deliveries
from app.demo.simulator import FlinksSimulator
from tests.fakes.receiver import Answer, Receiver
from tests.faults.harness import Launcher, service_env, wait_until
from tests.faults.upstream import seed_rows

pytestmark = pytest.mark.faults

SECRET = "whsec_" + base64.b64encode(b"channel-kill-webhook-key-32bytes").decode()


def _settled(engine: sa.Engine) -> bool:
    d = deliveries.c
    with db.reading(engine) as conn:
        statuses = [row[0] for row in conn.execute(sa.select(d.status))]
    return bool(statuses) and all(status == "sent" for status in statuses)


@pytest.mark.parametrize("kind", ["apprise", "webhook"])
def test_a_kill_after_the_send_repeats_it_exactly_once(
    db_url: str, launcher: Launcher, kind: str
) -> None:
    verify = Webhook(SECRET).verify if kind == "webhook" else None
    with (
        FlinksSimulator(
            "fault-client", "fault-secret-value", rows=seed_rows(5, random.Random(7))
        ) as sim,
        Receiver(verify=verify) as receiver,
    ):
        extra = (
            {"WEBHOOK_URL": receiver.url("/hook"), "WEBHOOK_SECRET": SECRET}
            if kind == "webhook"
            else {"APPRISE_URLS": f"json://{receiver.host}/apprise"}
        )
        env = service_env(db_url, sim.base_url, extra)
        engine = db.make_engine(db_url)
        try:
            receiver.then(Answer(hang=True))  # received, never answered: the send is "done"
            first = launcher.start(env)
            receiver.wait_for(1, timeout=30)
            first.kill()  # before the outbox could mark it sent
            second = launcher.start(env)
            wait_until(lambda: _settled(engine), 30, "the second run to deliver it again")
            assert second.terminate() == 0, second.text()[-2000:]
        finally:
            engine.dispose()
        requests = list(receiver.requests)
    assert len(requests) == 2, [r.body[:80] for r in requests]
    held, resent = requests
    assert resent.accepted
    assert held.body == resent.body
    if kind == "webhook":
        assert held.headers["webhook-id"] == resent.headers["webhook-id"]
        assert resent.json()["type"] == "watcher.baseline"
        assert receiver.verify_errors == []
