"""Cases: intake (citizens and clerks), the staff list and case view, and the staff steps.

Thin by design: validate input, check who may see the case, build the step and send it to the case's
workflow, whose validator decides whether the step is allowed (403 / 409 / 422)."""
from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta, timezone
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from sqlalchemy import func, or_
from sqlmodel import select

from activities.assignment import Assignment
from api import access, intake, jurisdiction, temporal, uploads, views
from api.deps import Ctx, CurrentStaff, Db, OptionalStaff, actor_of, client_address, staff_ref
from api.errors import ApiError, invalid, not_found, unauthorized
from api.schemas import (
    AssignIn, CaseListOut, CaseView, IntakeIn, IntakeOut, MeetingIn, ReasonIn, ReissueIn, ReissueOut, ResolveIn,
    ReviewDecisionIn, TeamIn, TriageIn, UrgeIn,
)
from domain.models import (
    CITIZEN, Actor, AssignAction, CaseIntake, CaseStart, CodeReissueAction, ConsultationAction, DeclineTeamAction,
    MediationAction, RejectAction, ResolveAction, ReviewDecisionAction, Role, TeamAction, TeamRequest, TriageAction, UrgeAction, WithdrawAction,
)
from domain.privacy import normalise_phone, valid_phone
from store.tables import Case, MaterialRow, Staff
from workflows.dispute_case import DisputeCase

log = logging.getLogger("wuhuan.api.cases")
router = APIRouter(prefix="/api/v1/cases", tags=["cases"])

INTAKE_ROLES = {Role.clerk.value, Role.supervisor.value}
_FUTURE_SLACK = timedelta(hours=1)  # a meeting time may be a little ahead of the server clock


# --- intake --------------------------------------------------------------------------------------------

def _checked_intake(body: IntakeIn, ctx) -> CaseIntake:
    description = body.description.strip()
    if not description:
        raise invalid("description_required", "请填写诉求内容")
    if len(description) > ctx.settings.max_description_chars:
        raise invalid("description_too_long", f"诉求内容不能超过 {ctx.settings.max_description_chars} 字")
    name = body.citizen.name.strip()
    if not 1 <= len(name) <= 50:
        raise invalid("invalid_name", "请填写姓名（1至50字）")
    if not valid_phone(body.citizen.phone):
        raise invalid("invalid_phone", "手机号码或固定电话格式不正确")
    township = (body.township or "").strip() or None
    if township and ctx.taxonomy.township(township) is None:
        raise invalid("unknown_township", f"未知的乡镇（街道）代码：{township}")
    category = (body.category or "").strip() or None
    if category and ctx.taxonomy.category(category) is None:
        raise invalid("unknown_category", f"未知的纠纷类别代码：{category}")
    return CaseIntake(description=description, citizen_name=name, citizen_phone=normalise_phone(body.citizen.phone),
                      address=body.address or None, township_hint=township, category_hint=category,
                      channel=body.channel)


@router.post("", status_code=201, response_model=IntakeOut)
async def create_case(body: IntakeIn, request: Request, ctx: Ctx, staff: OptionalStaff) -> IntakeOut:
    """Register a citizen's request. Anonymous (kiosk, web), or a clerk with a token on the citizen's behalf."""
    if staff is None:
        if body.channel in ("clerk", "phone"):
            raise unauthorized("staff_channel_requires_login", "窗口或电话受理须由工作人员登录后提交")
    elif staff.role not in INTAKE_ROLES:
        raise ApiError(403, "forbidden_role", "只有受理员可以代群众登记诉求")
    case_intake = _checked_intake(body, ctx)
    if staff is None:  # only requests that would open a case count against the address's rate
        ctx.limiter.check(f"intake:{client_address(request)}", ctx.settings.rate_limit_intake)
    intake_by = actor_of(staff) if staff is not None else CITIZEN

    client = await ctx.temporal.get()  # 503 before anything is written when Temporal is away
    case_id = uuid.uuid4().hex
    received_at = datetime.now(timezone.utc)
    case_no = await asyncio.to_thread(intake.allocate_case_no, ctx.engine, received_at)
    code, digest = await asyncio.to_thread(intake.new_tracking_code, ctx.engine, case_id)
    start = CaseStart(case_id=case_id, case_no=case_no, received_at=received_at, intake=case_intake,
                      intake_by=intake_by, levels=ctx.settings.service_levels())
    try:
        await temporal.start_case(client, ctx.settings, start)
    except BaseException:
        await asyncio.shield(asyncio.to_thread(intake.drop_tracking_code, ctx.engine, digest))
        raise
    log.info("case %s (%s) received via %s by %s", case_no, case_id, body.channel, intake_by.username)
    base = str(request.base_url).rstrip("/")
    return IntakeOut(case_id=case_id, case_no=case_no, tracking_code=code, tracking_url=f"{base}/track/{code}",
                     qr_url=f"/api/v1/track/{code}/qr.svg")


# --- reading -------------------------------------------------------------------------------------------

def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@router.get("", response_model=CaseListOut)
def list_cases(
    staff: CurrentStaff, db: Db,
    status: Annotated[str | None, Query(description="one status or several, comma-separated")] = None,
    color: str | None = None, category: str | None = None, unit: str | None = None,
    township: str | None = None, handler: str | None = None, overdue: bool | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    page: Annotated[int, Query(ge=1)] = 1, page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> CaseListOut:
    """The cases the caller's jurisdiction allows, newest first, with citizens' names and phones masked."""
    conds = []
    scope = jurisdiction.case_filter(actor_of(staff))
    if scope is not None:
        conds.append(scope)
    for column, value in ((Case.status, status), (Case.colour, color), (Case.category, category),
                          (Case.unit, unit), (Case.township, township), (Case.handler, handler)):
        values = _csv(value)
        if values:
            conds.append(column.in_(values))
    if overdue is not None:
        conds.append(Case.overdue == overdue)
    text = (q or "").strip()
    if text:
        if valid_phone(text):
            conds.append(Case.citizen_phone == normalise_phone(text))
        else:
            conds.append(or_(Case.case_no.contains(text, autoescape=True),
                             Case.description.contains(text, autoescape=True),
                             Case.address.contains(text, autoescape=True),
                             Case.citizen_name.contains(text, autoescape=True)))
    total = db.exec(select(func.count()).select_from(Case).where(*conds)).one()
    rows = db.exec(select(Case).where(*conds).order_by(Case.received_at.desc(), Case.case_no.desc())
                   .offset((page - 1) * page_size).limit(page_size)).all()
    return CaseListOut(items=[views.list_item(r) for r in rows], total=total, page=page, page_size=page_size)


@router.get("/{case_id}", response_model=CaseView)
async def get_case(case_id: str, staff: CurrentStaff, ctx: Ctx, db: Db) -> CaseView:
    """Live workflow state (`source: workflow`); the read model's copy, marked stale, when no worker answers."""
    actor = actor_of(staff)
    return access.view(await access.find_for(ctx, db, case_id, actor), actor, db)


@router.get("/{case_id}/materials/{material_id}", response_class=FileResponse)
async def get_material(case_id: str, material_id: str, staff: CurrentStaff, ctx: Ctx, db: Db) -> FileResponse:
    await access.find_for(ctx, db, case_id, actor_of(staff))
    m = db.get(MaterialRow, material_id)
    if m is None or m.case_id != case_id:
        raise not_found("unknown_material", "材料不存在")
    try:
        path = uploads.path_of(ctx.settings.data_dir, m.stored_name)
    except ValueError:
        raise not_found("unknown_material", "材料不存在") from None
    if not path.exists():
        raise not_found("unknown_material", "材料文件已不存在")
    return FileResponse(path, media_type=m.content_type, filename=m.filename,
                        headers={"X-Content-Type-Options": "nosniff"})


# --- staff steps ---------------------------------------------------------------------------------------

def _staff(db, username: str, code: str, label: str) -> Staff:
    person = db.get(Staff, username)
    if person is None or not person.active:
        raise invalid(code, f"未知的{label}：{username}")
    return person


@router.post("/{case_id}/triage", response_model=CaseView)
async def triage(case_id: str, body: TriageIn, staff: CurrentStaff, ctx: Ctx, db: Db) -> CaseView:
    """分流: category, handling unit and township (manual routing or re-routing)."""
    tx = ctx.taxonomy

    def make(found: access.Found, actor: Actor) -> TriageAction:
        cat = tx.category(body.category)
        if cat is None:
            raise invalid("unknown_category", f"未知的纠纷类别代码：{body.category}")
        if tx.unit(body.unit) is None:
            raise invalid("unknown_unit", f"未知的承办单位代码：{body.unit}")
        township = body.township
        if township is None:
            township = found.state.township if found.state else (found.row.township if found.row else None)
        if township is not None and tx.township(township) is None:
            raise invalid("unknown_township", f"未知的乡镇（街道）代码：{township}")
        if body.unit == "township" and township is None:
            raise invalid("township_required", "属地乡镇承办的案件须指明乡镇（街道）")
        return TriageAction(actor=actor, category=cat.code, unit=body.unit, township=township,
                            needs_team=cat.team, team_units=[u for u in cat.units if u != "township"],
                            reason=body.reason)

    return await access.act(ctx, db, case_id, staff, DisputeCase.triage, make)


@router.post("/{case_id}/assign", response_model=CaseView)
async def assign(case_id: str, body: AssignIn, staff: CurrentStaff, ctx: Ctx, db: Db) -> CaseView:
    """交办: name the person responsible (a staff username of the lead unit)."""
    def make(found: access.Found, actor: Actor) -> AssignAction:
        person = _staff(db, body.handler, "unknown_handler", "承办人")
        return AssignAction(actor=actor, handler=staff_ref(person), reason=body.reason)

    return await access.act(ctx, db, case_id, staff, DisputeCase.assign, make)


@router.post("/{case_id}/team", response_model=CaseView)
async def form_team(case_id: str, body: TeamIn, staff: CurrentStaff, ctx: Ctx, db: Db) -> CaseView:
    """组团: the members by username, or (no members / accept_suggestion) the system's suggestion."""
    def make(found: access.Found, actor: Actor) -> TeamAction:
        if body.members is not None and not body.accept_suggestion:
            people = [staff_ref(_staff(db, name, "unknown_member", "组团成员")) for name in body.members]
            return TeamAction(actor=actor, members=people, reason=body.reason)
        s = found.state
        if s is None:
            raise ApiError(503, "worker_unavailable", "案件处理服务暂未响应，无法生成组团建议")
        suggestion = Assignment(ctx.engine, ctx.taxonomy).match_team(TeamRequest(
            case_id=s.case_id, category=s.category, team_units=s.team_units, township=s.township, handler=s.handler,
            exclude=list(s.team_declined)))
        return TeamAction(actor=actor, members=suggestion.members,
                          reason=body.reason or f"采纳系统建议：{suggestion.reason}", slots=suggestion.slots)

    return await access.act(ctx, db, case_id, staff, DisputeCase.form_team, make)


@router.post("/{case_id}/team/decline", response_model=CaseView)
async def decline_team(case_id: str, body: ReasonIn, staff: CurrentStaff, ctx: Ctx, db: Db) -> CaseView:
    """谢绝组团: the caller, a team member who is not the handler, steps out with a reason; the matcher then
    invites the next person of the same unit (or tells that unit's leader when there is nobody)."""
    return await access.act(ctx, db, case_id, staff, DisputeCase.decline_team,
                            lambda found, actor: DeclineTeamAction(actor=actor, reason=body.reason))


@router.post("/{case_id}/mediations", response_model=CaseView)
async def record_mediation(case_id: str, body: MeetingIn, staff: CurrentStaff, ctx: Ctx, db: Db) -> CaseView:
    def make(found, actor) -> MediationAction:
        return MediationAction(actor=actor, summary=body.summary, held_at=_held_at(body.held_at),
                               participants=body.participants)

    return await access.act(ctx, db, case_id, staff, DisputeCase.record_mediation, make)


@router.post("/{case_id}/consultations", response_model=CaseView)
async def record_consultation(case_id: str, body: MeetingIn, staff: CurrentStaff, ctx: Ctx, db: Db) -> CaseView:
    """专班会商 of a red case's task force."""
    def make(found, actor) -> ConsultationAction:
        return ConsultationAction(actor=actor, summary=body.summary, held_at=_held_at(body.held_at),
                                  participants=body.participants)

    return await access.act(ctx, db, case_id, staff, DisputeCase.record_consultation, make)


@router.post("/{case_id}/resolve", response_model=CaseView)
async def resolve(case_id: str, body: ResolveIn, staff: CurrentStaff, ctx: Ctx, db: Db) -> CaseView:
    return await access.act(ctx, db, case_id, staff, DisputeCase.resolve,
                            lambda found, actor: ResolveAction(actor=actor, outcome=body.outcome, summary=body.summary))


@router.post("/{case_id}/urge", response_model=CaseView)
async def urge(case_id: str, staff: CurrentStaff, ctx: Ctx, db: Db, body: UrgeIn | None = None) -> CaseView:
    note = body.note if body else None
    return await access.act(ctx, db, case_id, staff, DisputeCase.urge,
                            lambda found, actor: UrgeAction(actor=actor, note=note or None))


@router.post("/{case_id}/withdraw", response_model=CaseView)
async def withdraw(case_id: str, body: ReasonIn, staff: CurrentStaff, ctx: Ctx, db: Db) -> CaseView:
    return await access.act(ctx, db, case_id, staff, DisputeCase.withdraw,
                            lambda found, actor: WithdrawAction(actor=actor, reason=body.reason))


@router.post("/{case_id}/reject", response_model=CaseView)
async def reject(case_id: str, body: ReasonIn, staff: CurrentStaff, ctx: Ctx, db: Db) -> CaseView:
    return await access.act(ctx, db, case_id, staff, DisputeCase.reject,
                            lambda found, actor: RejectAction(actor=actor, reason=body.reason))


def _held_at(value: datetime) -> datetime:
    """A time without an offset is what a clerk in the county typed: China time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=intake.CHINA)
    value = value.astimezone(timezone.utc)
    if value > datetime.now(timezone.utc).replace(microsecond=0) + _FUTURE_SLACK:
        raise invalid("held_at_in_future", "召开时间不能晚于当前时间")
    return value


@router.post("/{case_id}/review-decision", response_model=CaseView)
async def review_decision(case_id: str, body: ReviewDecisionIn, staff: CurrentStaff, ctx: Ctx, db: Db) -> CaseView:
    """复核决定 (supervisor): send the case back for re-handling, or uphold the result with a written reason the
    citizen sees."""
    return await access.act(ctx, db, case_id, staff, DisputeCase.review_decision,
                            lambda found, actor: ReviewDecisionAction(actor=actor, rehandle=body.rehandle,
                                                                      reason=body.reason))


@router.post("/{case_id}/reissue-code", response_model=ReissueOut)
async def reissue_code(case_id: str, request: Request, staff: CurrentStaff, ctx: Ctx, db: Db,
                       body: ReissueIn | None = None) -> ReissueOut:
    """补发查询码 (clerk): the old code stops working at once; the new one is returned once, to hand over."""
    await access.act(ctx, db, case_id, staff, DisputeCase.reissue_code,
                     lambda found, actor: CodeReissueAction(actor=actor, reason=body.reason if body else None))
    code = await asyncio.to_thread(intake.reissue_tracking_code, ctx.engine, case_id)
    log.info("tracking code of case %s reissued by %s", case_id, staff.username)
    base = str(request.base_url).rstrip("/")
    return ReissueOut(case_id=case_id, tracking_code=code, tracking_url=f"{base}/track/{code}",
                      qr_url=f"/api/v1/track/{code}/qr.svg")
