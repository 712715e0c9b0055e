"""The reproduction's targeted sequence (repro.py, variant A) on the real system: does a staff member's "open the
case, press a step" still break a history after a worker kill, now that the case view reads the read model?

Real components: the venv's Temporal dev server (a process, on a SQLite file), a `wuhuan worker` process with a
workflow cache (default 1,000), a SQLite read model seeded with the demo county, and the API itself (the app of
api/main.py over httpx's ASGI transport: its intake, its case view, its step endpoint). N labour cases are taken
in through the API with a yellow clock of T seconds; the worker is SIGKILLed 1 s before the clocks fall due and
restarted after they fired, so each case's next workflow task waits on the dead worker's sticky queue. Then, for
each case, what a mediator does: `GET /api/v1/cases/{id}` (the view) and `POST …/mediations` (a Workflow Update).
`--query` adds, before the view, the `state` query the API made before issue 14. Every history is then replayed
with Replayer.

    .venv/bin/python bench/repro_cache/real_system.py [--cases 20] [--yellow 30] [--standby] [--query]
        [--cache 1000] [--out FILE]

`--standby` keeps a second worker polling all along (as a county runs two): on a loaded machine a restarted worker
may take longer than the 10 s sticky timeout to answer, which closes the race's window. Expected: 0 of N not
replaying without `--query` (the API no longer queries); with `--query` and `--standby`, some of N (the SDK's
behaviour the reproduction found, on DisputeCase). docs/durability.md, "The cache and replay"."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

from testkit import fault_suite  # noqa: E402  (sets the test environment: hashing, model dir, payload key)

LABOUR = "白塔镇某工地包工头拖欠工人三个月工资"


async def run(a: argparse.Namespace, workdir: Path) -> tuple[int, int, list[str], float, list[float]]:
    import httpx
    from sqlalchemy import update
    from temporalio.worker import Replayer

    from api.main import create_app
    from domain.settings import Settings
    from domain.taxonomy import get_taxonomy
    from store.db import make_engine
    from store.migrate import upgrade
    from store.seed import seed_demo
    from store.tables import Case, Staff
    from testkit.processes import DevServer, WuhuanProcess
    from worker import WORKFLOWS
    from workflows.dispute_case import DisputeCase, workflow_id

    db_url = f"sqlite:///{workdir / 'read.db'}"
    engine = make_engine(db_url)
    upgrade(engine)
    seed_demo(engine, get_taxonomy(), "wuhuan-demo", time_cost=1, memory_kib=1024)
    with engine.begin() as db:  # room for every case: this measures histories, not staffing
        db.execute(update(Staff).values(capacity=1000))
    server = DevServer(workdir)
    server.start()
    task_queue = f"real-{uuid.uuid4().hex[:8]}"
    levels = dict(
        WUHUAN_SLA_YELLOW_AFTER=f"PT{a.yellow:g}S", WUHUAN_SLA_RED_AFTER="PT600S", WUHUAN_SLA_REMIND_BEFORE="PT1S"
    )
    env = dict(
        os.environ,
        **levels,
        WUHUAN_TEMPORAL_ADDRESS=server.target,
        WUHUAN_DATABASE_URL=db_url,
        WUHUAN_TEMPORAL_TASK_QUEUE=task_queue,
        WUHUAN_DATA_DIR=str(workdir / "data"),
        WUHUAN_WORKER_CACHED_WORKFLOWS=str(a.cache),
    )
    worker = WuhuanProcess("worker", env, workdir / "worker.log")
    # --standby: a second worker polls all along (as a county runs two), so the cases that were sticky to the
    # killed one meet a worker that answers at once, however slowly a restarted worker starts on a loaded machine.
    standby = WuhuanProcess("worker", env, workdir / "standby.log") if a.standby else None
    try:
        client = await fault_suite.connect(server.target)
        worker.start()
        if standby is not None:
            standby.start()
        settings = Settings(
            temporal_address=server.target,
            temporal_task_queue=task_queue,
            database_url=db_url,
            data_dir=workdir / "data",
            secret_key="real-system-repro-0123456789abcdef",
            rate_limit_intake="10000/minute",
            rate_limit_track="10000/minute",
            payload_keys=os.environ["WUHUAN_PAYLOAD_KEYS"],
            sla_yellow_after=f"PT{a.yellow:g}S",
            sla_red_after="PT600S",
            sla_remind_before="PT1S",
            public_url="http://testserver",
        )
        app = create_app(settings, client=client, engine=engine)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as http:
            r = await http.post("/api/v1/auth/token", data={"username": "renshe.mediator", "password": "wuhuan-demo"})
            mediator = {"Authorization": f"Bearer {r.json()['access_token']}"}
            t0 = time.monotonic()
            ids = []
            for i in range(a.cases):
                body = {
                    "description": LABOUR,
                    "citizen": {"name": f"测试{i}", "phone": "13800001234"},
                    "channel": "web",
                }
                r = await http.post("/api/v1/cases", json=body)
                assert r.status_code == 201, r.text
                ids.append(r.json()["case_id"])
            # The cases are routed and assigned (the handler is the one who will press the step).
            while True:
                with engine.connect() as db:
                    done = db.execute(
                        Case.__table__.select().where(Case.case_id.in_(ids), Case.handler.is_not(None))
                    ).fetchall()
                if len(done) == len(ids) or time.monotonic() > t0 + a.yellow - 1.5:
                    break
                await asyncio.sleep(0.2)
            await asyncio.sleep(max(0.0, t0 + a.yellow - 1.0 - time.monotonic()))
            worker.kill()  # SIGKILL; the clocks fire while it is down
            await asyncio.sleep(a.down)
            worker.start()
            restarted = time.monotonic()
            first: list[float] = []  # seconds from the restart to each case's first answer from the new worker

            view_ms: list[float] = []

            async def drive(case_id: str) -> None:
                deadline = time.monotonic() + 120
                if a.query:  # what the API did before issue 14
                    while True:
                        try:
                            await client.get_workflow_handle(workflow_id(case_id)).query(DisputeCase.state)
                            first.append(time.monotonic() - restarted)
                            break
                        except Exception:
                            if time.monotonic() > deadline:
                                raise
                            await asyncio.sleep(0.3)
                asked = time.perf_counter()
                v = await http.get(f"/api/v1/cases/{case_id}", headers=mediator)
                view_ms.append(1000 * (time.perf_counter() - asked))
                assert v.status_code == 200, v.text
                body = {"summary": "组织双方调解", "held_at": datetime.now(UTC).isoformat(), "participants": ["申请人"]}
                while True:
                    r = await http.post(f"/api/v1/cases/{case_id}/mediations", json=body, headers=mediator)
                    if r.status_code == 200 or time.monotonic() > deadline:
                        if not a.query:
                            first.append(time.monotonic() - restarted)
                        break
                    await asyncio.sleep(0.5)  # 503 while the restarted worker takes over
                assert r.status_code == 200, r.text

            results = await asyncio.gather(*(drive(c) for c in ids), return_exceptions=True)
            errors = [f"{c}: {r!r}"[:200] for c, r in zip(ids, results, strict=True) if isinstance(r, BaseException)]
            if first:  # the race needs the new worker to answer within the sticky timeout (10 s)
                errors.append(f"(not an error) the new worker first answered {min(first):.1f} s after its restart")
        replayer = Replayer(workflows=WORKFLOWS, data_converter=client.data_converter)
        failed = []
        for case_id in ids:
            history = await client.get_workflow_handle(workflow_id(case_id)).fetch_history()
            replay = await replayer.replay_workflow(history, raise_on_replay_failure=False)
            if replay.replay_failure is not None:
                failed.append(f"{case_id}: {str(replay.replay_failure)[:160]}")
        return len(ids), len(failed), failed + errors, time.monotonic() - t0, sorted(view_ms)
    finally:
        worker.stop()
        if standby is not None:
            standby.stop()
        server.stop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=20)
    p.add_argument("--query", action="store_true", help="query each case before its view, as the API did")
    p.add_argument("--cache", type=int, default=1000)
    p.add_argument("--yellow", type=float, default=10.0, help="seconds to the yellow clock")
    p.add_argument("--down", type=float, default=1.5, help="seconds the worker stays down")
    p.add_argument("--standby", action="store_true", help="a second worker polling all along")
    p.add_argument("--out", type=Path)
    a = p.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="wuhuan-real-repro-"))
    try:
        n, failed, notes, seconds, view_ms = asyncio.run(run(a, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    views = f"p50 {view_ms[len(view_ms) // 2]:.0f} ms, max {view_ms[-1]:.0f} ms" if view_ms else "none"
    text = (
        f"real system, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {n} cases, cache {a.cache}, "
        f"{'a standby worker, ' if a.standby else ''}{'query, then ' if a.query else ''}"
        "view and step after a worker kill around the yellow clocks: "
        f"{failed} of {n} histories not replaying ({seconds:.0f} s); case views (GET, all at once): {views}"
    )
    print(text)
    for line in notes[:10]:
        print("   ", line)
    if a.out:
        with a.out.open("a", encoding="utf-8") as f:
            f.write(text + "\n")
    return 1 if failed or any(not n.startswith("(not an error)") for n in notes) else 0


if __name__ == "__main__":
    sys.exit(main())
