"""A hazard found on an inspection (问题隐患), from the visit to struck off (销号) and re-checked (回头看).

    assigned ──evidence──▶ submitted ──verify: accept──▶ struck_off ──recheck: holds──▶ rechecked (closed)
        ▲                     │                             │
        └──── rectifying ◀────┘ verify: reject              └── recheck: recurred ──▶ reopened (new deadline)
                                                                                        │ evidence ▶ submitted …

One table (STEPS) says where each step may start, who may take it and where it leads; `check` refuses a step
without touching the hazard, `apply` carries it out and returns the events and notices it produces. The clocks
— the rectification deadline, a reminder before it, and the re-check after striking off — are data on the
hazard, fired by the workflow's timers. Pure: the workflow, the services and the tests share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from domain.case_flow import CaseRuleError, Effects
from domain.models import Actor, Audience, CaseEvent, NotificationRequest, Role


class HazardStatus(StrEnum):
    assigned = "assigned"  # handed to the responsible unit, the deadline running
    rectifying = "rectifying"  # evidence was refused: the unit works on it again
    submitted = "submitted"  # the unit says it is done and shows its evidence
    struck_off = "struck_off"  # verified by an inspector: off the list (销号), re-check pending
    rechecked = "rechecked"  # the re-check found it holds: closed
    reopened = "reopened"  # the re-check found it back: a new deadline


Severity = Literal["major", "general", "minor"]
SEVERITY_ZH = {"major": "重大", "general": "较大", "minor": "一般"}
STATUS_ZH = {
    HazardStatus.assigned: "待整改",
    HazardStatus.rectifying: "整改中",
    HazardStatus.submitted: "待验收",
    HazardStatus.struck_off: "已销号",
    HazardStatus.rechecked: "回头看合格",
    HazardStatus.reopened: "回头看复发",
}
OPEN = frozenset({HazardStatus.assigned, HazardStatus.rectifying, HazardStatus.submitted, HazardStatus.reopened})
RECTIFYING = frozenset({HazardStatus.assigned, HazardStatus.rectifying, HazardStatus.reopened})
# 平安办: the county's safe-county office, told of every overdue hazard.
PINGAN_OFFICE = "zhengfa"


class HazardLevels(BaseModel):
    """The deadlines a county lives by (settings), carried by each hazard so a changed setting moves nobody's."""

    major: timedelta
    general: timedelta
    minor: timedelta
    recheck_after: timedelta
    remind_before: timedelta = timedelta(days=1)

    def deadline_for(self, severity: Severity) -> timedelta:
        return {"major": self.major, "general": self.general, "minor": self.minor}[severity]


class Evidence(BaseModel):
    material_id: str
    filename: str
    content_type: str
    size: int
    stored_name: str
    note: str | None = None
    by: str
    at: datetime


class HazardReport(BaseModel):
    """What an inspector records on a visit."""

    hazard_id: str
    hazard_no: str
    domain: str
    township: str
    district: int | None = None  # the township's inspection district (片区), for the inspectors' jurisdiction
    visit_id: str | None = None  # the visit it was found on (None: reported outside a recorded visit)
    site: str
    description: str
    severity: Severity
    unit: str  # the responsible unit (a department, or `township` for the township itself)
    responsible: str | None = None  # the responsible person's name, as written on the list
    measure: str  # the rectification measure (整改措施)
    found_by: str
    found_at: datetime
    deadline: datetime | None = None  # None: by severity
    photos: list[Evidence] = Field(default_factory=list)  # taken on site, metadata stripped


class HazardState(BaseModel):
    report: HazardReport
    levels: HazardLevels
    status: HazardStatus = HazardStatus.assigned
    deadline: datetime
    reminded_for: datetime | None = None  # the deadline the reminder went out for
    overdue_for: datetime | None = None  # the deadline that passed unrectified (exposure, re-training)
    overdue: bool = False  # passed a deadline unrectified at least once
    exposed_at: datetime | None = None  # on the exposure list (曝光台) since
    evidence: list[Evidence] = Field(default_factory=list)
    submitted_at: datetime | None = None
    struck_off_at: datetime | None = None
    # Its first striking off was of evidence handed in by the deadline then in force; kept, since a recurrence
    # moves the deadline and a second striking off is of the recurrence.
    struck_off_on_time: bool | None = None
    recheck_at: datetime | None = None
    rechecked_at: datetime | None = None  # the last re-check, whichever way it went
    closed_at: datetime | None = None
    rejections: int = 0
    reopened: int = 0
    next_seq: int = 1
    recorded_seq: int = 0


# --- who may act -----------------------------------------------------------------------------------------


def _inspector(a: Actor, h: HazardState) -> bool:
    """An inspector of the hazard's district (or of the whole county), the one who found it, or a supervisor."""
    if a.role == Role.supervisor:
        return True
    return a.role == Role.inspector and (
        a.district is None or a.district == h.report.district or a.username == h.report.found_by
    )


def _responsible_unit(a: Actor, h: HazardState) -> bool:
    """Staff of the responsible unit (for the township itself: its staff)."""
    unit = h.report.unit
    if unit == "township":
        return a.unit is None and a.township == h.report.township and a.role in (Role.leader, Role.mediator)
    return a.unit == unit and a.role in (Role.leader, Role.mediator)


@dataclass(frozen=True)
class HazardFacts:
    """What decides who may see a hazard (the read model's columns; store/inspection.py builds the same in SQL)."""

    unit: str
    township: str
    district: int | None
    found_by: str


COUNTY_WIDE = frozenset({Role.supervisor, Role.county_leader, Role.auditor})


def sees_hazard(a: Actor, f: HazardFacts) -> bool:
    """The county's overseers see every hazard; an inspector those of the district (all with no district) and
    those found personally; a department's staff its own unit's; a township's staff every hazard in the township
    (属地). Clerks and citizens see none."""
    if a.role in COUNTY_WIDE:
        return True
    if a.role == Role.inspector:
        return a.district is None or a.district == f.district or a.username == f.found_by
    if a.role in (Role.leader, Role.mediator):
        if a.unit is not None:
            return a.unit == f.unit
        return a.township is not None and a.township == f.township
    return False


def facts_of(h: HazardState) -> HazardFacts:
    r = h.report
    return HazardFacts(unit=r.unit, township=r.township, district=r.district, found_by=r.found_by)


@dataclass(frozen=True)
class HazardStep:
    zh: str
    allowed_from: frozenset[HazardStatus]
    who: tuple[Any, ...]


# fmt: off
STEPS: dict[str, HazardStep] = {
    # step                     name        from                                  who
    "submit_evidence": HazardStep("提交整改", RECTIFYING,                            (_responsible_unit,)),
    "verify":          HazardStep("验收",     frozenset({HazardStatus.submitted}),   (_inspector,)),
    "recheck":         HazardStep("回头看",   frozenset({HazardStatus.struck_off}),  (_inspector,)),
}
# fmt: on


class EvidenceAction(BaseModel):
    actor: Actor
    evidence: Evidence


class VerifyAction(BaseModel):
    actor: Actor
    accept: bool
    reason: str | None = None


class RecheckAction(BaseModel):
    actor: Actor
    holds: bool
    note: str | None = None


HazardAction = EvidenceAction | VerifyAction | RecheckAction


def initial_state(report: HazardReport, levels: HazardLevels) -> HazardState:
    deadline = report.deadline or report.found_at + levels.deadline_for(report.severity)
    return HazardState(report=report, levels=levels, deadline=deadline)


def check(h: HazardState, step_name: str, action: HazardAction) -> None:
    """Refuse an illegal step with a CaseRuleError (the same kinds as cases: 403 / 409 / 422)."""
    step = STEPS[step_name]
    if not any(rule(action.actor, h) for rule in step.who):
        raise CaseRuleError("forbidden", "not_permitted", f"{action.actor.username} 无权对该隐患执行“{step.zh}”")
    if h.status not in step.allowed_from:
        raise CaseRuleError(
            "illegal_state", "illegal_state", f"隐患当前状态为“{STATUS_ZH[h.status]}”，不能执行“{step.zh}”"
        )
    if isinstance(action, VerifyAction):
        if not h.evidence:
            raise CaseRuleError("illegal_state", "no_evidence", "尚无整改材料，不能验收")
        if not action.accept and not (action.reason or "").strip():
            raise CaseRuleError("invalid", "reason_required", "不予通过须写明理由")


def allowed_steps(h: HazardState, a: Actor) -> list[str]:
    """The steps `a` may take on the hazard now (what a page offers as buttons)."""
    out = []
    for name, step in STEPS.items():
        if h.status in step.allowed_from and any(rule(a, h) for rule in step.who):
            if name == "verify" and not h.evidence:
                continue
            out.append(name)
    return out


def overdue_now(status: HazardStatus | str, deadline: datetime, now: datetime) -> bool:
    """Open, not yet handed in, and past its deadline at `now`."""
    return HazardStatus(status) in RECTIFYING and now > deadline


def leaders_of(h: HazardState) -> Audience:
    """The responsible unit's leaders (for the township itself, the township's)."""
    unit = h.report.unit
    units = [unit] if unit != "township" else []
    return Audience(unit_leaders=units, township_leaders=[h.report.township] if unit == "township" else [])


def apply(h: HazardState, step_name: str, action: HazardAction, now: datetime) -> Effects:
    fx = Effects()
    who = action.actor.username
    if isinstance(action, EvidenceAction):
        h.evidence.append(action.evidence)
        h.status, h.submitted_at = HazardStatus.submitted, now
        fx.event(
            "evidence_submitted",
            who,
            filename=action.evidence.filename,
            note=action.evidence.note or "",
            on_time=now <= h.deadline,
        )
        fx.notify("hazard_submitted", Audience(usernames=[h.report.found_by]), site=h.report.site)
    elif isinstance(action, VerifyAction) and action.accept:
        h.status, h.struck_off_at = HazardStatus.struck_off, now
        on_time = (h.submitted_at or now) <= h.deadline
        if h.struck_off_on_time is None:  # the rectification rate counts a hazard by its first striking off
            h.struck_off_on_time = on_time
        h.recheck_at = now + h.levels.recheck_after
        fx.event("struck_off", who, on_time=on_time, recheck_at=h.recheck_at.isoformat())
        fx.notify("hazard_struck_off", leaders_of(h), site=h.report.site)
    elif isinstance(action, VerifyAction):
        h.status = HazardStatus.rectifying
        h.rejections += 1
        fx.event("verification_rejected", who, reason=(action.reason or "").strip())
        fx.notify("hazard_rejected", leaders_of(h), site=h.report.site, reason=(action.reason or "").strip())
    elif isinstance(action, RecheckAction) and action.holds:
        h.status, h.closed_at, h.recheck_at, h.rechecked_at = HazardStatus.rechecked, now, None, now
        fx.event("rechecked", who, holds=True, note=action.note or "")
    elif isinstance(action, RecheckAction):
        h.status, h.recheck_at, h.rechecked_at = HazardStatus.reopened, None, now
        h.reopened += 1
        h.deadline = now + h.levels.deadline_for(h.report.severity)
        fx.event("reopened", who, note=action.note or "", deadline=h.deadline.isoformat())
        fx.notify("hazard_reopened", leaders_of(h), site=h.report.site, deadline=h.deadline.isoformat())
    return fx


# --- the clocks --------------------------------------------------------------------------------------------


def next_due(h: HazardState) -> datetime | None:
    """The next moment the workflow must wake for: a reminder, the deadline, or the re-check."""
    times = []
    if h.status in RECTIFYING:
        if h.reminded_for != h.deadline:
            times.append(h.deadline - h.levels.remind_before)
        if h.overdue_for != h.deadline:
            times.append(h.deadline)
    if h.status == HazardStatus.struck_off and h.recheck_at is not None:
        times.append(h.recheck_at)
    return min(times) if times else None


def fire(h: HazardState, at: datetime) -> Effects:
    """What is due at `at` (the moment the workflow's timer fired for)."""
    fx = Effects()
    if h.status in RECTIFYING and h.reminded_for != h.deadline and at >= h.deadline - h.levels.remind_before:
        h.reminded_for = h.deadline
        if at < h.deadline:
            fx.event("reminded", "system", deadline=h.deadline.isoformat())
            fx.notify("hazard_reminder", leaders_of(h), site=h.report.site, deadline=h.deadline.isoformat())
    if h.status in RECTIFYING and h.overdue_for != h.deadline and at >= h.deadline:
        # 限时整改 missed: exposed (曝光台), the unit's leader and 平安办 told; the record activity enrols the
        # people responsible in the next re-training class (回炉班) and, for a repeat, summons the leader (约谈).
        h.overdue, h.overdue_for = True, h.deadline
        h.exposed_at = h.exposed_at or at
        fx.event(
            "overdue", "system", deadline=h.deadline.isoformat(), unit=h.report.unit, responsible=h.report.responsible
        )
        leaders = leaders_of(h)
        fx.notify(
            "hazard_overdue",
            Audience(
                unit_leaders=sorted({*leaders.unit_leaders, PINGAN_OFFICE}), township_leaders=leaders.township_leaders
            ),
            site=h.report.site,
            unit=h.report.unit,
        )
    if h.status == HazardStatus.struck_off and h.recheck_at is not None and at >= h.recheck_at:
        fx.event("recheck_due", "system")
        fx.notify("hazard_recheck_due", Audience(usernames=[h.report.found_by]), site=h.report.site)
        h.recheck_at = None
    return fx


class HazardStart(BaseModel):
    report: HazardReport
    levels: HazardLevels


class HazardRecord(BaseModel):
    """One write to the read model: the hazard's new events, the state they lead to, and their notices."""

    hazard_id: str
    events: list[CaseEvent]
    state: HazardState
    notices: list[NotificationRequest] = Field(default_factory=list)


class HazardOutcome(BaseModel):
    hazard_id: str
    status: HazardStatus
    overdue: bool
