"""`wuhuan dev` as a person runs it (through `make run`): it starts the embedded stack, restarts a child that
dies, stops everything on SIGTERM with exit code 0, keeps all data for the next run, and leaves no orphans
even when the supervisor itself is killed with SIGKILL."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from domain.models import CITIZEN, CaseIntake, CaseStart
from testkit.processes import WUHUAN, free_port, pid_alive, stop_process, wait_for
from tests.conftest import fast_levels
from workflows.dispute_case import DisputeCase, workflow_id


class Dev:
    """One `wuhuan dev` run, its console output collected in a file."""

    def __init__(self, tmp: Path, env: dict[str, str], name: str):
        self.out = tmp / f"{name}.out"
        self.proc = subprocess.Popen(
            [str(WUHUAN), "dev"],
            env=env,
            cwd=tmp,
            stdout=open(self.out, "wb"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def text(self) -> str:
        return self.out.read_text(errors="replace")

    def pids(self) -> dict[str, int]:
        """The latest pid of each child, from the supervisor's `<name> started/restarted (pid N` lines."""
        found: dict[str, int] = {}
        for name, pid in re.findall(r"^dev\s*\| (\w+) (?:started|restarted) \(pid (\d+)", self.text(), re.M):
            found[name] = int(pid)
        return found

    async def ready(self, timeout: float = 90) -> None:
        def check():
            if self.proc.poll() is not None:
                raise AssertionError(f"wuhuan dev exited with {self.proc.returncode}:\n{self.text()}")
            return "Press Ctrl-C to stop." in self.text()

        try:
            await wait_for(check, "wuhuan dev to be ready", timeout)
        except AssertionError as e:
            raise AssertionError(f"{e}\n{self.text()}") from None


@pytest.fixture
def dev_env(tmp_path):
    env = dict(
        os.environ,
        WUHUAN_DATA_DIR=str(tmp_path / "data"),
        WUHUAN_API_HOST="127.0.0.1",
        WUHUAN_API_PORT=str(free_port()),
        WUHUAN_TEMPORAL_PORT=str(free_port()),
        WUHUAN_TEMPORAL_UI_PORT=str(free_port()),
        WUHUAN_TEMPORAL_TASK_QUEUE=f"dev-{uuid.uuid4().hex[:6]}",
        WUHUAN_PASSWORD_HASH_TIME_COST="1",
        WUHUAN_PASSWORD_HASH_MEMORY_KIB="1024",
    )
    for var in ("WUHUAN_TEMPORAL_ADDRESS", "WUHUAN_DATABASE_URL", "WUHUAN_PAYLOAD_KEYS"):  # keys: data dir
        env.pop(var, None)
    return env


async def test_dev_supervises_stops_cleanly_and_keeps_data(tmp_path, dev_env):
    data = tmp_path / "data"
    target = f"127.0.0.1:{dev_env['WUHUAN_TEMPORAL_PORT']}"
    first = Dev(tmp_path, dev_env, "first")
    second = None
    try:
        await first.ready()
        text = first.text()
        assert "seeded the demo county" in text and "renshe" in text and "wuhuan-demo" in text
        assert f"http://127.0.0.1:{dev_env['WUHUAN_TEMPORAL_UI_PORT']}" in text
        assert (data / "temporal.db").exists() and (data / "wuhuan.db").exists()
        assert (data / "logs" / "temporal.log").exists() and (data / "logs" / "worker.log").exists()
        pids = first.pids()
        assert {"temporal", "worker"} <= set(pids)
        assert "api" in pids and "API healthy" in text, text
        base = f"http://127.0.0.1:{dev_env['WUHUAN_API_PORT']}"
        assert f"{base}/docs" in text
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200

        assert (data / "payload.keys").stat().st_mode & 0o777 == 0o600  # generated once, kept
        # A case started now must still be there in the next run.
        client = await Client.connect(target, data_converter=_converter(data), interceptors=_signing(data))
        case_id = uuid.uuid4().hex
        handle = await client.start_workflow(
            DisputeCase.run,
            CaseStart(
                case_id=case_id,
                case_no=f"DEV-{case_id[:6]}",
                received_at=datetime.now(UTC),
                intake=CaseIntake(
                    description="白塔镇某工地包工头拖欠工人三个月工资",
                    citizen_name="王小明",
                    citizen_phone="13800001234",
                ),
                intake_by=CITIZEN,
                levels=fast_levels(),
            ),
            id=workflow_id(case_id),
            task_queue=dev_env["WUHUAN_TEMPORAL_TASK_QUEUE"],
        )
        await wait_for(lambda: _assigned(handle), "the case to be assigned by the supervised worker", 20)

        # A worker that dies is reported and restarted.
        os.kill(pids["worker"], signal.SIGKILL)
        await wait_for(lambda: first.pids()["worker"] != pids["worker"], "the worker to be restarted", 20)
        assert "worker (pid" in first.text() and "exited unexpectedly" in first.text()
        await wait_for(lambda: _assigned(handle), "the restarted worker to answer queries", 30)

        # SIGTERM stops everything and exits 0.
        children = first.pids()
        assert stop_process(first.proc, signal.SIGTERM, timeout=40) == 0, first.text()
        assert not [n for n, p in children.items() if pid_alive(p)], first.text()
        assert "stopped; data kept" in first.text()
        assert re.search(r"^dev\s*\| worker stopped$", first.text(), re.M), first.text()  # graceful, exit 0
        assert re.search(r"^dev\s*\| temporal stopped$", first.text(), re.M), first.text()

        # The second run finds the demo county and the case again.
        second = Dev(tmp_path, dev_env, "second")
        await second.ready()
        assert "demo county already seeded" in second.text()
        client = await Client.connect(target, data_converter=_converter(data), interceptors=_signing(data))
        handle = client.get_workflow_handle(workflow_id(case_id))
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        await wait_for(lambda: _assigned(handle), "the case to answer in the second run", 30)

        # Killing the supervisor outright still leaves no orphans behind.
        children = second.pids()
        second.proc.send_signal(signal.SIGKILL)
        second.proc.wait(timeout=10)
        await wait_for(
            lambda: not [n for n, p in children.items() if pid_alive(p)],
            "the children to follow the killed supervisor",
            30,
        )
    finally:
        for run in (first, second):
            if run is not None:
                for pid in run.pids().values():
                    if pid_alive(pid):
                        os.kill(pid, signal.SIGKILL)
                stop_process(run.proc, signal.SIGTERM, timeout=40)


async def _assigned(handle) -> bool:
    st = await handle.query(DisputeCase.state)
    return st.handler is not None and st.handler.username == "renshe.mediator"


def test_dev_refuses_a_port_in_use(tmp_path, dev_env):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = dict(dev_env, WUHUAN_TEMPORAL_PORT=str(port))
        t0 = time.monotonic()
        done = subprocess.run([str(WUHUAN), "dev"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in done.stdout
    assert "WUHUAN_TEMPORAL_PORT" in done.stdout
    assert time.monotonic() - t0 < 30
    assert not (tmp_path / "data" / "temporal.db").exists()


def _converter(data_dir):
    """The converter of the supervised processes: the key they generated under the data dir."""
    from domain.settings import Settings
    from workflows.temporal_client import data_converter

    return data_converter(Settings(data_dir=data_dir, payload_keys=None))


def _signing(data_dir):
    """The signature the supervised worker requires on a start (workflows/signatures.py), from the same key file."""
    from domain.settings import Settings
    from workflows.temporal_client import client_interceptors

    return client_interceptors(Settings(data_dir=data_dir, payload_keys=None))
