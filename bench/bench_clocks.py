"""1,000 clocks falling due at once, beside 1,000 bare Temporal timers on the same dev server (issue 14).

One run, real components (bench/bench_intake.py's stack: the dev server on a SQLite file, `wuhuan worker`, `wuhuan
api`, the bare worker of bench/bare_case.py):

1. bare: 1,000 BareTimer workflows, each sleeping until one common moment; acted on = the workflow's completion
   as the server recorded it (its close time).
2. wuhuan: 1,000 cases started by the project's client (received, routed, assigned, team, as the intake does),
   all with the same received_at and a yellow clock of --lead seconds, so that their 1,000 yellow clocks fall due
   at one moment once every case has settled; acted on = the `clock_breached` (yellow) event written to the read
   model (its recorded_at), which is the case turning yellow with its leaders notified in the same transaction.

Printed: from the due moment, p50, p99 and the time until the last of the 1,000 was acted on, for both; the goal
is the last Wuhuan clock within 1.5x the bare server's time for its last timer.

    .venv/bin/python bench/bench_clocks.py [--clocks 1000] [--lead 420]        (or: make bench)

Results: bench/results/clocks.txt."""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import platform
import shutil
import sqlite3
import statistics
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

from bare_case import BareTimer  # noqa: E402
from bench_intake import Stack, cpu_seconds, pct, routable_texts  # noqa: E402


async def gather_limited(n: int, limit: int, fn) -> list:
    sem = asyncio.Semaphore(limit)

    async def one(i: int):
        async with sem:
            return await fn(i)

    return await asyncio.gather(*(one(i) for i in range(n)))


async def bare_timers(stack: Stack, n: int, lead: float) -> list[float]:
    """Seconds from the common due moment to each timer workflow's close, as the server recorded it."""
    client = stack.client
    due = time.time() + lead
    handles = await gather_limited(
        n,
        50,
        lambda i: client.start_workflow(
            BareTimer.run, due, id=f"timer-{uuid.uuid4().hex}", task_queue=stack.bare_queue
        ),
    )

    async def timer_set(i: int) -> bool:  # its first workflow task done, so its timer is running
        info = (await handles[i].describe()).raw_description
        return info.workflow_execution_info.history_length >= 5 and not info.HasField("pending_workflow_task")

    waiting = list(range(n))
    while waiting and time.time() < due:
        now_waiting = waiting
        done = await gather_limited(len(now_waiting), 50, lambda k, w=now_waiting: timer_set(w[k]))
        waiting = [i for i, ok in zip(now_waiting, done, strict=True) if not ok]
    margin = due - time.time()
    if waiting:
        raise SystemExit(f"{len(waiting)} of {n} timers were not set by their due moment: raise --bare-lead")
    print(f"bare: {n} timers set {margin:.1f} s before their due moment", flush=True)
    await asyncio.sleep(max(0.0, due - time.time()))
    await gather_limited(n, 50, lambda i: handles[i].result())
    closes = await gather_limited(n, 50, lambda i: handles[i].describe())
    return [d.close_time.timestamp() - due for d in closes]


async def wuhuan_clocks(stack: Stack, n: int, lead: float) -> tuple[list[float], float, float, dict[str, float]]:
    """Seconds from the common due moment to each case's yellow `clock_breached` event in the read model; also
    how long the n cases took to settle (a named handler, and team where needed) and how much was left before
    the due moment, and the CPU seconds each process spent from the due moment until the last breach."""
    from domain.models import CITIZEN, CaseIntake, CaseStart, ServiceLevels
    from domain.settings import Settings
    from workflows.dispute_case import DisputeCase, workflow_id
    from workflows.temporal_client import connect

    settings = Settings(
        temporal_address=stack.server.target,
        temporal_task_queue=stack.queue,
        payload_keys=os.environ["WUHUAN_PAYLOAD_KEYS"],
        data_dir=stack.workdir / "data",
    )
    client = await connect(settings)
    texts = routable_texts(n)
    received = datetime.now(UTC)
    due = received + timedelta(seconds=lead)
    levels = ServiceLevels(
        routed_within=timedelta(minutes=3),
        assigned_within=timedelta(minutes=5),
        team_within=timedelta(hours=1),
        yellow_after=timedelta(seconds=lead),
        red_after=timedelta(days=1),
        close_unrated_after=timedelta(days=7),
    )
    run = uuid.uuid4().hex[:6]

    async def start(i: int) -> str:
        case_id = uuid.uuid4().hex
        intake = CaseIntake(
            description=texts[i % len(texts)][0], citizen_name="压测群众", citizen_phone=f"138{i:08d}", channel="web"
        )
        start = CaseStart(
            case_id=case_id,
            case_no=f"CLK-{run}-{i:05d}",
            received_at=received,
            intake=intake,
            intake_by=CITIZEN,
            levels=levels,
        )
        await client.start_workflow(DisputeCase.run, start, id=workflow_id(case_id), task_queue=stack.queue)
        return case_id

    t0 = time.monotonic()
    ids = set(await gather_limited(n, 50, start))

    def settled() -> int:
        con = sqlite3.connect(f"file:{stack.db_path}?mode=ro", uri=True, timeout=5)
        try:
            rows = con.execute(
                "SELECT case_id FROM cases WHERE handler IS NOT NULL AND coalesce(clock_team, '') != 'running'"
            ).fetchall()
        finally:
            con.close()
        return len(ids & {r[0] for r in rows})

    while settled() < n and datetime.now(UTC) < due:
        await asyncio.sleep(0.5)
    settle_s = time.monotonic() - t0
    margin = (due - datetime.now(UTC)).total_seconds()
    await asyncio.sleep(max(0.0, margin))
    cpu0 = stack.cpu()

    def breaches() -> dict[str, datetime]:
        con = sqlite3.connect(f"file:{stack.db_path}?mode=ro", uri=True, timeout=5)
        try:
            rows = con.execute(
                "SELECT case_id, recorded_at FROM case_events WHERE type = 'clock_breached' "
                "AND json_extract(detail, '$.clock') = 'yellow'"
            ).fetchall()
        finally:
            con.close()
        return {cid: datetime.fromisoformat(at).replace(tzinfo=UTC) for cid, at in rows if cid in ids}

    deadline = time.monotonic() + 600
    found = breaches()
    while len(found) < n and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        found = breaches()
    cpu1 = stack.cpu()
    return (
        [(at - due).total_seconds() for at in found.values()],
        settle_s,
        margin,
        {k: cpu1[k] - cpu0[k] for k in cpu1},
    )


async def run(a: argparse.Namespace) -> tuple[list[str], bool]:
    os.environ.setdefault("WUHUAN_PASSWORD_HASH_TIME_COST", "1")
    os.environ.setdefault("WUHUAN_PASSWORD_HASH_MEMORY_KIB", "1024")
    os.environ.setdefault("WUHUAN_MODEL_DIR", str(Path(tempfile.gettempdir()) / "wuhuan-test-models"))
    os.environ.setdefault("WUHUAN_PAYLOAD_KEYS", "bench1:" + base64.b64encode(os.urandom(32)).decode())
    workdir = Path(tempfile.mkdtemp(prefix="wuhuan-clocks-bench-"))
    # Room for every case: a matcher that found nobody free would leave a case waiting for a supervisor.
    stack = Stack(workdir, extra_mediators=2, capacity=max(1000, a.clocks))
    stack.seed()
    load0 = os.getloadavg()[0]
    try:
        await stack.start()
        bare = await bare_timers(stack, a.clocks, a.bare_lead)
        print(f"bare: last of {a.clocks} timers {max(bare):.2f} s after due", flush=True)
        wuh, settle_s, margin, cpu = await wuhuan_clocks(stack, a.clocks, a.lead)
        print(f"wuhuan: last of {len(wuh)} clocks {max(wuh or [float('nan')]):.2f} s after due", flush=True)
        worker_pid = stack.pids()["worker"]
        worker_cpu_total = cpu_seconds(worker_pid)
    finally:
        await stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    from domain.settings import get_settings

    ok = len(wuh) == a.clocks and margin > 0
    ratio = max(wuh) / max(bare) if wuh else float("inf")
    lines = [
        f"clocks falling due at once, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"{os.cpu_count()} cores, load before {load0:.2f}, after {os.getloadavg()[0]:.2f}; one dev server; "
        f"worker cache {get_settings().worker_cached_workflows}",
        "",
        f"{'':<34}{'n':>6}{'p50 (s)':>9}{'p99 (s)':>9}{'last (s)':>10}   (from the due moment)",
        f"{'bare timers (workflow closed)':<34}{len(bare):>6}{pct(bare, 50):>9.2f}{pct(bare, 99):>9.2f}"
        f"{max(bare):>10.2f}",
        f"{'wuhuan yellow clocks (recorded)':<34}{len(wuh):>6}{pct(wuh, 50):>9.2f}{pct(wuh, 99):>9.2f}"
        f"{max(wuh or [float('nan')]):>10.2f}",
        "",
        f"last wuhuan clock / last bare timer: {ratio:.2f}x   goal <= 1.5x: {'met' if ratio <= 1.5 else 'MISSED'}",
        f"the {a.clocks} cases settled (handler, team) in {settle_s:.1f} s, {margin:.1f} s before their clocks fell "
        f"due (lead {a.lead:g} s)" + ("" if margin > 0 else "  -- NOT settled in time: raise --lead"),
        "CPU seconds from the due moment to the last breach: "
        + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items())
        + f"; the worker's whole run {worker_cpu_total:.0f}",
        f"median seconds per clock in the read model: {statistics.median(wuh) if wuh else float('nan'):.2f}",
    ]
    return lines, ok


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clocks", type=int, default=1000)
    p.add_argument("--lead", type=float, default=420.0, help="seconds from the common intake to the yellow clock")
    p.add_argument("--bare-lead", type=float, default=120.0, help="seconds from starting the timers to their due")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "clocks.txt")
    a = p.parse_args(argv)
    warnings.filterwarnings("ignore", message="Skipped unsupported reflection")
    lines, ok = asyncio.run(run(a))
    text = "\n".join(lines)
    print(text)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
