"""The fault-injection harness: cases in flight on real components while faults are injected, then every
check that durability holds. bench/fault_suite.py (`make fault`) runs it in full and writes the figures to
bench/results/fault.txt; tests/e2e/test_fault_suite.py runs it with small numbers in every `make test`;
bench/bench_worker_cache.py runs it with every fault switched off to measure the worker's cache.

Real components only: the Temporal dev server (the venv's `temporal` binary) as its own process on a SQLite
file in a temp dir, `wuhuan worker` processes, a SQLite read model seeded with the demo county. N cases are
started with compressed clocks (a third resolved and rated early, a third left to turn yellow then red and
then resolved, a third withdrawn) while:

1. the worker is killed with SIGKILL at random moments K times, and restarted each time;
2. the dev server is stopped (SIGTERM) and restarted on the same SQLite file;
3. the read model is made unavailable for a while: another process holds `BEGIN EXCLUSIVE` on it, so every
   write of the worker's activities waits out its busy timeout, fails and is retried by Temporal;
4. the message webhook (a real local HTTP server, testkit/gateway.py) answers 503 to everything from the start
   until a while after the first case event (a worker may take seconds to start), then accepts: the relay
   retries with backoff while the cases go on;
5. the SMS gateway (another such server) refuses every text in the same way for longer than the webhook, then
   accepts: the staff's urgent texts and the citizens' texts wait in the outbox while the cases and the webhook
   go on.

Then it checks: every case reached its expected end state; every clock fired at most once (yellow and red
exactly once on the cases left to go red); nobody was notified twice of the same thing (assigned,
turned_yellow, turned_red per case and recipient); `audit reconcile` finds nothing to repair; every event
chain verifies; every history replays against today's code; every message reached the webhook (at least once;
a repeat carries the same X-Wuhuan-Delivery id, so the receiver drops it); every text queued reached the SMS
gateway, each delivery id accepted once. (The demo county's staff get a
capacity that fits every case: the matcher never assigns anyone over capacity, and a case nobody can take waits
for a supervisor.) It reports the time to recover after each fault (from the restart, or the end of the
outage, until the next event reaches the read model; for the webhook, until its backlog is delivered) and the
worker's CPU time.

`run_suite(Config(...), workdir)` returns a `Result`: `ok`, `problems` and `table()` (the figures as printed and
written by `make fault`). Importing this module sets in the environment, unless already set (under pytest,
tests/conftest.py has set them first): cheap password hashing, the shared triage model directory and a random
payload key. The worker processes it starts inherit that environment, so they and the suite's client read each
other's encrypted payloads."""

from __future__ import annotations

import asyncio
import base64
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("WUHUAN_PASSWORD_HASH_TIME_COST", "1")
os.environ.setdefault("WUHUAN_PASSWORD_HASH_MEMORY_KIB", "1024")
os.environ.setdefault("WUHUAN_MODEL_DIR", str(Path(tempfile.gettempdir()) / "wuhuan-test-models"))
os.environ.setdefault("WUHUAN_PAYLOAD_KEYS", "fault1:" + base64.b64encode(os.urandom(32)).decode())

from temporalio.client import Client, WorkflowUpdateFailedError  # noqa: E402
from temporalio.exceptions import WorkflowAlreadyStartedError  # noqa: E402
from temporalio.worker import Replayer  # noqa: E402

from domain.models import (  # noqa: E402
    CITIZEN,
    Actor,
    CaseIntake,
    CaseStart,
    CaseState,
    MediationAction,
    RateAction,
    ResolveAction,
    ServiceLevels,
    WithdrawAction,
)
from testkit.gateway import ACCEPT, Gateway  # noqa: E402
from testkit.processes import DevServer, WuhuanProcess  # noqa: E402
from worker import WORKFLOWS  # noqa: E402
from workflows.dispute_case import DisputeCase, workflow_id  # noqa: E402

TEXTS = [
    "白塔镇某工地包工头拖欠我们十几个工人三个月工资，共计八万多元，老板电话也打不通了",
    "我在福应街道一家饭店打工半年，老板一直拖着不发工资，还有两万多元没有结清",
    "建筑工地的劳务公司欠我们农民工工资一年多了，多次讨要都说没钱",
]
PLANS = ("resolve", "red", "withdraw")
EXPECTED_STATUS = {"resolve": "closed", "red": "closed", "withdraw": "withdrawn"}
NOTIFY_KINDS = ("assigned", "turned_yellow", "turned_red")


@dataclass
class Config:
    cases: int = 200
    kills: int = 5
    yellow: float = 10.0
    red: float = 20.0
    spread: float = 60.0  # cases are started over this many seconds, so faults hit cases in flight
    server_restart: bool = True
    server_down: float = 3.0  # seconds the dev server stays stopped
    db_outage: float = 35.0  # seconds the read model stays locked (0: skip); > the 30 s busy timeout
    seed: int | None = None
    timeout: float = 600.0  # the whole run
    cached_workflows: int | None = None  # the worker's WUHUAN_WORKER_CACHED_WORKFLOWS (None: its default)
    webhook_outage: float = 30.0  # seconds the message webhook refuses everything from the start (0: no webhook)
    sms_outage: float = 45.0  # seconds the SMS gateway refuses every text from the start (0: no texts)


@dataclass
class Fault:
    what: str
    at: float  # seconds since the start of the run
    recovered_after: float | None = None
    note: str = ""


@dataclass
class Result:
    config: Config
    faults: list[Fault] = field(default_factory=list)
    wrong_end: list[str] = field(default_factory=list)
    duplicate_clocks: list[str] = field(default_factory=list)
    duplicate_notifications: list[str] = field(default_factory=list)
    missing_notifications: list[str] = field(default_factory=list)
    seq_gaps: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    broken_chains: list[str] = field(default_factory=list)
    not_replaying: list[str] = field(default_factory=list)
    replayed: int = 0
    undelivered: list[str] = field(default_factory=list)  # webhook messages still pending at the end
    missing_outbox: list[str] = field(default_factory=list)  # inbox messages with no webhook delivery row
    webhook_refused: int = 0  # POSTs the webhook refused during its outage
    webhook_accepted: int = 0
    webhook_repeats: int = 0  # accepted POSTs repeating a delivery id already accepted (receiver drops them)
    events_during_outage: int = 0  # case events recorded while the webhook refused: the cases did not wait
    sms_rows: int = 0  # texts queued (staff and citizens)
    sms_citizen: int = 0  # of them, to citizens
    sms_refused: int = 0
    sms_accepted: int = 0
    sms_repeats: int = 0  # accepted POSTs repeating a delivery id already accepted
    sms_not_accepted: list[str] = field(default_factory=list)  # texts whose id the gateway never accepted
    sms_events_during_outage: int = 0  # case events recorded while the SMS gateway refused
    chains_verified: int = 0
    events: int = 0
    notifications: int = 0
    locked_failures: int = 0  # activity attempts that failed on the locked read model (worker log)
    ended: Counter = field(default_factory=Counter)
    duration: float = 0.0
    worker_starts: int = 0
    worker_cpu: float = 0.0  # CPU seconds (user + system) of every worker process of the run
    # Each driver's read of its open case's view from the read model, as the API does (no query reaches a case).
    query_ms: list[float] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        out = []
        for name in (
            "wrong_end",
            "duplicate_clocks",
            "duplicate_notifications",
            "missing_notifications",
            "seq_gaps",
            "drift",
            "broken_chains",
            "not_replaying",
            "undelivered",
            "missing_outbox",
            "sms_not_accepted",
        ):
            out += [f"{name}: {p}" for p in getattr(self, name)]
        if self.config.webhook_outage > 0 and (self.webhook_refused == 0 or self.events_during_outage == 0):
            out.append("webhook outage: nothing was refused, or the cases recorded nothing while it lasted")
        if self.config.sms_outage > 0 and (
            self.sms_refused == 0 or self.sms_events_during_outage == 0 or self.sms_citizen == 0
        ):
            out.append("SMS outage: nothing refused, no citizen texted, or no case events recorded meanwhile")
        if self.config.db_outage >= 31 and self.locked_failures == 0:
            out.append("db outage: no activity failed on the locked read model, so nothing proved it retried")
        if any(f.recovered_after is None for f in self.faults):
            out.append(
                "a fault was never recovered from: "
                + ", ".join(f.what for f in self.faults if f.recovered_after is None)
            )
        return out

    @property
    def ok(self) -> bool:
        return not self.problems

    def table(self) -> str:
        c = self.config
        lines = [
            f"fault suite, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {self.duration:.0f} s",
            f"cases {c.cases} (resolve {sum(1 for i in range(c.cases) if PLANS[i % 3] == 'resolve')}, "
            f"red {sum(1 for i in range(c.cases) if PLANS[i % 3] == 'red')}, "
            f"withdraw {sum(1 for i in range(c.cases) if PLANS[i % 3] == 'withdraw')}); "
            f"clocks yellow {c.yellow:g} s, red {c.red:g} s",
            "",
            f"{'fault':<34}{'at (s)':>8}{'recover (s)':>13}  note",
        ]
        for f in self.faults:
            rec = f"{f.recovered_after:.1f}" if f.recovered_after is not None else "NEVER"
            lines.append(f"{f.what:<34}{f.at:>8.1f}{rec:>13}  {f.note}")
        recs = [f.recovered_after for f in self.faults if f.recovered_after is not None]
        lines += [
            "",
            f"{'worker kills (SIGKILL)':<44}{sum(1 for f in self.faults if f.what.startswith('worker kill'))}",
            f"{'dev server restarts':<44}{sum(1 for f in self.faults if f.what.startswith('dev server'))}",
            f"{'read model outage (s)':<44}{c.db_outage:g}",
            f"{'activity attempts failed on the lock':<44}{self.locked_failures}",
            f"{'worst time to recover (s)':<44}{max(recs):.1f}" if recs else "worst time to recover: -",
            f"{'cases ended as expected':<44}{c.cases - len(self.wrong_end)} / {c.cases}  {dict(self.ended)}",
            f"{'duplicate clock breaches':<44}{len(self.duplicate_clocks)}",
            f"{'duplicate notifications':<44}{len(self.duplicate_notifications)}",
            f"{'missing notifications':<44}{len(self.missing_notifications)}",
            f"{'event seq gaps':<44}{len(self.seq_gaps)}",
            f"{'reconcile: cases to repair':<44}{len(self.drift)}",
            f"{'chains verified / broken':<44}{self.chains_verified} / {len(self.broken_chains)}",
            f"{'webhook: refused / accepted POSTs':<44}{self.webhook_refused} / {self.webhook_accepted}",
            f"{'webhook: repeated delivery ids (dropped)':<44}{self.webhook_repeats}",
            f"{'webhook: undelivered at the end':<44}{len(self.undelivered)}",
            f"{'case events recorded while it refused':<44}{self.events_during_outage}",
            f"{'texts queued (to citizens)':<44}{self.sms_rows} ({self.sms_citizen})",
            f"{'SMS: refused / accepted POSTs':<44}{self.sms_refused} / {self.sms_accepted}",
            f"{'SMS: ids accepted twice (dropped) / never':<44}{self.sms_repeats} / {len(self.sms_not_accepted)}",
            f"{'case events recorded while SMS refused':<44}{self.sms_events_during_outage}",
            f"{'histories replayed / not deterministic':<44}{self.replayed} / {len(self.not_replaying)}",
            f"{'worker CPU (s), per case (ms)':<44}{self.worker_cpu:.1f}, "
            f"{1000 * self.worker_cpu / max(c.cases, 1):.0f}",
            f"{'worker cached workflows':<44}{'default' if c.cached_workflows is None else c.cached_workflows}",
            f"{'events / notifications in the read model':<44}{self.events} / {self.notifications}",
            "",
            "PASS" if self.ok else "FAIL\n" + "\n".join(self.problems[:30]),
        ]
        return "\n".join(lines)


async def connect(target: str, timeout: float = 60) -> Client:
    from domain.settings import Settings
    from workflows.temporal_client import client_interceptors, data_converter

    settings = Settings(payload_keys=os.environ["WUHUAN_PAYLOAD_KEYS"])
    converter = data_converter(settings)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client = await Client.connect(target, data_converter=converter, interceptors=client_interceptors(settings))
            await client.count_workflows()
            return client
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)


ENDED = {"closed", "withdrawn", "rejected"}


class ReadModel:
    """Polls the read model (sqlite3, read-only queries; WAL lets them run during the write lock): the case rows
    the drivers wait on, and the event count whose growth is 'progress'."""

    def __init__(self, path: Path):
        self.path = path
        self.rows: dict[str, tuple[str | None, str, str]] = {}  # case_id: (handler, colour, status)
        self.progress: list[tuple[float, int]] = []  # (monotonic time, events in the read model)

    def poll_once(self) -> None:
        con = sqlite3.connect(self.path, timeout=5)
        try:
            n = con.execute("SELECT count(*) FROM case_events").fetchone()[0]
            self.rows = {
                cid: (h, col, st)
                for cid, h, col, st in con.execute("SELECT case_id, handler, colour, status FROM cases")
            }
        finally:
            con.close()
        self.progress.append((time.monotonic(), n))

    async def run(self) -> None:
        while True:
            try:
                self.poll_once()
            except sqlite3.Error:
                pass
            await asyncio.sleep(0.25)

    def count(self) -> int:
        return self.progress[-1][1] if self.progress else 0

    def case_state(self, case_id: str) -> CaseState | None:
        """The case's state as the read model holds it (cases.state): what the API's case view shows."""
        con = sqlite3.connect(self.path, timeout=5)
        try:
            row = con.execute("SELECT state FROM cases WHERE case_id = ?", (case_id,)).fetchone()
        finally:
            con.close()
        return CaseState.model_validate_json(row[0]) if row and row[0] else None

    def all_ended(self, expected: int) -> bool:
        return len(self.rows) >= expected and all(st in ENDED for _, _, st in self.rows.values())

    async def next_progress(self, since: float, timeout: float, expected: int) -> float | None:
        """Seconds from `since` until the event count grows past what it was at `since`; 0 when every case
        had already ended (nothing left to recover)."""
        base = max((n for t, n in self.progress if t <= since), default=0)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            after = [t for t, n in self.progress if t > since and n > base]
            if after:
                return after[0] - since
            if self.all_ended(expected):
                return 0.0
            await asyncio.sleep(0.1)
        return None


async def _retry(fn, what: str, timeout: float = 300):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await asyncio.wait_for(fn(), 30)
        except (WorkflowUpdateFailedError, WorkflowAlreadyStartedError):
            raise
        except Exception as e:  # the worker or the server is down: try again
            if time.monotonic() > deadline:
                raise AssertionError(f"gave up on {what}: {e!r}") from e
            await asyncio.sleep(0.5 + random.random())


async def _until(check, what: str, timeout: float = 300):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.5)


async def drive_case(
    client: Client,
    task_queue: str,
    rm: ReadModel,
    i: int,
    case_id: str,
    plan: str,
    levels: ServiceLevels,
    delay: float,
    query_ms: list[float],
) -> str:
    await asyncio.sleep(delay)
    start = CaseStart(
        case_id=case_id,
        case_no=f"FLT-{i:04d}",
        received_at=datetime.now(UTC),
        intake=CaseIntake(
            description=TEXTS[i % len(TEXTS)], citizen_name=f"测试{i}", citizen_phone=f"139{i:08d}", channel="web"
        ),
        intake_by=CITIZEN,
        levels=levels,
    )
    try:
        await _retry(
            lambda: client.start_workflow(DisputeCase.run, start, id=workflow_id(case_id), task_queue=task_queue),
            f"starting case {i}",
        )
    except WorkflowAlreadyStartedError:
        pass  # an earlier attempt started it and its answer was lost
    handle = client.get_workflow_handle_for(DisputeCase.run, workflow_id(case_id))

    await _until(lambda: (rm.rows.get(case_id) or (None,))[0] is not None, f"case {i} assigned")
    if plan == "red":
        await _until(lambda: rm.rows[case_id][1] == "red", f"case {i} red")
    else:
        await asyncio.sleep(random.uniform(1, 4))

    # The case view and every check after a refused step read the read model, as the API does: a query
    # answered by a worker that picked the case up after a kill could run it ahead of its history
    # (docs/durability.md, "The cache and replay"). Nothing here queries a case.
    async def read_state() -> CaseState:
        def read() -> CaseState:
            st = rm.case_state(case_id)
            if st is None:
                raise LookupError(f"case {i} not in the read model yet")
            return st

        return await asyncio.to_thread(read)

    asked = time.perf_counter()
    st = await _retry(read_state, f"reading case {i}")
    query_ms.append(1000 * (time.perf_counter() - asked))
    handler = Actor(**st.handler.model_dump())

    async def update(name, method, action, done: set[str]):
        try:
            await _retry(lambda: handle.execute_update(method, action, id=name), f"{name} on case {i}")
        except WorkflowUpdateFailedError:
            now = await _retry(read_state, f"reading case {i}")
            if now.status.value not in done:
                raise

    if plan == "withdraw":
        await update(
            "withdraw", DisputeCase.withdraw, WithdrawAction(actor=handler, reason="当事人自行和解"), {"withdrawn"}
        )
    else:
        await update(
            "mediate",
            DisputeCase.record_mediation,
            MediationAction(actor=handler, summary="组织双方调解", held_at=datetime.now(UTC), participants=["申请人"]),
            {"mediating", "resolved", "closed"},
        )
        await update(
            "resolve",
            DisputeCase.resolve,
            ResolveAction(actor=handler, outcome="agreement", summary="达成协议"),
            {"resolved", "closed"},
        )
        await update("rate", DisputeCase.rate, RateAction(actor=CITIZEN, score=5), {"closed"})
    outcome = await _retry(lambda: handle.result(), f"result of case {i}", timeout=600)
    return outcome.status.value


def cpu_seconds(process: WuhuanProcess) -> float:
    """User + system CPU of a running process (Linux /proc), 0 when it is not running."""
    if process.proc is None or process.proc.poll() is not None:
        return 0.0
    try:
        fields = Path(f"/proc/{process.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _lock_holder(db: Path, seconds: float) -> subprocess.Popen:
    code = (
        "import sqlite3, sys, time\n"
        "con = sqlite3.connect(sys.argv[1], timeout=60, isolation_level=None)\n"
        "con.execute('BEGIN EXCLUSIVE')\n"
        "print('locked', flush=True)\n"
        "time.sleep(float(sys.argv[2]))\n"
        "con.execute('ROLLBACK')\n"
    )
    return subprocess.Popen([sys.executable, "-c", code, str(db), str(seconds)], stdout=subprocess.PIPE)


async def chaos(
    cfg: Config, rm: ReadModel, worker: WuhuanProcess, server: DevServer, t0: float, result: Result, say
) -> None:
    rnd = random.Random(cfg.seed)

    async def recovered(fault: Fault, since: float) -> None:
        fault.recovered_after = await rm.next_progress(since, timeout=120, expected=cfg.cases)
        if fault.recovered_after == 0.0:
            fault.note += " (every case had already ended)"
        say(f"  {fault.what}: recovered after {fault.recovered_after}")

    await _until(lambda: rm.count() > 0, "the first case event")
    for k in range(cfg.kills):
        await asyncio.sleep(rnd.uniform(1.0, 4.0))
        result.worker_cpu += cpu_seconds(worker)
        worker.kill()
        fault = Fault(f"worker kill {k + 1} (SIGKILL)", time.monotonic() - t0)
        result.faults.append(fault)
        await asyncio.sleep(rnd.uniform(0.2, 2.0))
        restarted = time.monotonic()
        worker.start()
        result.worker_starts += 1
        fault.note = f"down {restarted - t0 - fault.at:.1f} s"
        say(f"killed the worker at {fault.at:.1f} s")
        await recovered(fault, restarted)

    if cfg.server_restart:
        await asyncio.sleep(rnd.uniform(1.0, 3.0))
        fault = Fault("dev server stop+restart (SIGTERM)", time.monotonic() - t0)
        result.faults.append(fault)
        await asyncio.to_thread(server.stop, signal.SIGTERM)
        await asyncio.sleep(cfg.server_down)
        restarted = time.monotonic()
        server.start()
        fault.note = f"down {restarted - t0 - fault.at:.1f} s, same SQLite file"
        say(f"restarted the dev server at {restarted - t0:.1f} s")
        await recovered(fault, restarted)

    if cfg.db_outage > 0:
        await asyncio.sleep(rnd.uniform(1.0, 3.0))
        db = Path(rm.path)
        holder = _lock_holder(db, cfg.db_outage)
        await asyncio.to_thread(holder.stdout.readline)
        fault = Fault(f"read model locked {cfg.db_outage:g} s", time.monotonic() - t0)
        result.faults.append(fault)
        say(f"locked the read model at {fault.at:.1f} s")
        await asyncio.to_thread(holder.wait)
        released = time.monotonic()
        fault.note = f"BEGIN EXCLUSIVE in another process, released at {released - t0:.1f} s"
        await recovered(fault, released)


def pending_deliveries(db: Path, created_before: datetime | None = None, channel: str = "webhook") -> int:
    con = sqlite3.connect(db, timeout=5)
    try:
        sql = "SELECT count(*) FROM notification_deliveries WHERE status = 'pending' AND channel = ?"
        args: tuple = (channel,)
        if created_before is not None:
            sql, args = sql + " AND created_at <= ?", (*args, created_before.replace(tzinfo=None).isoformat(" "))
        return con.execute(sql, args).fetchone()[0]
    finally:
        con.close()


async def webhook_outage(cfg: Config, gateway, rm: ReadModel, t0: float, result: Result, say) -> None:
    """The webhook refuses (503) from the start until `webhook_outage` seconds after the first case event, then
    accepts; recovered once every message queued before it came back has been delivered."""
    result.events_during_outage = await channel_outage(
        "webhook",
        f"webhook refusing {cfg.webhook_outage:g} s (503)",
        cfg.webhook_outage,
        gateway,
        rm,
        t0,
        result,
        say,
        from_first_event=True,
    )


async def sms_outage(cfg: Config, gateway, rm: ReadModel, t0: float, result: Result, say) -> None:
    """The SMS gateway refuses (503) from the start until `sms_outage` seconds after the first case event, then
    accepts; recovered once every text queued before it came back has been delivered."""
    result.sms_events_during_outage = await channel_outage(
        "sms",
        f"SMS gateway refusing {cfg.sms_outage:g} s (503)",
        cfg.sms_outage,
        gateway,
        rm,
        t0,
        result,
        say,
        from_first_event=True,
    )


async def channel_outage(
    channel: str,
    what: str,
    seconds: float,
    gateway,
    rm: ReadModel,
    t0: float,
    result: Result,
    say,
    from_first_event: bool = False,
) -> int:
    """A channel's receiver refuses from the start for `seconds` (or, `from_first_event`, for `seconds` after the
    first case event: texts begin with the cases, not with the worker), then accepts. Returns the case events
    recorded while it refused (the cases did not wait for it)."""
    fault = Fault(what, time.monotonic() - t0)
    result.faults.append(fault)
    await _until(lambda: rm.count() > 0, "the first case event")
    before = rm.count()
    if from_first_event:
        fault.at = time.monotonic() - t0
    await asyncio.sleep(max(0.0, seconds - (time.monotonic() - t0 - fault.at)))
    during = rm.count() - before
    backlog_until = datetime.now(UTC)
    gateway.then = ACCEPT
    back = time.monotonic()
    fault.note = f"{pending_deliveries(rm.path, backlog_until, channel)} messages waiting when it came back"
    say(f"the {channel} channel accepts again at {back - t0:.1f} s; {fault.note}")
    deadline = back + 120
    while time.monotonic() < deadline:
        try:
            if pending_deliveries(rm.path, backlog_until, channel) == 0:
                fault.recovered_after = time.monotonic() - back
                break
        except sqlite3.Error:
            pass
        await asyncio.sleep(0.25)
    say(f"  {channel}: backlog delivered after {fault.recovered_after}")
    return during


def check_texts(gateway, engine, result: Result) -> None:
    """Every text queued was accepted by the SMS gateway under its own id, and no id was accepted twice (after
    check_webhook has waited for the outbox to drain)."""
    from sqlmodel import select

    from store.db import session
    from store.tables import NotificationDelivery as D

    with session(engine) as db:
        rows = list(db.exec(select(D.key, D.recipient).where(D.channel == "sms")))
    result.sms_rows = len(rows)
    result.sms_citizen = sum(1 for _, r in rows if r.startswith("citizen:"))
    posts = gateway.posts()
    accepted = [p.delivery for p in posts if p.accepted]
    result.sms_refused = sum(1 for p in posts if not p.accepted)
    result.sms_accepted = len(accepted)
    result.sms_repeats = len(accepted) - len(set(accepted))
    got = set(accepted)
    result.sms_not_accepted = [f"{k} to {r}" for k, r in rows if f"{k}:{r}:sms" not in got]


async def check_webhook(gateway, engine, result: Result, timeout: float = 60) -> None:
    """Every inbox message has its webhook row, and every row is delivered (waiting out the last backoffs)."""
    from sqlmodel import select

    from store.db import session
    from store.tables import Notification, NotificationDelivery

    deadline = time.monotonic() + timeout
    while True:
        with session(engine) as db:
            rows = list(db.exec(select(NotificationDelivery)))
            inbox = set(db.exec(select(Notification.key, Notification.recipient)))
        pending = [r for r in rows if r.status != "delivered"]  # every channel's
        if not pending or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    result.undelivered = [
        f"{r.case_id} {r.kind} to {r.recipient}: {r.attempts} attempts, {r.last_error}" for r in pending
    ]
    queued = {(r.key, r.recipient) for r in rows if r.channel == "webhook"}
    if gateway is None:
        return
    result.missing_outbox = [f"{key} to {recipient}" for key, recipient in sorted(inbox - queued)]
    posts = gateway.posts()
    accepted = [p.delivery for p in posts if p.accepted]
    result.webhook_refused = sum(1 for p in posts if not p.accepted)
    result.webhook_accepted = len(accepted)
    result.webhook_repeats = len(accepted) - len(set(accepted))


async def run_suite(cfg: Config, workdir: Path, say=print) -> Result:
    from sqlalchemy import update
    from sqlmodel import select

    from cli.audit import reconcile
    from domain import audit_chain
    from domain.taxonomy import get_taxonomy
    from store import chain
    from store.db import make_engine, session
    from store.migrate import upgrade
    from store.seed import seed_demo
    from store.tables import CaseEventRow, Notification, Staff

    if cfg.seed is not None:
        random.seed(cfg.seed)
    result = Result(cfg)
    t0 = time.monotonic()
    db_path = workdir / "read.db"
    db_url = f"sqlite:///{db_path}"
    engine = make_engine(db_url)
    upgrade(engine)
    seed_demo(engine, get_taxonomy(), "wuhuan-demo", time_cost=1, memory_kib=1024)
    with session(engine) as db:  # enough room for every case: the matcher never assigns over a capacity
        db.execute(update(Staff).values(capacity=max(1000, cfg.cases * 2)))
        db.commit()
    server = DevServer(workdir)
    task_queue = f"fault-{uuid.uuid4().hex[:8]}"
    (workdir / "payload.keys").write_text(os.environ["WUHUAN_PAYLOAD_KEYS"] + "\n")  # to read kept histories
    extra = {} if cfg.cached_workflows is None else {"WUHUAN_WORKER_CACHED_WORKFLOWS": str(cfg.cached_workflows)}
    gateway = None
    if cfg.webhook_outage > 0:
        gateway = Gateway(then=503)  # a real HTTP server; backoff compressed like the clocks
        extra.update(
            WUHUAN_NOTIFY_WEBHOOK_URL=gateway.url,
            WUHUAN_NOTIFY_RETRY_INITIAL="PT1S",
            WUHUAN_NOTIFY_RETRY_MAX="PT4S",
            WUHUAN_NOTIFY_RELAY_INTERVAL="PT0.5S",
        )
    sms = None
    if cfg.sms_outage > 0:
        sms = Gateway(then=503)  # the SMS gateway: texts for urgent staff messages and for the citizens
        extra.update(
            WUHUAN_SMS_GATEWAY_URL=sms.url,
            WUHUAN_NOTIFY_RETRY_INITIAL="PT1S",
            WUHUAN_NOTIFY_RETRY_MAX="PT4S",
            WUHUAN_NOTIFY_RELAY_INTERVAL="PT0.5S",
        )
    worker = WuhuanProcess(
        "worker",
        dict(
            os.environ,
            **extra,
            WUHUAN_TEMPORAL_ADDRESS=server.target,
            WUHUAN_TEMPORAL_NAMESPACE="default",
            WUHUAN_DATABASE_URL=db_url,
            WUHUAN_TEMPORAL_TASK_QUEUE=task_queue,
            WUHUAN_DATA_DIR=str(workdir / "data"),
        ),
        workdir / "worker.log",
    )
    rm = ReadModel(db_path)
    tasks: list[asyncio.Task] = []
    try:
        server.start()
        client = await connect(server.target)
        worker.start()
        result.worker_starts += 1
        say(f"dev server on {server.target}, worker started; {cfg.cases} cases over {cfg.spread:g} s")
        poller = asyncio.create_task(rm.run())
        tasks.append(poller)
        levels = ServiceLevels(
            routed_within=timedelta(minutes=3),
            assigned_within=timedelta(minutes=5),
            team_within=timedelta(hours=1),
            yellow_after=timedelta(seconds=cfg.yellow),
            red_after=timedelta(seconds=cfg.red),
            close_unrated_after=timedelta(days=7),
        )
        ids = [uuid.uuid4().hex for _ in range(cfg.cases)]
        plans = {cid: PLANS[i % 3] for i, cid in enumerate(ids)}
        drivers = [
            asyncio.create_task(
                drive_case(
                    client,
                    task_queue,
                    rm,
                    i,
                    cid,
                    plans[cid],
                    levels,
                    cfg.spread * i / max(cfg.cases, 1),
                    result.query_ms,
                )
            )
            for i, cid in enumerate(ids)
        ]
        tasks += drivers
        faults = [asyncio.create_task(chaos(cfg, rm, worker, server, t0, result, say))]
        if gateway is not None:
            faults.append(asyncio.create_task(webhook_outage(cfg, gateway, rm, t0, result, say)))
        if sms is not None:
            faults.append(asyncio.create_task(sms_outage(cfg, sms, rm, t0, result, say)))
        tasks += faults
        await asyncio.wait_for(asyncio.gather(*faults), cfg.timeout)
        outcomes = await asyncio.wait_for(
            asyncio.gather(*drivers, return_exceptions=True), max(30.0, cfg.timeout - (time.monotonic() - t0))
        )
        say(f"all cases ended at {time.monotonic() - t0:.1f} s; checking")

        # The end state, from the workflow and from the read model (the latter may lag by a moment).
        def read_rows():
            rm.poll_once()
            return all(rm.rows.get(cid, (None, None, None))[2] == EXPECTED_STATUS[plans[cid]] for cid in ids)

        deadline = time.monotonic() + 30
        while not read_rows() and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        for i, (cid, outcome) in enumerate(zip(ids, outcomes, strict=True)):
            row = rm.rows.get(cid, (None, None, None))
            result.ended[str(outcome) if not isinstance(outcome, BaseException) else "error"] += 1
            if isinstance(outcome, BaseException):
                result.wrong_end.append(f"case {i} ({plans[cid]}): {outcome!r}"[:300])
            elif outcome != EXPECTED_STATUS[plans[cid]] or row[2] != outcome:
                result.wrong_end.append(f"case {i} ({plans[cid]}): workflow {outcome}, read model {row[2]}")
            elif plans[cid] == "red" and row[1] != "red":
                result.wrong_end.append(f"case {i} (red): colour {row[1]}")

        with session(engine) as db:
            events = list(
                db.exec(select(CaseEventRow.case_id, CaseEventRow.seq, CaseEventRow.type, CaseEventRow.detail))
            )
            notes = list(db.exec(select(Notification.case_id, Notification.recipient, Notification.kind)))
            result.events, result.notifications = len(events), len(notes)
            numbers = chain.case_numbers(db)
            for cid, rows in chain.chains(db):
                result.chains_verified += 1
                broken = audit_chain.verify(rows, expected_last_seq=numbers.get(cid, (None, None))[1])
                if broken is not None:
                    result.broken_chains.append(f"{cid}: {broken.describe()}")
        by_case: dict[str, list] = {}
        for cid, seq, typ, detail in events:
            by_case.setdefault(cid, []).append((seq, typ, detail))
        for i, cid in enumerate(ids):
            evs = sorted(by_case.get(cid, []), key=lambda e: e[0])
            if [e[0] for e in evs] != list(range(1, len(evs) + 1)):
                result.seq_gaps.append(f"case {i}: seqs {[e[0] for e in evs]}")
            breaches = Counter(e[2]["clock"] for e in evs if e[1] == "clock_breached")
            turned = Counter(e[1] for e in evs if e[1] in ("turned_yellow", "turned_red"))
            for what, n in (breaches + turned).items():
                if n > 1:
                    result.duplicate_clocks.append(f"case {i}: {what} x{n}")
            if plans[cid] == "red" and not (breaches["yellow"] == 1 and breaches["red"] == 1):
                result.wrong_end.append(f"case {i} (red): clocks breached {dict(breaches)}")
        per = Counter((cid, r, k) for cid, r, k in notes if k in NOTIFY_KINDS)
        result.duplicate_notifications += [f"{cid} {r} {k} x{n}" for (cid, r, k), n in per.items() if n > 1]
        kinds = {(cid, k) for cid, _, k in per}
        for i, cid in enumerate(ids):
            want = {"assigned"} | ({"turned_yellow", "turned_red"} if plans[cid] == "red" else set())
            for k in sorted(want - {k for c, k in kinds if c == cid}):
                result.missing_notifications.append(f"case {i} ({plans[cid]}): no {k}")

        drifts = await reconcile(client, engine, ids, dry_run=True)
        result.drift = [
            f"{d.case_id}: cannot be read: {d.unreadable}"
            if d.unreadable
            else f"{d.case_id}: fields {sorted(d.fields)} missing row {d.missing_row} missing events {d.missing_events}"
            for d in drifts
        ]
        # Replay every run of every case against today's code: a crash must never leave a history behind that
        # a fresh worker (or an auditor) cannot replay.
        replayer = Replayer(workflows=WORKFLOWS, data_converter=client.data_converter)
        for i, cid in enumerate(ids):
            async for ex in client.list_workflows(f'WorkflowId = "{workflow_id(cid)}"'):
                history = await client.get_workflow_handle(ex.id, run_id=ex.run_id).fetch_history()
                replay = await replayer.replay_workflow(history, raise_on_replay_failure=False)
                result.replayed += 1
                if replay.replay_failure is not None:
                    result.not_replaying.append(f"case {i} run {ex.run_id}: {replay.replay_failure}"[:300])
        if gateway is not None:
            await check_webhook(gateway, engine, result)
        if sms is not None:
            if gateway is None:
                await check_webhook(None, engine, result)  # waits for the outbox to drain
            check_texts(sms, engine, result)
        log = worker.log.read_text(errors="replace") if worker.log.exists() else ""
        result.locked_failures = log.count("database is locked")
        result.duration = time.monotonic() - t0
        return result
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        result.worker_cpu += cpu_seconds(worker)
        worker.stop()
        server.stop()
        engine.dispose()
        if gateway is not None:
            gateway.close()
        if sms is not None:
            sms.close()
