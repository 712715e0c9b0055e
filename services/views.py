"""Shaping what services answer from a workflow's state (as the read model holds it, or decoded from its history)
or read-model rows. Personal data is masked here:
citizens' phones everywhere, citizens' names in lists, staff names (as masked display names) to citizens."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from sqlmodel import Session, select

from domain import case_flow, citizen_texts, clocks
from domain.case_flow import STATUS_ZH
from domain.channels import CHANNEL_ZH as CHANNEL_NAMES_ZH
from domain.jurisdiction import member_units
from domain.messages import KIND_ZH
from domain.models import Actor, CaseState, CaseStatus, Clock
from domain.privacy import mask_name, mask_phone, mask_text
from domain.taxonomy import Taxonomy, is_department
from domain.times import as_utc, china_local
from services import schemas as out
from store.tables import Case, CaseEventRow, NotificationDelivery, Staff

OUTCOME_ZH = {"agreement": "达成调解协议", "handled": "已依法处理", "referred": "已引导至其他途径解决"}
CHANNEL_ZH = {"kiosk": "自助终端", "phone": "电话", "web": "网上", "clerk": "窗口"}


def _status_zh(status: str) -> str:
    try:
        return STATUS_ZH[CaseStatus(status)]
    except ValueError:
        return status


def clock_view(c: Clock | dict[str, Any]) -> out.ClockView:
    clock = c if isinstance(c, Clock) else Clock.model_validate(c)
    return out.ClockView(**clock.model_dump(), running=clock.running)


def case_from_state(s: CaseState, actor: Actor, source: Literal["workflow", "read_model"] = "workflow") -> out.CaseView:
    """The whole case from a workflow state: the one the read model holds (`source="read_model"`, the case view
    and the answer after a step), or one decoded from the workflow's history (an auditor's `as_of`)."""
    i = s.intake
    return out.CaseView(
        case_id=s.case_id,
        case_no=s.case_no,
        status=s.status.value,
        status_zh=STATUS_ZH[s.status],
        supervision_color=s.colour.value,
        category=s.category,
        unit=s.unit,
        township=s.township,
        needs_team=s.needs_team,
        team_units=list(s.team_units),
        member_units=member_units(s),
        handler=s.handler.username if s.handler else None,
        team=[m.username for m in s.team],
        team_members=[out.PersonView(**m.model_dump(mode="json")) for m in s.team],
        team_accepted=list(s.team_accepted),
        team_declined=list(s.team_declined),
        clocks=[clock_view(c) for c in s.clocks],
        overdue=any(c.breached for c in s.clocks),
        received_at=s.received_at,
        intake=out.IntakeView(
            description=mask_text(i.description),
            citizen_name=i.citizen_name,
            citizen_phone=mask_phone(i.citizen_phone),
            address=i.address,
            channel=i.channel,
            township_hint=i.township_hint,
            category_hint=i.category_hint,
            intake_by=s.intake_by,
        ),
        mediations=[out.MeetingView(**m.model_dump()) for m in s.mediations],
        resolution=s.resolution.model_dump(mode="json") if s.resolution else None,
        rating=s.rating.model_dump(mode="json") if s.rating else None,
        materials=[out.MaterialView(**m.model_dump()) for m in s.materials],
        citizen_updates=[{**u, "text": mask_text(str(u.get("text", "")))} for u in s.citizen_updates],
        task_force=s.task_force.model_dump(mode="json") if s.task_force else None,
        paused=s.paused,
        pauses=[p.model_dump(mode="json") for p in s.pauses],
        extensions=[e.model_dump(mode="json") for e in s.extensions],
        sent_back=[b.model_dump(mode="json") for b in s.sent_back],
        urge_count=s.urge_count,
        auto_close_at=s.auto_close_at,
        closed_at=s.closed_at,
        actions=case_flow.allowed_steps(s, actor),
        source=source,
        stale=False,
    )


MATCHING_EVENTS = (
    "assigned",
    "reassigned",
    "assignment_pending",
    "team_formed",
    "team_incomplete",
    "team_member_declined",
    "team_member_replaced",
    "team_member_unavailable",
)


def matching_record(e: CaseEventRow) -> out.MatchingRecord:
    d = e.detail or {}
    member = d.get("handler") if e.type in ("assigned", "reassigned") else d.get("member")
    return out.MatchingRecord(
        seq=e.seq,
        at=e.at,
        type=e.type,
        actor=e.actor,
        reason=str(d.get("reason") or ""),
        member=member,
        replaces=d.get("replaces"),
        candidates=[out.CandidateScore.model_validate(c) for c in d.get("scores") or []],
        slots=[out.TeamSlot.model_validate(x) for x in d.get("slots") or []],
    )


def matching(db: Session, case_id: str) -> list[out.MatchingRecord]:
    """Every handler and team choice of a case with its score breakdown, from the read model's events."""
    rows = db.exec(
        select(CaseEventRow)
        .where(CaseEventRow.case_id == case_id, CaseEventRow.type.in_(MATCHING_EVENTS))
        .order_by(CaseEventRow.seq)
    ).all()
    return [matching_record(e) for e in rows]


DELIVERY_STATUS_ZH = {"pending": "待送达", "delivered": "已送达", "failed": "无法送达"}


def deliveries(db: Session, case_id: str) -> list[out.DeliveryView]:
    """The case's messages on external channels (the outbox), oldest first; no message text. The citizen is
    shown as 群众 with the phone masked."""
    rows = db.exec(
        select(NotificationDelivery)
        .where(NotificationDelivery.case_id == case_id)
        .order_by(NotificationDelivery.created_at, NotificationDelivery.id)
    ).all()
    people = {r.recipient for r in rows if citizen_texts.case_of(r.recipient) is None}
    names = dict(db.exec(select(Staff.username, Staff.display_name).where(Staff.username.in_(people))).all())
    phone = db.exec(select(Case.citizen_phone).where(Case.case_id == case_id)).first()

    def who(recipient: str) -> str:
        if citizen_texts.case_of(recipient) is not None:
            return f"群众（{mask_phone(phone)}）" if phone else "群众"
        return names.get(recipient, recipient)

    return [
        out.DeliveryView(
            recipient=r.recipient,
            recipient_zh=who(r.recipient),
            kind=r.kind,
            kind_zh=KIND_ZH.get(r.kind) or citizen_texts.KIND_ZH.get(r.kind, r.kind),
            channel=r.channel,
            channel_zh=CHANNEL_NAMES_ZH.get(r.channel, r.channel),
            status=r.status,
            status_zh=DELIVERY_STATUS_ZH.get(r.status, r.status),
            attempts=r.attempts,
            last_error=r.last_error,
            created_at=as_utc(r.created_at),
            last_attempt_at=as_utc(r.last_attempt_at),
            next_attempt_at=as_utc(r.next_attempt_at) if r.status == "pending" else None,
            delivered_at=as_utc(r.delivered_at),
        )
        for r in rows
    ]


def with_read_model(v: out.CaseView, db: Session, case_id: str) -> out.CaseView:
    """Add what only the read model knows: handler and team choices with their scores, and the deliveries."""
    v.matching = matching(db, case_id)
    v.deliveries = deliveries(db, case_id)
    v.undelivered = sum(1 for d in v.deliveries if d.status == "pending")
    return v


def case_from_row(row: Case, tx: Taxonomy) -> out.CaseView:
    """A reduced view from the row's columns alone, for a row last written before it kept the workflow's state
    (migration 0010): marked stale until the case records again or `wuhuan audit reconcile` fills the state."""
    category = tx.category(row.category)
    return out.CaseView(
        case_id=row.case_id,
        case_no=row.case_no,
        status=row.status,
        status_zh=_status_zh(row.status),
        supervision_color=row.colour,
        category=row.category,
        unit=row.unit,
        township=row.township,
        needs_team=bool(category and category.team),
        team_units=category.team_units if category else [],
        member_units=list(row.member_units or []),
        handler=row.handler,
        team=list(row.team or []),
        clocks=[clock_view(c) for c in row.clocks or []],
        paused=any(c.get("paused_at") for c in row.clocks or []),
        overdue=row.overdue,
        received_at=row.received_at,
        intake=out.IntakeView(
            description=mask_text(row.description),
            citizen_name=row.citizen_name,
            citizen_phone=mask_phone(row.citizen_phone),
            address=row.address,
            channel=row.channel,
        ),
        resolution={"outcome": row.outcome, "at": row.resolved_at} if row.resolved_at else None,
        rating={"score": row.rating} if row.rating else None,
        closed_at=row.closed_at,
        source="read_model",
        stale=True,
    )


def _next_clock(row: Case) -> out.ClockView | None:
    clock = clocks.next_running([Clock.model_validate(c) for c in row.clocks or []])
    return clock_view(clock) if clock is not None else None


def list_item(row: Case) -> out.CaseListItem:
    summary = mask_text(row.description or "")
    return out.CaseListItem(
        case_id=row.case_id,
        case_no=row.case_no,
        status=row.status,
        supervision_color=row.colour,
        category=row.category,
        unit=row.unit,
        township=row.township,
        handler=row.handler,
        team=list(row.team or []),
        overdue=row.overdue,
        needs_manual_triage=row.needs_manual_triage,
        channel=row.channel,
        citizen_name=mask_name(row.citizen_name),
        citizen_phone=mask_phone(row.citizen_phone),
        summary=summary if len(summary) <= 80 else summary[:80] + "…",
        next_clock=_next_clock(row),
        received_at=row.received_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        rating=row.rating,
    )


# --- the citizen's view --------------------------------------------------------------------------------


def _where(tx: Taxonomy, unit: str | None, township: str | None) -> str:
    parts = []
    if is_department(unit):
        parts.append(tx.unit_zh(unit))
    if township:
        parts.append(tx.township_zh(township))
    return "、".join(parts) or "属地乡镇"


def timeline(events: Iterable[CaseEventRow], tx: Taxonomy, staff_names: dict[str, str]) -> list[out.TimelineEntry]:
    """What a citizen may read of the case's events: steps and supervision, no staff personal data."""
    items: list[out.TimelineEntry] = []

    def add(e: CaseEventRow, stage: str, text: str) -> None:
        items.append(out.TimelineEntry(at=e.at, stage=stage, text=text))

    for e in events:
        d = e.detail or {}
        match e.type:
            case "received":
                add(e, "received", f"您的诉求已受理（{CHANNEL_ZH.get(d.get('channel'), '网上')}渠道）")
            case "routed" | "rerouted":
                add(
                    e,
                    "routed",
                    f"已分流：{tx.category_zh(d.get('category'))}，"
                    f"由{_where(tx, d.get('unit'), d.get('township'))}办理",
                )
            case "assigned" | "reassigned":
                name = mask_name(staff_names.get(d.get("handler", ""), "")) or "专人"
                add(e, "assigned", f"已交办，承办人：{name}")
            case "team_formed":
                units = [u for u in d.get("units", []) if u]
                add(e, "team_formed", f"已组建多元调处团队（{len(units) or len(d.get('members', []))}个单位协同）")
            case "mediation_recorded":
                add(e, "mediating", "已开展调解")
            case "consultation_recorded":
                add(e, "mediating", "专班已召开会商")
            case "task_force_started":
                add(e, "supervision", "县领导领衔专班督办")
            case "turned_yellow":
                add(e, "supervision", "督办码转黄，已推送相关领导督促办理")
            case "turned_red":
                add(e, "supervision", "督办码转红，已推送县领导督办")
            case "urged":
                add(e, "supervision", "中心已催办")
            case "material_added":
                add(e, "material", f"补充材料：{d.get('filename', '')}")
            case "citizen_updated":
                add(e, "citizen_update", f"您更新了诉求：{mask_text(str(d.get('text', '')))[:100]}")
            case "resolved":
                add(e, "resolved", f"已办结：{OUTCOME_ZH.get(d.get('outcome'), '')}")
            case "rated":
                add(e, "rated", f"您已评价：{d.get('score')}星")
            case "closed":
                add(e, "closed", "已归档")
            case "withdrawn":
                add(e, "withdrawn", "已撤回")
            case "rejected":
                add(e, "rejected", f"不予受理：{d.get('reason', '')}")
            case "review_requested":
                add(e, "review", "您已申请复核，中心督办员将作出复核决定")
            case "paused":
                add(e, "clock", f"等待补充材料，计时暂停：{mask_text(str(d.get('reason', '')))}")
            case "resumed":
                add(e, "clock", "已恢复计时，办理时限按暂停时长顺延")
            case "extension_approved":
                days = round(float(d.get("duration_seconds", 0)) / 86400, 1)
                due = f"，新的办结期限 {china_time_zh(d['yellow_at'])}" if d.get("yellow_at") else ""
                add(e, "clock", f"办理时限经批准延长{days:g}天{due}")
            case "sent_back":
                add(e, "routed", "原承办单位认为不属本单位职责，案件已退回中心重新分流")
            case "review_decided":
                if d.get("rehandle"):
                    add(e, "review", f"复核决定：退回重新办理（{d.get('reason', '')}）")
                else:
                    add(e, "review", f"复核决定：维持原处理结果。理由：{d.get('reason', '')}")
    return items


def track_view(
    *,
    case_no: str,
    status: str,
    colour: str,
    category: str | None,
    unit: str | None,
    township: str | None,
    handler_name: str | None,
    received_at: datetime,
    clocks: list[out.ClockView],
    resolution: dict[str, Any] | None,
    rating: dict[str, Any] | None,
    events: list[out.TimelineEntry],
    tx: Taxonomy,
    stale: bool,
    can_review: bool = False,
    review: dict[str, Any] | None = None,
    events_rows: Iterable[CaseEventRow] = (),
    pause: dict[str, Any] | None = None,
) -> out.TrackView:
    pause = pause if pause is not None else pause_of(events_rows)
    return out.TrackView(
        case_no=case_no,
        status=status,
        status_zh=_status_zh(status),
        supervision_color=colour,
        category=category,
        category_zh=tx.category_zh(category) if category else None,
        unit=unit,
        unit_zh=tx.unit_zh(unit) if unit else None,
        township=township,
        township_zh=tx.township_zh(township) if township else None,
        handler=mask_name(handler_name) if handler_name else None,
        received_at=received_at,
        timeline=events,
        clocks=clocks,
        resolution=resolution,
        rating=rating,
        can_rate=status == CaseStatus.resolved.value and rating is None,
        stale=stale,
        can_review=can_review,
        review=review,
        **pause,
    )


def pause_of(events: Iterable[CaseEventRow]) -> dict[str, Any]:
    """Whether the case stands still now (暂停计时), why (the staff's words, numbers masked), since when, and
    when it last went on again — from the events, so the reduced view of a row without a state says the same."""
    paused: CaseEventRow | None = None
    resumed_at: datetime | None = None
    for e in events:
        if e.type == "paused":
            paused = e
        elif e.type == "resumed":
            paused, resumed_at = None, as_utc(e.at)
    return {
        "paused": paused is not None,
        "paused_reason": mask_text(str((paused.detail or {}).get("reason", ""))) if paused else None,
        "paused_since": as_utc(paused.at) if paused else None,
        "resumed_at": resumed_at,
    }


def pause_of_state(s: CaseState) -> dict[str, Any]:
    last = s.pauses[-1] if s.pauses else None
    now_paused = last if s.paused else None
    resumed = [p.resumed_at for p in s.pauses if p.resumed_at is not None]
    return {
        "paused": now_paused is not None,
        "paused_reason": mask_text(now_paused.reason) if now_paused else None,
        "paused_since": now_paused.at if now_paused else None,
        "resumed_at": max(resumed) if resumed else None,
    }


def china_time_zh(iso: str) -> str:
    """An ISO time of an event's detail as the citizen reads it: 2026-03-01 14:03 (China time)."""
    try:
        return china_local(datetime.fromisoformat(iso)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def citizen_resolution(outcome: str | None, at: datetime | None, summary: str | None) -> dict[str, Any] | None:
    if not outcome:
        return None
    return {
        "outcome": outcome,
        "outcome_zh": OUTCOME_ZH.get(outcome, outcome),
        "at": at,
        "summary": mask_text(summary) if summary else None,
    }
