"""Cases: intake (citizens and clerks), the staff list and case view, and the staff steps. Each route parses,
lets the dependencies authenticate, and calls a service (services/intake.py, cases.py, steps.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response

from api.deps import Caller, Ctx, Db, OptionalCaller, client_address, public_base
from api.downloads import attachment
from services import cases, exports, intake, steps
from services.db import run
from services.exports import XLSX
from services.schemas import (
    PAGE_MAX,
    AssignIn,
    CaseListOut,
    CaseListQuery,
    CaseView,
    ExtensionDecisionIn,
    ExtensionIn,
    IntakeIn,
    IntakeOut,
    MeetingIn,
    ReasonIn,
    ReissueIn,
    ReissueOut,
    ResolveIn,
    ResumeIn,
    ReviewDecisionIn,
    TeamIn,
    TriageIn,
    UrgeIn,
)

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])


async def count_intake(request: Request, ctx: Ctx, caller: OptionalCaller) -> None:
    """Before the body is validated: an invalid anonymous intake counts against the address's rate too."""
    intake.count_attempt(ctx, caller, client_address(request))


@router.post(
    "",
    status_code=201,
    response_model=IntakeOut,
    dependencies=[Depends(count_intake)],
    responses={429: {"description": "too many intakes from this address (anonymous callers)"}},
)
async def create_case(body: IntakeIn, request: Request, ctx: Ctx, caller: OptionalCaller) -> IntakeOut:
    """Register a citizen's request. Anonymous (kiosk, web), or a clerk with a token on the citizen's behalf."""
    return await intake.take_in(ctx, body, caller, client_address(request), public_base(request))


def csv_values(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def list_filters(
    status: Annotated[str | None, Query(description="one status or several, comma-separated")] = None,
    color: str | None = None,
    category: str | None = None,
    unit: str | None = None,
    township: str | None = None,
    handler: str | None = None,
    overdue: bool | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> CaseListQuery:
    """The case list's filters, shared by the list and its export (each may name several values)."""
    return CaseListQuery(
        status=csv_values(status),
        color=csv_values(color),
        category=csv_values(category),
        unit=csv_values(unit),
        township=csv_values(township),
        handler=csv_values(handler),
        overdue=overdue,
        q=q,
    )


Filters = Annotated[CaseListQuery, Depends(list_filters)]


@router.get("", response_model=CaseListOut)
async def list_cases(
    caller: Caller,
    ctx: Ctx,
    filters: Filters,
    page: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> CaseListOut:
    """The cases the caller's jurisdiction allows, newest first, with citizens' names and phones masked."""
    query = filters.model_copy(update={"page": page, "page_size": page_size})
    return await run(ctx.engine, lambda db: cases.list_cases(db, caller, query))


@router.get(
    "/export.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "案件清单 (Excel)"}},
)
def export_cases(caller: Caller, ctx: Ctx, db: Db, filters: Filters) -> Response:
    """Every case the list with these filters shows the caller (not a page; 422 `export_too_large` beyond
    50,000), as an Excel workbook, masked as the list is. Declared before `/{case_id}`, which would take it."""
    return attachment(exports.cases_export(db, caller, filters, ctx.taxonomy, datetime.now(UTC)))


@router.get("/{case_id}", response_model=CaseView)
async def get_case(case_id: str, caller: Caller, ctx: Ctx) -> CaseView:
    """The workflow's state as last recorded, from the read model (`source: read_model`): no query reaches the
    case (docs/durability.md, "The cache and replay"). `stale` only for a row recorded before it kept states."""
    return await cases.get_case(ctx, case_id, caller)


@router.get("/{case_id}/materials/{material_id}", response_class=FileResponse)
async def get_material(case_id: str, material_id: str, caller: Caller, ctx: Ctx) -> FileResponse:
    m = await cases.material_file(ctx, case_id, material_id, caller)
    return FileResponse(
        m.path, media_type=m.content_type, filename=m.filename, headers={"X-Content-Type-Options": "nosniff"}
    )


# --- staff steps ---------------------------------------------------------------------------------------


@router.post("/{case_id}/triage", response_model=CaseView)
async def triage(case_id: str, body: TriageIn, caller: Caller, ctx: Ctx) -> CaseView:
    """分流: category, handling unit and township (manual routing or re-routing)."""
    return await steps.triage(ctx, case_id, caller, body)


@router.post("/{case_id}/assign", response_model=CaseView)
async def assign(case_id: str, body: AssignIn, caller: Caller, ctx: Ctx) -> CaseView:
    """交办: name the person responsible (a staff username of the lead unit)."""
    return await steps.assign(ctx, case_id, caller, body)


@router.post("/{case_id}/team", response_model=CaseView)
async def form_team(case_id: str, body: TeamIn, caller: Caller, ctx: Ctx) -> CaseView:
    """组团: the members by username, or (no members / accept_suggestion) the system's suggestion."""
    return await steps.form_team(ctx, case_id, caller, body)


@router.post("/{case_id}/team/accept", response_model=CaseView)
async def accept_team(case_id: str, caller: Caller, ctx: Ctx) -> CaseView:
    """接受组团邀请: a team member who is not the handler confirms taking part."""
    return await steps.accept_team(ctx, case_id, caller)


@router.post("/{case_id}/team/decline", response_model=CaseView)
async def decline_team(case_id: str, body: ReasonIn, caller: Caller, ctx: Ctx) -> CaseView:
    """谢绝组团: a team member who is not the handler steps out with a reason; the matcher fills the seat."""
    return await steps.decline_team(ctx, case_id, caller, body)


@router.post("/{case_id}/mediations", response_model=CaseView)
async def record_mediation(case_id: str, body: MeetingIn, caller: Caller, ctx: Ctx) -> CaseView:
    return await steps.record_mediation(ctx, case_id, caller, body)


@router.post("/{case_id}/consultations", response_model=CaseView)
async def record_consultation(case_id: str, body: MeetingIn, caller: Caller, ctx: Ctx) -> CaseView:
    """专班会商 of a red case's task force."""
    return await steps.record_consultation(ctx, case_id, caller, body)


@router.post("/{case_id}/resolve", response_model=CaseView)
async def resolve(case_id: str, body: ResolveIn, caller: Caller, ctx: Ctx) -> CaseView:
    return await steps.resolve(ctx, case_id, caller, body)


@router.post("/{case_id}/urge", response_model=CaseView)
async def urge(case_id: str, caller: Caller, ctx: Ctx, body: UrgeIn | None = None) -> CaseView:
    return await steps.urge(ctx, case_id, caller, body)


@router.post("/{case_id}/withdraw", response_model=CaseView)
async def withdraw(case_id: str, body: ReasonIn, caller: Caller, ctx: Ctx) -> CaseView:
    return await steps.withdraw(ctx, case_id, caller, body)


@router.post("/{case_id}/reject", response_model=CaseView)
async def reject(case_id: str, body: ReasonIn, caller: Caller, ctx: Ctx) -> CaseView:
    return await steps.reject(ctx, case_id, caller, body)


@router.post("/{case_id}/review-decision", response_model=CaseView)
async def review_decision(case_id: str, body: ReviewDecisionIn, caller: Caller, ctx: Ctx) -> CaseView:
    """复核决定 (supervisor): re-handle the case, or uphold the result with a reason the citizen sees."""
    return await steps.review_decision(ctx, case_id, caller, body)


@router.post("/{case_id}/reissue-code", response_model=ReissueOut)
async def reissue_code(
    case_id: str, request: Request, caller: Caller, ctx: Ctx, body: ReissueIn | None = None
) -> ReissueOut:
    """补发查询码 (clerk): the old code stops working at once; the new one is returned once, to hand over."""
    return await steps.reissue_code(ctx, case_id, caller, body, public_base(request))


# --- the clocks: pausing, extensions, sending back -------------------------------------------------------


@router.post("/{case_id}/pause", response_model=CaseView)
async def pause(case_id: str, body: ReasonIn, caller: Caller, ctx: Ctx) -> CaseView:
    """暂停计时 (the handler or the lead unit's leader): the yellow and red clocks stand still; `paused: true`."""
    return await steps.pause(ctx, case_id, caller, body)


@router.post("/{case_id}/resume", response_model=CaseView)
async def resume(case_id: str, caller: Caller, ctx: Ctx, body: ResumeIn | None = None) -> CaseView:
    """恢复计时: the clocks go on, due later by the time they stood still."""
    return await steps.resume(ctx, case_id, caller, body)


@router.post("/{case_id}/extension", response_model=CaseView)
async def request_extension(case_id: str, body: ExtensionIn, caller: Caller, ctx: Ctx) -> CaseView:
    """申请延期 (the handler): `{"duration": "P3D", "reason"}`."""
    return await steps.request_extension(ctx, case_id, caller, body)


@router.post("/{case_id}/extension/decision", response_model=CaseView)
async def decide_extension(case_id: str, body: ExtensionDecisionIn, caller: Caller, ctx: Ctx) -> CaseView:
    """审批延期 (the lead unit's leader, or a supervisor): an approval moves the yellow and red clocks."""
    return await steps.decide_extension(ctx, case_id, caller, body)


@router.post("/{case_id}/send-back", response_model=CaseView)
async def send_back(case_id: str, body: ReasonIn, caller: Caller, ctx: Ctx) -> CaseView:
    """退回 (the lead unit's staff): not this unit's case; back to the clerks (a supervisor after two)."""
    return await steps.send_back(ctx, case_id, caller, body)
