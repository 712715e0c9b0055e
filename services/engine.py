"""The services' link to the case engine (Temporal): a client that may be injected (tests) or connected lazily
and retried (the API may start before Temporal), and the calls the services make — start a case, ask the
server whether it exists, send it a step — with Temporal's errors turned into Refusals. No case is queried:
the views read the read model (services/cases.py says why).

Nothing here decides a business rule: the workflow's update validators do, and their ApplicationError
(type forbidden / illegal_state / invalid, details[0] = {"code": ...}) becomes a 403 / 409 / 422 Refusal.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.hazards import HazardStart
from domain.models import CaseStart, CaseState
from domain.settings import Settings
from services.errors import Refusal, case_closed, temporal_unavailable, worker_unavailable
from workflows.dispute_case import DisputeCase, workflow_id
from workflows.hazard_rectification import HazardRectification
from workflows.hazard_rectification import workflow_id as hazard_workflow_id
from workflows.temporal_client import connect

log = logging.getLogger("wuhuan.api.temporal")

CONNECT_TIMEOUT = 5.0  # one connection attempt
RECONNECT_PAUSE = 1.0  # after a failed attempt, requests fail fast for this long
UPDATE_TIMEOUT = 30.0  # a step waits this long for a worker to take it
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
            except Refusal:
                await asyncio.sleep(pause)
                pause = min(pause * 2, 10.0)

    async def healthy(self) -> bool:
        if self._client is None:
            try:
                await self.get()
            except Refusal:
                return False
        try:
            return bool(await self._client.service_client.check_health(timeout=timedelta(seconds=3)))
        except Exception:
            return False


# --- case calls --------------------------------------------------------------------------------------


def unavailable(err: BaseException) -> bool:
    """Temporal did not answer (as opposed to answering no)."""
    return isinstance(err, (asyncio.TimeoutError, RuntimeError, ConnectionError)) or (
        isinstance(err, RPCError)
        and err.status
        in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED, RPCStatusCode.UNKNOWN)
    )


async def start_case(client: Client, settings: Settings, start: CaseStart) -> None:
    await start_workflow(client, settings, DisputeCase.run, start, workflow_id(start.case_id))


async def start_hazard(client: Client, settings: Settings, start: HazardStart) -> None:
    await start_workflow(client, settings, HazardRectification.run, start, hazard_workflow_id(start.report.hazard_id))


async def start_workflow(client: Client, settings: Settings, run: Any, arg: Any, wf_id: str) -> None:
    try:
        await asyncio.wait_for(
            client.start_workflow(
                run,
                arg,
                id=wf_id,
                task_queue=settings.temporal_task_queue,
                rpc_timeout=timedelta(seconds=START_TIMEOUT),
            ),
            START_TIMEOUT + 1,
        )
    except Exception as err:
        if unavailable(err):
            raise temporal_unavailable() from None
        raise


async def start_input(client: Client, case_id: str) -> CaseStart | None:
    """What the case's (latest) run was started with, from the first event of its history; None when Temporal
    does not know the case. The server answers it from its own records, never a worker, so unlike a query it
    cannot run the case ahead of its history."""
    handle = client.get_workflow_handle(workflow_id(case_id))
    try:
        async for event in handle.fetch_history_events(page_size=1, rpc_timeout=timedelta(seconds=START_TIMEOUT)):
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            [start] = await client.data_converter.decode(payloads, [CaseStart])
            return start
    except RPCError as err:
        if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            return None
        if unavailable(err):
            raise temporal_unavailable() from None
        raise
    return None


async def run_update(client: Client, case_id: str, update: Callable, action: Any) -> CaseState:
    """Send a staff or citizen step; the workflow's validator accepts or refuses it."""
    return await update_workflow(client, workflow_id(case_id), update, action)


async def update_workflow(client: Client, wf_id: str, update: Callable, action: Any) -> Any:
    """Send a step to a workflow (a case's, a hazard's); its validator accepts or refuses it."""
    handle = client.get_workflow_handle(wf_id)
    try:
        return await asyncio.wait_for(
            handle.execute_update(update, action, rpc_timeout=timedelta(seconds=UPDATE_TIMEOUT)), UPDATE_TIMEOUT + 1
        )
    except WorkflowUpdateFailedError as err:
        raise _refusal(err) from None
    except RPCError as err:
        if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            # Callers found the case before sending (live or in the read model): its workflow has completed.
            log.debug("update %s refused on %s: %s", getattr(update, "__name__", update), wf_id, err)
            raise case_closed() from None
        if unavailable(err):
            raise temporal_unavailable() from None
        raise
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise worker_unavailable() from None
    except RuntimeError:
        raise temporal_unavailable() from None


def _refusal(err: WorkflowUpdateFailedError) -> Refusal:
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type in STATUS_FOR_KIND:
        details = cause.details[0] if cause.details else {}
        code = details.get("code") if isinstance(details, dict) else None
        return Refusal(STATUS_FOR_KIND[cause.type], code or cause.type, cause.message)
    log.error("update failed unexpectedly: %s", cause)
    return Refusal(500, "update_failed", "操作失败")
