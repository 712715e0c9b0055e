"""`wuhuan worker` with a webhook configured runs the relay beside the worker: a case's messages reach a real
local HTTP server after it refused the first attempt, and SIGTERM still stops the worker cleanly."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

from sqlmodel import select

from domain.models import CITIZEN, CaseIntake, CaseStart
from domain.taxonomy import get_taxonomy
from store.db import make_engine, session
from store.migrate import upgrade
from store.seed import seed_demo
from store.tables import NotificationDelivery
from testkit.processes import WuhuanProcess, wait_for
from tests.conftest import fast_levels
from workflows.dispute_case import DisputeCase, workflow_id

BAITA_LABOUR = "白塔镇某工地包工头拖欠我们十几个工人三个月工资，共计八万多元，老板电话也打不通了"


async def test_worker_process_relays_messages_to_the_webhook(dev_server, tmp_path, gateway):
    client = dev_server.client
    db_url = f"sqlite:///{tmp_path / 'read.db'}"
    engine = make_engine(db_url)
    upgrade(engine)  # as deployment does before any worker starts
    seed_demo(engine, get_taxonomy(), "wuhuan-demo", time_cost=1, memory_kib=1024)
    task_queue = f"e2e-{uuid.uuid4().hex[:8]}"
    gateway.script = [503]
    worker = WuhuanProcess(
        "worker",
        dict(
            os.environ,
            WUHUAN_TEMPORAL_ADDRESS=client.service_client.config.target_host,
            WUHUAN_TEMPORAL_NAMESPACE=client.namespace,
            WUHUAN_DATABASE_URL=db_url,
            WUHUAN_TEMPORAL_TASK_QUEUE=task_queue,
            WUHUAN_DATA_DIR=str(tmp_path / "data"),
            WUHUAN_NOTIFY_WEBHOOK_URL=gateway.url,
            WUHUAN_NOTIFY_WEBHOOK_SECRET="SECtest",
            WUHUAN_NOTIFY_RETRY_INITIAL="PT0.2S",
            WUHUAN_NOTIFY_RELAY_INTERVAL="PT0.1S",
        ),
        tmp_path / "worker.log",
    )
    cases = []
    try:
        worker.start()
        case_id = uuid.uuid4().hex
        start = CaseStart(
            case_id=case_id,
            case_no=f"E2E-{case_id[:6]}",
            received_at=datetime.now(UTC),
            intake=CaseIntake(
                description=BAITA_LABOUR, citizen_name="王小明", citizen_phone="13800001234", channel="web"
            ),
            intake_by=CITIZEN,
            levels=fast_levels(),
        )
        cases.append(
            await client.start_workflow(DisputeCase.run, start, id=workflow_id(case_id), task_queue=task_queue)
        )

        def delivered():
            with session(engine) as db:
                rows = db.exec(select(NotificationDelivery).where(NotificationDelivery.case_id == case_id)).all()
            kinds = {r.kind for r in rows if r.status == "delivered"}
            return rows if {"assigned", "team_invited"} <= kinds else None

        await wait_for(delivered, f"the messages on the webhook\n{worker.output()}", 30)
        posts = gateway.posts()
        assert posts[0].answered == 503 and all(p.query.get("sign") for p in posts)
        # The refused one, then accepted. It may be another message than this case's: a worker starting on an
        # unplanned week first tells the inspectors of their visits (services/inspection_plan.py).
        with session(engine) as db:
            every = db.exec(select(NotificationDelivery)).all()
        assert any(r.attempts == 2 and r.status == "delivered" for r in every)
        accepted = gateway.accepted()
        assert len(accepted) == len(set(accepted))
        assert "access_token=test-token" not in worker.output()  # the credential stays out of logs
    finally:
        worker.stop()
        for h in cases:
            try:
                await h.terminate("test finished")
            except Exception:
                pass
        engine.dispose()
    assert worker.proc.returncode == 0, worker.output()
