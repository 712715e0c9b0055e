"""Does a worker's workflow cache leave histories that no longer replay? A reproduction outside the project.

Plain temporalio only (bench/repro_cache/repro_workflows.py: a timer, an update, a query, an activity, in the
shape of DisputeCase's loop); no code of the project. It starts the venv's Temporal dev server (in memory, on free
ports), runs the worker as a subprocess (`repro.py worker ...`) so it can be SIGKILLed, drives N workflows while
killing it, then downloads every history and replays it with temporalio.worker.Replayer.

    .venv/bin/python bench/repro_cache/repro.py run [--mode targeted|random] [--workflows 20] [--cache 1000]
        [--query none|after-kill|poll] [--step update|update-plain|signal|none] [--kills 1] [--sticky 10]
        [--no-update-waits] [--update-activity] [--single-batch]
    .venv/bin/python bench/repro_cache/repro.py matrix [--workflows 20] [--out bench/results/repro_cache.txt]

Mode `targeted` forces the suspected sequence: all workflows start together with a clock of T seconds; the
worker is SIGKILLed shortly before the clocks fall due and restarted after they have fired, so each workflow's
next workflow task (TimerFired) sits on the dead worker's sticky queue until the sticky timeout; meanwhile each
workflow gets (optionally) a query, which only the new worker can answer, and then its step. Mode `random` does
what the project's fault suite does: workflows spread out, kills at random moments, steps at random moments
around the clocks, and (optionally) queries.

`matrix` runs the variants that bisect the ingredients on one dev server and prints one line per variant.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from repro_workflows import Knobs, MiniCase, record  # noqa: E402
from temporalio.client import Client  # noqa: E402
from temporalio.worker import Replayer, Worker  # noqa: E402

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the worker, as its own process ------------------------------------------------------------------------


async def worker_main(a: argparse.Namespace) -> None:
    client = await Client.connect(a.target)
    worker = Worker(
        client,
        task_queue=a.task_queue,
        workflows=[MiniCase],
        activities=[record],
        max_cached_workflows=a.cache,
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=a.sticky),
    )
    if a.single_batch:
        # The SDK's own fix in waiting (temporalio 1.35: not on by default): apply every job of an activation
        # before any workflow code runs.
        from temporalio.worker._workflow_instance import _WorkflowLogicFlag

        worker._set_default_workflow_logic_flag(
            _WorkflowLogicFlag.PROCESS_WORKFLOW_ACTIVATION_JOBS_AS_SINGLE_BATCH, enabled=True
        )
    print("worker polling", flush=True)
    await worker.run()


class WorkerProcess:
    def __init__(self, target: str, task_queue: str, v: Variant, log: Path):
        self.argv = [
            sys.executable,
            __file__,
            "worker",
            "--target",
            target,
            "--task-queue",
            task_queue,
            "--cache",
            str(v.cache),
            "--sticky",
            str(v.sticky),
        ] + (["--single-batch"] if v.single_batch else [])
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class DevServer:
    def __init__(self, workdir: Path):
        self.port = free_port()
        self.log = workdir / "temporal.log"
        self.proc: subprocess.Popen | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        argv = [str(BIN / "temporal"), "server", "start-dev", "--port", str(self.port), "--ip", "127.0.0.1"]
        argv += ["--headless", "--log-level", "error"]  # in memory: no --db-filename
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def connect(target: str, timeout: float = 60) -> Client:
    deadline = time.monotonic() + timeout
    while True:
        try:
            client = await Client.connect(target)
            await client.count_workflows()
            return client
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)


# --- one variant -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    name: str = "default"
    mode: str = "targeted"  # targeted | random
    workflows: int = 20
    cache: int = 1000
    query: str = "after-kill"  # none | after-kill | poll
    step: str = "update"  # update (with validator) | update-plain (no validator) | signal | none
    kills: int = 1  # random mode; targeted mode always kills once
    sticky: float = 10.0  # the worker's sticky_queue_schedule_to_start_timeout (s)
    timer: float = 5.0  # the clock's deadline after the start (s)
    down: float = 1.5  # targeted: seconds the worker stays down (it dies 1 s before the clocks fall due)
    update_waits: bool = True
    update_activity: bool = False
    single_batch: bool = False
    stop: str = "kill"  # targeted: kill (SIGKILL) | term (SIGTERM, a graceful stop) | none (the worker stays up)
    step_delay: float = 0.0  # targeted: seconds between the query and the step

    def describe(self) -> str:
        bits = [
            f"mode={self.mode}",
            f"n={self.workflows}",
            f"cache={self.cache}",
            f"query={self.query}",
            f"step={self.step}",
            f"sticky={self.sticky:g}s",
        ]
        if self.mode == "random":
            bits.append(f"kills={self.kills}")
        if not self.update_waits:
            bits.append("update-does-not-wait")
        if self.update_activity:
            bits.append("activity-in-update")
        if self.single_batch:
            bits.append("single-batch-flag")
        if self.mode == "targeted" and self.stop != "kill":
            bits.append(f"stop={self.stop}")
        if self.mode == "targeted" and self.down != 1.5:
            bits.append(f"down={self.down:g}s")
        if self.step_delay:
            bits.append(f"step-delay={self.step_delay:g}s")
        return " ".join(bits)


@dataclass
class Outcome:
    variant: Variant
    replayed: int = 0
    failed: list[str] | None = None
    errors: Counter | None = None
    driver_errors: int = 0
    sample: str = ""
    seconds: float = 0.0

    def line(self) -> str:
        n = len(self.failed or [])
        err = "; ".join(f"{c}x {e}" for e, c in (self.errors or Counter()).most_common(2))
        tail = f"  [{err}]" if err else ""
        drv = f" (driver errors {self.driver_errors})" if self.driver_errors else ""
        head = f"{self.variant.name:<28} {n:>3} / {self.replayed:<3} not replaying{drv}"
        return f"{head}  {self.variant.describe()}{tail}"


async def _retry(fn, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await asyncio.wait_for(fn(), 20)
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)


async def do_step(client: Client, v: Variant, wid: str, name: str) -> None:
    h = client.get_workflow_handle(wid)
    if v.step == "update":
        await _retry(lambda: h.execute_update(MiniCase.step, name, id=name))
    elif v.step == "update-plain":
        await _retry(lambda: h.execute_update(MiniCase.step_plain, name, id=name))
    elif v.step == "signal":
        await _retry(lambda: h.signal(MiniCase.step_signal, name))


async def query(client: Client, wid: str) -> None:
    await _retry(lambda: client.get_workflow_handle(wid).query(MiniCase.state))


async def poller(client: Client, wid: str, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await asyncio.wait_for(client.get_workflow_handle(wid).query(MiniCase.state), 5)
        except Exception:
            pass
        await asyncio.sleep(0.2 + 0.2 * random.random())


async def close(client: Client, v: Variant, wid: str) -> None:
    """End the workflow with a step of the same kind (a signal when the variant has no step)."""
    h = client.get_workflow_handle(wid)
    if v.step == "none":
        await _retry(lambda: h.signal(MiniCase.step_signal, "close"))
    else:
        await do_step(client, v, wid, "close")
    await _retry(lambda: h.result(), timeout=120)


async def targeted(client: Client, v: Variant, worker: WorkerProcess, tq: str, ids: list[str]) -> int:
    """Kill the worker 1 s before the clocks fall due, restart it after they fired; query, then step."""
    knobs = Knobs(timer=v.timer, update_waits=v.update_waits, update_activity=v.update_activity)
    t0 = time.monotonic()
    for wid in ids:
        await client.start_workflow(MiniCase.run, knobs, id=wid, task_queue=tq)
    await asyncio.sleep(max(0.0, t0 + v.timer - 1.0 - time.monotonic()))
    # The first workflow tasks ("received" recorded) are done; each run sits in this worker's cache.
    if v.stop != "none":
        worker.kill(signal.SIGKILL if v.stop == "kill" else signal.SIGTERM)
        await asyncio.sleep(v.down)  # the clocks fire meanwhile: the next workflow task waits (on the sticky queue)
        worker.start()
    else:
        await asyncio.sleep(v.down)
    stop = asyncio.Event()
    polls = [asyncio.create_task(poller(client, wid, stop)) for wid in ids] if v.query == "poll" else []

    async def drive(wid: str) -> None:
        if v.query == "after-kill":
            await query(client, wid)
        await asyncio.sleep(v.step_delay)
        await do_step(client, v, wid, "mediate")
        await close(client, v, wid)

    results = await asyncio.gather(*(drive(wid) for wid in ids), return_exceptions=True)
    stop.set()
    await asyncio.gather(*polls, return_exceptions=True)
    return sum(1 for r in results if isinstance(r, BaseException))


async def randomised(client: Client, v: Variant, worker: WorkerProcess, tq: str, ids: list[str], seed: int) -> int:
    """Like the project's fault suite: workflows started over 2 clock lengths, the worker killed at random
    moments over the whole run, three steps per workflow at random moments, each after a query (or queries
    polling all the time)."""
    rnd = random.Random(seed)
    knobs = Knobs(timer=v.timer, update_waits=v.update_waits, update_activity=v.update_activity)
    spread = 2 * v.timer
    stop = asyncio.Event()

    async def drive(i: int, wid: str) -> None:
        await asyncio.sleep(spread * i / len(ids))
        await _retry(lambda: client.start_workflow(MiniCase.run, knobs, id=wid, task_queue=tq))
        polling = asyncio.create_task(poller(client, wid, stop)) if v.query == "poll" else None
        for k in range(3):
            await asyncio.sleep(rnd.uniform(0.2 * v.timer, 0.8 * v.timer))
            if v.query == "after-kill":
                await query(client, wid)
            await do_step(client, v, wid, f"step{k}")
        await close(client, v, wid)
        if polling is not None:
            polling.cancel()

    async def chaos() -> None:
        window = (spread + 2 * v.timer) / max(v.kills, 1)
        for _ in range(v.kills):
            await asyncio.sleep(rnd.uniform(0.5 * window, window))
            worker.kill()
            await asyncio.sleep(rnd.uniform(0.2, 2.0))
            worker.start()

    drivers = [asyncio.create_task(drive(i, wid)) for i, wid in enumerate(ids)]
    await chaos()
    results = await asyncio.gather(*drivers, return_exceptions=True)
    stop.set()
    return sum(1 for r in results if isinstance(r, BaseException))


def _event_types(history, around: int) -> str:
    evs = history.events
    lo, hi = max(0, around - 9), min(len(evs), around + 2)
    names = []
    for e in evs[lo:hi]:
        t = e.WhichOneof("attributes") or "?"
        t = t.replace("_event_attributes", "")
        names.append(f"{e.event_id}:{t}")
    return ", ".join(names)


async def run_variant(client: Client, v: Variant, workdir: Path, seed: int = 1) -> Outcome:
    t = time.monotonic()
    tq = f"repro-{uuid.uuid4().hex[:8]}"
    worker = WorkerProcess(client.service_client.config.target_host, tq, v, workdir / f"worker-{tq}.log")
    ids = [f"{tq}-wf-{i:03d}" for i in range(v.workflows)]
    worker.start()
    try:
        if v.mode == "targeted":
            driver_errors = await targeted(client, v, worker, tq, ids)
        else:
            driver_errors = await randomised(client, v, worker, tq, ids, seed)
        # Replay every history against the same code.
        replayer = Replayer(workflows=[MiniCase])
        out = Outcome(v, failed=[], errors=Counter(), driver_errors=driver_errors)
        for wid in ids:
            history = await client.get_workflow_handle(wid).fetch_history()
            r = await replayer.replay_workflow(history, raise_on_replay_failure=False)
            out.replayed += 1
            if r.replay_failure is not None:
                msg = str(r.replay_failure)
                short = msg.split('message: "', 1)[-1].split('"', 1)[0] if 'message: "' in msg else msg[:160]
                out.failed.append(wid)
                out.errors[short] += 1
                if not out.sample:
                    at = short.split("id: ", 1)[-1].split(",", 1)[0]
                    out.sample = f"{wid}: {short}\n    events: " + _event_types(
                        history, int(at) if at.isdigit() else len(history.events)
                    )
        out.seconds = time.monotonic() - t
        return out
    finally:
        worker.stop()


# --- the matrix -------------------------------------------------------------------------------------------


def matrix(n: int) -> list[Variant]:
    base = Variant(workflows=n)
    return [
        replace(base, name="A  shape, query after kill"),
        replace(base, name="B  same, cache off", cache=0),
        replace(base, name="C  no query", query="none"),
        replace(base, name="D  update without validator", step="update-plain"),
        replace(base, name="E  signal instead of update", step="signal"),
        replace(base, name="F  query, step 15 s later", step_delay=15.0),
        replace(base, name="F2 query, signal 15 s later", step="signal", step_delay=15.0),
        replace(base, name="G  update does not wait", update_waits=False),
        replace(base, name="H  activity in the update", update_activity=True, update_waits=False),
        replace(base, name="I  sticky timeout 1 s", sticky=1.0),
        replace(base, name="I2 sticky 1 s, down 5 s", sticky=1.0, down=5.0),
        replace(base, name="J  single-batch flag", single_batch=True),
        replace(base, name="N  graceful stop (SIGTERM)", stop="term"),
        replace(base, name="O  no stop at all", stop="none"),
        replace(base, name="P  targeted, polling queries", query="poll"),
        replace(base, name="K  random, query before step", mode="random", workflows=2 * n, kills=4),
        replace(base, name="K2 random, polling queries", mode="random", workflows=2 * n, kills=4, query="poll"),
        replace(base, name="L  random, no queries", mode="random", workflows=2 * n, kills=4, query="none"),
        replace(base, name="M  random, queries, cache off", mode="random", workflows=2 * n, kills=4, cache=0),
    ]


async def main_async(a: argparse.Namespace) -> int:
    # The replayer's core logs every failing history as a warning: the summary says it once.
    from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

    quiet = TelemetryFilter(core_level="ERROR", other_level="ERROR")
    Runtime.set_default(Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=quiet))))
    workdir = Path(tempfile.mkdtemp(prefix="repro-cache-"))
    server = DevServer(workdir)
    server.start()
    lines: list[str] = []
    try:
        client = await connect(server.target)
        if a.cmd == "run":
            variants = [
                Variant(
                    name="run",
                    mode=a.mode,
                    workflows=a.workflows,
                    cache=a.cache,
                    query=a.query,
                    step=a.step,
                    kills=a.kills,
                    sticky=a.sticky,
                    timer=a.timer,
                    down=a.down,
                    update_waits=not a.no_update_waits,
                    update_activity=a.update_activity,
                    single_batch=a.single_batch,
                    stop=a.stop,
                    step_delay=a.step_delay,
                )
            ]
        else:
            variants = [v for v in matrix(a.workflows) if not a.only or v.name.split()[0] in a.only.split(",")]
        import temporalio

        when = time.strftime("%Y-%m-%d %H:%M")
        head = f"repro_cache: temporalio {temporalio.__version__}, dev server {server.target}, {when}"
        print(head, flush=True)
        lines.append(head)
        for v in variants:
            out = await run_variant(client, v, workdir, seed=a.seed)
            print(out.line(), f"({out.seconds:.0f} s)", flush=True)
            lines.append(out.line())
            if out.sample:
                if not any(line.endswith(out.sample.split("events: ")[-1]) for line in lines):
                    print("    e.g. " + out.sample, flush=True)
                    lines.append("    e.g. " + out.sample)
        if a.out:
            a.out.parent.mkdir(parents=True, exist_ok=True)
            a.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
            print(f"written to {a.out}")
        return 0
    finally:
        server.stop()
        if not a.keep:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"logs in {workdir}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("worker", help="(internal) the worker process")
    w.add_argument("--target", required=True)
    w.add_argument("--task-queue", required=True)
    w.add_argument("--cache", type=int, default=1000)
    w.add_argument("--sticky", type=float, default=10.0)
    w.add_argument("--single-batch", action="store_true")
    for name in ("run", "matrix"):
        r = sub.add_parser(name)
        r.add_argument("--workflows", type=int, default=20)
        r.add_argument("--seed", type=int, default=1)
        r.add_argument("--keep", action="store_true")
        r.add_argument("--out", type=Path)
        if name == "matrix":
            r.add_argument("--only", help="comma-separated variant letters, e.g. A,B,C")
            continue
        r.add_argument("--mode", choices=["targeted", "random"], default="targeted")
        r.add_argument("--cache", type=int, default=1000)
        r.add_argument("--query", choices=["none", "after-kill", "poll"], default="after-kill")
        r.add_argument("--step", choices=["update", "update-plain", "signal", "none"], default="update")
        r.add_argument("--kills", type=int, default=4)
        r.add_argument("--sticky", type=float, default=10.0)
        r.add_argument("--timer", type=float, default=5.0)
        r.add_argument("--down", type=float, default=1.5)
        r.add_argument("--no-update-waits", action="store_true")
        r.add_argument("--update-activity", action="store_true")
        r.add_argument("--single-batch", action="store_true")
        r.add_argument("--stop", choices=["kill", "term", "none"], default="kill")
        r.add_argument("--step-delay", type=float, default=0.0)
    a = p.parse_args()
    if a.cmd == "worker":
        asyncio.run(worker_main(a))
        return 0
    return asyncio.run(main_async(a))


if __name__ == "__main__":
    sys.exit(main())
