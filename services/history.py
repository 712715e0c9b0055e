"""A case's history as the workflow itself recorded it: every run's Temporal history (across continue-as-new),
the writes it asked of the read model decoded from it, the business events and the state at any moment, and a
replay against the code this process runs. The auditor's routes and the `wuhuan audit` commands share it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Replayer

from domain.models import CaseRecord, CaseState
from services.engine import unavailable
from services.errors import not_found, temporal_unavailable
from workflows.dispute_case import DisputeCase, workflow_id


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
            previous = (
                first.workflow_execution_started_event_attributes.continued_execution_run_id
                if first is not None
                else ""
            )
            if not previous or len(runs) > 10_000:
                break
            run_id = previous
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND and not runs:
            raise not_found() from None
        if unavailable(err):
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
            found.append((event.event_time.ToDatetime(tzinfo=UTC), record))
    return found


def events_of(records_: list[tuple[datetime, CaseRecord]]) -> list[dict[str, Any]]:
    """The case's business events from its decoded writes, in seq order (a retried write repeats none)."""
    seen: dict[int, dict[str, Any]] = {}
    for _, record in records_:
        for e in record.events:
            seen.setdefault(e.seq, {"seq": e.seq, "at": e.at, "type": e.type, "actor": e.actor, "detail": e.detail})
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


async def replay(
    runs: list[WorkflowHistory],
    data_converter: DataConverter = pydantic_data_converter,
) -> dict[str, Any]:
    """Pass the client's converter (`client.data_converter`): histories are encrypted (workflows/codec.py)."""
    replayer = Replayer(workflows=[DisputeCase], data_converter=data_converter)
    error: str | None = None
    for history in runs:
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            error = f"{history.run_id}: {result.replay_failure}"
            break
    return {
        "deterministic": error is None,
        "events": sum(len(h.events) for h in runs),
        "runs": len(runs),
        "error": error,
    }
