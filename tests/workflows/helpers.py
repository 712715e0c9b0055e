"""Starting and watching cases in workflow tests."""

from __future__ import annotations

import uuid

from sqlmodel import select

from domain.models import CITIZEN, Actor, CaseIntake, CaseStart, Role
from store.db import session
from store.tables import CaseEventRow, Notification
from testkit.waiting import poll
from tests.conftest import fast_levels
from workflows.dispute_case import DisputeCase, workflow_id

BAITA_LABOUR = "白塔镇某工地包工头拖欠我们十几个工人三个月工资，共计八万多元，老板电话也打不通了"
RENSHE_MEDIATOR = Actor(username="renshe.mediator", role=Role.mediator, unit="renshe")
SUPERVISOR = Actor(username="supervisor", role=Role.supervisor)
CLERK = Actor(username="clerk", role=Role.clerk)
AUDITOR = Actor(username="auditor", role=Role.auditor)
COUNTY_LEADER = Actor(username="county_leader", role=Role.county_leader)


async def start_case(env, task_queue, cases, description=BAITA_LABOUR, levels=None, **intake):
    case_id = uuid.uuid4().hex
    start = CaseStart(
        case_id=case_id,
        case_no=f"T-{case_id[:6]}",
        received_at=await env.get_current_time(),
        intake=CaseIntake(
            description=description, citizen_name="王小明", citizen_phone="13800001234", channel="web", **intake
        ),
        intake_by=CITIZEN,
        levels=levels or fast_levels(),
    )
    handle = await env.client.start_workflow(DisputeCase.run, start, id=workflow_id(case_id), task_queue=task_queue)
    cases.append(handle)
    return handle


async def eventually(check):
    """Poll a read-model check: notifications are sent beside the case, not before the step returns."""
    return await poll(check, "a read-model condition")


async def until(handle, predicate):
    """Wait for the live state to satisfy predicate, with all its events already in the read model."""

    async def settled():
        st = await handle.query(DisputeCase.state)
        return st if predicate(st) and st.recorded_seq == st.next_seq - 1 else None

    return await poll(settled, "the case's state")


def event_types(engine, case_id) -> list[str]:
    with session(engine) as db:
        rows = db.exec(select(CaseEventRow).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.seq))
        return [r.type for r in rows]


def events(engine, case_id, type_) -> list[CaseEventRow]:
    with session(engine) as db:
        return list(
            db.exec(
                select(CaseEventRow)
                .where(CaseEventRow.case_id == case_id, CaseEventRow.type == type_)
                .order_by(CaseEventRow.seq)
            )
        )


def inbox(engine, case_id) -> set[tuple[str, str]]:
    with session(engine) as db:
        return {(n.recipient, n.kind) for n in db.exec(select(Notification).where(Notification.case_id == case_id))}
