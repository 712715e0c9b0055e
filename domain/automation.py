"""The system's own steps: what the case does with the answers of the classifier and the matchers, when the
red clock starts a task force, and when a resolved case closes itself or a review window ends.

Each function takes the case and an answer and returns the step to take (an action for case_flow) and the
events and notices to record; the workflow only asks the questions and carries the answers out. Pure.
"""

from __future__ import annotations

from datetime import datetime

from domain import clocks
from domain.case_flow import TEAM_MINIMUM, WORKING, Effects, lead_leaders
from domain.models import (
    SYSTEM,
    AssignAction,
    Audience,
    AutoCloseAction,
    CaseState,
    CaseStatus,
    HandlerChoice,
    Role,
    RoutingDecision,
    TaskForce,
    TaskForcePlan,
    TeamAction,
    TeamChoice,
    TeamSlot,
    TeamVacancy,
    TriageAction,
)
from domain.taxonomy import is_department

JOINT_MECHANISM = "县领导领衔+专班会商+部门组团破难"


# --- routing (分流) -------------------------------------------------------------------------------------


def repeat_flagged(decision: RoutingDecision) -> Effects:
    """An earlier open case of the same person or the same grievance: linked, not merged; the clerks hear."""
    fx = Effects()
    fx.event(
        "repeat_detected",
        "system",
        earlier=decision.repeat_of,
        reason="同一群众或相同诉求在时限内重复登记，已关联前案，未合并",
    )
    fx.notify("repeat_detected", Audience(roles=[Role.clerk]), earlier=decision.repeat_of)
    return fx


def routing_step(decision: RoutingDecision) -> TriageAction | None:
    """Route without a person when the classifier is sure enough and knows the lead unit."""
    if not (decision.auto and decision.category and decision.unit):
        return None
    return TriageAction(
        actor=SYSTEM,
        category=decision.category,
        unit=decision.unit,
        township=decision.township,
        needs_team=decision.needs_team,
        team_units=decision.team_units,
        reason=f"{decision.reason}（置信度 {decision.confidence:.2f}）",
    )


def routing_pending(decision: RoutingDecision) -> Effects:
    """The case waits for a clerk, with the classifier's suggestions; its routing clock keeps running."""
    fx = Effects()
    fx.event(
        "routing_pending",
        "system",
        reason=decision.reason,
        suggestion=decision.category,
        confidence=decision.confidence,
        township=decision.township,
        suggestions=[x.model_dump() for x in decision.suggestions],
    )
    fx.notify("routing_pending", Audience(roles=[Role.clerk]), reason=decision.reason)
    return fx


# --- assignment (交办) ----------------------------------------------------------------------------------


def needs_handler(s: CaseState) -> bool:
    """Routed, nobody named yet, and the matcher not yet asked for this routing."""
    return s.status == CaseStatus.routed and s.handler is None and s.assignment_attempted_for != s.routing_version


def assignment_step(choice: HandlerChoice) -> AssignAction | None:
    if choice.handler is None:
        return None
    return AssignAction(actor=SYSTEM, handler=choice.handler, reason=choice.reason, scores=choice.candidates)


def assignment_pending(s: CaseState, choice: HandlerChoice) -> Effects:
    """Nobody eligible in the lead unit: its leaders (and the township's) are told to name someone."""
    fx = Effects()
    fx.event("assignment_pending", "system", reason=choice.reason)
    fx.notify("assignment_pending", lead_leaders(s), category=s.category, unit=s.unit, township=s.township)
    return fx


# --- team (组团) ----------------------------------------------------------------------------------------


def needs_team_matching(s: CaseState) -> bool:
    """A category that needs several departments, a named handler, no team yet, and the matcher not yet
    asked for this routing."""
    return (
        s.needs_team
        and s.status in WORKING
        and not s.team
        and s.handler is not None
        and s.team_attempted_for != s.routing_version
    )


def team_step(choice: TeamChoice) -> TeamAction | None:
    """A team is formed automatically only with at least TEAM_MINIMUM people; fewer is no team at all."""
    if len(choice.members) < TEAM_MINIMUM:
        return None
    return TeamAction(actor=SYSTEM, members=choice.members, reason=choice.reason, slots=choice.slots)


def team_shortfall(s: CaseState, choice: TeamChoice) -> Effects | None:
    """Seats nobody could fill (or too few people for a team): the lead unit's leaders and the leaders of every
    unit or township with nobody to send are told to name someone."""
    if not choice.missing_units and len(choice.members) >= TEAM_MINIMUM:
        return None
    fx = Effects()
    fx.event("team_incomplete", "system", missing=choice.missing_units, reason=choice.reason)
    lead = lead_leaders(s)
    units = [m for m in choice.missing_units if m != s.township]
    towns = [m for m in choice.missing_units if m == s.township]
    fx.notify(
        "team_member_needed",
        Audience(
            roles=lead.roles,
            unit_leaders=sorted(set(lead.unit_leaders + units)),
            township_leaders=sorted(set(lead.township_leaders + towns)),
        ),
        category=s.category,
        unit=s.unit,
        township=s.township,
        missing=choice.missing_units,
    )
    return fx


# --- a seat a member declined ------------------------------------------------------------------------


def seat_taken(s: CaseState, unit: str | None, township: str | None) -> bool:
    """A team member already sits for this unit (or, unit None, this township)."""
    if unit is not None:
        return any(m.unit == unit for m in s.team)
    return any(m.unit is None and m.township == township for m in s.team)


def fill_vacancy(s: CaseState, vacancy: TeamVacancy, slot: TeamSlot, now: datetime) -> Effects:
    """The matcher's answer for a seat a member declined: the next person joins the team and is invited, or,
    with nobody to be found, the seat's unit (or township) leader is told at once and the team clock, if it is
    not yet due, runs again until the team is whole."""
    fx = Effects()
    if s.status not in WORKING or seat_taken(s, vacancy.unit, vacancy.township):
        return fx  # ended or re-routed, or someone filled the seat meanwhile
    scores = [c.model_dump(mode="json") for c in slot.candidates]
    on_case = {m.username for m in s.team} | ({s.handler.username} if s.handler else set())
    member = slot.member
    if member is not None and member.username not in on_case and member.username not in s.team_declined:
        s.team.append(member)
        fx.event(
            "team_member_replaced",
            "system",
            member=member.username,
            replaces=vacancy.declined_by,
            unit=vacancy.unit,
            township=vacancy.township,
            reason=slot.reason,
            scores=scores,
        )
        fx.notify(
            "team_invited",
            Audience(usernames=[member.username]),
            handler=s.handler.username if s.handler else None,
            category=s.category,
        )
        return fx
    fx.event(
        "team_member_unavailable",
        "system",
        replaces=vacancy.declined_by,
        unit=vacancy.unit,
        township=vacancy.township,
        reason=slot.reason,
        scores=scores,
    )
    leaders = (
        Audience(unit_leaders=[vacancy.unit])
        if vacancy.unit
        else Audience(township_leaders=[vacancy.township] if vacancy.township else [])
    )
    fx.notify(
        "team_member_needed",
        leaders,
        unit=vacancy.unit,
        township=vacancy.township,
        category=s.category,
        declined_by=vacancy.declined_by,
        reason=vacancy.reason,
    )
    clock = s.clock("team")
    if (
        clock is not None
        and clock.met_at is not None
        and not clock.breached
        and clock.stopped_at is None
        and clock.due_at > now
    ):
        clock.met_at = None
        fx.event(
            "clock_reopened",
            "system",
            clock="team",
            due_at=clock.due_at.isoformat(),
            reason="组团成员谢绝且暂无替补，组团时限继续计时",
        )
    return fx


# --- the red joint mechanism (县领导领衔 + 专班会商 + 部门组团破难) ---------------------------------------


def task_force_units(s: CaseState) -> list[str]:
    """The departments drafted into a red case's task force: the lead unit and the category's team units."""
    return sorted({u for u in [s.unit, *s.team_units] if is_department(u)})  # type: ignore[misc]


def joint_task_force_units(s: CaseState) -> list[str]:
    """With the joint mechanism, also the units of the people already on the team (部门组团破难)."""
    members = [m.unit for m in s.team if m.unit]
    return sorted({u for u in [s.unit, *s.team_units, *members] if is_department(u)})  # type: ignore[misc]


def start_joint_task_force(s: CaseState, plan: TaskForcePlan, now: datetime) -> Effects:
    """县领导领衔 + 专班会商 + 部门组团破难: the county leader in charge of the lead unit (or in touch with the
    township) leads; the leaders of the drafted units and of the township are its members, each told; it works
    to a deadline (ServiceLevels.task_force_within), past which the centre's overall convener is told."""
    deadline = now + s.levels.task_force_within if s.levels.task_force_within else None
    s.task_force = TaskForce(
        led_by=plan.led_by,
        started_at=now,
        units=plan.units,
        members=plan.members,
        townships=plan.townships,
        conveners=plan.conveners,
        deadline=deadline,
    )
    if deadline is not None:
        clocks.add_task_force_clock(s, deadline)
    fx = Effects()
    fx.event(
        "task_force_started",
        "system",
        led_by=plan.led_by,
        units=plan.units,
        township=s.township,
        members=plan.members,
        deadline=deadline.isoformat() if deadline else None,
        mechanism=JOINT_MECHANISM,
    )
    lead = [plan.led_by] if plan.led_by else plan.conveners
    red_days = s.levels.red_after.total_seconds() / 86400
    fx.notify("turned_red", Audience(usernames=lead), unit=s.unit, township=s.township, days=red_days)
    members = [m for m in plan.members if m not in lead]
    if lead or members:
        fx.notify(
            "task_force",
            Audience(usernames=sorted({*lead, *members})),
            led_by=plan.led_by,
            deadline=deadline.isoformat() if deadline else None,
        )
    return fx


def needs_task_force(s: CaseState, clock_name: str) -> bool:
    return clock_name == "red" and s.task_force is None


def start_task_force(s: CaseState, leader: str | None, units: list[str], now: datetime) -> Effects:
    s.task_force = TaskForce(led_by=leader, started_at=now, units=units)
    fx = Effects()
    fx.event("task_force_started", "system", led_by=leader, units=units, township=s.township, mechanism=JOINT_MECHANISM)
    if leader:
        fx.notify("task_force", Audience(usernames=[leader]))
    return fx


# --- scheduled steps -------------------------------------------------------------------------------------


def auto_close_due(s: CaseState, now: datetime) -> AutoCloseAction | None:
    """A resolved case nobody rated closes itself after the configured time."""
    if s.status == CaseStatus.resolved and s.auto_close_at is not None and s.auto_close_at <= now:
        return AutoCloseAction(actor=SYSTEM)
    return None


def review_window_closed(s: CaseState, now: datetime) -> Effects | None:
    """The citizen who rated 1–2 did not ask for a review in time: the case is archived for good."""
    if s.review_open_until is None or s.review_open_until > now:
        return None
    s.review_open_until = None
    fx = Effects()
    fx.event("review_window_closed", "system", reason="申请复核期限已过，案件归档")
    return fx
