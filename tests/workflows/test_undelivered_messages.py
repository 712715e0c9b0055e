"""A message channel that is down holds up no case: with the webhook refusing every message, a case still
runs to closed while its messages stay pending in the outbox (and its inbox is complete)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest_asyncio

from activities.delivery import WebhookRelay
from domain.models import CITIZEN, MediationAction, RateAction, ResolveAction
from testkit.gateway import outbox
from testkit.waiting import poll
from tests.workflows.helpers import RENSHE_MEDIATOR, eventually, inbox, start_case, until
from workflows.dispute_case import DisputeCase


@pytest_asyncio.fixture
async def worker(webhook_worker):
    """The usual worker, with the test gateway as its webhook: every message is queued for it too."""
    yield webhook_worker


async def test_a_refusing_webhook_does_not_hold_up_the_case(skipping_env, worker, task_queue, engine, cases, gateway):
    gateway.then = 503
    relay = WebhookRelay(engine, gateway.url, interval=timedelta(milliseconds=50))
    running = asyncio.create_task(relay.run())
    try:
        h = await start_case(skipping_env, task_queue, cases)
        st = await until(h, lambda s: bool(s.team))
        await h.execute_update(
            DisputeCase.record_mediation,
            MediationAction(
                actor=RENSHE_MEDIATOR, summary="组织劳资双方调解", held_at=datetime.now(UTC), participants=["王小明"]
            ),
        )
        await h.execute_update(
            DisputeCase.resolve, ResolveAction(actor=RENSHE_MEDIATOR, outcome="agreement", summary="达成协议")
        )
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
