"""The staff steps on a case (分流 交办 组团 记录调解 办结 督办 会商 撤回 不予受理 复核 补发查询码): each turns
validated input into the step's typed action — looking up the people and codes it names — and sends it to the
case's workflow through services.cases.act. The workflow's validator decides whether the step is allowed."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import isodate

from domain.models import (
    AcceptTeamAction,
    Actor,
    AssignAction,
    CitizenUpdateAction,
    CodeReissueAction,
    ConsultationAction,
    DeclineTeamAction,
    ExtensionDecisionAction,
    ExtensionRequestAction,
    MediationAction,
    PauseAction,
    RejectAction,
    ResolveAction,
    ResumeAction,
    ReviewDecisionAction,
    SendBackAction,
    TeamAction,
    TeamRequest,
    TriageAction,
    UrgeAction,
    WithdrawAction,
)
from domain.settings import parse_duration
from domain.taxonomy import TOWNSHIP_LED
from domain.times import from_china_wall_time
from services import codes, team_suggestion, tracking
from services.cases import Found, act, find_for
from services.context import Services
from services.db import run_sync
from services.errors import Refusal, invalid
from services.schemas import (
    AssignIn,
    CaseView,
    CitizenUpdateIn,
    ExtensionDecisionIn,
    ExtensionIn,
    MaterialOut,
    MeetingIn,
    ReasonIn,
    ReissueIn,
    ResolveIn,
    ResumeIn,
    ReviewDecisionIn,
    TeamIn,
    TrackingLinks,
    TriageIn,
    UrgeIn,
)
from store import directory
from workflows.dispute_case import DisputeCase

log = logging.getLogger("wuhuan.services.steps")


def _person(svc: Services, username: str, code: str, label: str) -> Actor:
    person = run_sync(svc.engine, lambda db: directory.active(db, username))
    if person is None:
        raise invalid(code, f"未知的{label}：{username}")
    return directory.actor_of(person)


async def triage(svc: Services, case_id: str, actor: Actor, body: TriageIn) -> CaseView:
    """分流: category, handling unit and township (manual routing or re-routing)."""
    tx = svc.taxonomy

    def make(found: Found, actor: Actor) -> TriageAction:
        category = tx.category(body.category)
        if category is None:
            raise invalid("unknown_category", f"未知的纠纷类别代码：{body.category}")
        if tx.unit(body.unit) is None:
            raise invalid("unknown_unit", f"未知的承办单位代码：{body.unit}")
        township = body.township if body.township is not None else found.township
        if township is not None and tx.township(township) is None:
            raise invalid("unknown_township", f"未知的乡镇（街道）代码：{township}")
        if body.unit == TOWNSHIP_LED and township is None:
            raise invalid("township_required", "属地乡镇承办的案件须指明乡镇（街道）")
        return TriageAction(
            actor=actor,
            category=category.code,
            unit=body.unit,
            township=township,
            needs_team=category.team,
            team_units=category.team_units,
            reason=body.reason,
        )

    return await act(svc, case_id, actor, DisputeCase.triage, make)


async def assign(svc: Services, case_id: str, actor: Actor, body: AssignIn) -> CaseView:
    """交办: name the person responsible (a staff username of the lead unit)."""

    def make(found: Found, actor: Actor) -> AssignAction:
        return AssignAction(
            actor=actor, handler=_person(svc, body.handler, "unknown_handler", "承办人"), reason=body.reason
        )

    return await act(svc, case_id, actor, DisputeCase.assign, make)


async def form_team(svc: Services, case_id: str, actor: Actor, body: TeamIn) -> CaseView:
    """组团: the members by username, or (no members / accept_suggestion) the matcher's suggestion."""

    def make(found: Found, actor: Actor) -> TeamAction:
        if body.members is not None and not body.accept_suggestion:
            people = [_person(svc, name, "unknown_member", "组团成员") for name in body.members]
            return TeamAction(actor=actor, members=people, reason=body.reason)
        s = found.state
        if s is None:
            raise Refusal(503, "worker_unavailable", "案件处理服务暂未响应，无法生成组团建议")
        suggestion = team_suggestion.suggest(
            svc,
            TeamRequest(
                case_id=s.case_id,
                category=s.category,
                team_units=s.team_units,
                township=s.township,
                handler=s.handler,
                exclude=list(s.team_declined),
            ),
        )
        return TeamAction(
            actor=actor,
            members=suggestion.members,
            reason=body.reason or f"采纳系统建议：{suggestion.reason}",
            slots=suggestion.slots,
        )

    return await act(svc, case_id, actor, DisputeCase.form_team, make)


async def accept_team(svc: Services, case_id: str, actor: Actor) -> CaseView:
    """接受组团邀请: the caller, a team member who is not the handler, confirms taking part."""
    return await act(svc, case_id, actor, DisputeCase.accept_team, lambda found, actor: AcceptTeamAction(actor=actor))


async def decline_team(svc: Services, case_id: str, actor: Actor, body: ReasonIn) -> CaseView:
    """谢绝组团: the caller, a team member who is not the handler, steps out with a reason; the matcher then
    invites the next person of the same unit (or tells that unit's leader when there is nobody)."""
    return await act(
        svc,
        case_id,
        actor,
        DisputeCase.decline_team,
        lambda found, actor: DeclineTeamAction(actor=actor, reason=body.reason),
    )


async def record_mediation(svc: Services, case_id: str, actor: Actor, body: MeetingIn) -> CaseView:
    return await act(
        svc,
        case_id,
        actor,
        DisputeCase.record_mediation,
        lambda found, actor: MediationAction(
            actor=actor,
            summary=body.summary,
            held_at=from_china_wall_time(body.held_at),
            participants=body.participants,
        ),
    )


async def record_consultation(svc: Services, case_id: str, actor: Actor, body: MeetingIn) -> CaseView:
    """专班会商 of a red case's task force."""
    return await act(
        svc,
        case_id,
        actor,
        DisputeCase.record_consultation,
        lambda found, actor: ConsultationAction(
            actor=actor,
            summary=body.summary,
            held_at=from_china_wall_time(body.held_at),
            participants=body.participants,
        ),
    )


async def resolve(svc: Services, case_id: str, actor: Actor, body: ResolveIn) -> CaseView:
    return await act(
        svc,
        case_id,
        actor,
        DisputeCase.resolve,
        lambda found, actor: ResolveAction(actor=actor, outcome=body.outcome, summary=body.summary),
    )


async def urge(svc: Services, case_id: str, actor: Actor, body: UrgeIn | None) -> CaseView:
    note = body.note if body else None
    return await act(
        svc, case_id, actor, DisputeCase.urge, lambda found, actor: UrgeAction(actor=actor, note=note or None)
    )


async def withdraw(svc: Services, case_id: str, actor: Actor, body: ReasonIn) -> CaseView:
    return await act(
        svc, case_id, actor, DisputeCase.withdraw, lambda found, actor: WithdrawAction(actor=actor, reason=body.reason)
    )


async def reject(svc: Services, case_id: str, actor: Actor, body: ReasonIn) -> CaseView:
    return await act(
        svc, case_id, actor, DisputeCase.reject, lambda found, actor: RejectAction(actor=actor, reason=body.reason)
    )


async def citizen_update(svc: Services, case_id: str, actor: Actor, body: CitizenUpdateIn) -> CaseView:
    """更新诉求 taken down by a clerk for the citizen (at the window or on the phone)."""
    text = tracking.update_text(svc, body)
    return await act(
        svc,
        case_id,
        actor,
        DisputeCase.citizen_update,
        lambda found, actor: CitizenUpdateAction(actor=actor, text=text),
    )


async def add_material(svc: Services, case_id: str, actor: Actor, upload: tracking.Upload) -> MaterialOut:
    """补充材料 by staff: a clerk for the citizen, or the handler (an agreement, a photo of the site)."""
    await find_for(svc, case_id, actor)  # 404 / 403 before a byte is stored
    return await tracking.add_material(svc, case_id, upload, by=actor)


async def review_decision(svc: Services, case_id: str, actor: Actor, body: ReviewDecisionIn) -> CaseView:
    """复核决定 (supervisor): send the case back for re-handling, or uphold the result with a written reason the
    citizen sees."""
    return await act(
        svc,
        case_id,
        actor,
        DisputeCase.review_decision,
        lambda found, actor: ReviewDecisionAction(actor=actor, rehandle=body.rehandle, reason=body.reason),
    )


async def reissue_code(
    svc: Services, case_id: str, actor: Actor, body: ReissueIn | None, public_base: str
) -> TrackingLinks:
    """补发查询码 (clerk): the old code stops working at once; the new one is returned once, to hand over."""
    await act(
        svc,
        case_id,
        actor,
        DisputeCase.reissue_code,
        lambda found, actor: CodeReissueAction(actor=actor, reason=body.reason if body else None),
    )
    code = await asyncio.to_thread(codes.reissue_tracking_code, svc.engine, case_id)
    log.info("tracking code of case %s reissued by %s", case_id, actor.username)
    return codes.tracking_links(case_id, code, public_base)


# --- the clocks: pausing, extensions, sending back -------------------------------------------------------

MAX_EXTENSION = timedelta(days=90)


async def pause(svc: Services, case_id: str, actor: Actor, body: ReasonIn) -> CaseView:
    """暂停计时 while the case waits for the citizen or a third party: the yellow and red clocks stand still."""
    return await act(
        svc, case_id, actor, DisputeCase.pause, lambda found, actor: PauseAction(actor=actor, reason=body.reason)
    )


async def resume(svc: Services, case_id: str, actor: Actor, body: ResumeIn | None) -> CaseView:
    """恢复计时: the clocks go on, due later by the time they stood still."""
    note = body.note if body else None
    return await act(
        svc, case_id, actor, DisputeCase.resume, lambda found, actor: ResumeAction(actor=actor, note=note or None)
    )


def extension_duration(text: str) -> timedelta:
    """A requested extension as ISO 8601 (P3D, PT12H): positive, at most MAX_EXTENSION."""
    try:
        duration = parse_duration(text)
    except (ValueError, TypeError, isodate.ISO8601Error):
        raise invalid("invalid_duration", "延期时长应为 ISO 8601 格式，如 P3D（3天）", field="duration") from None
    if duration > MAX_EXTENSION:
        raise invalid("duration_too_long", f"一次延期不能超过 {MAX_EXTENSION.days} 天", field="duration")
    return duration


async def request_extension(svc: Services, case_id: str, actor: Actor, body: ExtensionIn) -> CaseView:
    """申请延期 (the handler): the lead unit's leader or a supervisor decides."""
    duration = extension_duration(body.duration)
    return await act(
        svc,
        case_id,
        actor,
        DisputeCase.request_extension,
        lambda found, actor: ExtensionRequestAction(actor=actor, duration=duration, reason=body.reason),
    )


async def decide_extension(svc: Services, case_id: str, actor: Actor, body: ExtensionDecisionIn) -> CaseView:
    """审批延期: an approval moves the yellow and red clocks by the duration asked for."""
    return await act(
        svc,
        case_id,
        actor,
        DisputeCase.decide_extension,
        lambda found, actor: ExtensionDecisionAction(actor=actor, approve=body.approve, reason=body.reason),
    )


async def send_back(svc: Services, case_id: str, actor: Actor, body: ReasonIn) -> CaseView:
    """退回: the unit returns a case that is not its own; the clerks (after two, a supervisor) route it again."""
    return await act(
        svc, case_id, actor, DisputeCase.send_back, lambda found, actor: SendBackAction(actor=actor, reason=body.reason)
    )
