"""Texts and e-mail through the one outbox: a real local HTTP gateway standing in for the SMS gateway (refuses,
times out, then accepts; the same delivery id each time; delivered once), a real local SMTP server (aiosmtpd)
receiving a Chinese-subject e-mail with plain and HTML parts, and each person's preferences and quiet hours
deciding the channel and the time (fixed clocks, no sleeps)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from activities.channels.email import SmtpEmail
from activities.channels.sms import SmsGateway
from activities.delivery import Relay
from activities.notifications import Notifier
from domain.models import Audience, NotificationRequest
from domain.taxonomy import get_taxonomy
from domain.times import CHINA
from store.db import session
from store.outbox import queue_email
from store.seed import demo_email, demo_phone
from store.tables import Notification, NotificationDelivery, Staff
from testkit.gateway import Stall
from testkit.smtp import Mailbox
from testkit.waiting import poll

S = timedelta(seconds=1)
SENDER = "五环智控 <noreply@xianju.example>"


@pytest.fixture
def mailbox():
    box = Mailbox()
    yield box
    box.close()


def notify(engine, kind="assigned", key="case1:7", user="renshe.mediator", now=None, channels=("sms", "email")):
    req = NotificationRequest(
        key=key,
        case_id=key.split(":")[0],
        case_no="MT20261120-0001",
        kind=kind,
        params={"category": "labor", "filename": "欠条.jpg"},
        audience=Audience(usernames=[user]),
    )
    with session(engine) as db:
        fresh = Notifier(engine, get_taxonomy(), channels).queue(db, req, now=now)
        db.commit()
    return fresh


def rows(engine, key=None) -> list[NotificationDelivery]:
    with session(engine) as db:
        q = select(NotificationDelivery).order_by(NotificationDelivery.id)
        if key is not None:
            q = q.where(NotificationDelivery.key == key)
        return list(db.exec(q))


def prefer(engine, user="renshe.mediator", **values) -> None:
    with session(engine) as db:
        person = db.get(Staff, user)
        for k, v in values.items():
            setattr(person, k, v)
        db.add(person)
        db.commit()


def relay(engine, sms_url=None, smtp_port=None, timeout=0.5) -> Relay:
    channels = {}
    if sms_url:
        channels["sms"] = SmsGateway(sms_url, timeout=timeout)
    if smtp_port:
        channels["email"] = SmtpEmail("127.0.0.1", smtp_port, SENDER, starttls=False, timeout=5)
    return Relay(engine, channels, retry_initial=2 * S, retry_max=timedelta(minutes=10), jitter=0.0)


def utc(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


async def test_a_text_refused_then_timed_out_then_accepted_is_delivered_once_with_one_id(engine, gateway, caplog):
    caplog.set_level(logging.DEBUG)
    assert notify(engine) == ["renshe.mediator"]
    [row] = rows(engine)
    assert (row.channel, row.status, row.kind) == ("sms", "pending", "assigned")
    with session(engine) as db:  # the inbox has it too: always
        assert db.exec(select(Notification.kind).where(Notification.recipient == "renshe.mediator")).all()

    gateway.script = [503, Stall(2.0)]
    r = relay(engine, sms_url=gateway.url, timeout=0.5)
    t0 = datetime.now(UTC)
    assert await r.deliver_due(t0) == {"failed": 1}
    [row] = rows(engine)
    assert (row.attempts, row.last_error, utc(row.next_attempt_at)) == (1, "HTTP 503", t0 + 2 * S)
    assert await r.deliver_due(t0 + 1 * S) == {}  # not due: nothing sent
    assert await r.deliver_due(t0 + 2 * S) == {"failed": 1}
    [row] = rows(engine)
    assert (row.attempts, row.last_error, utc(row.next_attempt_at)) == (2, "timeout", t0 + 6 * S)
    assert await r.deliver_due(t0 + 6 * S) == {"delivered": 1}
    assert await r.deliver_due(t0 + timedelta(days=1)) == {}  # delivered is never sent again
    await r.aclose()
    [row] = rows(engine)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 3, None)

    await poll(lambda: len(gateway.posts()) == 3, "the stalled request to end")
    posts = gateway.posts()
    assert sorted(map(str, (p.answered for p in posts))) == ["200", "503", "stalled"]
    ids = {p.delivery for p in posts}
    assert ids == {"case1:7:renshe.mediator:sms"} and gateway.accepted() == ["case1:7:renshe.mediator:sms"]
    body = posts[-1].body
    phone = demo_phone("renshe.mediator")
    assert body["id"] == "case1:7:renshe.mediator:sms" and body["phone"] == phone
    assert body["text"].startswith("【仙居矛调】【交办】案件 MT20261120-0001（劳资纠纷）已交由您承办")
    # The phone number is in the gateway's request body only: never in a log line.
    assert caplog.records and phone not in caplog.text and phone[-4:] not in caplog.text


async def test_an_email_with_a_chinese_subject_in_plain_text_and_html(engine, mailbox):
    notify(engine, kind="material_added")  # not urgent: e-mail
    [row] = rows(engine)
    assert (row.channel, row.subject) == ("email", "【五环智控】补充材料：MT20261120-0001")
    mailbox.refuse = ["451 4.3.0 try again later"]
    r = relay(engine, smtp_port=mailbox.port)
    t0 = datetime.now(UTC)
    assert await r.deliver_due(t0) == {"failed": 1}
    assert rows(engine)[0].last_error == "SMTP 451"
    assert await r.deliver_due(t0 + 2 * S) == {"delivered": 1}
    [msg] = mailbox.received()
    assert msg["Subject"] == "【五环智控】补充材料：MT20261120-0001"
    assert msg["To"] == demo_email("renshe.mediator") and msg["From"].addresses[0].display_name == "五环智控"
    assert msg["X-Wuhuan-Delivery"] == "case1:7:renshe.mediator:email"
    plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert "当事人补充了材料“欠条.jpg”" in plain.get_content()
    assert "当事人补充了材料“欠条.jpg”" in html.get_content() and "<p>" in html.get_content()
    raw = msg.as_bytes()
    assert b"=?utf-8?" in raw.lower() and "补充材料".encode() not in raw.split(b"\n\n", 1)[0]  # RFC 2047 header


async def test_quiet_hours_hold_what_is_not_urgent_until_they_end_and_let_urgent_through(engine, gateway, mailbox):
    prefer(engine, quiet_hours="22:00-07:30")
    night = datetime(2026, 11, 20, 23, 10, tzinfo=CHINA).astimezone(UTC)
    notify(engine, kind="assigned", key="case1:7", now=night)
    notify(engine, kind="material_added", key="case1:8", now=night)
    [text], [mail] = rows(engine, "case1:7"), rows(engine, "case1:8")
    morning = datetime(2026, 11, 21, 7, 30, tzinfo=CHINA).astimezone(UTC)
    assert (text.channel, utc(text.next_attempt_at)) == ("sms", night)  # urgent: through the quiet hours
    assert (mail.channel, utc(mail.next_attempt_at)) == ("email", morning)  # held until they end
    r = relay(engine, sms_url=gateway.url, smtp_port=mailbox.port)
    assert await r.deliver_due(night) == {"delivered": 1}
    assert await r.deliver_due(morning - S) == {} and mailbox.received() == []
    assert await r.deliver_due(morning) == {"delivered": 1}
    assert len(mailbox.received()) == 1
    # Outside quiet hours nothing waits.
    noon = datetime(2026, 11, 21, 12, 0, tzinfo=CHINA).astimezone(UTC)
    notify(engine, kind="material_added", key="case1:9", now=noon)
    assert utc(rows(engine, "case1:9")[0].next_attempt_at) == noon
    await r.aclose()


def test_texts_off_moves_texts_to_email_and_both_off_leaves_the_inbox(engine):
    prefer(engine, sms_enabled=False)
    notify(engine, kind="assigned", key="case1:1")
    assert [(r.channel, r.subject) for r in rows(engine, "case1:1")] == [("email", "【五环智控】交办：MT20261120-0001")]
    prefer(engine, email_enabled=False)
    assert notify(engine, kind="assigned", key="case1:2") == ["renshe.mediator"]  # the inbox still has it
    assert rows(engine, "case1:2") == []
    # Texts on but no mobile number (a landline): the text goes by e-mail.
    prefer(engine, sms_enabled=True, email_enabled=True, phone="0576-87654321")
    notify(engine, kind="urged", key="case1:3")
    assert [r.channel for r in rows(engine, "case1:3")] == ["email"]
    # Without an SMS gateway configured, urgent messages go by e-mail too; with neither, inbox only.
    prefer(engine, phone="13912345678")
    notify(engine, kind="turned_red", key="case1:4", channels=("email",))
    notify(engine, kind="turned_red", key="case1:5", channels=())
    assert [r.channel for r in rows(engine, "case1:4")] == ["email"] and rows(engine, "case1:5") == []


async def test_one_channel_down_holds_up_no_other(engine, gateway, mailbox):
    notify(engine, kind="assigned", key="case1:1")
    notify(engine, kind="material_added", key="case1:2")
    gateway.then = Stall(1.0)  # the SMS gateway hangs past the timeout, every time
    r = relay(engine, sms_url=gateway.url, smtp_port=mailbox.port, timeout=0.3)
    assert await r.deliver_due(channel="email") == {"delivered": 1}  # each channel has its own loop
    out = await r.deliver_due(datetime.now(UTC) + timedelta(minutes=1))
    assert out == {"failed": 1} and rows(engine, "case1:1")[0].last_error == "timeout"
    await r.aclose()


async def test_queue_email_for_other_features_goes_through_the_same_outbox(engine, mailbox):
    assert queue_email(
        engine, "county_leader", "【五环智控】每日督办摘要", "今日黄码2件，红码1件。", key="digest:2026-11-20"
    )
    assert not queue_email(engine, "county_leader", "x", "y", key="digest:2026-11-20")  # idempotent
    r = relay(engine, smtp_port=mailbox.port)
    assert await r.deliver_due() == {"delivered": 1}
    await r.aclose()
    [msg] = mailbox.received()
    assert msg["Subject"] == "【五环智控】每日督办摘要" and msg["To"] == demo_email("county_leader")
    assert "今日黄码2件" in msg.get_body(("plain",)).get_content()
    [row] = rows(engine, "digest:2026-11-20")
    assert (row.status, row.text, row.html) == ("delivered", None, None)  # the content is not kept


async def test_a_person_without_an_address_is_marked_undeliverable_not_retried(engine, gateway):
    notify(engine, kind="assigned", key="case1:1")
    prefer(engine, phone=None)
    r = relay(engine, sms_url=gateway.url)
    assert await r.deliver_due() == {"undeliverable": 1}
    [row] = rows(engine, "case1:1")
    assert (row.status, row.last_error) == ("failed", "no mobile number") and gateway.posts() == []
    await r.aclose()
