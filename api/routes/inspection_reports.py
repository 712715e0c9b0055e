"""What safety inspection reports over HTTP: the exposure list (曝光台), the re-training roster (回炉班) and its
attendance, summonses (约谈), the three lists (三张清单) as JSON and Excel, and the figures. Each route parses,
lets the dependencies authenticate, and calls services/inspection_reports.py (which decides who may see what)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Caller, Ctx, Db, RowId
from api.downloads import attachment
from services import inspection_exports
from services import inspection_reports as reports
from services.exports import XLSX
from services.schemas import PAGE_MAX, Checked

router = APIRouter(prefix="/api/v1/inspection", tags=["inspection"])
Several = Annotated[str | None, Query(description="one value or several, comma-separated")]


def filters(
    district: Several = None,
    domain: Several = None,
    township: Several = None,
    unit: Several = None,
    status: Several = None,
    start: Annotated[
        str | None, Query(alias="from", description="ISO date (that China-time day on) or time (China time)")
    ] = None,
    end: Annotated[str | None, Query(alias="to", description="ISO date (to the end of that day) or time")] = None,
) -> reports.InspectionFilters:
    """The filters of the lists and figures (status: the lists only); 422 `invalid_filter` / `invalid_period`."""
    return reports.parse_filters(district, domain, township, unit, status, start, end)


Filters = Annotated[reports.InspectionFilters, Depends(filters)]


class AttendanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    attended: bool


class HeldIn(Checked):
    model_config = ConfigDict(extra="forbid")
    note: Annotated[str | None, Field(max_length=500)] = None


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("/exposure", response_model=list[reports.ExposedHazard])
def exposure(caller: Caller, ctx: Ctx, db: Db, f: Filters) -> list[reports.ExposedHazard]:
    """曝光台: hazards exposed for passing their deadline, with the unit, its leader, days overdue, still open?"""
    return reports.exposure(db, caller, ctx.taxonomy, _now(), f)


@router.get("/retraining", response_model=list[reports.RetrainingClass])
def retraining(caller: Caller, ctx: Ctx, db: Db, f: Filters) -> list[reports.RetrainingClass]:
    """回炉班: each class (newest first) with the people enrolled and their attendance."""
    return reports.roster(db, caller, ctx.taxonomy, f)


@router.post("/retraining/{enrolment_id}/attendance", response_model=reports.Enrolment)
def mark_attendance(enrolment_id: RowId, body: AttendanceIn, caller: Caller, ctx: Ctx, db: Db) -> reports.Enrolment:
    """The supervisor records whether an enrolled person came (or corrects it)."""
    return reports.mark_attendance(db, caller, ctx.taxonomy, enrolment_id, body.attended, _now())


@router.get("/summonses", response_model=list[reports.SummonsView])
def summonses(caller: Caller, ctx: Ctx, db: Db, f: Filters) -> list[reports.SummonsView]:
    """约谈: the leaders of units overdue again, not yet held first."""
    return reports.summonses(db, caller, ctx.taxonomy, f)


@router.post("/summonses/{summons_id}/held", response_model=reports.SummonsView)
def summons_held(summons_id: RowId, body: HeldIn, caller: Caller, ctx: Ctx, db: Db) -> reports.SummonsView:
    """The supervisor or a county leader records the talk as held (once; 409 `already_held` after)."""
    return reports.mark_held(db, caller, ctx.taxonomy, summons_id, body.note, _now())


# The workbook before the JSON list: `/lists/{kind}` would take `hazards.xlsx` as a kind.
@router.get(
    "/lists/{kind}.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "问题隐患 / 整改措施 / 责任清单 (Excel)"}},
)
def list_xlsx(kind: str, caller: Caller, ctx: Ctx, db: Db, f: Filters) -> Response:
    """Every row of the list with these filters (not a page), as an Excel workbook."""
    return attachment(inspection_exports.list_export(db, caller, kind, ctx.taxonomy, _now(), f))


@router.get("/lists/{kind}", response_model=reports.ListOut)
def inspection_list(
    kind: str,
    caller: Caller,
    ctx: Ctx,
    db: Db,
    f: Filters,
    page: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 100,
) -> reports.ListOut:
    """三张清单: `hazards` (问题隐患), `measures` (整改措施), `responsibilities` (责任), newest found first."""
    return reports.inspection_list(db, caller, kind, ctx.taxonomy, _now(), f, page, page_size)


@router.get("/figures", response_model=reports.InspectionFigures)
def figures(caller: Caller, ctx: Ctx, db: Db, f: Filters) -> reports.InspectionFigures:
    """Rectification rate (struck off on time / fallen due), re-check rate, recurrence rate, overdue now and by
    unit, by district and by domain (definitions: docs/inspection.md, "Figures")."""
    return reports.figures(db, caller, ctx.taxonomy, _now(), f)


@router.get(
    "/figures.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "平安督查统计 (Excel)"}},
)
def figures_xlsx(caller: Caller, ctx: Ctx, db: Db, f: Filters) -> Response:
    return attachment(inspection_exports.figures_export(reports.figures(db, caller, ctx.taxonomy, _now(), f)))
