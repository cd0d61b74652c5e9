"""The email channel against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import pytest
from fakes.smtp_server import FakeSMTP, free_port
from fakes.tls import ThrowawayPKI, make_pki

from app.config.settings import ConfigError, load_settings
from app.delivery import DeliveryFailure, PendingDelivery
from app.domain import BaselineSummary, Event
from app.notify.deliver import deliver_pending
from app.notify.email import EmailChannel, Security
from tests.builders import NOW, event

PASSWORD = "correct-horse-battery-staple"


def channel(
    smtp: FakeSMTP | None = None,
    port: int | None = None,
    username: str | None = None,
    password: str | None = None,
    recipients: tuple[str, ...] = ("ops@example.com",),
) -> EmailChannel:
    return EmailChannel(
        host="127.0.0.1",
        port=port or (smtp.port if smtp else free_port()),
        security="none",
        username=username,
        password=password,
        sender="flinkswatch@example.com",
        recipients=list(recipients),
        timeout=5,
    )


def send(
    target: EmailChannel, events: list[Event], summary: BaselineSummary | None = None
) -> str | None:
    (message,) = target.render(events, summary)
    return message.send()


@pytest.fixture
def smtp() -> Iterator[FakeSMTP]:
    with FakeSMTP() as server:
        yield server


def test_one_poll_is_one_message_with_text_and_html_to_every_recipient(smtp: FakeSMTP) -> None:
    events = [
        event(),
        event(provider_name="RBC"),
        event(provider_name="TD", client_name="<b>Beta</b> & Co"),
    ]
    ref = send(channel(smtp, recipients=("a@example.com", "b@example.com")), events)
    (mail,) = smtp.wait_for(1)
    assert sorted(mail.rcpt_tos) == ["a@example.com", "b@example.com"]
    message = mail.message
    assert message["Subject"] == (
        "flinkswatch: 3 registration changes — NBC for Alpha Lending "
        "PENDING_APPROVAL -> PENDING_ACTIVATION and 2 more"
    )
    assert message["Message-ID"] == ref
    assert message["Date"]
    assert message["From"] == "flinkswatch@example.com"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "RBC" in text.get_content()
    assert "<b>Beta</b> & Co" in text.get_content()
    assert "&lt;b&gt;Beta&lt;/b&gt; &amp; Co" in html.get_content()


def test_baseline_summary_mail(smtp: FakeSMTP) -> None:
    summary = BaselineSummary(poll_id=1, observed_at=NOW, total=2, by_status=(("ACTIVE", 2),))
    send(channel(smtp), [], summary)
    (mail,) = smtp.wait_for(1)
    assert mail.message["Subject"] == "flinkswatch: now watching 2 registrations"


def test_login_with_username_and_password() -> None:
    with FakeSMTP(auth=("alerts", PASSWORD)) as server:
        send(channel(server, username="alerts", password=PASSWORD), [event()])
        assert len(server.wait_for(1)) == 1
        assert server.logins == ["alerts"]
        assert "no login" not in channel(server, username="alerts", password=PASSWORD).check()


def test_wrong_password_is_permanent_and_not_echoed() -> None:
    with FakeSMTP(auth=("alerts", "other")) as server:
        with pytest.raises(DeliveryFailure) as caught:
            send(channel(server, username="alerts", password=PASSWORD), [event()])
        assert caught.value.permanent is True
        assert "535" in str(caught.value)
        assert PASSWORD not in str(caught.value)
        assert server.messages == []


def test_rejected_data_550_is_permanent(smtp: FakeSMTP) -> None:
    smtp.reply_to_next_data("550 5.7.1 message refused")
    with pytest.raises(DeliveryFailure) as caught:
        send(channel(smtp), [event()])
    assert caught.value.permanent is True
    assert "550" in str(caught.value)


def test_deferred_data_451_is_transient(smtp: FakeSMTP) -> None:
    smtp.reply_to_next_data("451 4.3.0 try again later")
    with pytest.raises(DeliveryFailure) as caught:
        send(channel(smtp), [event()])
    assert caught.value.permanent is False
    assert "451" in str(caught.value)


def test_every_recipient_refused_is_permanent() -> None:
    with FakeSMTP(refuse={"gone@example.com"}) as server:
        with pytest.raises(DeliveryFailure) as caught:
            send(channel(server, recipients=("gone@example.com",)), [event()])
        assert caught.value.permanent is True
        assert "every recipient" in str(caught.value)


def test_some_recipients_refused_still_counts_as_sent(caplog: pytest.LogCaptureFixture) -> None:
    with FakeSMTP(refuse={"gone@example.com"}) as server:
        ref = send(channel(server, recipients=("gone@example.com", "ok@example.com")), [event()])
        (mail,) = server.wait_for(1)
    assert ref is not None
    assert mail.rcpt_tos == ["ok@example.com"]
    assert "email.recipients_refused refused=1 of=2" in caplog.text


def test_server_down_is_transient_and_hides_the_password() -> None:
    with pytest.raises(DeliveryFailure) as caught:
        send(channel(port=free_port(), username="alerts", password=PASSWORD), [event()])
    assert caught.value.permanent is False
    assert "unreachable" in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_check_without_login(smtp: FakeSMTP) -> None:
    assert channel(smtp).check() == f"SMTP ok (127.0.0.1:{smtp.port}, none, no login)"
    with pytest.raises(DeliveryFailure) as caught:
        channel(port=free_port()).check()
    assert caught.value.permanent is False


def test_starttls_against_a_server_without_it_is_permanent(smtp: FakeSMTP) -> None:
    target = EmailChannel(
        host="127.0.0.1",
        port=smtp.port,
        security="starttls",
        username=None,
        password=None,
        sender="flinkswatch@example.com",
        recipients=["ops@example.com"],
        timeout=5,
    )
    with pytest.raises(DeliveryFailure) as caught:
        send(target, [event()])
    assert caught.value.permanent is True
    assert smtp.messages == []


# ---- TLS that verifies, and one connection per delivery run ---------------------------------
@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> ThrowawayPKI:
    return make_pki(tmp_path_factory.mktemp("pki"))


def tls_channel(server: FakeSMTP, security: Security, ca_bundle: str, **kw: Any) -> EmailChannel:
    return EmailChannel(
        host="127.0.0.1",
        port=server.port,
        security=security,
        username=kw.get("username"),
        password=kw.get("password"),
        sender="flinkswatch@example.com",
        recipients=["ops@example.com", "oncall@example.com"],
        timeout=5,
        ca_bundle=ca_bundle,
    )


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_a_trusted_ca_logs_in_and_sends_to_every_recipient(
    pki: ThrowawayPKI, security: Security
) -> None:
    implicit = security == "ssl"
    with FakeSMTP(
        auth=("alerts", PASSWORD), tls=pki.server_context(), implicit_tls=implicit
    ) as server:
        target = tls_channel(
            server, security, str(pki.ca_file), username="alerts", password=PASSWORD
        )
        assert security in target.check()
        send(target, [event()])
        (mail,) = server.wait_for(1)
    assert mail.rcpt_tos == ["ops@example.com", "oncall@example.com"]
    assert server.logins == ["alerts", "alerts"]  # check(), then the send


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_an_untrusted_certificate_is_refused_permanently(
    pki: ThrowawayPKI, security: Security
) -> None:
    with FakeSMTP(tls=pki.server_context(), implicit_tls=security == "ssl") as server:
        target = tls_channel(server, security, "")  # the system store does not know our CA
        with pytest.raises(DeliveryFailure) as caught:
            send(target, [event()])
        assert server.messages == []
    assert caught.value.permanent is True
    assert "certificate" in str(caught.value)


def test_smtp_ca_bundle_must_exist() -> None:
    with pytest.raises(ConfigError, match="SMTP_CA_BUNDLE: no such file"):
        load_settings(_env_file=None, smtp_ca_bundle="/nonexistent/ca.pem")


def test_one_connection_per_delivery_run(smtp: FakeSMTP) -> None:
    store = FakeOutbox([1, 2, 3])  # three polls owed: three emails, one SMTP session
    report = deliver_pending(store, [channel(smtp)], lambda: NOW, 5, sleep=lambda _: None)
    assert report.sent == 3
    assert len(smtp.wait_for(3)) == 3
    assert len(smtp.sessions) == 1
    send(channel(smtp), [event()])  # outside a run: its own connection, closed after
    assert len(smtp.wait_for(4)) == 4
    assert len(smtp.sessions) == 2


def test_a_transient_failure_ends_the_run_and_drops_the_connection(smtp: FakeSMTP) -> None:
    smtp.reply_to_next_data("451 4.3.0 try later")
    store = FakeOutbox([1, 2])
    report = deliver_pending(store, [channel(smtp)], lambda: NOW, 5, sleep=lambda _: None)
    assert (report.sent, report.pending, report.failed) == (0, 2, 1)  # 1 tried and failed
    assert store.failed == [([1], False), ([2], False)]
    again = deliver_pending(store, [channel(smtp)], lambda: NOW, 5, sleep=lambda _: None)
    assert again.sent == 2


class FakeOutbox:
    """One pending email delivery per poll id; records what deliver_pending marks."""

    def __init__(self, polls: list[int]) -> None:
        self.rows = {
            poll: PendingDelivery(poll, poll, "email", 0, event=event(provider_name=f"Bank {poll}"))
            for poll in polls
        }
        self.failed: list[tuple[list[int], bool]] = []

    def pending_deliveries(
        self, channel: str, now: datetime, limit: int = 1000
    ) -> list[PendingDelivery]:
        return list(self.rows.values())

    def mark_sent(self, ids: Sequence[int], now: datetime, external_ref: str | None = None) -> None:
        for i in ids:
            del self.rows[i]

    def mark_failed(self, ids: Sequence[int], now: datetime, error: str, **kw: Any) -> None:
        self.failed.append((list(ids), kw["permanent"]))
