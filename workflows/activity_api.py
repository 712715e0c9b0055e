"""The activities a case workflow calls, as typed signatures.

The workflow may import nothing but domain code, so it cannot reference the implementations in activities/
(which touch the database). It references these declarations instead: each carries the activity's registered
name, its input and its result type, so a call is checked by the type checker and decoded into the right
model. tests/workflows/test_activity_api.py checks that the worker registers an implementation of each one
with the same name and the same types.
"""

from __future__ import annotations

from typing import NoReturn

from temporalio import activity

from domain.calendar import DueAnswer, DueRequest, PauseShiftRequest
from domain.digest import DigestRequest, DigestResult
from domain.hazards import HazardRecord
from domain.inspection import PlanRequest, PlanResult
from domain.models import (
    CaseRecord,
    HandlerChoice,
    HandlerRequest,
    JointTaskForceRequest,
    MemberRequest,
    NotificationRequest,
    RouteRequest,
    RoutingDecision,
    TaskForcePlan,
    TaskForceRequest,
    TeamChoice,
    TeamRequest,
    TeamSlot,
)


def _declaration(implemented_by: str) -> NoReturn:
    raise RuntimeError(f"a declaration for workflow code; the worker runs {implemented_by}")


@activity.defn(name="record_case_events")
def record_case_events(record: CaseRecord) -> int:
    """Append the step's events, upsert the read model and queue its notifications, in one transaction;
    returns how many events were new."""
    return _declaration("activities.records.CaseRecorder")


@activity.defn(name="send_notifications")
def send_notifications(req: NotificationRequest) -> list[str]:
    """One notification on its own (cases begun before notifications were written with their events)."""
    return _declaration("activities.notifications.Notifier")


@activity.defn(name="route_case")
def route_case(req: RouteRequest) -> RoutingDecision:
    """Category, lead unit and township from the citizen's text, and earlier cases it repeats."""
    return _declaration("activities.triage.Triage")


@activity.defn(name="choose_handler")
def choose_handler(req: HandlerRequest) -> HandlerChoice:
    """The person responsible, ranked within the lead unit (or township)."""
    return _declaration("activities.assignment.Assignment")


@activity.defn(name="match_team")
def match_team(req: TeamRequest) -> TeamChoice:
    """One member for each seat of a multi-department team."""
    return _declaration("activities.assignment.Assignment")


@activity.defn(name="find_team_member")
def find_team_member(req: MemberRequest) -> TeamSlot:
    """The next person for a seat a member declined."""
    return _declaration("activities.assignment.Assignment")


@activity.defn(name="start_task_force")
def start_task_force(req: TaskForceRequest) -> str | None:
    """The county leader who leads a red case's task force."""
    return _declaration("activities.assignment.Assignment")


@activity.defn(name="form_task_force")
def form_task_force(req: JointTaskForceRequest) -> TaskForcePlan:
    """Who a red case's task force brings together (the joint mechanism)."""
    return _declaration("activities.assignment.Assignment")


@activity.defn(name="compute_due")
def compute_due(req: DueRequest) -> DueAnswer:
    """A due time by the calendar (working days by the State Council's schedule, or natural days)."""
    return _declaration("activities.calendar.CalendarClock")


@activity.defn(name="shift_for_pause")
def shift_for_pause(req: PauseShiftRequest) -> DueAnswer:
    """A clock's due time after it stood still from paused_at to resumed_at."""
    return _declaration("activities.calendar.CalendarClock")


@activity.defn(name="send_daily_digests")
def send_daily_digests(req: DigestRequest) -> DigestResult:
    """Each leader's morning digest e-mail, queued once per leader and day."""
    return _declaration("activities.digest.DigestSender")


@activity.defn(name="record_hazard_events")
def record_hazard_events(record: HazardRecord) -> int:
    """A hazard's events, read-model row and notices, in one transaction; returns how many events were new."""
    return _declaration("activities.hazards.HazardRecorder")


@activity.defn(name="plan_inspection_week")
def plan_inspection_week(req: PlanRequest) -> PlanResult:
    """The week's visits per district written (once) and each team's inspectors told; the visited units hear
    nothing."""
    return _declaration("activities.inspection_plan.InspectionPlanner")


ALL = [
    record_case_events,
    send_notifications,
    route_case,
    choose_handler,
    match_team,
    find_team_member,
    start_task_force,
    form_task_force,
    compute_due,
    shift_for_pause,
    send_daily_digests,
    record_hazard_events,
    plan_inspection_week,
]
