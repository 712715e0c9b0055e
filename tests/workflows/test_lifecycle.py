from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select
from temporalio.client import WorkflowUpdateFailedError

from domain.models import (
    CITIZEN, Actor, CaseIntake, CaseStart, CaseState, MediationAction, RateAction, ResolveAction, Role,
)
from store.db import session
from store.tables import Case, CaseEventRow, Notification
from tests.conftest import fast_levels
from workflows.dispute_case import DisputeCase, workflow_id

BAITA_LABOUR = "白塔镇某工地包工头拖欠我们十几个工人三个月工资，共计八万多元，老板电话也打不通了"


async def start_case(env, task_queue, cases, description=BAITA_LABOUR, levels=None, **intake):
    case_id = uuid.uuid4().hex
    start = CaseStart(case_id=case_id, case_no=f"T-{case_id[:6]}", received_at=await env.get_current_time(),
                      intake=CaseIntake(description=description, citizen_name="王小明", citizen_phone="13800001234",
                                        channel="web", **intake),
                      intake_by=CITIZEN, levels=levels or fast_levels())
    handle = await env.client.start_workflow(DisputeCase.run, start, id=workflow_id(case_id), task_queue=task_queue)
    cases.append(handle)
    return handle


async def eventually(check, tries=200):
    """Poll a read-model check: notifications are sent beside the case, not before the step returns."""
    import asyncio
    for _ in range(tries):
        result = check()
        if result:
            return result
        await asyncio.sleep(0.05)
    raise AssertionError("condition never held")


async def until(handle, predicate, env, tries=200):
    import asyncio
    for _ in range(tries):
        st = await handle.query(DisputeCase.state)
        if predicate(st):
            return st
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition never held; last state {st.status} {st.handler}")


async def test_labour_case_is_routed_assigned_and_teamed(skipping_env, worker, task_queue, engine, cases):
    h = await start_case(skipping_env, task_queue, cases)
    st: CaseState = await until(h, lambda s: bool(s.team), skipping_env)
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
    await until(h, lambda s: bool(s.team), skipping_env)
    await skipping_env.sleep(timedelta(days=7, minutes=1))
    st = await until(h, lambda s: s.colour == "yellow", skipping_env)
    assert st.clock("yellow").breached
    await skipping_env.sleep(timedelta(days=7))
    st = await until(h, lambda s: s.colour == "red" and s.task_force is not None, skipping_env)
    assert st.task_force.led_by == "county_leader"
    def kinds():
        with session(engine) as db:
            found = {(n.recipient, n.kind) for n in db.exec(select(Notification).where(Notification.case_id == st.case_id))}
        return found if ("county_leader", "turned_red") in found else None
    kinds = await eventually(kinds)
    assert ("renshe.leader", "turned_yellow") in kinds and ("baita.leader", "turned_yellow") in kinds
    assert ("county_leader", "turned_red") in kinds


async def test_rating_an_unresolved_case_is_refused_and_leaves_no_trace(skipping_env, worker, task_queue, engine, cases):
    h = await start_case(skipping_env, task_queue, cases)
    await until(h, lambda s: bool(s.team), skipping_env)
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
    st = await until(h, lambda s: bool(s.team), skipping_env)
    handler = Actor(username="renshe.mediator", role=Role.mediator, unit="renshe")
    await h.execute_update(DisputeCase.record_mediation, MediationAction(
        actor=handler, summary="组织劳资双方调解", held_at=datetime.now(timezone.utc), participants=["王小明", "包工头"]))
    st = await h.execute_update(DisputeCase.resolve, ResolveAction(actor=handler, outcome="agreement", summary="达成协议，分两期支付"))
    assert st.status == "resolved"
    st = await h.execute_update(DisputeCase.rate, RateAction(actor=CITIZEN, score=5, comment="满意"))
    assert st.status == "closed"
    outcome = await h.result()
    assert outcome.status == "closed"
    with session(engine) as db:
        types = [e.type for e in db.exec(select(CaseEventRow).where(CaseEventRow.case_id == st.case_id).order_by(CaseEventRow.seq))]
    assert types[0] == "received" and "routed" in types and "assigned" in types and types[-2:] == ["rated", "closed"]
