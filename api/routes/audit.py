"""The auditor's view: a case's business events read from its workflow's own event history (across
continue-as-new runs), and a replay of that history against the running code."""
from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlmodel import select

from api import access, access_log, temporal, views
from api import dossier as dossier_pdf
from api.errors import invalid, not_found
from api.deps import Ctx, CurrentStaff, Db, actor_of, require_roles
from api.schemas import HistoryEvent, HistoryOut, ReplayOut
from domain.models import Role
from store.tables import Staff

router = APIRouter(prefix="/api/v1/cases", tags=["audit"])
Replayers = Annotated[Staff, Depends(require_roles(Role.auditor, Role.supervisor))]


@router.get("/{case_id}/history", response_model=HistoryOut)
async def history(case_id: str, staff: CurrentStaff, ctx: Ctx, db: Db, request: Request,
                  as_of: Annotated[datetime | None, Query(description="ISO time: the case as it stood then")] = None,
                  ) -> HistoryOut:
    """Every business step in order, with who took it (a username, `citizen` or `system`); with `as_of`, the
    steps up to that moment and the case's state then."""
    if as_of is not None and as_of.tzinfo is None:
        raise invalid("as_of_needs_offset", "as_of 须带时区，例如 2026-11-28T10:00:00+08:00")
    actor, runs, records = await _case_records(ctx, db, staff, case_id, access_log.HISTORY, request)
    events = temporal.events_of(records)
    if as_of is None:
        return HistoryOut(case_id=case_id, runs=len(runs), events=[HistoryEvent(**e) for e in events])
    state = temporal.state_at(records, as_of)
    return HistoryOut(case_id=case_id, runs=len(runs), as_of=as_of,
                      events=[HistoryEvent(**e) for e in events if e["at"] <= as_of],
                      state=views.case_from_state(state, actor) if state is not None else None)


async def _case_records(ctx, db, staff: Staff, case_id: str, what: str, request: Request):
    """Check the reader may see the case (404 / 403), log the access, and decode the workflow's writes once."""
    actor = actor_of(staff)
    await access.find_for(ctx, db, case_id, actor)
    access_log.record(ctx.engine, staff, case_id, what, request)
    client = await ctx.temporal.get()
    runs = await temporal.fetch_runs(client, case_id)
    return actor, runs, await temporal.records(client, runs)


@router.post("/{case_id}/replay", response_model=ReplayOut)
async def replay(case_id: str, staff: Replayers, ctx: Ctx, request: Request) -> ReplayOut:
    """Replay each run's history against the workflow code this server runs: is it still deterministic?"""
    access_log.record(ctx.engine, staff, case_id, access_log.REPLAY, request)
    client = await ctx.temporal.get()
    runs = await temporal.fetch_runs(client, case_id)
    return ReplayOut(**await temporal.replay(runs, client.data_converter))


@router.get("/{case_id}/dossier.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "调解卷宗 (PDF)"}})
async def dossier(case_id: str, staff: CurrentStaff, ctx: Ctx, db: Db, request: Request) -> Response:
    """调解卷宗: parties, timeline, mediation records, agreement, rating and review, from the workflow's own
    records (its last state snapshot and its business events), so it needs no running worker."""
    _, _, records = await _case_records(ctx, db, staff, case_id, access_log.DOSSIER, request)
    events, state = temporal.events_of(records), temporal.state_at(records)
    if state is None:
        raise not_found("no_record_yet", "案件尚无办理记录")
    people = {e["actor"] for e in events} | {m.username for m in state.team}
    people |= {state.handler.username} if state.handler else set()
    names = {s.username: s.display_name for s in db.exec(select(Staff).where(Staff.username.in_(people))).all()}
    pdf = await asyncio.to_thread(dossier_pdf.build, state, events, ctx.taxonomy, names, staff.username)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="dossier-{state.case_no}.pdf"', "Cache-Control": "no-store"})
