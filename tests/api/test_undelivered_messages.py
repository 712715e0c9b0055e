"""Messages the webhook has not accepted show on the staff case view and the supervision board (within the
board's jurisdiction, without their text), until the relay's retries get them through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest_asyncio
from sqlmodel import select

from activities.delivery import WebhookRelay
from store.db import session
from store.tables import Notification
from testkit.gateway import ACCEPT, outbox
from testkit.waiting import poll


@pytest_asyncio.fixture
async def worker(webhook_worker):
    """The usual worker, with the test gateway as its webhook: every message is queued for it too."""
    yield webhook_worker


def texts(engine, case_id) -> list[str]:
    with session(engine) as db:
        return list(db.exec(select(Notification.text).where(Notification.case_id == case_id)))


async def test_undelivered_messages_show_on_the_case_and_the_board_until_delivered(api, engine, gateway):
    gateway.then = 503
    case = await api.intake()
    case_id = case["case_id"]
    state = await api.settled(case_id)
    members = {m.username for m in state.team} - {state.handler.username}  # the handler is told "assigned"

    def queued():
        got = {(r.recipient, r.kind) for r in outbox(engine, case_id)}
        want = {(state.handler.username, "assigned")} | {(m, "team_invited") for m in members}
        return got if want <= got else None

    await poll(queued, "the case's messages in the outbox")

    relay = WebhookRelay(engine, gateway.url, jitter=0.0)
    t0 = datetime.now(UTC)
    assert (await relay.deliver_due(t0))["failed"] == len(outbox(engine, case_id))

    view = await api.case(case_id)
    n = len(view["deliveries"])
    assert n == len(outbox(engine, case_id)) and view["undelivered"] == n
    assigned = next(d for d in view["deliveries"] if d["kind"] == "assigned")
    assert assigned["recipient"] == "renshe.mediator" and assigned["channel"] == "webhook"
    assert (assigned["status"], assigned["status_zh"], assigned["kind_zh"]) == ("pending", "待送达", "交办")
    assert (assigned["attempts"], assigned["last_error"], assigned["delivered_at"]) == (1, "HTTP 503", None)
    assert datetime.fromisoformat(assigned["next_attempt_at"]) == t0 + timedelta(seconds=2)

    async def board(user: str) -> dict:
        r = await api.get("/api/v1/supervision/board", headers=await api.auth(user))
        assert r.status_code == 200, r.text
        for text in texts(engine, case_id):  # counts and reasons only: no message text on the board
            assert text not in r.text
        return r.json()["undelivered"]

    county = await board("supervisor")
    assert county["messages"] == n
    [entry] = county["cases"]
    assert (entry["case_id"], entry["case_no"], entry["messages"], entry["attempts"], entry["last_error"]) == (
        case_id,
        case["case_no"],
        n,
        1,
        "HTTP 503",
    )
    assert (await board("baita.leader"))["messages"] == n  # the case's township
    assert (await board("renshe.leader"))["cases"][0]["case_id"] == case_id
    assert await board("fuying.leader") == {"messages": 0, "cases": []}  # another township's leader

    # The gateway comes back: the next due round gets everything through, once each.
    gateway.then = ACCEPT
    assert await relay.deliver_due(t0 + timedelta(seconds=1)) == {}  # backoff not over yet
    late = t0 + timedelta(seconds=2)
    assert (await relay.deliver_due(late))["delivered"] == n
    await relay.aclose()
    view = await api.case(case_id)
    assert view["undelivered"] == 0
    assert all(
        d["status"] == "delivered"
        and d["status_zh"] == "已送达"
        and d["attempts"] == 2
        and d["next_attempt_at"] is None
        and d["last_error"] is None
        for d in view["deliveries"]
    )
    assigned = next(d for d in view["deliveries"] if d["kind"] == "assigned")
    assert datetime.fromisoformat(assigned["delivered_at"]) == late
    assert await board("supervisor") == {"messages": 0, "cases": []}
    accepted = gateway.accepted()
    assert len(accepted) == len(set(accepted)) == n
    assert set(accepted) == {f"{r.key}:{r.recipient}" for r in outbox(engine, case_id)}
