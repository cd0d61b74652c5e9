"""An Apprise endpoint and the signed webhook down for many cycles (500, 429, no answer at all):
the polls stay fine, nothing gets through, nothing is lost; once they are back every alert
arrives, each exactly once, and the webhook's messages all verify."""

from __future__ import annotations

import base64
import json
from collections import Counter

import sqlalchemy as sa
from standardwebhooks import Webhook

from app.db import engine as db
from app.db.tables import deliveries
from app.demo.simulator import FlinksSimulator
from app.domain import Outcome
from tests.fakes.receiver import Answer, Receiver, Request
from tests.faults.harness import Alert, alerts_in
from tests.faults.test_outages import in_process, move, sim  # noqa: F401 - the fixture

DOWN_CYCLES = 6
SECRET = "whsec_" + base64.b64encode(b"outage-webhook-key-of-32-bytes!!").decode()
OUTAGE = (Answer(500), Answer(429), Answer(hang=True))


def _apprise_alerts(requests: list[Request]) -> Counter[Alert]:
    text = "\n".join(r.json()["message"].replace("\\", "").replace("**", "") for r in requests)
    return alerts_in(text)


def _hook_alerts(requests: list[Request]) -> Counter[Alert]:
    found: Counter[Alert] = Counter()
    for request in requests:
        body = json.loads(request.body)
        if body["type"] == "registration.status_changed":
            d = body["data"]
            found[
                "status_changed", d["client_id"], d["provider_id"], d["from_status"], d["to_status"]
            ] += 1
    return found


def test_apprise_and_webhook_down_for_many_cycles_then_every_alert_arrives_once(
    db_url: str,
    sim: FlinksSimulator,  # noqa: F811 - the fixture
) -> None:
    with Receiver() as apprise_in, Receiver(verify=Webhook(SECRET).verify) as hook_in:
        app = in_process(
            db_url,
            sim,
            apprise_urls=f"json://{apprise_in.host}/apprise",
            apprise_timeout_seconds=1,
            webhook_url=hook_in.url("/hook"),
            webhook_secret=SECRET,
            webhook_timeout_seconds=1,
        )
        try:
            assert app.poller.poll_once().outcome is Outcome.OK  # the baseline, delivered
            apprise_in.wait_for(1)
            hook_in.wait_for(1)
            apprise_in.then(*(OUTAGE[i % 3] for i in range(DOWN_CYCLES)))
            hook_in.then(*(OUTAGE[i % 3] for i in range(DOWN_CYCLES)))
            expected: Counter[Alert] = Counter()
            for cycle in range(DOWN_CYCLES):
                expected.update([move(sim, cycle % 8)])
                result = app.poller.poll_once()
                assert result.outcome is Outcome.OK  # the poll itself is fine
                assert result.delivered == 0
                assert result.delivery_failures == 2  # one message tried per channel
            assert len(apprise_in.accepted) == 1, "nothing got through while Apprise was down"
            assert len(hook_in.accepted) == 1, "nothing got through while the webhook was down"

            app.poller.poll_once()  # back: the backlog goes out
            assert _apprise_alerts(apprise_in.accepted) == expected
            assert _hook_alerts(hook_in.accepted) == expected
            assert hook_in.verify_errors == []
            with db.reading(app.engine) as conn:
                states = Counter(conn.execute(sa.select(deliveries.c.status)).scalars())
            assert set(states) == {"sent"}
        finally:
            app.close()
