"""The API's link to Temporal: a client that may be injected (tests) or connected lazily and retried (the
API may start before Temporal), and the few calls the routes make, with Temporal's errors mapped to HTTP.

Nothing here decides a business rule: the workflow's update validators do, and their ApplicationError
(type forbidden / illegal_state / invalid, details[0] = {"code": ...}) becomes 403 / 409 / 422.
"""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from temporalio.client import (
    Client, WorkflowHistory, WorkflowQueryFailedError, WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Replayer

from api.errors import ApiError, not_found, temporal_unavailable
from domain.models import CaseRecord, CaseStart, CaseState
from domain.settings import Settings
from workflows.dispute_case import DisputeCase, workflow_id
from workflows.temporal_client import connect

log = logging.getLogger("wuhuan.api.temporal")

CONNECT_TIMEOUT = 5.0       # one connection attempt
RECONNECT_PAUSE = 1.0       # after a failed attempt, requests fail fast for this long
UPDATE_TIMEOUT = 30.0       # a step waits this long for a worker to take it
START_TIMEOUT = 10.0
STATUS_FOR_KIND = {"forbidden": 403, "illegal_state": 409, "invalid": 422}


class TemporalLink:
    """Holds the Temporal client. `get()` answers 503 temporal_unavailable while it cannot connect."""

    def __init__(self, settings: Settings, client: Client | None = None):
        self.settings = settings
        self._client = client
        self._lock = asyncio.Lock()
        self._failed_at: float | None = None

    @property
    def connected(self) -> bool:
        return self._client is not None

    async def get(self) -> Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is not None:
                return self._client
            if self._failed_at is not None and time.monotonic() - self._failed_at < RECONNECT_PAUSE:
                raise temporal_unavailable()
            try:
                self._client = await asyncio.wait_for(connect(self.settings), CONNECT_TIMEOUT)
            except Exception as err:  # connection refused, DNS, TLS, timeout
                self._failed_at = time.monotonic()
                log.warning("cannot reach Temporal at %s: %s", self.settings.temporal_target, err)
                raise temporal_unavailable() from None
            self._failed_at = None
            log.info("connected to Temporal at %s", self.settings.temporal_target)
            return self._client

    async def keep_connecting(self) -> None:
        """Background task of the app's lifespan: connect as soon as Temporal answers."""
        pause = 0.5
        while self._client is None:
            try:
                await self.get()
            except ApiError:
                await asyncio.sleep(pause)
                pause = min(pause * 2, 10.0)

    async def healthy(self) -> bool:
        if self._client is None:
            try:
                await self.get()
            except ApiError:
                return False
        try:
            return bool(await self._client.service_client.check_health(timeout=timedelta(seconds=3)))
        except Exception:
            return False


# --- case calls --------------------------------------------------------------------------------------

def _unavailable(err: BaseException) -> bool:
    return isinstance(err, (asyncio.TimeoutError, RuntimeError, ConnectionError)) or (
        isinstance(err, RPCError) and err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED,
                                                     RPCStatusCode.CANCELLED, RPCStatusCode.UNKNOWN))


class NoAnswer(Exception):
    """The workflow exists (or may) but no worker answered in time."""


async def start_case(client: Client, settings: Settings, start: CaseStart) -> None:
    try:
        await asyncio.wait_for(
            client.start_workflow(DisputeCase.run, start, id=workflow_id(start.case_id),
                                  task_queue=settings.temporal_task_queue,
                                  rpc_timeout=timedelta(seconds=START_TIMEOUT)),
            START_TIMEOUT + 1)
    except Exception as err:
        if _unavailable(err):
            raise temporal_unavailable() from None
        raise


async def query_state(client: Client, settings: Settings, case_id: str) -> CaseState | None:
    """The live state; None when no such workflow; NoAnswer when no worker answered in time."""
    handle = client.get_workflow_handle(workflow_id(case_id))
    timeout = settings.query_timeout_seconds
    try:
        return await asyncio.wait_for(
            handle.query(DisputeCase.state, rpc_timeout=timedelta(seconds=timeout)), timeout + 1)
    except RPCError as err:
        if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            return None
        raise NoAnswer(str(err)) from None
    except (asyncio.TimeoutError, WorkflowQueryFailedError, RuntimeError) as err:
        raise NoAnswer(str(err)) from None


async def run_update(client: Client, case_id: str, update: Callable, action: Any) -> CaseState:
    """Send a staff or citizen step; the workflow's validator accepts or refuses it."""
    handle = client.get_workflow_handle(workflow_id(case_id))
    try:
        return await asyncio.wait_for(
            handle.execute_update(update, action, rpc_timeout=timedelta(seconds=UPDATE_TIMEOUT)),
            UPDATE_TIMEOUT + 1)
    except WorkflowUpdateFailedError as err:
        raise _refusal(err) from None
    except RPCError as err:
        if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            # Callers found the case before sending (live or in the read model): its workflow has completed.
            log.debug("update %s refused on case %s: %s", getattr(update, "__name__", update), case_id, err)
            raise ApiError(409, "case_closed", "案件已结束，不能再办理") from None
        if _unavailable(err):
            raise temporal_unavailable() from None
        raise
    except (asyncio.TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise ApiError(503, "worker_unavailable", "案件处理服务暂未响应，请稍后再试") from None
    except RuntimeError:
        raise temporal_unavailable() from None


def _refusal(err: WorkflowUpdateFailedError) -> ApiError:
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type in STATUS_FOR_KIND:
        details = cause.details[0] if cause.details else {}
        code = details.get("code") if isinstance(details, dict) else None
        return ApiError(STATUS_FOR_KIND[cause.type], code or cause.type, cause.message)
    log.error("update failed unexpectedly: %s", cause)
    return ApiError(500, "update_failed", "操作失败")


# --- audit: the workflow's own history -------------------------------------------------------------

async def fetch_runs(client: Client, case_id: str) -> list[WorkflowHistory]:
    """Every run's history, oldest first, following continue-as-new back from the latest run."""
    wf_id = workflow_id(case_id)
    runs: list[WorkflowHistory] = []
    run_id: str | None = None
    try:
        while True:
            handle = client.get_workflow_handle(wf_id, run_id=run_id)
            history = await handle.fetch_history(rpc_timeout=timedelta(seconds=30))
            runs.append(history)
            first = history.events[0] if history.events else None
            previous = (first.workflow_execution_started_event_attributes.continued_execution_run_id
                        if first is not None else "")
            if not previous or len(runs) > 10_000:
                break
            run_id = previous
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND and not runs:
            raise not_found() from None
        if _unavailable(err):
            raise temporal_unavailable() from None
        raise
    runs.reverse()
    return runs


async def records(client: Client, runs: list[WorkflowHistory]) -> list[tuple[datetime, CaseRecord]]:
    """Every write the workflow asked of the read model, in order: the new events and the full state they
    led to, with the time the workflow scheduled it."""
    found: list[tuple[datetime, CaseRecord]] = []
    for history in runs:
        for event in history.events:
            if not event.HasField("activity_task_scheduled_event_attributes"):
                continue
            attrs = event.activity_task_scheduled_event_attributes
            if attrs.activity_type.name != "record_case_events":
                continue
            [record] = await client.data_converter.decode(attrs.input.payloads, [CaseRecord])
            found.append((event.event_time.ToDatetime(tzinfo=timezone.utc), record))
    return found


def events_of(records_: list[tuple[datetime, CaseRecord]]) -> list[dict[str, Any]]:
    """The case's business events from its decoded writes, in seq order (a retried write repeats none)."""
    seen: dict[int, dict[str, Any]] = {}
    for _, record in records_:
        for e in record.events:
            seen.setdefault(e.seq, {"seq": e.seq, "at": e.at, "type": e.type, "actor": e.actor,
                                    "detail": e.detail})
    return [seen[k] for k in sorted(seen)]


def state_at(records_: list[tuple[datetime, CaseRecord]], at: datetime | None = None) -> CaseState | None:
    """The case as it stood at `at` (None: its latest): the workflow's own state snapshot of its last write
    at or before then. Each step and each clock that fires is followed by a write, so no second copy of the
    rules is needed to reconstruct it."""
    latest: CaseState | None = None
    for _, record in records_:
        if record.events and (at is None or record.events[-1].at <= at):
            latest = record.state
    return latest


async def business_events(client: Client, runs: list[WorkflowHistory]) -> list[dict[str, Any]]:
    """The case's business events: the inputs of its record_case_events activities, in seq order."""
    return events_of(await records(client, runs))


async def replay(runs: list[WorkflowHistory], data_converter: DataConverter = pydantic_data_converter,
                 ) -> dict[str, Any]:
    """Pass the client's converter (`client.data_converter`): histories are encrypted (workflows/codec.py)."""
    replayer = Replayer(workflows=[DisputeCase], data_converter=data_converter)
    error: str | None = None
    for history in runs:
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            error = f"{history.run_id}: {result.replay_failure}"
            break
    return {"deterministic": error is None, "events": sum(len(h.events) for h in runs), "runs": len(runs),
            "error": error}
