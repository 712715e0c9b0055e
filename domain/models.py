"""The case's data as it crosses boundaries: workflow input and state, update payloads, activity I/O.

Plain pydantic models (no SQLModel): they travel through Temporal with `pydantic_data_converter` and are
imported by the workflow sandbox, the activities, the API and the tests alike.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field


class CaseStatus(StrEnum):
    received = "received"  # 受理
    routed = "routed"  # 分流
    assigned = "assigned"  # 交办
    team_formed = "team_formed"  # 组团
    mediating = "mediating"  # 调处
    resolved = "resolved"  # 办结
    closed = "closed"  # 评价/归档
    withdrawn = "withdrawn"  # 撤回
    rejected = "rejected"  # 不予受理
    under_review = "under_review"  # 复核: the citizen contests a closed case's result


class SupervisionColour(StrEnum):
    green = "green"
    yellow = "yellow"
    red = "red"


class Role(StrEnum):
    clerk = "clerk"
    mediator = "mediator"
    leader = "leader"
    county_leader = "county_leader"
    supervisor = "supervisor"
    auditor = "auditor"
    inspector = "inspector"
    citizen = "citizen"
    system = "system"


class ServiceLevels(BaseModel):
    """Durations measured from intake (close_unrated_after: from resolution)."""

    routed_within: timedelta
    assigned_within: timedelta
    team_within: timedelta
    yellow_after: timedelta
    red_after: timedelta
    close_unrated_after: timedelta
    history_event_limit: int = 2000
    review_window: timedelta = timedelta(days=7)  # after a rating of 1–2, how long a review may be asked
    task_force_within: timedelta | None = None  # a red case's task force works to this deadline; None: none
    # The yellow and red clocks count natural days or working days (the State Council's schedule, 调休 included).
    # Cases opened before this existed carry neither field, and keep the natural clocks they began with.
    days: Literal["natural", "working"] = "natural"
    remind_before: timedelta | None = None  # the handler's reminder this long before yellow; None: none


class Actor(BaseModel):
    """A person in a step: who performs it, or whom it names (a handler, a team member). Staff carry their unit
    or township so the rules can check jurisdiction; `system` and `citizen` have neither."""

    username: str
    role: Role
    unit: str | None = None
    township: str | None = None
    district: int | None = None  # an inspector's district (督查片区); None: the whole county


SYSTEM = Actor(username="system", role=Role.system)
CITIZEN = Actor(username="citizen", role=Role.citizen)


class CaseIntake(BaseModel):
    description: str
    citizen_name: str
    citizen_phone: str
    address: str | None = None
    township_hint: str | None = None
    category_hint: str | None = None
    channel: Literal["kiosk", "phone", "web", "clerk"] = "web"
    # 接收短信通知: the citizen may say no at intake (domain/citizen_texts.py); cases from before it texted nobody
    # at intake and take the default for later texts.
    notify_by_sms: bool = True


class Clock(BaseModel):
    name: Literal["routed", "assigned", "team", "yellow", "red", "task_force"]
    due_at: datetime
    met_at: datetime | None = None
    breached: bool = False
    breached_at: datetime | None = None
    stopped_at: datetime | None = None  # the case ended (withdrawn/rejected) before the clock was met
    # A reminder this long before the due time (None: none; cases opened before reminders have none).
    remind_at: datetime | None = None
    reminded_at: datetime | None = None
    paused_at: datetime | None = None  # standing still since (the case is paused, 暂停计时)
    calendar_known: bool = True  # False: a working-day due time through a year whose schedule is not loaded

    @property
    def running(self) -> bool:
        return self.met_at is None and not self.breached and self.stopped_at is None

    @property
    def state(self) -> Literal["met", "breached", "stopped", "running"]:
        """The clock in one word, as the read model keeps it for the board (a clock is met or breached, never both)."""
        if self.met_at is not None:
            return "met"
        if self.breached:
            return "breached"
        return "stopped" if self.stopped_at is not None else "running"


class CategorySuggestion(BaseModel):
    category: str
    confidence: float


class TownshipSuggestion(BaseModel):
    """A township the text may belong to, with the place mention that points to it (for the clerk)."""

    township: str | None  # None: outside the county
    mention: str
    role: str = ""  # dispute | person | unknown
    score: float = 0.0  # the cue phrases' weight (> 0: words say the dispute is there)
    probability: float | None = None  # the place-role model's, where two or more places competed


class RoutingDecision(BaseModel):
    category: str | None
    unit: str | None
    township: str | None
    needs_team: bool = False
    confidence: float = 0.0
    auto: bool = False  # route without a person
    reason: str = ""
    team_units: list[str] = Field(default_factory=list)  # units a team for this category draws on
    suggestions: list[CategorySuggestion] = Field(default_factory=list)  # best first, for the clerk
    model: str = ""  # fingerprint of the model that decided
    repeat_of: list[str] = Field(default_factory=list)  # earlier cases (ids) this request repeats
    # Where the case belongs (属地): how sure the place resolver is, and each plausible township with the mention
    # that points to it, best first. Decisions made before these fields existed carry the defaults.
    township_confidence: float | None = None
    township_suggestions: list[TownshipSuggestion] = Field(default_factory=list)


class ScoreFactor(BaseModel):
    """One line of a candidate's explained score (domain.matching). Scored factors add `points` (at most
    `weight`); hard limits (duty, capacity, declined) have weight 0 and exclude the candidate when not passed."""

    name: str  # skill | load | locality | rotation | duty | capacity | declined
    zh: str
    weight: float = 0.0
    value: float = 0.0  # 0..1
    points: float = 0.0
    passed: bool = True
    note: str = ""


class CandidateScore(BaseModel):
    username: str
    role: str
    unit: str | None = None
    township: str | None = None
    rank: int = 0  # 1 = chosen (when eligible)
    eligible: bool = True
    total: float = 0.0
    factors: list[ScoreFactor] = Field(default_factory=list)
    excluded_because: str | None = None
    reason: str = ""  # the breakdown in one Chinese sentence


class TeamSlot(BaseModel):
    """One seat of a team: a unit's member, or the township's (unit None)."""

    unit: str | None = None
    township: str | None = None
    label: str = ""
    member: Actor | None = None
    kept_handler: bool = False  # the handler fills their own unit's seat
    reason: str = ""
    candidates: list[CandidateScore] = Field(default_factory=list)  # best first, the first few


class HandlerChoice(BaseModel):
    handler: Actor | None
    reason: str
    candidates: list[CandidateScore] = Field(default_factory=list)  # the ranking behind the choice


class TeamChoice(BaseModel):
    members: list[Actor]
    missing_units: list[str] = Field(default_factory=list)
    reason: str
    slots: list[TeamSlot] = Field(default_factory=list)  # each seat with its ranking


class Mediation(BaseModel):
    summary: str
    held_at: datetime
    participants: list[str]
    recorded_by: str
    recorded_at: datetime


class Resolution(BaseModel):
    outcome: Literal["agreement", "handled", "referred"]
    summary: str
    by: str
    at: datetime


class Rating(BaseModel):
    score: int = Field(ge=1, le=5)
    comment: str | None = None
    at: datetime


class Material(BaseModel):
    material_id: str
    filename: str
    content_type: str
    size: int
    note: str | None = None
    stored_name: str


class Review(BaseModel):
    """申请复核 after a low rating, and the supervisor's decision."""

    status: Literal["requested", "rehandled", "upheld"] = "requested"
    reason: str
    requested_at: datetime
    rating: int
    decision_reason: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None


class TaskForce(BaseModel):
    """县领导领衔 + 专班会商 + 部门组团破难, started when a case turns red."""

    led_by: str | None
    started_at: datetime
    units: list[str]
    consultations: list[Mediation] = Field(default_factory=list)
    # The leader in charge leads; the leaders of the lead unit, the team's units and the township are members.
    # Task forces begun before the joint mechanism have none of these.
    members: list[str] = Field(default_factory=list)
    townships: list[str] = Field(default_factory=list)
    conveners: list[str] = Field(default_factory=list)  # the centre's overall convener(s), told when it runs late
    deadline: datetime | None = None
    overdue_at: datetime | None = None


class JointTaskForceRequest(BaseModel):
    case_id: str
    case_no: str
    unit: str | None  # the lead unit (`township` for township-led cases)
    township: str | None
    units: list[str]  # the departments drafted in: the lead unit, the category's and the team's units


class TaskForcePlan(BaseModel):
    """Who a red case's task force brings together (the activity form_task_force looks them up)."""

    led_by: str | None
    members: list[str]
    units: list[str]
    townships: list[str]
    conveners: list[str]


class Pause(BaseModel):
    """暂停计时: the yellow and red clocks stood still from `at` to `resumed_at`, waiting for someone."""

    reason: str
    by: str
    at: datetime
    resumed_at: datetime | None = None
    resumed_by: str | None = None


class Extension(BaseModel):
    """申请延期 and its decision: an approval moves the yellow and red clocks by `duration`."""

    duration: timedelta
    reason: str
    requested_by: str
    requested_at: datetime
    status: Literal["pending", "approved", "refused"] = "pending"
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None


class SendBack(BaseModel):
    """退回: a unit returned a case that is not its own to the clerks."""

    unit: str | None
    township: str | None
    reason: str
    by: str
    at: datetime


class CaseEvent(BaseModel):
    seq: int
    at: datetime
    type: str
    actor: str
    detail: dict[str, Any] = Field(default_factory=dict)


class Audience(BaseModel):
    """Who a notification goes to, resolved to people by the notification activity."""

    usernames: list[str] = Field(default_factory=list)
    roles: list[Role] = Field(default_factory=list)
    unit_leaders: list[str] = Field(default_factory=list)
    township_leaders: list[str] = Field(default_factory=list)


class NotificationRequest(BaseModel):
    key: str  # idempotency key: case id + event seq
    case_id: str
    case_no: str
    kind: str  # assigned, team_invited, reminder, turned_yellow, turned_red, urged, ...
    params: dict[str, Any] = Field(default_factory=dict)  # rendered into Chinese text by the activity
    audience: Audience


class TeamVacancy(BaseModel):
    """A team seat left by a member who declined, waiting for the matcher."""

    unit: str | None  # None: the township's seat
    township: str | None
    declined_by: str
    reason: str
    at: datetime


class CaseState(BaseModel):
    """The truth about one case, held by its workflow and carried across continue-as-new."""

    case_id: str
    case_no: str
    received_at: datetime
    intake: CaseIntake
    intake_by: str
    levels: ServiceLevels
    status: CaseStatus = CaseStatus.received
    colour: SupervisionColour = SupervisionColour.green
    category: str | None = None
    unit: str | None = None
    township: str | None = None
    needs_team: bool = False
    team_units: list[str] = Field(default_factory=list)
    routing_version: int = 0  # bumped on every (re)routing; automation runs once per version
    routing_attempted: bool = False
    assignment_attempted_for: int = -1
    team_attempted_for: int = -1
    handler: Actor | None = None
    team: list[Actor] = Field(default_factory=list)
    team_accepted: list[str] = Field(default_factory=list)  # members who confirmed their invitation
    team_declined: list[str] = Field(default_factory=list)  # who stepped out of this case's team
    team_vacancies: list[TeamVacancy] = Field(default_factory=list)  # seats the matcher has still to fill
    clocks: list[Clock] = Field(default_factory=list)
    mediations: list[Mediation] = Field(default_factory=list)
    resolution: Resolution | None = None
    rating: Rating | None = None
    materials: list[Material] = Field(default_factory=list)
    citizen_updates: list[dict[str, Any]] = Field(default_factory=list)
    task_force: TaskForce | None = None
    urge_count: int = 0
    pauses: list[Pause] = Field(default_factory=list)
    extensions: list[Extension] = Field(default_factory=list)
    sent_back: list[SendBack] = Field(default_factory=list)
    auto_close_at: datetime | None = None
    closed_at: datetime | None = None
    review: Review | None = None
    review_open_until: datetime | None = None  # a citizen who rated 1–2 may ask for review until then
    next_seq: int = 1
    recorded_seq: int = 0  # events up to this seq are in the read model
    run_count: int = 1  # runs of the workflow (continue-as-new)

    def clock(self, name: str) -> Clock | None:
        return next((c for c in self.clocks if c.name == name), None)

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1].resumed_at is None

    @property
    def pending_extension(self) -> Extension | None:
        return next((e for e in self.extensions if e.status == "pending"), None)


class CaseStart(BaseModel):
    case_id: str
    case_no: str
    received_at: datetime
    intake: CaseIntake
    intake_by: Actor
    levels: ServiceLevels
    carried: CaseState | None = None  # set when the workflow continues as new


class CaseRecord(BaseModel):
    """One write to the read model: new events plus the snapshot they lead to, and the notifications those
    events call for (written in the same transaction; empty in records of cases begun before that)."""

    case_id: str
    events: list[CaseEvent]
    state: CaseState
    notices: list[NotificationRequest] = Field(default_factory=list)


# --- staff and citizen steps (Workflow Update payloads) ---------------------------------------------


class TriageAction(BaseModel):
    actor: Actor
    category: str
    unit: str
    township: str | None = None
    needs_team: bool = False
    team_units: list[str] = Field(default_factory=list)
    reason: str | None = None


class AssignAction(BaseModel):
    actor: Actor
    handler: Actor
    reason: str | None = None
    scores: list[CandidateScore] = Field(default_factory=list)  # the matcher's ranking, when it chose


class TeamAction(BaseModel):
    actor: Actor
    members: list[Actor]
    reason: str | None = None
    slots: list[TeamSlot] = Field(default_factory=list)  # the matcher's seats, when it chose


class AcceptTeamAction(BaseModel):
    """A team member (not the handler) confirms taking part in the team (接受组团邀请)."""

    actor: Actor


class DeclineTeamAction(BaseModel):
    """A team member (not the handler) steps out of the team, with a reason; the matcher finds the next."""

    actor: Actor
    reason: str


class MediationAction(BaseModel):
    actor: Actor
    summary: str
    held_at: datetime
    participants: list[str]


class ResolveAction(BaseModel):
    actor: Actor
    outcome: Literal["agreement", "handled", "referred"]
    summary: str


class WithdrawAction(BaseModel):
    actor: Actor
    reason: str


class RejectAction(BaseModel):
    actor: Actor
    reason: str


class UrgeAction(BaseModel):
    actor: Actor
    note: str | None = None


class PauseAction(BaseModel):
    actor: Actor
    reason: str


class ResumeAction(BaseModel):
    actor: Actor
    note: str | None = None
    # Working-day cases: the clocks' due times after the pause, computed by the calendar (name → time).
    due_times: dict[str, datetime] = Field(default_factory=dict)


class ExtensionRequestAction(BaseModel):
    actor: Actor
    duration: timedelta
    reason: str


class ExtensionDecisionAction(BaseModel):
    actor: Actor
    approve: bool
    reason: str
    # Working-day cases: the clocks' due times after the extension, computed by the calendar.
    due_times: dict[str, datetime] = Field(default_factory=dict)


class SendBackAction(BaseModel):
    actor: Actor
    reason: str


class ConsultationAction(BaseModel):
    actor: Actor
    summary: str
    held_at: datetime
    participants: list[str]


class MaterialAction(BaseModel):
    actor: Actor
    material: Material


class CitizenUpdateAction(BaseModel):
    actor: Actor
    text: str


class RateAction(BaseModel):
    actor: Actor
    score: int = Field(ge=1, le=5)
    comment: str | None = None


class ReviewRequestAction(BaseModel):
    actor: Actor
    reason: str


class ReviewDecisionAction(BaseModel):
    actor: Actor
    rehandle: bool
    reason: str


class CodeReissueAction(BaseModel):
    actor: Actor
    reason: str | None = None


class AutoCloseAction(BaseModel):
    """The system closes a resolved case nobody rated (never sent by a person)."""

    actor: Actor


class CaseOutcome(BaseModel):
    case_id: str
    status: CaseStatus
    colour: SupervisionColour
    closed_at: datetime | None


# --- activity inputs ---------------------------------------------------------------------------------


class RouteRequest(BaseModel):
    case_id: str
    intake: CaseIntake
    received_at: datetime | None = None  # None in histories recorded before repeat detection


class HandlerRequest(BaseModel):
    case_id: str
    category: str | None
    unit: str
    township: str | None


class TeamRequest(BaseModel):
    case_id: str
    category: str | None
    team_units: list[str]
    township: str | None
    handler: Actor | None
    exclude: list[str] = Field(default_factory=list)  # people who declined this case


class MemberRequest(BaseModel):
    """One team seat to fill again after a member declined."""

    case_id: str
    category: str | None
    unit: str | None  # the seat's unit; None for the township's seat
    township: str | None  # the case's township
    exclude: list[str] = Field(default_factory=list)  # people who declined this case
    on_case: list[str] = Field(default_factory=list)  # the handler and the members still on the team


class TaskForceRequest(BaseModel):
    case_id: str
    case_no: str
    units: list[str]
    started_at: datetime
