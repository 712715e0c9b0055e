"""The auditor's use cases: a case's history from its workflow's own records (with the state at any moment), a
replay of that history against the code this process runs, the dossier's data, and who read what.

Every read of a case's history, replay or dossier is logged (services/access_log.py) after the permission
check and before anything is read."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.models import Actor, CaseRecord, CaseState
from domain.privacy import mask_detail
from services import access_log, cases, history, views
from services.context import Services
from services.db import run
from services.errors import invalid, not_found
from services.schemas import HistoryEvent, HistoryOut, ReplayOut
from store import directory


async def _records(
    svc: Services, case_id: str, reader: Actor, what: str, client: str | None
) -> tuple[int, list[tuple[datetime, CaseRecord]]]:
    """Check the reader may see the case (404 / 403), log the access, and decode the workflow's writes once."""
    await cases.find_for(svc, case_id, reader)
    await asyncio.to_thread(access_log.record, svc.engine, reader, case_id, what, client)
    temporal = await svc.temporal.get()
    runs = await history.fetch_runs(temporal, case_id)
    return len(runs), await history.records(temporal, runs)


async def case_history(
    svc: Services, case_id: str, reader: Actor, as_of: datetime | None, client: str | None
) -> HistoryOut:
    """Every business step in order, with who took it; with `as_of`, the steps up to then and the state then."""
    if as_of is not None and as_of.tzinfo is None:
        raise invalid("as_of_needs_offset", "as_of 须带时区，例如 2026-11-28T10:00:00+08:00")
    runs, records = await _records(svc, case_id, reader, access_log.HISTORY, client)
    # Numbers the citizen (or anyone) typed are masked here, at the boundary, like every staff view.
    events = [{**e, "detail": mask_detail(e["detail"])} for e in history.events_of(records)]
    if as_of is None:
        return HistoryOut(case_id=case_id, runs=runs, events=[HistoryEvent(**e) for e in events])
    state = history.state_at(records, as_of)
    return HistoryOut(
        case_id=case_id,
        runs=runs,
        as_of=as_of,
        events=[HistoryEvent(**e) for e in events if e["at"] <= as_of],
        state=views.case_from_state(state, reader) if state is not None else None,
    )


async def replay(svc: Services, case_id: str, reader: Actor, client: str | None) -> ReplayOut:
    """Replay each run's history against the workflow code this server runs: is it still deterministic?
    A case that does not exist is a 404 with no access-log row (a row must name a case someone read)."""
    await cases.find_for(svc, case_id, reader)
    await asyncio.to_thread(access_log.record, svc.engine, reader, case_id, access_log.REPLAY, client)
    temporal = await svc.temporal.get()
    runs = await history.fetch_runs(temporal, case_id)
    return ReplayOut(**await history.replay(runs, temporal.data_converter))


@dataclass
class DossierData:
    state: CaseState
    events: list[dict[str, Any]]
    names: dict[str, str]  # usernames → display names of everyone in it


async def dossier(svc: Services, case_id: str, reader: Actor, client: str | None) -> DossierData:
    """调解卷宗: from the workflow's own records (its last state snapshot and its business events), so it needs no
    running worker."""
    _, records = await _records(svc, case_id, reader, access_log.DOSSIER, client)
    events, state = history.events_of(records), history.state_at(records)
    if state is None:
        raise not_found("no_record_yet", "案件尚无办理记录")
    people = {e["actor"] for e in events} | {m.username for m in state.team}
    people |= {state.handler.username} if state.handler else set()
    names = await run(svc.engine, lambda db: directory.display_names(db, people))
    return DossierData(state=state, events=events, names=names)
