"""Open cases at scale on the embedded default (issue 14): 1,000 then 10,000 open cases with live clocks.

The stack of bench/bench_intake.py (the Temporal dev server on a SQLite file, `wuhuan worker`, `wuhuan api`), each
staff member given room for every case. Cases are started by the project's client as the intake starts them
(routed, assigned, teamed by the real activities; yellow after 7 days, red after 14: live timers that do not fire
during the run). At each level, once every case has its handler:

- resident memory of each process, Temporal's database size (the SQLite file and its WAL) and the read model's;
- GET /api/v1/cases (the supervisor's first page, and one township's) and GET /api/v1/supervision/board, p50/p99
  of 20 requests each;
- a worker restart: the worker is killed (SIGKILL) and started again; recovery = from the restart until a case
  taken in over HTTP right then has its handler in the read model;
- the rate at which cases were taken in and settled, and the CPU per case of each process in that stretch.

    .venv/bin/python bench/scale_open_cases.py [--levels 1000,10000]

Not part of `make bench` (not named bench_*.py: 10,000 cases take half an hour on two cores).
Results: bench/results/scale.txt."""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_clocks import gather_limited  # noqa: E402
from bench_intake import Stack, pct, routable_texts, rss_mib  # noqa: E402


def file_mib(*paths: Path) -> float:
    return sum(p.stat().st_size for p in paths if p.exists()) / 2**20


def settled_count(db: Path) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(
            "SELECT count(*) FROM cases WHERE handler IS NOT NULL AND coalesce(clock_team, '') != 'running'"
        ).fetchone()[0]
    finally:
        con.close()


def handler_of(db: Path, case_id: str) -> str | None:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        row = con.execute("SELECT handler FROM cases WHERE case_id = ?", (case_id,)).fetchone()
    finally:
        con.close()
    return row[0] if row else None


async def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        r = await fn()
        assert r.status_code == 200, (r.status_code, r.text[:300])
        out.append(time.perf_counter() - t)
    return out


async def run(a: argparse.Namespace) -> list[str]:
    os.environ.setdefault("WUHUAN_PASSWORD_HASH_TIME_COST", "1")
    os.environ.setdefault("WUHUAN_PASSWORD_HASH_MEMORY_KIB", "1024")
    os.environ.setdefault("WUHUAN_MODEL_DIR", str(Path(tempfile.gettempdir()) / "wuhuan-test-models"))
    os.environ.setdefault("WUHUAN_PAYLOAD_KEYS", "bench1:" + base64.b64encode(os.urandom(32)).decode())
    from domain.models import CITIZEN, CaseIntake, CaseStart, ServiceLevels
    from domain.settings import Settings
    from testkit.processes import WuhuanProcess
    from workflows.dispute_case import DisputeCase, workflow_id
    from workflows.temporal_client import connect

    levels_wanted = sorted(int(x) for x in a.levels.split(","))
    workdir = Path(tempfile.mkdtemp(prefix="wuhuan-scale-bench-"))
    stack = Stack(workdir, extra_mediators=2, capacity=2 * max(levels_wanted))
    stack.seed()
    texts = routable_texts(100_000)
    rows: list[dict] = []
    try:
        await stack.start()
        settings = Settings(
            temporal_address=stack.server.target,
            temporal_task_queue=stack.queue,
            payload_keys=os.environ["WUHUAN_PAYLOAD_KEYS"],
            data_dir=stack.workdir / "data",
        )
        client = await connect(settings)
        levels = ServiceLevels(
            routed_within=timedelta(minutes=3),
            assigned_within=timedelta(minutes=5),
            team_within=timedelta(hours=1),
            yellow_after=timedelta(days=7),
            red_after=timedelta(days=14),
            close_unrated_after=timedelta(days=7),
        )
        r = await stack.http.post("/api/v1/auth/token", data={"username": "supervisor", "password": "wuhuan-demo"})
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        made = 0
        for level in levels_wanted:
            cpu0, t0 = stack.cpu(), time.monotonic()

            async def start(i: int, base: int = made) -> None:
                k = base + i
                case_id = uuid.uuid4().hex
                start = CaseStart(
                    case_id=case_id,
                    case_no=f"SCL-{k:06d}",
                    received_at=datetime.now(UTC),
                    intake=CaseIntake(
                        description=texts[k % len(texts)][0],
                        citizen_name="压测群众",
                        citizen_phone=f"137{k:08d}",
                        channel="web",
                    ),
                    intake_by=CITIZEN,
                    levels=levels,
                )
                await client.start_workflow(DisputeCase.run, start, id=workflow_id(case_id), task_queue=stack.queue)

            n = level - made
            # Started in slices, so that the server's queue holds a few hundred at a time, as a county's would.
            for s in range(0, n, 200):
                await gather_limited(min(200, n - s), 50, lambda i, s=s: start(s + i))
                while settled_count(stack.db_path) < made + s - 200:
                    await asyncio.sleep(0.5)
            while settled_count(stack.db_path) < level:
                await asyncio.sleep(0.5)
            made = level
            took = time.monotonic() - t0
            cpu1 = stack.cpu()
            print(f"{level} open cases settled; {n / took:.1f} cases/s", flush=True)
            await asyncio.sleep(3)
            listing = await timed(lambda: stack.http.get("/api/v1/cases", headers=auth), 20)
            township = await timed(lambda: stack.http.get("/api/v1/cases?township=baita", headers=auth), 20)
            board = await timed(lambda: stack.http.get("/api/v1/supervision/board", headers=auth), 20)
            row = {
                "level": level,
                "rate": n / took,
                "cpu": {k: 1000 * (cpu1[k] - cpu0[k]) / n for k in cpu1},
                "rss": {k: rss_mib(pid) for k, pid in stack.pids().items()},
                "temporal_db": file_mib(stack.server.db, Path(f"{stack.server.db}-wal")),
                "read_db": file_mib(stack.db_path, Path(f"{stack.db_path}-wal")),
                "list": listing,
                "township": township,
                "board": board,
            }
            # A worker restart: kill it, start a new one, and time a new case to its handler.
            stack.worker.kill()
            stack.worker = WuhuanProcess("worker", stack.env, stack.workdir / f"worker-{level}.log")
            t_restart = time.monotonic()
            stack.worker.start()
            r = await stack.http.post(
                "/api/v1/cases",
                json={
                    "description": texts[(made + 7) % len(texts)][0],
                    "citizen": {"name": "重启后", "phone": f"136{level:08d}"},
                    "channel": "web",
                },
            )
            assert r.status_code == 201, r.text
            case_id = r.json()["case_id"]
            while handler_of(stack.db_path, case_id) is None and time.monotonic() - t_restart < 600:
                await asyncio.sleep(0.1)
            row["restart"] = time.monotonic() - t_restart
            made += 1
            rows.append(row)
            print(f"{level}: worker restart to a new case's handler {row['restart']:.1f} s", flush=True)
            a.out.parent.mkdir(parents=True, exist_ok=True)  # each level as soon as it is measured
            a.out.write_text("\n".join(report(rows)) + "\n", encoding="utf-8")
    finally:
        await stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    return report(rows)


def report(rows: list[dict]) -> list[str]:
    from domain.settings import get_settings

    lines = [
        f"open cases at scale, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores,"
        f" load after {os.getloadavg()[0]:.2f}; worker cache {get_settings().worker_cached_workflows}; yellow 7 d,"
        " red 14 d (live timers)",
        "",
    ]
    for row in rows:
        lines += [
            f"{row['level']} open cases (taken in and settled at {row['rate']:.1f} cases/s)",
            "  memory (MiB): " + ", ".join(f"{k} {v:.0f}" for k, v in row["rss"].items() if k != "bare worker"),
            f"  Temporal's database {row['temporal_db']:.0f} MiB; read model {row['read_db']:.0f} MiB",
            f"  GET /api/v1/cases (supervisor, page 1) p50 {1000 * pct(row['list'], 50):.0f} ms, "
            f"p99 {1000 * pct(row['list'], 99):.0f} ms",
            f"  GET /api/v1/cases?township=baita       p50 {1000 * pct(row['township'], 50):.0f} ms, "
            f"p99 {1000 * pct(row['township'], 99):.0f} ms",
            f"  GET /api/v1/supervision/board          p50 {1000 * pct(row['board'], 50):.0f} ms, "
            f"p99 {1000 * pct(row['board'], 99):.0f} ms",
            f"  worker killed and restarted: a new case's handler {row['restart']:.1f} s after the restart",
            "  CPU per case while taking them in (ms): "
            + ", ".join(f"{k} {v:.0f}" for k, v in row["cpu"].items() if k != "bare worker"),
            "",
        ]
    if len(rows) >= 2:
        a0, a1 = rows[0], rows[-1]
        lines.append(
            f"{a0['level']} -> {a1['level']}: intake rate {a1['rate'] / a0['rate']:.2f}x, worker CPU per case "
            f"{a1['cpu']['worker'] / a0['cpu']['worker']:.2f}x, Temporal CPU per case "
            f"{a1['cpu']['temporal'] / a0['cpu']['temporal']:.2f}x, list p50 "
            f"{pct(a1['list'], 50) / pct(a0['list'], 50):.2f}x, board p50 "
            f"{pct(a1['board'], 50) / pct(a0['board'], 50):.2f}x, Temporal's database "
            f"{a1['temporal_db'] / a0['temporal_db']:.1f}x"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--levels", default="1000,10000")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "scale.txt")
    a = p.parse_args(argv)
    warnings.filterwarnings("ignore", message="Skipped unsupported reflection")
    text = "\n".join(asyncio.run(run(a)))
    print(text)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
