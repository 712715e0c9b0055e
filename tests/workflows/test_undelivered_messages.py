"""A message channel that is down holds up no case: with the webhook refusing every message, a case still
runs to closed while its messages stay pending in the outbox (and its inbox is complete)."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest_asyncio
from sqlmodel import select

from activities.delivery import WebhookRelay
from activities.notifications import Notifier
from domain.models import CITIZEN, MediationAction, RateAction, ResolveAction
from domain.taxonomy import get_taxonomy
from store.db import session
from store.tables import NotificationDelivery
from tests.waiting import poll
from tests.workflows.helpers import RENSHE_MEDIATOR, eventually, inbox, start_case, until
from workflows.dispute_case import DisputeCase


@pytest_asyncio.fixture
async def worker(skipping_env, engine, executor, task_queue):
    """The usual worker, but its notifier queues every message for the webhook too."""
    from temporalio.worker import Worker
    from worker import WORKFLOWS, activities_for
    tx = get_taxonomy()
    acts = [a for a in activities_for(engine, tx) if a.__name__ != "send_notifications"]
    acts.append(Notifier(engine, tx, channels=("webhook",)).send_notifications)
    async with Worker(skipping_env.client, task_queue=task_queue, workflows=WORKFLOWS, activities=acts,
                      activity_executor=executor):
        yield


def outbox(engine, case_id) -> list[NotificationDelivery]:
    with session(engine) as db:
        return list(db.exec(select(NotificationDelivery).where(NotificationDelivery.case_id == case_id)))


async def test_a_refusing_webhook_does_not_hold_up_the_case(skipping_env, worker, task_queue, engine, cases, gateway):
    gateway.then = 503
    relay = WebhookRelay(engine, gateway.url, interval=timedelta(milliseconds=50))
    running = asyncio.create_task(relay.run())
    try:
        h = await start_case(skipping_env, task_queue, cases)
        st = await until(h, lambda s: bool(s.team))
        await h.execute_update(DisputeCase.record_mediation, MediationAction(
            actor=RENSHE_MEDIATOR, summary="组织劳资双方调解", held_at=datetime.now(timezone.utc), participants=["王小明"]))
        await h.execute_update(DisputeCase.resolve, ResolveAction(actor=RENSHE_MEDIATOR, outcome="agreement",
                                                                  summary="达成协议"))
        st = await h.execute_update(DisputeCase.rate, RateAction(actor=CITIZEN, score=5))
        assert st.status == "closed" and (await h.result()).status == "closed"
        await eventually(lambda: ("renshe.mediator", "assigned") in inbox(engine, st.case_id))
        await poll(lambda: any(r.attempts for r in outbox(engine, st.case_id)), "a refused attempt")
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    rows = outbox(engine, st.case_id)
    assert {(r.recipient, r.kind) for r in rows} == inbox(engine, st.case_id)  # every inbox message is queued
    assert all(r.status == "pending" for r in rows)
    assert {r.last_error for r in rows if r.attempts} == {"HTTP 503"}
    assert gateway.posts() and not gateway.accepted()
