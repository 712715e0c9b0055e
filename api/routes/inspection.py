"""Safety inspection (平安督查) over HTTP: report a hazard with its photos, hand in evidence, verify, re-check, and
the hazard list. Each route parses, lets the dependencies authenticate, and calls services/inspection.py."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse

from api.deps import Caller, Ctx
from api.routes.cases import csv_values
from api.uploads import UPLOAD_FORM, read_upload
from services import inspection
from services.db import run
from services.errors import invalid
from services.inspection_schemas import (
    HazardCreated,
    HazardIn,
    HazardListOut,
    HazardListQuery,
    HazardView,
    PhotoOut,
    RecheckIn,
    VerifyIn,
)

router = APIRouter(prefix="/api/v1/inspection", tags=["inspection"])


def _districts(value: str | None) -> list[int]:
    try:
        return [int(v) for v in csv_values(value)]
    except ValueError:
        raise invalid("bad_district", "片区须为数字（如 1,2）", field="district") from None


def hazard_filters(
    request: Request,
    status: Annotated[str | None, Query(description="one status or several, comma-separated")] = None,
    district: str | None = None,
    domain: str | None = None,
    township: str | None = None,
    unit: str | None = None,
    overdue: bool | None = None,
    exposed: bool | None = None,
) -> HazardListQuery:
    """The hazard list's filters (each may name several values); `from` and `to` bound the day it was found."""
    try:
        start = date.fromisoformat(request.query_params["from"]) if request.query_params.get("from") else None
        end = date.fromisoformat(request.query_params["to"]) if request.query_params.get("to") else None
    except ValueError:
        raise invalid("bad_period", "起止日期格式应为 YYYY-MM-DD", field="from") from None
    return HazardListQuery(
        status=csv_values(status),
        district=_districts(district),
        domain=csv_values(domain),
        township=csv_values(township),
        unit=csv_values(unit),
        overdue=overdue,
        exposed=exposed,
        start=start,
        end=end,
    )


HazardFilters = Annotated[HazardListQuery, Depends(hazard_filters)]


@router.post("/photos", status_code=201, response_model=PhotoOut, openapi_extra=UPLOAD_FORM)
async def upload_photo(request: Request, caller: Caller, ctx: Ctx) -> PhotoOut:
    """现场照片: one photo (JPEG, PNG or WebP; GPS and camera data stripped), to be named in a hazard report."""
    inspection.check_reporter(caller)  # before the upload is read
    upload = await read_upload(request, ctx.settings.max_upload_bytes)
    return await inspection.upload_photo(ctx, caller, upload)


@router.post("/hazards", status_code=201, response_model=HazardCreated)
async def report_hazard(body: HazardIn, caller: Caller, ctx: Ctx) -> HazardCreated:
    """上报隐患 (inspector): handed on to the responsible unit with a deadline by severity unless one is given."""
    return await inspection.report_hazard(ctx, caller, body)


@router.get("/hazards", response_model=HazardListOut)
async def list_hazards(
    caller: Caller,
    ctx: Ctx,
    filters: HazardFilters,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> HazardListOut:
    """The hazards the caller may see: open ones by deadline first."""
    query = filters.model_copy(update={"page": page, "page_size": page_size})
    return await run(ctx.engine, lambda db: inspection.list_hazards(db, caller, query, ctx.taxonomy, datetime.now(UTC)))


@router.get("/hazards/{hazard_id}", response_model=HazardView)
async def get_hazard(hazard_id: str, caller: Caller, ctx: Ctx) -> HazardView:
    return await inspection.get_hazard(ctx, hazard_id, caller)


@router.get("/hazards/{hazard_id}/files/{file_id}", response_class=FileResponse)
async def get_file(hazard_id: str, file_id: str, caller: Caller, ctx: Ctx) -> FileResponse:
    f = await inspection.hazard_file(ctx, hazard_id, file_id, caller)
    return FileResponse(
        f.path, media_type=f.content_type, filename=f.filename, headers={"X-Content-Type-Options": "nosniff"}
    )


@router.post("/hazards/{hazard_id}/evidence", response_model=HazardView, openapi_extra=UPLOAD_FORM)
async def submit_evidence(hazard_id: str, request: Request, caller: Caller, ctx: Ctx) -> HazardView:
    """提交整改材料 (the responsible unit): a file and a note; the hazard goes to the inspector to verify."""
    await inspection.may_submit_evidence(ctx, hazard_id, caller)  # before the upload is read
    upload = await read_upload(request, ctx.settings.max_upload_bytes)
    return await inspection.submit_evidence(ctx, hazard_id, caller, upload)


@router.post("/hazards/{hazard_id}/verify", response_model=HazardView)
async def verify(hazard_id: str, body: VerifyIn, caller: Caller, ctx: Ctx) -> HazardView:
    """验收 (inspector): accept → struck off (销号); refuse with a reason → back to the unit."""
    return await inspection.verify(ctx, hazard_id, caller, body)


@router.post("/hazards/{hazard_id}/recheck", response_model=HazardView)
async def recheck(hazard_id: str, body: RecheckIn, caller: Caller, ctx: Ctx) -> HazardView:
    """回头看 (inspector): holds → closed; recurred → reopened with a new deadline."""
    return await inspection.recheck(ctx, hazard_id, caller, body)
