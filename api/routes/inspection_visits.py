"""Inspection visits (督查走访) in the JSON API: the week's plan for inspectors, recording a planned visit, and
an unplanned one (a daily round, a covert special visit, one led by a county leader). Never for the visited
units: the service refuses their leaders and mediators."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Caller, Ctx, Db
from services import inspection_visits as visits
from services.inspection_visits import VisitIn, VisitListOut, VisitListQuery, VisitRecorded

router = APIRouter(prefix="/api/v1/inspection/visits", tags=["inspection"])


@router.get("", response_model=VisitListOut)
def list_visits(
    caller: Caller,
    ctx: Ctx,
    db: Db,
    week: Annotated[date | None, Query(description="any day of the week wanted; default this week and next")] = None,
    district: int | None = None,
    status: Annotated[str | None, Query(description="planned or done")] = None,
    mine: bool = False,
) -> VisitListOut:
    query = VisitListQuery(week=week, district=district, status=status, mine=mine)
    return visits.list_visits(db, caller, query, ctx.taxonomy, datetime.now(UTC))


@router.post("", status_code=201, response_model=VisitRecorded)
async def record_unplanned(body: VisitIn, caller: Caller, ctx: Ctx) -> VisitRecorded:
    """An unplanned visit (`kind`: daily, special, leader_led), recorded as done."""
    return await visits.record_visit(ctx, caller, None, body)


@router.post("/{visit_id}/record", response_model=VisitRecorded)
async def record_planned(visit_id: str, body: VisitIn, caller: Caller, ctx: Ctx) -> VisitRecorded:
    """A planned visit, done: where exactly (`site`) and what was seen (`note`)."""
    return await visits.record_visit(ctx, caller, visit_id, body)
