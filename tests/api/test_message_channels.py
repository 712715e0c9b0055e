"""Texts and e-mail over HTTP with a real worker: a citizen who files gets the receipt text with the tracking link
and then the handler's text; the handler gets a text on assignment; a citizen who said no gets none; the case
view lists every delivery with its channel, recipient (the citizen masked) and state; each person's preferences
(`/api/v1/me/preferences`) move their texts to e-mail. The SMS gateway is a real local HTTP server
(testkit/gateway.py), the mail server a real local aiosmtpd (testkit/smtp.py)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from activities.delivery import Relay
from domain.citizen_texts import SEE_RECEIPT
from store.seed import demo_phone
from testkit.gateway import outbox
from testkit.smtp import Mailbox
from testkit.waiting import poll
from tests.api.conftest import assert_error, make_settings
from tests.conftest import worker_for

PHONE = "13800001234"


@pytest.fixture
def mailbox():
    box = Mailbox()
    yield box
    box.close()


@pytest.fixture
def settings(tmp_path, task_queue, gateway, mailbox):
    return make_settings(
        tmp_path,
        task_queue,
        sms_gateway_url=gateway.url,
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        smtp_from="五环智控 <noreply@xianju.example>",
        smtp_starttls=False,
    )


@pytest_asyncio.fixture
async def worker(skipping_env, engine, executor, task_queue, settings):
    """The usual worker with texts and e-mail configured: messages are queued for them."""
    async with worker_for(skipping_env, engine, executor, task_queue, settings) as w:
        yield w


async def deliver(engine, settings, rounds: int = 3) -> None:
    """A few relay rounds, each a minute later than the last (as each worker's relay runs every couple of seconds:
    a text held back behind the receipt goes in a later round)."""
    relay = Relay.from_settings(engine, settings, jitter=0.0)
    for i in range(rounds):
        await relay.deliver_due(datetime.now(UTC) + timedelta(minutes=i))
    await relay.aclose()


async def test_the_citizen_gets_the_receipt_with_the_link_then_the_handler_and_the_handler_a_text(
    api, engine, settings, gateway, caplog
):
    caplog.set_level(logging.INFO)
    case = await api.intake(phone=PHONE)
    case_id = case["case_id"]
    state = await api.settled(case_id, lambda s: s.handler is not None)
    assert state.handler.username == "renshe.mediator"

    def queued():
        kinds = {(r.recipient, r.kind, r.channel) for r in outbox(engine, case_id)}
        want = {
            (f"citizen:{case_id}", "citizen_receipt", "sms"),
            (f"citizen:{case_id}", "citizen_handler", "sms"),
            ("renshe.mediator", "assigned", "sms"),
        }
        return kinds if want <= kinds else None

    await poll(queued, "the texts in the outbox")
    receipt = next(r for r in outbox(engine, case_id) if r.kind == "citizen_receipt")
    assert case["tracking_url"] in receipt.text  # kept only until delivered
    await deliver(engine, settings)
    assert all(r.status == "delivered" for r in outbox(engine, case_id) if r.channel == "sms")
    await deliver(engine, settings)  # later rounds send nothing twice

    to_citizen = [p.body for p in gateway.posts() if p.body["phone"] == PHONE]
    assert [b["id"] for b in to_citizen] == [f"{case_id}:receipt:citizen:{case_id}:sms", to_citizen[1]["id"]]
    receipt_text, handler_text = to_citizen[0]["text"], to_citizen[1]["text"]
    assert receipt_text.startswith("【仙居矛调】您的诉求已受理，案件编号" + case["case_no"])
    assert receipt_text.endswith(case["tracking_url"]) and len(receipt_text) <= 134
    assert handler_text.startswith(f"【仙居矛调】您的案件{case['case_no']}已交由县人力社保局承办人县")
    assert SEE_RECEIPT in handler_text and case["tracking_code"] not in handler_text
    [to_handler] = [p.body for p in gateway.posts() if p.body["phone"] == demo_phone("renshe.mediator")]
    assert to_handler["text"].startswith("【仙居矛调】【交办】案件 " + case["case_no"])
    assert len(gateway.accepted()) == len(set(gateway.accepted()))  # each delivered once
    assert all(r.text is None for r in outbox(engine, case_id) if r.status == "delivered")  # the link is gone

    view = await api.case(case_id)
    mine = {(d["kind"], d["channel"], d["recipient_zh"], d["status"]) for d in view["deliveries"]}
    assert ("citizen_receipt", "sms", "群众（138****1234）", "delivered") in mine
    assert ("assigned", "sms", "县人力社保局调解员", "delivered") in mine
    assert all(d["attempts"] >= 1 and d["channel_zh"] for d in view["deliveries"] if d["status"] == "delivered")
    assert PHONE not in str(view["deliveries"])
    # The citizen's phone number is in no log line of the whole flow.
    assert PHONE not in caplog.text and demo_phone("renshe.mediator") not in caplog.text


async def test_a_citizen_who_said_no_gets_no_texts(api, engine, settings, gateway):
    case = await api.intake(phone="13900005678", notify_by_sms=False)
    case_id = case["case_id"]
    await api.settled(case_id, lambda s: s.handler is not None)
    await poll(lambda: outbox(engine, case_id) or None, "the handler's message in the outbox")
    await deliver(engine, settings)
    assert not [r for r in outbox(engine, case_id) if r.recipient.startswith("citizen:")]
    assert all(p.body["phone"] != "13900005678" for p in gateway.posts())


async def test_preferences_are_read_checked_and_move_texts_to_email(api, engine, settings, mailbox):
    me = await api.auth("renshe.mediator")
    r = await api.get("/api/v1/me/preferences", headers=me)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["channels"] == {"inbox": True, "sms": True, "email": True} and got["quiet_hours"] is None
    assert got["available"] == {"sms": True, "email": True} and got["email"] == "renshe.mediator@demo.wuhuan.invalid"
    assert got["phone"].startswith("199") and "*" in got["phone"] and "assigned" in got["urgent_kinds"]

    r = await api.put("/api/v1/me/preferences", headers=me, json={"quiet_hours": "22:00-07:30"})
    assert r.status_code == 200 and r.json()["quiet_hours"] == "22:00-07:30" and r.json()["channels"]["sms"]
    for bad in ("25:00-07:00", "22:00", "07:00-07:00", "晚上十点"):
        assert_error(
            await api.put("/api/v1/me/preferences", headers=me, json={"quiet_hours": bad}), 422, "invalid_quiet_hours"
        )
    assert_error(
        await api.put("/api/v1/me/preferences", headers=me, json={"channels": {"inbox": False}}), 422, "inbox_always_on"
    )
    assert_error(await api.put("/api/v1/me/preferences", headers=me, json={"channels": {"fax": True}}), 422)
    assert_error(await api.get("/api/v1/me/preferences"), 401)

    r = await api.put("/api/v1/me/preferences", headers=me, json={"channels": {"sms": False}, "quiet_hours": None})
    assert r.json()["channels"] == {"inbox": True, "sms": False, "email": True} and r.json()["quiet_hours"] is None

    # Texts off: the assignment reaches the handler by e-mail instead.
    case = await api.intake(phone=PHONE, notify_by_sms=False)
    case_id = case["case_id"]
    await api.settled(case_id, lambda s: s.handler is not None)
    await poll(
        lambda: (
            [r for r in outbox(engine, case_id) if r.kind == "assigned" and r.recipient == "renshe.mediator"] or None
        ),
        "the assignment in the outbox",
    )
    [row] = [r for r in outbox(engine, case_id) if r.kind == "assigned" and r.recipient == "renshe.mediator"]
    assert row.channel == "email"
    await deliver(engine, settings)
    assert any(m["Subject"] == f"【五环智控】交办：{case['case_no']}" for m in mailbox.received())
