"""The whole intake path beside Temporal's own limit, on one dev server in one run (issue 14).

Two loads, alternated round by round (bare, Wuhuan, bare, Wuhuan, ...) on the same Temporal dev server (the venv's
`temporal` binary on a SQLite file in a temp dir, as `make run` starts it):

- bare: Temporal's "case-like" workflow, defined here: two activities, a wait for a signal with a timeout, one
  activity; no codec, no read model. Its own worker process (bench/bare_case.py: the SDK's default worker,
  sandbox and cache) on its own task queue. A burst of N started at once, each signalled as soon as it
  is started; rate = N / (last completion - first start).
- wuhuan: the real HTTP path. `wuhuan api` and `wuhuan worker` processes on a fresh data dir; N anonymous web
  intakes (POST /api/v1/cases) at once; a case has arrived when the read model shows a named handler and, where
  the case needs a team, the team (clock `team` met). Rate = N / (last arrival - first POST). Then, paced at half
  the median bare rate, intake -> named handler p50 and p99 (from the POST being sent).

The county is sized so that the bench measures speed, not staffing: every unit and township gets extra
mediators (the demo county has one each, with a capacity of 30 open cases), and the texts are written texts of
every category and township that the router routes without a clerk (domain/triage_data, bench/data), each used
once, with a distinct phone per citizen.

    .venv/bin/python bench/bench_intake.py [--burst 150] [--rounds 3] [--paced 300]     (or: make bench)

Printed and written to bench/results/intake.txt, with the CPU each process spent per case or workflow. Exits 1
unless a Wuhuan burst had no failed intake and every case arrived (the goal ratios are reported, not enforced:
they are the issue's target, and the figures say where the time goes)."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench"))

from bare_case import BareCase  # noqa: E402

# --- measuring -----------------------------------------------------------------------------------------------

CLK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK
    except OSError:
        return 0.0


def rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} (min {min(values):.1f}, max {max(values):.1f})"


@dataclass
class Burst:
    kind: str
    rate: float
    seconds: float
    cpu: dict[str, float]  # process: CPU seconds per case or workflow
    failed: int = 0
    intake_s: float = 0.0  # wuhuan: until the last POST answered
    latencies: list[float] = field(default_factory=list)
    load: float = field(default_factory=lambda: os.getloadavg()[0])  # 1-min load average as the burst ended


class Stack:
    """The dev server, `wuhuan worker`, `wuhuan api` and the bare worker, on free ports in a temp dir."""

    def __init__(self, workdir: Path, extra_mediators: int, capacity: int | None = None):
        from testkit.processes import DevServer, WuhuanProcess, free_port

        self.workdir = workdir
        self.server = DevServer(workdir)
        self.db_path = workdir / "read.db"
        self.api_port = free_port()
        self.queue = f"bench-{uuid.uuid4().hex[:8]}"
        self.bare_queue = f"bare-{uuid.uuid4().hex[:8]}"
        self.extra_mediators = extra_mediators
        self.capacity = capacity  # every staff member's, when set (else the seed's 30 for a mediator)
        env = dict(
            os.environ,
            WUHUAN_TEMPORAL_ADDRESS=self.server.target,
            WUHUAN_TEMPORAL_NAMESPACE="default",
            WUHUAN_DATABASE_URL=f"sqlite:///{self.db_path}",
            WUHUAN_TEMPORAL_TASK_QUEUE=self.queue,
            WUHUAN_DATA_DIR=str(workdir / "data"),
            WUHUAN_API_HOST="127.0.0.1",
            WUHUAN_API_PORT=str(self.api_port),
            WUHUAN_RATE_LIMIT_INTAKE="100000/minute",
            WUHUAN_RATE_LIMIT_TRACK="100000/minute",
        )
        self.env = env
        self.worker = WuhuanProcess("worker", env, workdir / "worker.log")
        self.api = WuhuanProcess("api", env, workdir / "api.log")
        self.bare = None

    def seed(self) -> None:
        from sqlalchemy import update
        from sqlmodel import select

        from domain.taxonomy import get_taxonomy
        from store.db import make_engine, session
        from store.migrate import upgrade
        from store.seed import seed_demo
        from store.tables import Staff

        engine = make_engine(f"sqlite:///{self.db_path}")
        upgrade(engine)
        seed_demo(engine, get_taxonomy(), "wuhuan-demo", time_cost=1, memory_kib=1024)
        with session(engine) as db:
            mediators = db.exec(select(Staff).where(Staff.role == "mediator")).all()
            for m in mediators:
                for k in range(2, 2 + self.extra_mediators):
                    data = m.model_dump()
                    data.update(username=f"{m.username}{k}", display_name=f"{m.display_name}{k}", phone=None)
                    db.add(Staff(**data))
            db.commit()
            if self.capacity is not None:
                db.execute(update(Staff).values(capacity=self.capacity))
                db.commit()
        engine.dispose()

    async def start(self, client_timeout: float = 60) -> None:
        import subprocess

        import httpx
        from temporalio.client import Client

        from testkit.processes import wait_for

        self.server.start()
        deadline = time.monotonic() + client_timeout
        while True:
            try:
                self.client = await Client.connect(self.server.target)
                await self.client.count_workflows()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.3)
        self.worker.start()
        self.api.start()
        with open(self.workdir / "bare.log", "ab") as out:
            self.bare = subprocess.Popen(
                [sys.executable, str(ROOT / "bench" / "bare_case.py"), self.server.target, self.bare_queue],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.http = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{self.api_port}",
            timeout=60,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=200),
        )

        async def healthy() -> bool:
            for name, proc in (("api", self.api), ("worker", self.worker)):
                if proc.proc is not None and proc.proc.poll() is not None:
                    raise SystemExit(f"`wuhuan {name}` exited:\n{proc.output()}")
            return (await self.http.get("/healthz")).status_code == 200

        await wait_for(healthy, "the API's /healthz", timeout=90, every=0.5)

    def pids(self) -> dict[str, int]:
        out = {"temporal": self.server.proc.pid}  # type: ignore[union-attr]
        for name, p in (("worker", self.worker.proc), ("api", self.api.proc), ("bare worker", self.bare)):
            if p is not None:
                out[name] = p.pid
        out["bench client"] = os.getpid()
        return out

    def cpu(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) for name, pid in self.pids().items()}

    async def stop(self) -> None:
        from testkit.processes import stop_process

        try:
            await self.http.aclose()
        except Exception:
            pass
        for p in (self.api, self.worker):
            p.stop()
        if self.bare is not None:
            stop_process(self.bare)
        self.server.stop()


# --- texts that route without a clerk ------------------------------------------------------------------------


def routable_texts(limit: int) -> list[tuple[str, str]]:
    """(text, category) of the written texts that the shipped router routes at once, each once, shuffled."""
    from domain import automation, routing
    from domain.models import CaseIntake
    from domain.settings import get_settings
    from domain.taxonomy import get_taxonomy
    from domain.triage.service import model_holder

    settings, taxonomy = get_settings(), get_taxonomy()
    model = model_holder(settings.models, taxonomy).get()
    files = sorted((ROOT / "domain" / "triage_data").glob("*.jsonl")) + [ROOT / "bench/data/triage_holdout.jsonl"]
    seen, out = set(), []
    for f in files:
        for line in f.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            text = row["text"].strip()
            if text in seen or not (5 <= len(text) <= 5000):
                continue
            seen.add(text)
            intake = CaseIntake(description=text, citizen_name="测试", citizen_phone="13800000000")
            decision = routing.decide(taxonomy, model, intake, settings.triage_threshold)
            if automation.routing_step(decision) is not None and decision.township:
                out.append((text, decision.category or ""))
    random.Random(14).shuffle(out)
    return out[:limit]


# --- the loads -------------------------------------------------------------------------------------------------


class Arrivals:
    """Polls the read model: when each case first shows a named handler, and its team where it needs one."""

    def __init__(self, path: Path):
        self.path = path
        self.at: dict[str, float] = {}
        self.handler_at: dict[str, float] = {}
        self._task: asyncio.Task | None = None

    def poll_once(self) -> None:
        con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)
        try:
            rows = con.execute(
                "SELECT case_id, clock_team FROM cases WHERE handler IS NOT NULL AND updated_at >= ?",
                (self.since,),
            ).fetchall()
        finally:
            con.close()
        now = time.monotonic()
        for case_id, team_clock in rows:
            self.handler_at.setdefault(case_id, now)
            if team_clock != "running":
                self.at.setdefault(case_id, now)

    async def run(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.poll_once)
            except sqlite3.Error:
                pass
            await asyncio.sleep(0.05)

    def __enter__(self):
        self.since = (datetime.now(UTC) - timedelta(seconds=5)).replace(tzinfo=None).isoformat(sep=" ")
        self._task = asyncio.create_task(self.run())
        return self

    def __exit__(self, *exc):
        assert self._task is not None
        self._task.cancel()


class Loads:
    def __init__(self, stack: Stack, texts: list[tuple[str, str]]):
        self.stack = stack
        self.texts = texts
        self.next_text = 0
        self.phone = 0
        self.case_ids: list[str] = []
        self.refused: dict[str, int] = {}  # failed intakes by status code (or exception name)

    def intake_body(self) -> dict:
        text, _ = self.texts[self.next_text % len(self.texts)]
        self.next_text += 1
        self.phone += 1
        return {
            "description": text,
            "citizen": {"name": "压测群众", "phone": f"139{self.phone:08d}"},
            "channel": "web",
        }

    async def bare_burst(self, n: int) -> Burst:
        client = self.stack.client
        before = self.stack.cpu()
        t0 = time.monotonic()
        ends: list[float] = []

        async def one(i: int) -> None:
            handle = await client.start_workflow(
                BareCase.run, i, id=f"bare-{uuid.uuid4().hex}", task_queue=self.stack.bare_queue
            )
            await handle.signal(BareCase.act)
            await handle.result()
            ends.append(time.monotonic())

        await asyncio.gather(*(one(i) for i in range(n)))
        took = max(ends) - t0
        after = self.stack.cpu()
        return Burst("bare", n / took, took, {k: (after[k] - before[k]) / n for k in after})

    async def post(self, sent: dict[str, float]) -> str | None:
        t = time.monotonic()
        try:
            r = await self.stack.http.post("/api/v1/cases", json=self.intake_body())
        except Exception as e:
            self.refused[type(e).__name__] = self.refused.get(type(e).__name__, 0) + 1
            return None
        if r.status_code != 201:
            self.refused[str(r.status_code)] = self.refused.get(str(r.status_code), 0) + 1
            return None
        case_id = r.json()["case_id"]
        sent[case_id] = t
        self.case_ids.append(case_id)
        return case_id

    async def wuhuan_burst(self, n: int, timeout: float = 300) -> Burst:
        sent: dict[str, float] = {}
        before = self.stack.cpu()
        with Arrivals(self.stack.db_path) as arrivals:
            t0 = time.monotonic()
            ids = await asyncio.gather(*(self.post(sent) for _ in range(n)))
            intake_s = time.monotonic() - t0
            ok = [i for i in ids if i]
            deadline = time.monotonic() + timeout
            while not all(i in arrivals.at for i in ok) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        after = self.stack.cpu()
        arrived = [arrivals.at[i] for i in ok if i in arrivals.at]
        took = (max(arrived) - t0) if arrived else float("inf")
        failed = n - len(ok) + (len(ok) - len(arrived))
        return Burst(
            "wuhuan",
            len(arrived) / took,
            took,
            {k: (after[k] - before[k]) / n for k in after},
            failed=failed,
            intake_s=intake_s,
            latencies=[arrivals.at[i] - sent[i] for i in ok if i in arrivals.at],
        )

    async def wuhuan_paced(self, n: int, rate: float, timeout: float = 120) -> Burst:
        sent: dict[str, float] = {}
        before = self.stack.cpu()
        with Arrivals(self.stack.db_path) as arrivals:
            t0 = time.monotonic()
            tasks = []
            for k in range(n):
                await asyncio.sleep(max(0.0, t0 + k / rate - time.monotonic()))
                tasks.append(asyncio.create_task(self.post(sent)))
            ids = await asyncio.gather(*tasks)
            ok = [i for i in ids if i]
            deadline = time.monotonic() + timeout
            while not all(i in arrivals.at for i in ok) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        after = self.stack.cpu()
        lat = [arrivals.at[i] - sent[i] for i in ok if i in arrivals.at]
        took = time.monotonic() - t0
        return Burst(
            "paced",
            len(lat) / took,
            took,
            {k: (after[k] - before[k]) / n for k in after},
            failed=n - len(lat),
            latencies=lat,
        )


async def history_profile(stack: Stack, case_ids: list[str], sample: int = 10) -> dict[str, float]:
    """Per case, from its history: activities, workflow tasks, and events until now."""
    from workflows.dispute_case import workflow_id

    counts: dict[str, list[int]] = {"activities": [], "workflow tasks": [], "events": []}
    for case_id in random.Random(1).sample(case_ids, min(sample, len(case_ids))):
        history = await stack.client.get_workflow_handle(workflow_id(case_id)).fetch_history()
        names = [e.WhichOneof("attributes") or "" for e in history.events]
        counts["activities"].append(sum(n == "activity_task_scheduled_event_attributes" for n in names))
        counts["workflow tasks"].append(sum(n == "workflow_task_completed_event_attributes" for n in names))
        counts["events"].append(len(names))
    return {k: statistics.mean(v) for k, v in counts.items()}


async def bare_profile(stack: Stack) -> dict[str, float]:
    handle = await stack.client.start_workflow(
        BareCase.run, 0, id=f"bare-{uuid.uuid4().hex}", task_queue=stack.bare_queue
    )
    await handle.signal(BareCase.act)
    await handle.result()
    names = [e.WhichOneof("attributes") or "" for e in (await handle.fetch_history()).events]
    return {
        "activities": sum(n == "activity_task_scheduled_event_attributes" for n in names),
        "workflow tasks": sum(n == "workflow_task_completed_event_attributes" for n in names),
        "events": len(names),
    }


async def run(a: argparse.Namespace) -> tuple[list[str], bool]:
    os.environ.setdefault("WUHUAN_PASSWORD_HASH_TIME_COST", "1")
    os.environ.setdefault("WUHUAN_PASSWORD_HASH_MEMORY_KIB", "1024")
    os.environ.setdefault("WUHUAN_MODEL_DIR", str(Path(tempfile.gettempdir()) / "wuhuan-test-models"))
    os.environ.setdefault("WUHUAN_PAYLOAD_KEYS", "bench1:" + base64.b64encode(os.urandom(32)).decode())
    texts = routable_texts(10_000)
    workdir = Path(tempfile.mkdtemp(prefix="wuhuan-intake-bench-"))
    stack = Stack(workdir, a.extra_mediators)
    stack.seed()
    lines: list[str] = []
    ok = True
    try:
        await stack.start()
        loads = Loads(stack, texts)
        # Warm both paths (model load, sandboxes, connections) before measuring.
        await loads.bare_burst(a.warmup)
        await loads.wuhuan_burst(a.warmup)
        bare: list[Burst] = []
        wuh: list[Burst] = []
        for r in range(a.rounds):
            bare.append(await loads.bare_burst(a.burst))
            print(f"round {r + 1}: bare {bare[-1].rate:.1f}/s", flush=True)
            await asyncio.sleep(1)
            wuh.append(await loads.wuhuan_burst(a.burst))
            print(
                f"round {r + 1}: wuhuan {wuh[-1].rate:.1f}/s, failed {wuh[-1].failed}, "
                f"p50 {pct(wuh[-1].latencies, 50):.2f} s",
                flush=True,
            )
            await asyncio.sleep(1)
        bare_rate = statistics.median(b.rate for b in bare)
        paced_rate = bare_rate / 2
        paced = await loads.wuhuan_paced(a.paced, paced_rate)
        print(f"paced at {paced_rate:.1f}/s: p50 {pct(paced.latencies, 50):.2f} s", flush=True)
        wprof = await history_profile(stack, loads.case_ids)
        bprof = await bare_profile(stack)
        rss = {name: rss_mib(pid) for name, pid in stack.pids().items()}
        refused = loads.refused
    finally:
        await stack.stop()
        worker_log = stack.worker.output()
        shutil.rmtree(workdir, ignore_errors=True)

    ratios = [w.rate / b.rate for b, w in zip(bare, wuh, strict=True)]
    failed = sum(w.failed for w in wuh)
    burst_lat = [x for w in wuh for x in w.latencies]
    ratio = statistics.median(ratios)
    p99 = pct(paced.latencies, 99)
    from domain.settings import get_settings

    cache = get_settings().worker_cached_workflows
    lines += [
        f"intake path vs bare Temporal, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"{os.cpu_count()} cores, load before {os.getloadavg()[0]:.2f}; one dev server; {a.rounds} rounds of "
        f"{a.burst} each, alternated; county: {1 + a.extra_mediators} mediators per unit and township; "
        f"{len(texts)} routable texts; worker cache {cache}",
        "",
        f"{'round':<7}{'bare (wf/s)':>12}{'wuhuan (cases/s)':>18}{'ratio':>7}{'failed':>8}"
        f"{'POSTs done (s)':>16}{'burst p50 (s)':>15}{'p99 (s)':>9}{'load':>7}",
    ]
    for i, (b, w) in enumerate(zip(bare, wuh, strict=True)):
        lines.append(
            f"{i + 1:<7}{b.rate:>12.1f}{w.rate:>18.1f}{w.rate / b.rate:>7.2f}{w.failed:>8}{w.intake_s:>16.2f}"
            f"{pct(w.latencies, 50):>15.2f}{pct(w.latencies, 99):>9.2f}{w.load:>7.2f}"
        )
    lines += [
        "",
        f"bare rate (wf/s), median (min, max):        {spread([b.rate for b in bare])}",
        f"wuhuan burst rate (cases/s):                {spread([w.rate for w in wuh])}",
        f"ratio wuhuan / bare:                        {ratio:.2f} (min {min(ratios):.2f}, max {max(ratios):.2f})"
        f"   goal >= 0.5 (stretch 0.8): {'met' if ratio >= 0.5 else 'MISSED'}",
        f"failed intakes or cases not arrived:        {failed}" + (f"  refused: {refused}" if refused else ""),
        f"burst intake -> named handler p50 / p99 (s): {pct(burst_lat, 50):.2f} / {pct(burst_lat, 99):.2f}",
        f"paced at {paced_rate:.1f}/s ({a.paced} cases, achieved {paced.rate:.1f}/s): intake -> named handler "
        f"p50 {pct(paced.latencies, 50):.3f} s, p99 {p99:.3f} s, max {max(paced.latencies or [0]):.3f} s, "
        f"failed {paced.failed}   goal p99 <= 2 s: {'met' if p99 <= 2 else 'MISSED'}",
        "",
        "CPU seconds per case (wuhuan burst) / per workflow (bare burst), medians over the rounds:",
    ]
    for proc in bare[0].cpu:
        lines.append(
            f"  {proc:<14} bare {1000 * statistics.median(b.cpu[proc] for b in bare):>7.1f} ms"
            f"   wuhuan {1000 * statistics.median(w.cpu[proc] for w in wuh):>7.1f} ms"
            f"   paced {1000 * paced.cpu[proc]:>7.1f} ms"
        )
    lines += [
        "",
        "per case until its handler (and team), from 10 histories / the bare workflow's:",
        "  " + ", ".join(f"{k} {v:.1f}" for k, v in wprof.items()),
        "  bare: " + ", ".join(f"{k} {v:.0f}" for k, v in bprof.items()),
        "resident memory at the end (MiB): " + ", ".join(f"{k} {v:.0f}" for k, v in rss.items()),
    ]
    if failed or paced.failed:
        ok = False
        lines.append("worker log tail:\n" + worker_log[-1500:])
    return lines, ok


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--burst", type=int, default=150)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--paced", type=int, default=300)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--extra-mediators", type=int, default=5, help="mediators added to each unit and township")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "intake.txt")
    a = p.parse_args(argv)
    warnings.filterwarnings("ignore", message="Skipped unsupported reflection")  # SQLite: expression indexes
    lines, ok = asyncio.run(run(a))
    text = "\n".join(lines)
    print(text)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
