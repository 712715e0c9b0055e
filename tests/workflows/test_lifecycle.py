from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from temporalio.client import WorkflowUpdateFailedError

from domain.models import (
    CITIZEN,
    Actor,
    CaseState,
    MediationAction,
    RateAction,
    ResolveAction,
    Role,
)
from store.db import session
from store.tables import Case, CaseEventRow, Notification
from tests.workflows.helpers import eventually, start_case, until
from workflows.dispute_case import DisputeCase


async def test_labour_case_is_routed_assigned_and_teamed(skipping_env, worker, task_queue, engine, cases):
    h = await start_case(skipping_env, task_queue, cases)
    st: CaseState = await until(h, lambda s: bool(s.team))
    assert (st.category, st.unit, st.township) == ("labor", "renshe", "baita")
    assert st.handler.username == "renshe.mediator"
    assert {m.unit or m.township for m in st.team} == {"renshe", "baita"}
    assert st.clock("routed").met_at and st.clock("assigned").met_at and st.clock("team").met_at
    with session(engine) as db:
        row = db.get(Case, st.case_id)
        assert row.status == "team_formed" and row.handler == "renshe.mediator"

    def inbox():
        with session(engine) as db:
            return [n.kind for n in db.exec(select(Notification).where(Notification.recipient == "renshe.mediator"))]

    assert await eventually(inbox) == ["assigned"]


async def test_yellow_then_red_notify_leaders_and_start_task_force(skipping_env, worker, task_queue, engine, cases):
    h = await start_case(skipping_env, task_queue, cases)
    await until(h, lambda s: bool(s.team))
    await skipping_env.sleep(timedelta(days=7, minutes=1))
    st = await until(h, lambda s: s.colour == "yellow")
    assert st.clock("yellow").breached
    await skipping_env.sleep(timedelta(days=7))
    st = await until(h, lambda s: s.colour == "red" and s.task_force is not None)
    assert st.task_force.led_by == "cl.shehui"  # in charge of 人社局, the lead unit of a labour case

    def kinds():
        with session(engine) as db:
            found = {
                (n.recipient, n.kind) for n in db.exec(select(Notification).where(Notification.case_id == st.case_id))
            }
        return found if ("cl.shehui", "turned_red") in found else None

    kinds = await eventually(kinds)
    assert ("renshe.leader", "turned_yellow") in kinds and ("baita.leader", "turned_yellow") in kinds
    assert ("cl.shehui", "turned_red") in kinds and ("county_leader", "turned_red") not in kinds


async def test_rating_an_unresolved_case_is_refused_and_leaves_no_trace(
    skipping_env, worker, task_queue, engine, cases
):
    h = await start_case(skipping_env, task_queue, cases)
    await until(h, lambda s: bool(s.team))
    before = await h.query(DisputeCase.state)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await h.execute_update(DisputeCase.rate, RateAction(actor=CITIZEN, score=5))
    assert err.value.cause.type == "illegal_state"
    after = await h.query(DisputeCase.state)
    assert after.model_dump() == before.model_dump()
    history = await h.fetch_history()
    assert not [e for e in history.events if e.HasField("workflow_execution_update_accepted_event_attributes")]


async def test_full_lifecycle_to_closed(skipping_env, worker, task_queue, engine, cases):
    h = await start_case(skipping_env, task_queue, cases)
    st = await until(h, lambda s: bool(s.team))
    handler = Actor(username="renshe.mediator", role=Role.mediator, unit="renshe")
    await h.execute_update(
        DisputeCase.record_mediation,
        MediationAction(
            actor=handler, summary="组织劳资双方调解", held_at=datetime.now(UTC), participants=["王小明", "包工头"]
        ),
    )
    st = await h.execute_update(
        DisputeCase.resolve, ResolveAction(actor=handler, outcome="agreement", summary="达成协议，分两期支付")
    )
    assert st.status == "resolved"
    st = await h.execute_update(DisputeCase.rate, RateAction(actor=CITIZEN, score=5, comment="满意"))
    assert st.status == "closed"
    outcome = await h.result()
    assert outcome.status == "closed"
    with session(engine) as db:
        types = [
            e.type
            for e in db.exec(select(CaseEventRow).where(CaseEventRow.case_id == st.case_id).order_by(CaseEventRow.seq))
        ]
    assert types[0] == "received" and "routed" in types and "assigned" in types and types[-2:] == ["rated", "closed"]
