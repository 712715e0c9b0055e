"""The auditor's view: a case's business events read from its workflow's own event history (across
continue-as-new runs), and a replay of that history against the running code."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api import access, temporal
from api.deps import Ctx, CurrentStaff, Db, actor_of, require_roles
from api.schemas import HistoryEvent, HistoryOut, ReplayOut
from domain.models import Role
from store.tables import Staff

router = APIRouter(prefix="/api/v1/cases", tags=["audit"])
Replayers = Annotated[Staff, Depends(require_roles(Role.auditor, Role.supervisor))]


@router.get("/{case_id}/history", response_model=HistoryOut)
async def history(case_id: str, staff: CurrentStaff, ctx: Ctx, db: Db) -> HistoryOut:
    """Every business step in order, with who took it (a username, `citizen` or `system`)."""
    await access.find_for(ctx, db, case_id, actor_of(staff))  # 404 / 403
    client = await ctx.temporal.get()
    runs = await temporal.fetch_runs(client, case_id)
    events = await temporal.business_events(client, runs)
    return HistoryOut(case_id=case_id, runs=len(runs), events=[HistoryEvent(**e) for e in events])


@router.post("/{case_id}/replay", response_model=ReplayOut)
async def replay(case_id: str, staff: Replayers, ctx: Ctx) -> ReplayOut:
    """Replay each run's history against the workflow code this server runs: is it still deterministic?"""
    client = await ctx.temporal.get()
    runs = await temporal.fetch_runs(client, case_id)
    return ReplayOut(**await temporal.replay(runs))
