"""What the services take and give: input models with their validation, and the views they answer with.
The JSON API uses them as request and response bodies, the pages fill them from forms (the workflow's own
payloads are in domain.models).

Validation lives here once. Shape and format are checked by pydantic when a model is built; checks that need
the county's taxonomy or a setting are methods (`IntakeIn.problems`). Every problem names its field and has a
code, so the JSON API answers `{"code", "message"}` and a page shows the message beside the field."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from domain.models import CandidateScore, CaseIntake, TeamSlot
from domain.privacy import normalise_phone, valid_phone
from domain.settings import Settings
from domain.taxonomy import Taxonomy
from domain.times import from_china_wall_time

NAME_MAX = 50
ADDRESS_MAX = 200
# A meeting may be recorded a little ahead of the server's clock (a clerk's watch, a typed minute).
MEETING_FUTURE_SLACK = timedelta(hours=1)
# Codes our own validators raise: the API answers with the first of them instead of the generic invalid_input.
VALIDATION_CODES = frozenset({"held_at_in_future", "invalid_text"})
# Pages of lists go no further than this (a larger number is a 422, never a query that overflows).
PAGE_MAX = 100_000
# Characters no text the system takes in may hold: C0 controls (tab and line breaks aside), DEL, C1 controls, and
# lone surrogates — valid JSON ("\ud800") decodes to one, and nothing can store or send it (UTF-8 refuses it), so
# it used to fail after the case number was taken. One rule for every text: input models (`Checked`), and the
# path and query of every request (api/middleware.py: there without line breaks).
_BAD_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_BAD_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
INVALID_TEXT = "输入含有不允许的字符（控制字符或无效编码），请删除后重试"


def bad_text(value: str, multiline: bool = True) -> bool:
    return (_BAD_TEXT if multiline else _BAD_LINE).search(value) is not None


def _holds_bad_text(value: Any) -> bool:
    if isinstance(value, str):
        return bad_text(value)
    if isinstance(value, Checked):
        return False  # checked when it was built
    if isinstance(value, BaseModel):
        return any(_holds_bad_text(v) for v in value.__dict__.values())
    if isinstance(value, list | tuple | set | frozenset):
        return any(_holds_bad_text(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_bad_text(k) or _holds_bad_text(v) for k, v in value.items())
    return False


@dataclass(frozen=True)
class Problem:
    field: str
    code: str
    message: str


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class Checked(BaseModel):
    """Every input model's base: no field may hold a control character or a lone surrogate (422 invalid_text,
    checked when the model is built — before anything is written or a number allocated)."""

    @field_validator("*", mode="after")
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        if _holds_bad_text(value):
            raise PydanticCustomError("invalid_text", INVALID_TEXT)
        return value


class _In(Checked):
    model_config = ConfigDict(extra="forbid")


# --- auth ----------------------------------------------------------------------------------------------


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"


class MeOut(BaseModel):
    username: str
    display_name: str
    role: str
    unit: str | None
    township: str | None


# --- intake --------------------------------------------------------------------------------------------


class CitizenIn(_In):
    name: str
    phone: str


class IntakeIn(_In):
    description: str
    citizen: CitizenIn
    address: str | None = None
    township: str | None = None
    category: str | None = None
    channel: Literal["kiosk", "phone", "web", "clerk"] = "web"
    notify_by_sms: bool = Field(True, description="接收短信通知: texts at intake, handler named, resolved, review")

    def problems(self, settings: Settings, taxonomy: Taxonomy) -> list[Problem]:
        """Everything wrong with the request, each with the form field it concerns, in the form's order."""
        found: list[Problem] = []
        limit = settings.max_description_chars
        description = self.description.strip()
        if not description:
            found.append(Problem("description", "description_required", "请填写您遇到的问题或诉求"))
        elif len(description) > limit:
            found.append(
                Problem(
                    "description", "description_too_long", f"诉求内容不能超过 {limit} 字（现有 {len(description)} 字）"
                )
            )
        name = self.citizen.name.strip()
        if not name:
            found.append(Problem("name", "invalid_name", "请填写您的姓名"))
        elif len(name) > NAME_MAX:
            found.append(Problem("name", "invalid_name", f"姓名不能超过 {NAME_MAX} 字"))
        if not self.citizen.phone.strip():
            found.append(Problem("phone", "invalid_phone", "请填写联系电话，便于承办人联系您"))
        elif not valid_phone(self.citizen.phone):
            found.append(
                Problem(
                    "phone",
                    "invalid_phone",
                    "电话号码格式不正确：请填写11位手机号，或带区号的固定电话（如 0576-87654321）",
                )
            )
        if len((self.address or "").strip()) > ADDRESS_MAX:
            found.append(Problem("address", "address_too_long", f"地址不能超过 {ADDRESS_MAX} 字"))
        township = (self.township or "").strip()
        if township and taxonomy.township(township) is None:
            found.append(Problem("township", "unknown_township", f"未知的乡镇（街道）：{township}，请从列表中选择"))
        category = (self.category or "").strip()
        if category and taxonomy.category(category) is None:
            found.append(
                Problem("category", "unknown_category", f"未知的纠纷类别：{category}，请从列表中选择或选“不确定”")
            )
        return found

    def to_intake(self) -> CaseIntake:
        """The case's intake record; call after `problems` found nothing."""
        return CaseIntake(
            description=self.description.strip(),
            citizen_name=self.citizen.name.strip(),
            citizen_phone=normalise_phone(self.citizen.phone),
            address=(self.address or "").strip() or None,
            township_hint=(self.township or "").strip() or None,
            category_hint=(self.category or "").strip() or None,
            channel=self.channel,
            notify_by_sms=self.notify_by_sms,
        )


class TrackingLinks(BaseModel):
    """A case's tracking code (returned once, to hand to the citizen) and where it leads."""

    case_id: str
    tracking_code: str
    tracking_url: str
    qr_url: str


class IntakeOut(TrackingLinks):
    case_no: str


class CaseListQuery(Checked):
    """The filters of a case list (each may name several values) and its page."""

    status: list[str] = Field(default_factory=list)
    color: list[str] = Field(default_factory=list)
    category: list[str] = Field(default_factory=list)
    unit: list[str] = Field(default_factory=list)
    township: list[str] = Field(default_factory=list)
    handler: list[str] = Field(default_factory=list)
    overdue: bool | None = None
    q: str | None = None
    page: int = Field(1, ge=1, le=PAGE_MAX)
    page_size: int = Field(20, ge=1, le=500)


# --- staff steps ---------------------------------------------------------------------------------------


class TriageIn(_In):
    category: Code
    unit: Code
    township: Code | None = None
    reason: ShortText | None = None


class AssignIn(_In):
    handler: Code
    reason: ShortText | None = None


class TeamIn(_In):
    members: list[Code] | None = Field(default=None, max_length=20)
    accept_suggestion: bool = False
    reason: ShortText | None = None


class MeetingIn(_In):
    """A mediation session or a task-force consultation."""

    summary: Text
    held_at: datetime = Field(description="ISO-8601; without an offset it is read as China time (UTC+8)")
    participants: list[ShortText] = Field(default_factory=list, max_length=50)

    @field_validator("held_at")
    @classmethod
    def _not_in_future(cls, value: datetime) -> datetime:
        at = from_china_wall_time(value)
        if at > datetime.now(UTC).replace(microsecond=0) + MEETING_FUTURE_SLACK:
            raise PydanticCustomError("held_at_in_future", "召开时间不能晚于当前时间")
        return at


class ResolveIn(_In):
    outcome: Literal["agreement", "handled", "referred"]
    summary: Text


class UrgeIn(_In):
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class ReasonIn(_In):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class ResumeIn(_In):
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class ExtensionIn(_In):
    duration: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=32)] = Field(
        description="ISO 8601, e.g. P3D", examples=["P3D"]
    )
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class ExtensionDecisionIn(_In):
    approve: bool
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


# --- citizen steps -------------------------------------------------------------------------------------


class CitizenUpdateIn(_In):
    text: str


class RatingIn(_In):
    score: int = Field(ge=1, le=5)
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


# --- views ---------------------------------------------------------------------------------------------


class ClockView(BaseModel):
    name: str
    due_at: datetime
    met_at: datetime | None = None
    breached: bool = False
    breached_at: datetime | None = None
    stopped_at: datetime | None = None
    running: bool = False
    remind_at: datetime | None = None
    reminded_at: datetime | None = None
    paused_at: datetime | None = Field(None, description="standing still since (暂停计时)")
    calendar_known: bool = True


class PersonView(BaseModel):
    username: str
    role: str
    unit: str | None = None
    township: str | None = None


class MeetingView(BaseModel):
    summary: str
    held_at: datetime
    participants: list[str]
    recorded_by: str
    recorded_at: datetime


class MaterialView(BaseModel):
    material_id: str
    filename: str
    content_type: str
    size: int
    note: str | None = None


class IntakeView(BaseModel):
    description: str
    citizen_name: str
    citizen_phone: str  # masked
    address: str | None = None
    channel: str
    township_hint: str | None = None
    category_hint: str | None = None
    intake_by: str | None = None


class MatchingRecord(BaseModel):
    """One handler or team choice of the case (or a member declining), with the matcher's score breakdown:
    read from the case's events, oldest first."""

    seq: int
    at: datetime
    type: str  # assigned | reassigned | assignment_pending | team_formed | team_incomplete |
    # team_member_declined | team_member_replaced | team_member_unavailable
    actor: str
    reason: str = ""
    member: str | None = None  # the handler chosen, or the member who declined / joined
    replaces: str | None = None  # the member a replacement stands in for
    candidates: list[CandidateScore] = Field(default_factory=list)  # ranking behind a single choice
    slots: list[TeamSlot] = Field(default_factory=list)  # each seat of a team with its ranking


class DeliveryView(BaseModel):
    """One message of the case on an external channel (webhook, sms, email): pending until the channel accepts
    it; failed when there is nowhere to send it (no mobile number, no e-mail address)."""

    recipient: str  # staff username, or citizen:<case_id> for the citizen's texts
    recipient_zh: str = ""  # the person's name; for the citizen, 群众 and the masked phone
    kind: str
    kind_zh: str
    channel: str  # webhook | sms | email
    channel_zh: str = ""  # 钉钉 / 短信 / 电子邮件
    status: Literal["pending", "delivered", "failed"]
    status_zh: str  # 待送达 / 已送达 / 无法送达
    attempts: int
    last_error: str | None = None  # e.g. "HTTP 503", "timeout"; never the message text
    created_at: datetime
    last_attempt_at: datetime | None = None
    next_attempt_at: datetime | None = None  # pending only
    delivered_at: datetime | None = None


class CaseView(BaseModel):
    case_id: str
    case_no: str
    status: str
    status_zh: str
    supervision_color: str
    category: str | None
    unit: str | None
    township: str | None
    needs_team: bool = False
    team_units: list[str] = Field(
        default_factory=list, description="the departments the case's category draws a team from"
    )
    member_units: list[str] = Field(
        default_factory=list, description="the departments the team's members actually come from"
    )
    handler: str | None
    team: list[str]
    team_members: list[PersonView] = Field(default_factory=list)
    team_accepted: list[str] = Field(default_factory=list, description="members who confirmed their invitation")
    team_declined: list[str] = Field(default_factory=list, description="members who declined this case")
    matching: list[MatchingRecord] = Field(
        default_factory=list, description="handler and team choices with their score breakdown"
    )
    clocks: list[ClockView]
    overdue: bool = False
    received_at: datetime
    intake: IntakeView
    mediations: list[MeetingView] = Field(default_factory=list)
    resolution: dict[str, Any] | None = None
    rating: dict[str, Any] | None = None
    materials: list[MaterialView] = Field(default_factory=list)
    citizen_updates: list[dict[str, Any]] = Field(default_factory=list)
    task_force: dict[str, Any] | None = Field(
        None, description='{"led_by", "members": [usernames], "units", "townships", "deadline", "overdue_at", ...}'
    )
    paused: bool = Field(False, description="the yellow and red clocks stand still (暂停计时)")
    pauses: list[dict[str, Any]] = Field(default_factory=list, description="each pause: reason, by, at, resumed_at")
    extensions: list[dict[str, Any]] = Field(default_factory=list, description="延期: asked, decided")
    sent_back: list[dict[str, Any]] = Field(default_factory=list, description="退回: by which unit, why, when")
    urge_count: int = 0
    auto_close_at: datetime | None = None
    closed_at: datetime | None = None
    actions: list[str] = Field(default_factory=list, description="steps the caller may take now")
    deliveries: list[DeliveryView] = Field(
        default_factory=list, description="the case's messages on external channels, oldest first"
    )
    undelivered: int = Field(0, description="how many of them the channel has not accepted yet")
    source: Literal["workflow", "read_model"]
    stale: bool


class CaseListItem(BaseModel):
    case_id: str
    case_no: str
    status: str
    supervision_color: str
    category: str | None
    unit: str | None
    township: str | None
    handler: str | None
    team: list[str]
    overdue: bool
    needs_manual_triage: bool
    channel: str
    citizen_name: str  # masked
    citizen_phone: str  # masked
    summary: str  # description, phone/ID numbers masked, shortened
    received_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    rating: int | None
    next_clock: ClockView | None = Field(None, description="the running clock that falls due first")


class CaseListOut(BaseModel):
    items: list[CaseListItem]
    total: int
    page: int
    page_size: int


class TimelineEntry(BaseModel):
    at: datetime
    stage: str
    text: str


class TrackView(BaseModel):
    case_no: str
    status: str
    status_zh: str
    supervision_color: str
    category: str | None
    category_zh: str | None
    unit: str | None
    unit_zh: str | None
    township: str | None
    township_zh: str | None
    handler: str | None = Field(description="masked name of the person responsible")
    received_at: datetime
    timeline: list[TimelineEntry]
    clocks: list[ClockView]
    resolution: dict[str, Any] | None = None
    rating: dict[str, Any] | None = None
    can_rate: bool
    can_review: bool = False  # rated 1–2 and still within the review window (申请复核)
    review: dict[str, Any] | None = None  # {status, reason, decision_reason, requested_at, decided_at}
    stale: bool = False
    paused: bool = Field(False, description="计时暂停: waiting for the citizen or a third party")
    paused_reason: str | None = Field(None, description="the staff's reason, phone numbers masked")
    paused_since: datetime | None = None
    resumed_at: datetime | None = Field(None, description="when the clocks last went on again")


class MaterialOut(MaterialView):
    uploaded_at: datetime


class HistoryEvent(BaseModel):
    seq: int
    at: datetime
    type: str
    actor: str
    detail: dict[str, Any]


class HistoryOut(BaseModel):
    case_id: str
    runs: int
    events: list[HistoryEvent]
    as_of: datetime | None = None
    state: CaseView | None = None  # with as_of: the case as it stood then


class ReplayOut(BaseModel):
    deterministic: bool
    events: int
    runs: int
    error: str | None


class NotificationOut(BaseModel):
    id: int
    case_id: str
    kind: str
    text: str
    created_at: datetime
    read: bool


# --- triage (分流) ----------------------------------------------------------------------------------------


class TriagePreviewIn(_In):
    text: Text
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    category: str | None = None


class SuggestionOut(BaseModel):
    category: str
    category_zh: str
    confidence: float
    unit: str
    unit_zh: str


class TriagePreviewOut(BaseModel):
    suggestions: list[SuggestionOut]
    township: str | None
    township_zh: str | None
    auto: bool
    threshold: float
    reason: str


class SentBackOut(BaseModel):
    """退回: which unit returned the case, why and when."""

    unit: str | None
    unit_zh: str | None
    township: str | None
    township_zh: str | None
    reason: str  # personal numbers masked
    at: datetime


class QueueItemOut(BaseModel):
    case_id: str
    case_no: str
    received_at: datetime
    waiting_minutes: float
    description: str  # personal numbers masked
    township: str | None
    suggestions: list[SuggestionOut]
    reason: str
    routed_clock_breached: bool
    repeat_of: list[str] = Field(default_factory=list)
    sent_back: list[SentBackOut] = Field(default_factory=list, description="退回, oldest first")
    supervisor_decides: bool = Field(False, description="sent back twice: a supervisor routes it, not a clerk")


class QueueOut(BaseModel):
    items: list[QueueItemOut]
    total: int


# --- review (复核) and code reissue ----------------------------------------------------------------------


class ReviewIn(_In):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class ReviewDecisionIn(_In):
    rehandle: bool
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class ReissueIn(_In):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


ReissueOut = TrackingLinks


# --- the supervision board (挂图作战) ---------------------------------------------------------------------
# Two kinds of figure: "now" (open cases and their colours, the yellow and red lists, task forces at work,
# undelivered messages), whatever the period; and flow figures over the cases received in the period
# (resolution times, clock compliance, satisfaction, review), besides the weekly trend of resolutions.


class BoardPeriod(BaseModel):
    """The board's period, half-open: from `start` (inclusive) to `end` (exclusive); None: unbounded."""

    start: datetime | None = None
    end: datetime | None = None


class ClockCompliance(BaseModel):
    """One clock over the cases received in the period."""

    met: int = 0
    breached: int = 0
    running: int = 0
    stopped: int = 0  # the case was withdrawn or rejected, or resolved before a clock it no longer needed
    compliance: float | None = Field(None, description="met / (met + breached); None when neither")


class Satisfaction(BaseModel):
    average: float | None = Field(None, description="average rating, 1–5")
    count: int = Field(0, description="rated cases")
    satisfied: int = Field(0, description="rated 4 or 5")
    satisfied_share: float | None = Field(None, description="satisfied / count")


class BoardGroup(BaseModel):
    """One unit's or township's row: now-figures, then flow figures over the cases received in the period."""

    open: int = 0
    green: int = 0
    yellow: int = 0
    red: int = 0
    total: int = Field(0, description="open cases (the same as `open`; kept for earlier readers)")
    received: int = 0
    resolved: int = 0
    average_days: float | None = Field(None, description="average days from intake to resolution")
    median_days: float | None = None
    clocks: dict[str, ClockCompliance] = Field(
        default_factory=dict, description="routed (≤ 3 min), assigned (≤ 5 min), team (≤ 1 h)"
    )
    satisfaction: Satisfaction = Field(default_factory=Satisfaction)
    reviewed: int = Field(0, description="cases whose citizen asked for review (复核)")
    review_rate: float | None = Field(
        None, description="reviewed / cases rated (a re-handled case counts as rated, its rating cleared)"
    )


class BoardUnitRow(BoardGroup):
    unit: str  # "unrouted" for cases not routed yet
    unit_zh: str


class BoardTownshipRow(BoardGroup):
    township: str  # "unknown" for cases without a township
    township_zh: str


class BoardCase(BaseModel):
    """A case on the yellow or red list."""

    case_id: str
    case_no: str
    status: str
    status_zh: str
    category: str | None
    category_zh: str | None
    unit: str | None
    unit_zh: str | None
    township: str | None
    township_zh: str | None
    handler: str | None
    handler_name: str | None
    received_at: datetime
    days_open: float
    leader_in_charge: str | None = Field(None, description="username of the county leader in charge")
    leader_in_charge_zh: str | None = Field(None, description="their post, e.g. 副县长（社会事业）")
    paused: bool = Field(False, description="standing still now (暂停计时)")
    task_force_overdue: bool = Field(False, description="its task force is past its deadline (listed first)")


class BoardTaskForce(BaseModel):
    case_id: str
    case_no: str
    led_by: str | None
    units: list[str]
    started_at: datetime
    consultations: int
    closed_at: datetime | None
    status: str
    township: str | None
    led_by_name: str | None = Field(None, description="the leading county leader's display name")
    units_zh: list[str] = Field(default_factory=list)
    members: list[str] = Field(default_factory=list, description="usernames: the drafted units' and township's leaders")
    member_names: list[str] = Field(default_factory=list)
    deadline: datetime | None = None
    overdue_at: datetime | None = Field(None, description="when the deadline passed unmet (the convener was told)")
    overdue: bool = Field(False, description="past its deadline: listed first, marked 逾期")


class BoardStandstill(BaseModel):
    """Pausing, extensions and sending back, beside the resolution days (which stay calendar days from intake to
    resolution, pauses and extensions included: what the citizen lived). `paused_now` is now; the rest count the
    cases received in the period."""

    paused_now: int = Field(0, description="open cases whose clocks stand still now (暂停计时)")
    paused_cases: int = Field(0, description="cases paused at least once, the pause over")
    paused_days: float = Field(0, description="days the clocks stood still, over pauses that are over")
    extended_cases: int = Field(0, description="cases with an extension approved")
    extensions_approved: int = 0
    extensions_refused: int = 0
    sent_back_cases: int = Field(0, description="cases sent back (退回) at least once")
    sent_back: int = Field(0, description="times cases were sent back")


class BoardUndeliveredCase(BaseModel):
    case_id: str
    case_no: str
    status: str
    unit: str | None
    township: str | None
    messages: int
    since: datetime
    attempts: int
    last_error: str | None


class BoardUndelivered(BaseModel):
    """Messages an external channel has not accepted yet: counts and reasons, never texts or recipients."""

    messages: int = 0
    cases: list[BoardUndeliveredCase] = Field(default_factory=list)


class BoardWeek(BaseModel):
    week: str = Field(description="ISO week in China time, e.g. 2026-W05")
    start: date = Field(description="its Monday")
    end: date = Field(description="its Sunday")
    resolved: int = Field(description="cases resolved that week (within the period)")
    average_days: float | None = Field(description="their average days from intake to resolution")
    difference_days: float | None = Field(description="average_days - the baseline: below 0 is faster")


class BoardTrend(BaseModel):
    baseline_days: float = Field(description="the county's average before the system (WUHUAN_BOARD_BASELINE_DAYS)")
    weeks: list[BoardWeek] = Field(default_factory=list)


class BoardCalendarYear(BaseModel):
    year: int
    known: bool = Field(description="false: no holiday schedule loaded; working days are counted Monday–Friday")
    source: str | None = Field(None, description="the notice (or the package) the schedule comes from")


class BoardCalendar(BaseModel):
    years: list[BoardCalendarYear] = Field(
        default_factory=list, description="this year and, from 1 November, the next (services/calendar.py)"
    )


class BoardTotals(BaseModel):
    cases: int = Field(0, description="received in the period")
    resolved: int = Field(0, description="of those, resolved")
    closed: int = Field(0, description="of those, closed")
    open: int = Field(0, description="open now, received whenever")


class BoardView(BaseModel):
    generated_at: datetime
    scope: str = Field(description="county, or the leader's unit or township code")
    scope_zh: str
    period: BoardPeriod
    totals: BoardTotals
    by_colour: dict[str, int] = Field(description="open cases now, by supervision colour")
    by_unit: list[BoardUnitRow]
    by_township: list[BoardTownshipRow]
    service_levels: dict[str, ClockCompliance] = Field(description="every clock, cases received in the period")
    average_resolution_days: float | None
    median_resolution_days: float | None
    satisfaction: Satisfaction
    reviewed: int
    review_rate: float | None
    yellow: list[BoardCase]
    red: list[BoardCase]
    task_forces: list[BoardTaskForce] = Field(description="task forces at work now")
    undelivered: BoardUndelivered
    trend: BoardTrend
    calendar: BoardCalendar = Field(
        default_factory=BoardCalendar, description="whether the working-day calendar knows the years in use"
    )
    standstill: BoardStandstill = Field(
        default_factory=BoardStandstill, description="pauses, extensions and send-backs (暂停、延期、退回)"
    )
