"""The case's state machine: which step is allowed from which status, by whom, and what it changes.

One readable table (STEPS) says where each step may start and where it leads; small named rules say who may
take it. `check` raises CaseRuleError without touching the state (the workflow's update validators call it,
so a refused step leaves no trace); `apply` changes the state and returns the business events and
notifications the step produces. Both are pure: the workflow, the audit fold and the tests share them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from domain import clocks
from domain.models import (
    AcceptTeamAction,
    Actor,
    AssignAction,
    Audience,
    AutoCloseAction,
    CaseEvent,
    CaseState,
    CitizenUpdateAction,
    CodeReissueAction,
    ConsultationAction,
    DeclineTeamAction,
    Extension,
    ExtensionDecisionAction,
    ExtensionRequestAction,
    MaterialAction,
    Mediation,
    MediationAction,
    NotificationRequest,
    Pause,
    PauseAction,
    RateAction,
    Rating,
    RejectAction,
    Resolution,
    ResolveAction,
    ResumeAction,
    Review,
    ReviewDecisionAction,
    ReviewRequestAction,
    Role,
    SendBack,
    SendBackAction,
    TeamAction,
    TeamVacancy,
    TriageAction,
    UrgeAction,
    WithdrawAction,
)
from domain.models import (
    CaseStatus as S,
)
from domain.taxonomy import TOWNSHIP_LED, is_department

OPEN = frozenset({S.received, S.routed, S.assigned, S.team_formed, S.mediating})
WORKING = frozenset({S.assigned, S.team_formed, S.mediating})
ENDED = frozenset({S.closed, S.withdrawn, S.rejected})

# A rating at or below this is a complaint: the citizen may then ask for a review (复核) for a while.
LOW_RATING_MAX = 2
# A team (多元调处) is formed automatically only when the matcher finds at least this many people.
TEAM_MINIMUM = 2
# A case sent back (退回) this many times is routed by a supervisor only.
SEND_BACKS_TO_SUPERVISOR = 2


def is_low_rating(score: int) -> bool:
    return score <= LOW_RATING_MAX


# Every payload a step may carry (Workflow Update inputs, and the system's own steps).
Action = (
    TriageAction
    | AssignAction
    | TeamAction
    | AcceptTeamAction
    | DeclineTeamAction
    | MediationAction
    | ResolveAction
    | RateAction
    | AutoCloseAction
    | WithdrawAction
    | RejectAction
    | UrgeAction
    | ConsultationAction
    | MaterialAction
    | CitizenUpdateAction
    | ReviewRequestAction
    | ReviewDecisionAction
    | CodeReissueAction
    | PauseAction
    | ResumeAction
    | ExtensionRequestAction
    | ExtensionDecisionAction
    | SendBackAction
)


class CaseRuleError(Exception):
    """A refused step. kind maps to HTTP: forbidden → 403, illegal_state → 409, invalid → 422."""

    def __init__(self, kind: Literal["forbidden", "illegal_state", "invalid"], code: str, message: str):
        super().__init__(message)
        self.kind, self.code, self.message = kind, code, message


# --- who may act -------------------------------------------------------------------------------------

Rule = Callable[[Actor, CaseState], bool]


def system(a: Actor, s: CaseState) -> bool:
    return a.role == Role.system


def centre_staff(a: Actor, s: CaseState) -> bool:
    return a.role in (Role.clerk, Role.supervisor)


def supervisor(a: Actor, s: CaseState) -> bool:
    return a.role == Role.supervisor


def county_leader(a: Actor, s: CaseState) -> bool:
    return a.role == Role.county_leader


def lead_unit_leader(a: Actor, s: CaseState) -> bool:
    return a.role == Role.leader and leads(a, s)


def handler(a: Actor, s: CaseState) -> bool:
    return s.handler is not None and a.username == s.handler.username


def team_member(a: Actor, s: CaseState) -> bool:
    return any(m.username == a.username for m in s.team)


def team_member_not_handler(a: Actor, s: CaseState) -> bool:
    return team_member(a, s) and not handler(a, s)


def citizen(a: Actor, s: CaseState) -> bool:
    return a.role == Role.citizen


def clerk(a: Actor, s: CaseState) -> bool:
    return a.role == Role.clerk


def routing_desk(a: Actor, s: CaseState) -> bool:
    """Who routes a case by hand: the clerks, and a supervisor — who alone decides a case sent back twice
    (SEND_BACKS_TO_SUPERVISOR), since two units already said it is not theirs."""
    if a.role == Role.supervisor:
        return True
    return a.role == Role.clerk and len(s.sent_back) < SEND_BACKS_TO_SUPERVISOR


def lead_unit_staff(a: Actor, s: CaseState) -> bool:
    return a.role in (Role.leader, Role.mediator) and leads(a, s)


def leads(person: Actor, s: CaseState) -> bool:
    """Belongs to the case's lead unit: the department, or for township-led cases the township."""
    if s.unit is None:
        return False
    if s.unit == TOWNSHIP_LED:
        return person.township is not None and person.township == s.township
    return person.unit == s.unit


# --- the table ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    zh: str
    allowed_from: frozenset[S]
    to: S | None  # None: the status does not change
    who: tuple[Rule, ...]
    needs: Callable[[CaseState], str | None] = field(default=lambda s: None)  # extra precondition
    # A precondition on the person as well as the case: (code, message) when it does not hold.
    actor_needs: Callable[[Actor, CaseState], tuple[str, str] | None] = field(default=lambda a, s: None)


def _needs_task_force(s: CaseState) -> str | None:
    return None if s.task_force is not None else "本案尚未启动专班会商（督办码未转红）"


def _needs_handler(s: CaseState) -> str | None:
    return None if s.handler is not None else "本案尚未交办到人"


def _not_yet_accepted(a: Actor, s: CaseState) -> tuple[str, str] | None:
    return ("already_accepted", "您已接受本案的组团邀请") if a.username in s.team_accepted else None


def _not_paused(s: CaseState) -> str | None:
    return "本案已暂停计时" if s.paused else None


def _paused(s: CaseState) -> str | None:
    return None if s.paused else "本案未暂停计时"


def _no_pending_extension(s: CaseState) -> str | None:
    return "本案已有待审批的延期申请" if s.pending_extension is not None else None


def _pending_extension(s: CaseState) -> str | None:
    return None if s.pending_extension is not None else "本案没有待审批的延期申请"


def _review_open(s: CaseState) -> str | None:
    if s.rating is None or not is_low_rating(s.rating.score):
        return "只有评价为1–2星的案件可以申请复核"
    if s.review_open_until is None:
        return "申请复核的期限已过或已申请过复核"
    return None


# Where steps may start, besides OPEN and WORKING.
ROUTABLE = frozenset({S.received, S.routed, S.assigned})
UNASSIGNED = frozenset({S.received, S.routed})
ASSIGNABLE = frozenset({S.routed}) | WORKING
RESOLVED = frozenset({S.resolved})
CLOSED = frozenset({S.closed})
UNDER_REVIEW = frozenset({S.under_review})
FOLLOWED = OPEN | {S.resolved, S.under_review}  # the citizen may still add to the case
SENDABLE = frozenset({S.routed, S.assigned})  # a unit returns a case before it forms a team on it

CLOCK_KEEPERS = (handler, lead_unit_leader)  # who may stop and restart the colour clocks
# Who may see the citizen's full phone number (to call them), as an explicit, access-logged action: everywhere
# else it is masked. The handler calls; the lead unit's leader and the clerks at the window follow up.
PHONE_REVEALERS: tuple[Rule, ...] = (handler, lead_unit_leader, clerk)


def may_reveal_phone(a: Actor, s: CaseState) -> bool:
    return any(rule(a, s) for rule in PHONE_REVEALERS)


# fmt: off
STEPS: dict[str, Step] = {
    # step                 name             from               to              who (and what else it needs)
    "triage":              Step("分流",     ROUTABLE,          S.routed,       (system, routing_desk)),
    "reject":              Step("不予受理", UNASSIGNED,        S.rejected,     (centre_staff,)),
    "assign":              Step("交办",     ASSIGNABLE,        None,           (system, supervisor, lead_unit_leader)),
    "form_team":           Step("组团",     WORKING,           None,
                                (system, supervisor, lead_unit_leader, handler), _needs_handler),
    "accept_team":         Step("接受组团", WORKING,           None,           (team_member_not_handler,),
                                actor_needs=_not_yet_accepted),
    "decline_team":        Step("谢绝组团", WORKING,           None,           (team_member_not_handler,)),
    "record_mediation":    Step("记录调解", WORKING,           S.mediating,    (handler, team_member, supervisor)),
    "resolve":             Step("办结",     WORKING,           S.resolved,     (handler, supervisor)),
    "rate":                Step("评价",     RESOLVED,          S.closed,       (citizen,)),
    "auto_close":          Step("自动归档", RESOLVED,          S.closed,       (system,)),
    "withdraw":            Step("撤回",     OPEN,              S.withdrawn,    (centre_staff, handler)),
    "urge":                Step("催办",     OPEN,              None,           (supervisor, county_leader)),
    "record_consultation": Step("专班会商", OPEN,              None,
                                (county_leader, supervisor, handler, team_member), _needs_task_force),
    "add_material":        Step("补充材料", FOLLOWED,          None,           (citizen, clerk, handler)),
    "citizen_update":      Step("更新诉求", FOLLOWED,          None,           (citizen, clerk)),
    "request_review":      Step("申请复核", CLOSED,            S.under_review, (citizen,), _review_open),
    "review_decision":     Step("复核决定", UNDER_REVIEW,      None,           (supervisor,)),
    "reissue_code":        Step("补发查询码", FOLLOWED | CLOSED, None,           (clerk, supervisor)),
    "pause":               Step("暂停计时", WORKING,           None,           CLOCK_KEEPERS, _not_paused),
    "resume":              Step("恢复计时", WORKING,           None,           CLOCK_KEEPERS, _paused),
    "request_extension":   Step("申请延期", WORKING,           None,           (handler,), _no_pending_extension),
    "decide_extension":    Step("审批延期", WORKING,           None,
                                (lead_unit_leader, supervisor), _pending_extension),
    "send_back":           Step("退回",     SENDABLE,          S.received,     (lead_unit_staff,)),
}
# fmt: on

STATUS_ZH = {
    S.received: "已受理",
    S.routed: "已分流",
    S.assigned: "已交办",
    S.team_formed: "已组团",
    S.mediating: "调处中",
    S.resolved: "已办结",
    S.closed: "已评价归档",
    S.withdrawn: "已撤回",
    S.rejected: "不予受理",
    S.under_review: "复核中",
}


# Steps only the system takes: never offered to a person.
AUTOMATIC_ONLY = frozenset({"auto_close"})


def allowed_steps(state: CaseState, actor: Actor) -> list[str]:
    """The steps of STEPS this actor may take now, in table order (what a page offers; the workflow's
    validator still has the last word when the step arrives)."""
    if actor.role in (Role.auditor, Role.citizen, Role.system):
        return []
    return [
        name
        for name, step in STEPS.items()
        if name not in AUTOMATIC_ONLY
        and any(rule(actor, state) for rule in step.who)
        and state.status in step.allowed_from
        and not step.needs(state)
        and not step.actor_needs(actor, state)
    ]


def can_request_review(state: CaseState) -> bool:
    """The citizen rated 1–2 and the review window is still open."""
    return (
        state.status == S.closed
        and state.review_open_until is not None
        and state.rating is not None
        and is_low_rating(state.rating.score)
    )


def check(state: CaseState, step_name: str, action: Action) -> None:
    """Refuse an illegal step with a CaseRuleError; never changes the state."""
    step = STEPS[step_name]
    actor: Actor = action.actor
    if actor.role == Role.auditor:
        raise CaseRuleError("forbidden", "read_only_role", "审计人员只能查看，不能办理案件")
    if not any(rule(actor, state) for rule in step.who):
        raise CaseRuleError("forbidden", "not_permitted", f"{actor.username} 无权对本案执行“{step.zh}”")
    if state.status not in step.allowed_from:
        raise CaseRuleError(
            "illegal_state",
            "illegal_state",
            f"案件当前状态为“{STATUS_ZH[state.status]}”，不能执行“{step.zh}”",
        )
    reason = step.needs(state)
    if reason:
        raise CaseRuleError("illegal_state", "illegal_state", reason)
    refused = step.actor_needs(actor, state)
    if refused:
        raise CaseRuleError("illegal_state", *refused)
    _check_payload(state, step_name, action)


REASONS = {
    "decline_team": "请说明谢绝参与组团的理由",
    "pause": "请说明暂停计时的原因（如等待当事人补充材料）",
    "send_back": "请说明退回的理由",
    "request_extension": "请说明申请延期的理由",
    "decide_extension": "请写明审批意见",
}


def _check_payload(state: CaseState, step_name: str, action: Any) -> None:
    if step_name == "assign":
        h: Actor = action.handler
        if h.role not in (Role.mediator, Role.leader) or not leads(h, state):
            raise CaseRuleError("invalid", "handler_not_in_unit", f"{h.username} 不属于本案承办单位")
    elif step_name == "form_team":
        names = [m.username for m in action.members]
        if not names:
            raise CaseRuleError("invalid", "empty_team", "组团成员不能为空")
        if len(set(names)) != len(names):
            raise CaseRuleError("invalid", "duplicate_member", "组团成员重复")
        if any(m.role not in (Role.mediator, Role.leader) for m in action.members):
            raise CaseRuleError("invalid", "member_not_staff", "组团成员须为调解员或单位负责人")
    elif step_name in REASONS:
        if not action.reason.strip():
            raise CaseRuleError("invalid", "reason_required", REASONS[step_name])
        if step_name == "request_extension" and action.duration.total_seconds() <= 0:
            raise CaseRuleError("invalid", "invalid_duration", "延期时长须为正")


# --- effects -----------------------------------------------------------------------------------------


@dataclass
class Effects:
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (type, actor, detail)
    notices: list[tuple[str, Audience, dict[str, Any]]] = field(default_factory=list)  # (kind, audience, params)

    def event(self, type_: str, actor: str, **detail: Any) -> None:
        self.events.append((type_, actor, detail))

    def notify(self, kind: str, audience: Audience, **params: Any) -> None:
        self.notices.append((kind, audience, params))

    def numbered(
        self, first_seq: int, at: datetime, subject_id: str, subject_no: str
    ) -> tuple[list[CaseEvent], list[NotificationRequest]]:
        """The events numbered from `first_seq` and the notices keyed by subject, first event and position (the
        key a retried write is recognised by). Shared by every workflow that records this way."""
        events = [
            CaseEvent(seq=first_seq + i, at=at, type=type_, actor=actor, detail=detail)
            for i, (type_, actor, detail) in enumerate(self.events)
        ]
        notices = [
            NotificationRequest(
                key=f"{subject_id}:{first_seq}:{i}",
                case_id=subject_id,
                case_no=subject_no,
                kind=kind,
                params=params,
                audience=audience,
            )
            for i, (kind, audience, params) in enumerate(self.notices)
        ]
        return events, notices


def apply(state: CaseState, step_name: str, action: Action, now: datetime) -> Effects:
    """Carry out a checked step. Callers run `check` first."""
    fx = Effects()
    who = action.actor.username
    step = STEPS[step_name]
    getattr(_Apply, step_name)(state, action, now, fx, who)
    if step.to is not None:
        state.status = step.to
    return fx


def _meet(state: CaseState, name: str, now: datetime, fx: Effects) -> None:
    clock = clocks.meet(state, name, now)
    if clock is not None:
        fx.event("clock_met", "system", clock=name, due_at=clock.due_at.isoformat(), met_at=now.isoformat())


def _stop(state: CaseState, now: datetime, fx: Effects) -> None:
    for clock in clocks.stop_running(state, now):
        fx.event("clock_stopped", "system", clock=clock.name, due_at=clock.due_at.isoformat())


class _Apply:
    @staticmethod
    def triage(s: CaseState, a: TriageAction, now: datetime, fx: Effects, who: str) -> None:
        rerouted = s.category is not None
        previous_unit = s.unit
        s.category, s.unit, s.township = a.category, a.unit, a.township
        s.needs_team, s.team_units = a.needs_team, list(a.team_units)
        s.routing_version += 1
        if rerouted and s.handler is not None and not leads(s.handler, s):
            fx.event("handler_released", who, handler=s.handler.username, reason="改派至其他单位")
            s.handler, s.team = None, []
        clocks.ensure_team_clock(s, a.needs_team)
        fx.event(
            "rerouted" if rerouted else "routed",
            who,
            category=a.category,
            unit=a.unit,
            township=a.township,
            needs_team=a.needs_team,
            previous_unit=previous_unit,
            reason=a.reason or ("人工分流" if who != "system" else "自动分流"),
        )
        _meet(s, "routed", now, fx)
        if s.handler is not None:
            s.status = S.assigned  # re-routing within the same lead unit keeps the handler

    @staticmethod
    def reject(s: CaseState, a: RejectAction, now, fx, who) -> None:
        fx.event("rejected", who, reason=a.reason)
        _stop(s, now, fx)
        s.closed_at = now

    @staticmethod
    def assign(s: CaseState, a: AssignAction, now, fx, who) -> None:
        previous = s.handler.username if s.handler else None
        s.handler = a.handler
        if s.status == S.routed:
            s.status = S.assigned
        fx.event(
            "reassigned" if previous else "assigned",
            who,
            handler=a.handler.username,
            previous=previous,
            reason=a.reason or "",
            **({"scores": [c.model_dump(mode="json") for c in a.scores]} if a.scores else {}),
        )
        fx.notify(
            "assigned",
            Audience(usernames=[a.handler.username]),
            handler=a.handler.username,
            category=s.category,
            unit=s.unit,
            township=s.township,
        )
        _meet(s, "assigned", now, fx)

    @staticmethod
    def form_team(s: CaseState, a: TeamAction, now, fx, who) -> None:
        handler_name = s.handler.username if s.handler else None
        new = [m for m in a.members if m.username != handler_name and all(m.username != t.username for t in s.team)]
        s.team = list(a.members)
        if s.status == S.assigned:
            s.status = S.team_formed
        fx.event(
            "team_formed",
            who,
            members=[m.username for m in a.members],
            units=sorted({m.unit or m.township or "" for m in a.members}),
            reason=a.reason or "",
            **({"slots": [slot.model_dump(mode="json") for slot in a.slots]} if a.slots else {}),
        )
        if new:
            fx.notify(
                "team_invited",
                Audience(usernames=[m.username for m in new]),
                handler=s.handler.username if s.handler else None,
                category=s.category,
            )
        _meet(s, "team", now, fx)

    @staticmethod
    def accept_team(s: CaseState, a: AcceptTeamAction, now, fx, who) -> None:
        s.team_accepted.append(who)
        fx.event("team_member_accepted", who, member=who)
        if s.handler is not None:
            fx.notify("team_member_accepted", Audience(usernames=[s.handler.username]), member=who, category=s.category)

    @staticmethod
    def decline_team(s: CaseState, a: DeclineTeamAction, now, fx, who) -> None:
        member = next(m for m in s.team if m.username == who)
        s.team = [m for m in s.team if m.username != who]
        s.team_accepted = [m for m in s.team_accepted if m != who]
        if who not in s.team_declined:
            s.team_declined.append(who)
        vacancy = TeamVacancy(
            unit=member.unit,
            township=None if member.unit else (member.township or s.township),
            declined_by=who,
            reason=a.reason.strip(),
            at=now,
        )
        s.team_vacancies.append(vacancy)
        fx.event(
            "team_member_declined", who, member=who, unit=vacancy.unit, township=vacancy.township, reason=vacancy.reason
        )
        if s.handler is not None:
            fx.notify(
                "team_member_declined",
                Audience(usernames=[s.handler.username]),
                member=who,
                reason=vacancy.reason,
                category=s.category,
            )

    @staticmethod
    def record_mediation(s: CaseState, a: MediationAction, now, fx, who) -> None:
        s.mediations.append(
            Mediation(
                summary=a.summary, held_at=a.held_at, participants=a.participants, recorded_by=who, recorded_at=now
            )
        )
        fx.event(
            "mediation_recorded", who, summary=a.summary, held_at=a.held_at.isoformat(), participants=a.participants
        )

    @staticmethod
    def resolve(s: CaseState, a: ResolveAction, now, fx, who) -> None:
        s.resolution = Resolution(outcome=a.outcome, summary=a.summary, by=who, at=now)
        s.auto_close_at = now + s.levels.close_unrated_after
        fx.event("resolved", who, outcome=a.outcome, summary=a.summary)
        for name in ("yellow", "red"):
            _meet(s, name, now, fx)
        _stop(s, now, fx)

    @staticmethod
    def rate(s: CaseState, a: RateAction, now, fx, who) -> None:
        s.rating = Rating(score=a.score, comment=a.comment, at=now)
        s.closed_at, s.auto_close_at = now, None
        fx.event("rated", who, score=a.score, comment=a.comment)
        fx.event("closed", "system", reason="群众已评价")
        if is_low_rating(a.score):  # not the end: the citizen may ask for review for a while
            s.review_open_until = now + s.levels.review_window

    @staticmethod
    def request_review(s: CaseState, a: ReviewRequestAction, now, fx, who) -> None:
        assert s.rating is not None
        s.review = Review(reason=a.reason, requested_at=now, rating=s.rating.score)
        s.review_open_until = None
        fx.event("review_requested", who, reason=a.reason, rating=s.rating.score)
        fx.notify("review_requested", Audience(roles=[Role.supervisor]), reason=a.reason, rating=s.rating.score)

    @staticmethod
    def review_decision(s: CaseState, a: ReviewDecisionAction, now, fx, who) -> None:
        assert s.review is not None
        s.review.decision_reason, s.review.decided_by, s.review.decided_at = a.reason, who, now
        fx.event("review_decided", who, rehandle=a.rehandle, reason=a.reason)
        if not a.rehandle:
            s.review.status = "upheld"
            s.status = S.closed
            return
        # Back to mediation: a fresh resolution clock, the old handler and their unit's leaders told.
        s.review.status = "rehandled"
        s.status = S.mediating
        s.resolution, s.rating, s.closed_at, s.auto_close_at = None, None, None, None
        clocks.restart_colour_clocks(s, now)
        fx.event(
            "reopened",
            who,
            reason=a.reason,
            yellow_at=(now + s.levels.yellow_after).isoformat(),
            red_at=(now + s.levels.red_after).isoformat(),
        )
        people = [s.handler.username] if s.handler else []
        leaders = lead_leaders(s)
        fx.notify(
            "review_rehandle",
            Audience(usernames=people, unit_leaders=leaders.unit_leaders, township_leaders=leaders.township_leaders),
            reason=a.reason,
        )

    @staticmethod
    def reissue_code(s: CaseState, a: CodeReissueAction, now, fx, who) -> None:
        # The code itself never enters the history: only that it was replaced, by whom and why.
        fx.event("code_reissued", who, reason=a.reason or "群众反映查询码泄露")

    @staticmethod
    def auto_close(s: CaseState, a: AutoCloseAction, now, fx, who) -> None:
        s.closed_at, s.auto_close_at = now, None
        fx.event("closed", who, reason="办结后群众逾期未评价，系统自动归档")

    @staticmethod
    def withdraw(s: CaseState, a: WithdrawAction, now, fx, who) -> None:
        s.closed_at = now
        fx.event("withdrawn", who, reason=a.reason)
        _stop(s, now, fx)
        if s.handler is not None:
            fx.notify("withdrawn", Audience(usernames=[s.handler.username]), reason=a.reason)

    @staticmethod
    def urge(s: CaseState, a: UrgeAction, now, fx, who) -> None:
        s.urge_count += 1
        fx.event("urged", who, note=a.note or "", count=s.urge_count)
        people = [m.username for m in ([s.handler] if s.handler else []) + s.team]
        audience = Audience(usernames=sorted(set(people))) if people else lead_leaders(s)
        fx.notify("urged", audience, by=who, note=a.note or "", count=s.urge_count)

    @staticmethod
    def record_consultation(s: CaseState, a: ConsultationAction, now, fx, who) -> None:
        assert s.task_force is not None
        s.task_force.consultations.append(
            Mediation(
                summary=a.summary, held_at=a.held_at, participants=a.participants, recorded_by=who, recorded_at=now
            )
        )
        fx.event(
            "consultation_recorded", who, summary=a.summary, held_at=a.held_at.isoformat(), participants=a.participants
        )

    @staticmethod
    def add_material(s: CaseState, a: MaterialAction, now, fx, who) -> None:
        s.materials.append(a.material)
        fx.event(
            "material_added",
            who,
            material_id=a.material.material_id,
            filename=a.material.filename,
            content_type=a.material.content_type,
            size=a.material.size,
            note=a.material.note or "",
        )
        if s.handler is not None:
            fx.notify("material_added", Audience(usernames=[s.handler.username]), filename=a.material.filename)

    @staticmethod
    def citizen_update(s: CaseState, a: CitizenUpdateAction, now, fx, who) -> None:
        s.citizen_updates.append({"at": now.isoformat(), "text": a.text, "by": who})
        fx.event("citizen_updated", who, text=a.text)
        if s.handler is not None:
            fx.notify("citizen_updated", Audience(usernames=[s.handler.username]), text=a.text[:60])

    @staticmethod
    def pause(s: CaseState, a: PauseAction, now, fx, who) -> None:
        s.pauses.append(Pause(reason=a.reason.strip(), by=who, at=now))
        paused = clocks.pause_colour_clocks(s, now)
        fx.event("paused", who, reason=a.reason.strip(), clocks=[c.name for c in paused])

    @staticmethod
    def resume(s: CaseState, a: ResumeAction, now, fx, who) -> None:
        pause = s.pauses[-1]
        pause.resumed_at, pause.resumed_by = now, who
        resumed = clocks.resume_colour_clocks(s, now, a.due_times)
        fx.event(
            "resumed",
            who,
            note=a.note or "",
            paused_seconds=int((now - pause.at).total_seconds()),
            **{f"{c.name}_at": c.due_at.isoformat() for c in resumed},
        )

    @staticmethod
    def request_extension(s: CaseState, a: ExtensionRequestAction, now, fx, who) -> None:
        s.extensions.append(Extension(duration=a.duration, reason=a.reason.strip(), requested_by=who, requested_at=now))
        fx.event("extension_requested", who, duration_seconds=int(a.duration.total_seconds()), reason=a.reason.strip())
        leaders = lead_leaders(s)
        fx.notify(
            "extension_requested",
            Audience(unit_leaders=leaders.unit_leaders, township_leaders=leaders.township_leaders),
            days=a.duration.total_seconds() / 86400,
            reason=a.reason.strip()[:60],
        )

    @staticmethod
    def decide_extension(s: CaseState, a: ExtensionDecisionAction, now, fx, who) -> None:
        ext = s.pending_extension
        assert ext is not None
        ext.status = "approved" if a.approve else "refused"
        ext.decided_by, ext.decided_at, ext.decision_reason = who, now, a.reason.strip()
        moved = clocks.extend_colour_clocks(s, ext.duration, a.due_times) if a.approve else []
        fx.event(
            "extension_approved" if a.approve else "extension_refused",
            who,
            reason=a.reason.strip(),
            duration_seconds=int(ext.duration.total_seconds()),
            **{f"{c.name}_at": c.due_at.isoformat() for c in moved},
        )
        fx.notify(
            "extension_decided",
            Audience(usernames=[ext.requested_by]),
            approve=a.approve,
            reason=a.reason.strip()[:60],
        )

    @staticmethod
    def send_back(s: CaseState, a: SendBackAction, now, fx, who) -> None:
        s.sent_back.append(SendBack(unit=s.unit, township=s.township, reason=a.reason.strip(), by=who, at=now))
        previous = s.handler.username if s.handler else None
        s.handler, s.team, s.team_accepted = None, [], []
        # Nobody takes it up again until a person routes it: the classifier already sent it where it was.
        s.routing_attempted = True
        clocks.restart_routing_clock(s, now)
        fx.event("sent_back", who, unit=s.unit, township=s.township, reason=a.reason.strip(), handler=previous)
        desk = Role.supervisor if len(s.sent_back) >= SEND_BACKS_TO_SUPERVISOR else Role.clerk
        fx.notify(
            "sent_back",
            Audience(roles=[desk]),
            unit=s.unit,
            township=s.township,
            reason=a.reason.strip()[:60],
            times=len(s.sent_back),
        )


def lead_leaders(s: CaseState) -> Audience:
    """The main leaders of the handling unit and of the township (yellow cases go to them)."""
    units = [s.unit] if is_department(s.unit) else []
    townships = [s.township] if s.township else []
    if not units and not townships:
        return Audience(roles=[Role.supervisor])
    return Audience(unit_leaders=units, township_leaders=townships)


def remind(state: CaseState, clock_name: str, now: datetime) -> Effects:
    """A clock falls due soon: tell whoever can still meet it (the clerks before routing, the lead unit's leaders
    before a person is named, the handler before the team and the colours)."""
    fx = Effects()
    clock = state.clock(clock_name)
    assert clock is not None and clock.running
    clock.reminded_at = now
    fx.event("clock_reminded", "system", clock=clock_name, due_at=clock.due_at.isoformat())
    if clock_name == "routed":
        desk = Role.supervisor if len(state.sent_back) >= SEND_BACKS_TO_SUPERVISOR else Role.clerk
        audience = Audience(roles=[desk])
    elif clock_name == "assigned" or state.handler is None:
        audience = lead_leaders(state)
    else:
        audience = Audience(usernames=[state.handler.username])
    # The contract names the handler's message before the colours `reminder` (as the minute clocks' breach
    # messages to supervisors were already called); the minute clocks' heads-up is `due_soon`.
    kind = "reminder" if clock_name in clocks.COLOUR_CLOCKS else "due_soon"
    fx.notify(kind, audience, clock=clock_name, due_at=clock.due_at.isoformat(), soon=True)
    return fx


def breach(state: CaseState, clock_name: str, now: datetime, joint: bool = False) -> Effects:
    """A clock's due time passed unmet: record it, change colour, and escalate to the right people. With the
    joint mechanism (`joint`), a red case is announced by its task force to the leader in charge and its
    members (domain.automation.start_task_force), not to every county leader."""
    fx = Effects()
    clock = state.clock(clock_name)
    assert clock is not None and clock.running
    clock.breached, clock.breached_at = True, now
    fx.event("clock_breached", "system", clock=clock_name, due_at=clock.due_at.isoformat(), status=state.status.value)
    if clock_name == "task_force":
        # The task force ran past its deadline: the centre's overall convener steps in, the board lists it first.
        assert state.task_force is not None
        state.task_force.overdue_at = now
        fx.event("task_force_overdue", "system", led_by=state.task_force.led_by, deadline=clock.due_at.isoformat())
        fx.notify(
            "task_force_overdue",
            Audience(usernames=state.task_force.conveners)
            if state.task_force.conveners
            else Audience(roles=[Role.supervisor]),
            led_by=state.task_force.led_by,
            unit=state.unit,
            township=state.township,
        )
        return fx
    if clock_name in ("routed", "assigned", "team"):
        fx.notify(
            "reminder",
            Audience(roles=[Role.supervisor]),
            clock=clock_name,
            due_at=clock.due_at.isoformat(),
            status=state.status.value,
        )
        return fx
    state.colour = clocks.colour_after_breach(state.colour, clock_name)
    if clock_name == "yellow":
        fx.event("turned_yellow", "system")
        fx.notify(
            "turned_yellow",
            lead_leaders(state),
            unit=state.unit,
            township=state.township,
            days=state.levels.yellow_after.total_seconds() / 86400,
        )
    else:
        fx.event("turned_red", "system")
        if not joint:  # cases before the joint mechanism told every county leader; now the task force tells
            fx.notify(
                "turned_red",
                Audience(roles=[Role.county_leader]),
                unit=state.unit,
                township=state.township,
                days=state.levels.red_after.total_seconds() / 86400,
            )
    return fx
