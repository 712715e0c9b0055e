"""The webhook outbox: send_notifications queues a pending row beside each inbox row (no network), and the
relay sends it to a real local HTTP server, retrying refusals with backoff until it is accepted."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlmodel import select

from activities.delivery import WebhookRelay, backoff, relay_running
from activities.notifications import Notifier
from domain.models import Audience, NotificationRequest
from domain.settings import Settings
from domain.taxonomy import get_taxonomy
from store.db import session
from store.tables import Notification, NotificationDelivery
from testkit.gateway import closed_port_url
from testkit.waiting import poll

S = timedelta(seconds=1)


def notify(
    engine, key="case1:7", kind="assigned", usernames=("renshe.mediator",), channels=("webhook",), params=None
) -> list[str]:
    req = NotificationRequest(
        key=key,
        case_id=key.split(":")[0],
        case_no="WH-20261120-0001",
        kind=kind,
        params=params or {"category": "labor"},
        audience=Audience(usernames=list(usernames)),
    )
    return Notifier(engine, get_taxonomy(), channels=channels).send_notifications(req)


def deliveries(engine, key=None) -> list[NotificationDelivery]:
    with session(engine) as db:
        q = select(NotificationDelivery).order_by(NotificationDelivery.id)
        if key is not None:
            q = q.where(NotificationDelivery.key == key)
        return list(db.exec(q))


def relay(engine, url, **kw) -> WebhookRelay:
    kw.setdefault("jitter", 0.0)
    return WebhookRelay(engine, url, retry_initial=2 * S, retry_max=timedelta(minutes=10), **kw)


def utc(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def test_send_notifications_queues_one_pending_row_per_fresh_recipient_in_its_transaction(engine):
    fresh = notify(engine, usernames=("renshe.mediator", "baita.mediator"))
    assert fresh == ["baita.mediator", "renshe.mediator"]
    rows = deliveries(engine)
    assert [(r.recipient, r.channel, r.status, r.attempts, r.kind) for r in rows] == [
        ("baita.mediator", "webhook", "pending", 0, "assigned"),
        ("renshe.mediator", "webhook", "pending", 0, "assigned"),
    ]
    assert all(r.case_id == "case1" and r.last_error is None and r.next_attempt_at is not None for r in rows)
    # A retried activity writes nothing twice, in the inbox or the outbox.
    assert notify(engine, usernames=("renshe.mediator", "baita.mediator")) == []
    assert len(deliveries(engine)) == 2
    # Without a webhook, only the inbox.
    assert notify(engine, key="case2:3", channels=()) == ["renshe.mediator"]
    assert deliveries(engine, "case2:3") == []
    with session(engine) as db:
        assert len(db.exec(select(Notification)).all()) == 3


def test_the_worker_queues_for_the_webhook_only_when_one_is_configured(engine):
    from worker import activities_for

    def channels(settings: Settings) -> tuple[str, ...]:
        send = next(a for a in activities_for(engine, get_taxonomy(), settings) if a.__name__ == "send_notifications")
        return send.__self__.channels

    assert channels(Settings(notify_webhook_url="https://gw.example/x")) == ("webhook",)
    assert channels(Settings()) == ()


async def test_refused_then_accepted_with_backoff_and_one_accepted_post(engine, gateway):
    notify(engine)
    t0 = datetime.now(UTC)
    # Attempt 1: nothing listens (connection refused).
    assert await relay(engine, closed_port_url()).deliver_due(t0) == {"failed": 1}
    [row] = deliveries(engine)
    assert (row.status, row.attempts) == ("pending", 1) and row.last_error.startswith("ConnectError")
    assert utc(row.next_attempt_at) == t0 + 2 * S and row.lease_until is None

    # The gateway answers 503, then a DingTalk errcode, then accepts.
    gateway.script = [503, ("errcode", 310000)]
    r = relay(engine, gateway.url)
    assert await r.deliver_due(t0 + 1 * S) == {}  # not due yet: nothing sent
    assert gateway.posts() == []
    assert await r.deliver_due(t0 + 2 * S) == {"failed": 1}
    [row] = deliveries(engine)
    assert (row.attempts, row.last_error, utc(row.next_attempt_at)) == (2, "HTTP 503", t0 + 6 * S)
    assert await r.deliver_due(t0 + 6 * S) == {"failed": 1}
    [row] = deliveries(engine)
    assert (row.attempts, row.last_error, utc(row.next_attempt_at)) == (
        3,
        "errcode 310000: sign not match",
        t0 + 14 * S,
    )
    assert await r.deliver_due(t0 + 13 * S) == {}
    assert await r.deliver_due(t0 + 14 * S) == {"delivered": 1}
    [row] = deliveries(engine)
    assert (row.status, row.attempts, row.last_error, utc(row.delivered_at)) == ("delivered", 4, None, t0 + 14 * S)
    assert await r.deliver_due(t0 + timedelta(days=1)) == {}  # delivered rows are never sent again
    await r.aclose()

    posts = gateway.posts()
    assert [p.answered for p in posts] == [503, "errcode 310000", 200]
    assert gateway.accepted() == ["case1:7:renshe.mediator"]
    assert {p.delivery for p in posts} == {"case1:7:renshe.mediator"}
    body = posts[-1].body
    assert body["msgtype"] == "text" and body["at"] == {"atUserIds": ["renshe.mediator"]}
    assert body["text"]["content"].startswith("【交办】案件 WH-20261120-0001")
    assert posts[-1].query == {"access_token": "test-token"}  # no signature without a secret


async def test_signed_when_a_secret_is_set(engine, gateway):
    notify(engine)
    secret = "SEC0123456789abcdef+/="
    r = relay(engine, gateway.url, secret=secret)
    assert await r.deliver_due() == {"delivered": 1}
    await r.aclose()
    [post] = gateway.posts()
    q = post.query
    assert q["access_token"] == "test-token" and set(q) == {"access_token", "timestamp", "sign"}
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{q['timestamp']}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert q["sign"] == expected
    assert abs(int(q["timestamp"]) / 1000 - datetime.now(UTC).timestamp()) < 60


async def test_phone_numbers_in_the_text_are_masked_on_the_external_channel(engine, gateway):
    notify(engine, kind="citizen_updated", params={"text": "我的电话换成13912345678了"})
    r = relay(engine, gateway.url)
    assert await r.deliver_due() == {"delivered": 1}
    await r.aclose()
    content = gateway.posts()[0].body["text"]["content"]
    assert "139****5678" in content and "13912345678" not in content


def test_backoff_doubles_from_initial_and_is_capped():
    delays = [backoff(n, 2 * S, timedelta(minutes=10)).total_seconds() for n in range(1, 13)]
    assert delays == [2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600, 600]
    assert backoff(10_000, 2 * S, timedelta(minutes=10)) == timedelta(minutes=10)


async def test_jitter_only_shortens_the_delay_a_little(engine):
    for i in range(5):
        notify(engine, key=f"c{i}:1")
    t0 = datetime.now(UTC)
    r = relay(engine, closed_port_url(), jitter=0.1)
    assert await r.deliver_due(t0) == {"failed": 5}
    for row in deliveries(engine):
        assert t0 + 1.8 * S <= utc(row.next_attempt_at) <= t0 + 2 * S


async def test_it_never_gives_up(engine):
    notify(engine)
    r = relay(engine, closed_port_url())
    now = datetime.now(UTC)
    for _ in range(15):
        assert await r.deliver_due(now) == {"failed": 1}
        now = utc(deliveries(engine)[0].next_attempt_at)
    [row] = deliveries(engine)
    assert (row.status, row.attempts) == ("pending", 15)
    assert utc(row.next_attempt_at) - utc(row.last_attempt_at) == timedelta(minutes=10)


async def test_two_relays_never_send_one_row_twice_at_once(engine, gateway):
    for i in range(12):
        notify(engine, key=f"c{i}:1", usernames=("renshe.mediator", "baita.mediator"))
    a, b = relay(engine, gateway.url), relay(engine, gateway.url)
    now = datetime.now(UTC)
    ra, rb = await asyncio.gather(a.deliver_due(now), b.deliver_due(now))
    await a.aclose(), await b.aclose()
    assert ra["delivered"] + rb["delivered"] == 24
    accepted = gateway.accepted()
    assert len(accepted) == 24 and len(set(accepted)) == 24
    assert {r.status for r in deliveries(engine)} == {"delivered"}


async def test_a_relay_dying_after_the_post_leaves_the_row_to_another_with_the_same_delivery_id(engine, gateway):
    """At least once: the crash between the POST and the write repeats the POST, with the same header."""
    notify(engine)
    t0 = datetime.now(UTC)
    dying = relay(engine, gateway.url)

    def crash(*_):
        raise RuntimeError("worker killed")

    dying._delivered = crash
    with pytest.raises(RuntimeError):
        await dying.deliver_due(t0)
    await dying.aclose()
    [row] = deliveries(engine)
    assert row.status == "pending" and utc(row.lease_until) == t0 + timedelta(seconds=60)

    other = relay(engine, gateway.url)
    assert await other.deliver_due(t0 + 30 * S) == {}  # leased: left alone
    assert await other.deliver_due(t0 + 61 * S) == {"delivered": 1}
    await other.aclose()
    assert gateway.accepted() == ["case1:7:renshe.mediator"] * 2  # the receiver drops the repeat by this id
    assert deliveries(engine)[0].status == "delivered"


async def test_a_late_failure_does_not_undo_another_relays_delivery(engine, gateway):
    notify(engine)
    t0 = datetime.now(UTC)
    slow = relay(engine, gateway.url)
    claimed = slow._claim(deliveries(engine)[0].id, t0)
    assert claimed is not None and slow._claim(claimed.id, t0) is None  # held: nobody else can take it
    fast = relay(engine, gateway.url)
    assert await fast.deliver_due(t0 + 61 * S) == {"delivered": 1}  # the lease ran out
    await fast.aclose()
    slow._failed(claimed, t0 + 62 * S, "timeout", 2 * S)
    [row] = deliveries(engine)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 1, None)


async def test_relay_runs_beside_the_worker_and_stops_with_it(engine, gateway, tmp_path):
    notify(engine)
    settings = Settings(data_dir=tmp_path, notify_webhook_url=gateway.url, notify_relay_interval="PT0.05S")
    async with relay_running(engine, settings) as running:
        assert running is not None
        await poll(lambda: deliveries(engine)[0].status == "delivered", "the relay to deliver")
        notify(engine, key="case1:8", kind="urged")  # a later message goes out too
        await poll(lambda: deliveries(engine, "case1:8")[0].status == "delivered", "the second delivery")
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "wuhuan-relay"]
    assert gateway.accepted() == ["case1:7:renshe.mediator", "case1:8:renshe.mediator"]
    async with relay_running(engine, Settings(data_dir=tmp_path)) as running:  # no webhook: no relay
        assert running is None


def test_webhook_settings_are_checked():
    s = Settings(
        notify_webhook_url="https://oapi.dingtalk.com/robot/send?access_token=abc",
        notify_webhook_secret="SECxyz",
        notify_retry_initial="PT5S",
        notify_retry_max="PT1H",
    )
    assert s.notify_webhook_url.startswith("https://oapi.dingtalk.com/")
    assert Settings(notify_webhook_url="", notify_webhook_secret=" ").notify_webhook_url is None
    for bad in ("oapi.dingtalk.com/robot/send", "ftp://gw.example/x", "http://", "http://gw.example:99999/"):
        with pytest.raises(ValidationError):
            Settings(notify_webhook_url=bad)
    with pytest.raises(ValidationError):
        Settings(notify_retry_initial="soon")
    with pytest.raises(ValidationError):
        Settings(notify_relay_interval="PT0S")


def test_webhook_credentials_never_reach_the_logs():
    from domain.logs import scrub

    line = 'HTTP Request: POST https://oapi.dingtalk.com/robot/send?access_token=abc123&timestamp=1&sign=xy%2Bz "200"'
    assert scrub(line) == (
        'HTTP Request: POST https://oapi.dingtalk.com/robot/send?access_token=***&timestamp=1&sign=*** "200"'
    )
