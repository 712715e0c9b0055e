"""What the staff console's pages show beyond the JSON API's case view: a case's timeline in Chinese, the people
a step may name (handlers, team members), and the red cases' joint-mechanism workspace."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, select

from domain.case_flow import OPEN
from domain.jurisdiction import scope_of
from domain.models import Actor, Role
from domain.privacy import mask_text
from domain.taxonomy import Taxonomy, is_department
from domain.times import as_utc, china_local
from services import cases, views
from services.context import Services
from services.db import run
from services.schemas import CaseListItem, CaseView
from store import directory
from store import jurisdiction as sql_jurisdiction
from store.tables import Case, CaseEventRow, Staff, TaskForceRow

EVENT_ZH = {
    "received": "受理登记",
    "routed": "分流",
    "rerouted": "改派分流",
    "routing_pending": "待人工分流",
    "repeat_detected": "疑似重复访",
    "assigned": "交办",
    "reassigned": "改派承办人",
    "assignment_pending": "待交办",
    "handler_released": "原承办人解除",
    "team_formed": "组建调处团队",
    "team_incomplete": "组团缺员",
    "team_member_accepted": "接受组团邀请",
    "team_member_declined": "谢绝组团",
    "team_member_replaced": "替补组团成员",
    "team_member_unavailable": "暂无替补",
    "mediation_recorded": "记录调解",
    "consultation_recorded": "专班会商",
    "resolved": "办结",
    "rated": "群众评价",
    "closed": "归档",
    "withdrawn": "撤回",
    "rejected": "不予受理",
    "urged": "督办催办",
    "clock_met": "按时完成",
    "clock_breached": "超时",
    "clock_stopped": "停止计时",
    "clock_reopened": "重新计时",
    "turned_yellow": "督办码转黄",
    "turned_red": "督办码转红",
    "task_force_started": "启动县领导领衔专班",
    "material_added": "补充材料",
    "citizen_updated": "群众更新诉求",
    "review_requested": "申请复核",
    "review_decided": "复核决定",
    "reopened": "退回重办",
    "review_window_closed": "复核期满归档",
    "code_reissued": "补发查询码",
    "clock_reminded": "到期提醒",
    "paused": "暂停计时",
    "resumed": "恢复计时",
    "extension_requested": "申请延期",
    "extension_approved": "批准延期",
    "extension_refused": "不予延期",
    "sent_back": "退回",
    "task_force_overdue": "专班逾期",
    "calendar_unknown": "节假日安排未导入",
}
CLOCK_ZH = {
    "routed": "分流",
    "assigned": "交办到人",
    "team": "组团",
    "yellow": "黄码时限",
    "red": "红码时限",
    "task_force": "专班破难期限",
}
# Detail fields worth a line on the timeline, in this order, with their labels.
DETAIL_ZH = [
    ("clock", "时限"),
    ("handler", "承办人"),
    ("member", "成员"),
    ("members", "成员"),
    ("category", "类别"),
    ("unit", "单位"),
    ("township", "乡镇"),
    ("outcome", "结果"),
    ("summary", "摘要"),
    ("reason", "理由"),
    ("note", "说明"),
    ("score", "评分"),
    ("filename", "文件"),
    ("led_by", "牵头县领导"),
    ("duration_seconds", "延期时长"),
    ("paused_seconds", "暂停时长"),
    ("due_at", "期限"),
    ("yellow_at", "黄码期限顺延至"),
    ("red_at", "红码期限顺延至"),
    ("deadline", "专班破难期限"),
    ("years", "未导入节假日安排的年份"),
]
TIMES = ("due_at", "yellow_at", "red_at", "deadline")


class TimelineItem(BaseModel):
    seq: int
    at: datetime
    type: str
    type_zh: str
    actor: str
    lines: list[str]


class CasePage(BaseModel):
    view: CaseView
    timeline: list[TimelineItem]
    names: dict[str, str]  # usernames → display names of everyone on the page
    handlers: list[tuple[str, str]]  # who may be named handler: (username, display name)
    members: list[tuple[str, str]]  # who may be drafted into the team
    pending_extension: dict[str, Any] | None = None  # the extension asked for and not yet decided (审批延期)


def _lines(e: CaseEventRow, tx: Taxonomy, names: dict[str, str]) -> list[str]:
    d: dict[str, Any] = e.detail or {}
    out = []
    for key, label in DETAIL_ZH:
        value = d.get(key)
        if value in (None, "", []):
            continue
        if key == "clock":
            value = CLOCK_ZH.get(str(value), value)
        elif key in ("handler", "member", "led_by"):
            value = names.get(str(value), value)
        elif key == "members":
            value = "、".join(names.get(m, m) for m in value)
        elif key == "category":
            value = tx.category_zh(value)
        elif key == "unit":
            value = tx.unit_zh(value) if is_department(value) else "属地乡镇"
        elif key == "township":
            value = tx.township_zh(value)
        elif key == "outcome":
            value = views.OUTCOME_ZH.get(value, value)
        elif key in TIMES:
            value = _local(value)
        elif key in ("duration_seconds", "paused_seconds"):
            value = span_zh(float(value))
        elif key == "years":
            value = "、".join(f"{y}年" for y in value)
        if key in ("summary", "reason", "note"):
            value = mask_text(str(value))
        out.append(f"{label}：{value}")
    return out


def _local(iso: Any) -> str:
    try:
        return china_local(datetime.fromisoformat(str(iso))).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(iso)


def span_zh(seconds: float) -> str:
    """A pause's or an extension's length as people say it: 3天, 5小时, 12分钟."""
    for unit, zh in ((86400, "天"), (3600, "小时")):
        if seconds >= unit:
            n = round(seconds / unit, 1)
            return f"{n:g}{zh}"
    return f"{max(1, round(seconds / 60))}分钟"


def _people(db: Session, unit: str | None, township: str | None) -> list[tuple[str, str]]:
    """Mediators and leaders of a department, or of a township for township-led cases."""
    q = select(Staff).where(Staff.active, Staff.role.in_([Role.mediator.value, Role.leader.value]))
    if is_department(unit):
        q = q.where(Staff.unit == unit)
    elif township:
        q = q.where(Staff.unit.is_(None), Staff.township == township)
    else:
        return []
    return [(s.username, s.display_name) for s in db.exec(q.order_by(Staff.role.desc(), Staff.username)).all()]


def _team_pool(db: Session, view: CaseView) -> list[tuple[str, str]]:
    units = set(view.team_units) | ({view.unit} if is_department(view.unit) else set())
    q = select(Staff).where(Staff.active, Staff.role == Role.mediator.value)
    rows = db.exec(q.order_by(Staff.unit, Staff.township, Staff.username)).all()
    return [
        (s.username, s.display_name)
        for s in rows
        if (s.unit in units) or (s.unit is None and view.township and s.township == view.township)
    ]


async def case_page(svc: Services, case_id: str, actor: Actor) -> CasePage:
    view = await cases.get_case(svc, case_id, actor)

    def read(db: Session) -> CasePage:
        events = db.exec(select(CaseEventRow).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.seq)).all()
        people = {e.actor for e in events} | set(view.team) | {view.handler or ""}
        tf = view.task_force or {}
        people |= {tf.get("led_by") or "", *(tf.get("members") or []), *(tf.get("conveners") or [])}
        for record in (*view.pauses, *view.extensions, *view.sent_back):
            people |= {str(record.get(k)) for k in ("by", "resumed_by", "requested_by", "decided_by") if record.get(k)}
        for e in events:
            d = e.detail or {}
            people |= {str(d[k]) for k in ("handler", "member", "led_by") if d.get(k)}
            people |= set(d.get("members") or [])
        names = directory.display_names(db, people)
        names |= {"system": "系统", "citizen": "群众"}
        timeline = [
            TimelineItem(
                seq=e.seq,
                at=as_utc(e.at),
                type=e.type,
                type_zh=EVENT_ZH.get(e.type, e.type),
                actor=e.actor,
                lines=_lines(e, svc.taxonomy, names),
            )
            for e in events
            if e.type not in ("clock_met", "clock_stopped")  # shown with the clocks instead
        ]
        return CasePage(
            view=view,
            timeline=timeline,
            names=names,
            handlers=_people(db, view.unit, view.township),
            members=_team_pool(db, view),
            pending_extension=next((x for x in view.extensions if x.get("status") == "pending"), None),
        )

    return await run(svc.engine, read)


# --- red cases (县领导领衔 + 专班会商 + 部门组团破难) ------------------------------------------------------------


class RedCase(BaseModel):
    item: CaseListItem
    led_by: str | None
    led_by_name: str | None
    units: list[str]
    started_at: datetime | None
    consultations: int
    days_open: float


def red_cases(db: Session, actor: Actor, now: datetime) -> list[RedCase]:
    """Open red cases within the caller's jurisdiction (a county leader sees every red case), those led by the
    caller first, then the longest open."""
    conds = [Case.status.in_([s.value for s in OPEN]), Case.colour == "red"]
    scope = sql_jurisdiction.case_filter(scope_of(actor))
    if scope is not None:
        conds.append(scope)
    rows = db.exec(select(Case).where(*conds).order_by(Case.received_at)).all()
    forces = {
        t.case_id: t for t in db.exec(select(TaskForceRow).where(TaskForceRow.case_id.in_([r.case_id for r in rows])))
    }
    names = directory.display_names(db, {t.led_by or "" for t in forces.values()})
    out = []
    for r in rows:
        tf = forces.get(r.case_id)
        out.append(
            RedCase(
                item=views.list_item(r),
                led_by=tf.led_by if tf else None,
                led_by_name=names.get(tf.led_by or "") if tf else None,
                units=list(tf.units) if tf else [],
                started_at=as_utc(tf.started_at) if tf else None,
                consultations=tf.consultations if tf else 0,
                days_open=round((now - as_utc(r.received_at)).total_seconds() / 86400, 1),
            )
        )
    out.sort(key=lambda c: (c.led_by != actor.username, -c.days_open))
    return out
