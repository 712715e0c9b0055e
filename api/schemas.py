"""Request and response bodies of the HTTP API (the workflow's own payloads are in domain.models)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.models import CandidateScore, TeamSlot

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class _In(BaseModel):
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
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    township: str | None = None
    category: str | None = None
    channel: Literal["kiosk", "phone", "web", "clerk"] = "web"


class IntakeOut(BaseModel):
    case_id: str
    case_no: str
    tracking_code: str
    tracking_url: str
    qr_url: str


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


class ResolveIn(_In):
    outcome: Literal["agreement", "handled", "referred"]
    summary: Text


class UrgeIn(_In):
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class ReasonIn(_In):
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


class StaffRefView(BaseModel):
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
    citizen_phone: str       # masked
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
    type: str        # assigned | reassigned | assignment_pending | team_formed | team_incomplete |
                     # team_member_declined | team_member_replaced | team_member_unavailable
    actor: str
    reason: str = ""
    member: str | None = None        # the handler chosen, or the member who declined / joined
    replaces: str | None = None      # the member a replacement stands in for
    candidates: list[CandidateScore] = Field(default_factory=list)  # ranking behind a single choice
    slots: list[TeamSlot] = Field(default_factory=list)             # each seat of a team with its ranking


class DeliveryView(BaseModel):
    """One message of the case on an external channel (the webhook): pending until the channel accepts it."""
    recipient: str                   # staff username
    kind: str
    kind_zh: str
    channel: str                     # webhook
    status: Literal["pending", "delivered"]
    status_zh: str                   # 待送达 / 已送达
    attempts: int
    last_error: str | None = None    # e.g. "HTTP 503", "timeout"; never the message text
    created_at: datetime
    last_attempt_at: datetime | None = None
    next_attempt_at: datetime | None = None   # pending only
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
    team_units: list[str] = Field(default_factory=list)
    handler: str | None
    team: list[str]
    team_members: list[StaffRefView] = Field(default_factory=list)
    team_declined: list[str] = Field(default_factory=list, description="members who declined this case")
    matching: list[MatchingRecord] = Field(default_factory=list,
                                           description="handler and team choices with their score breakdown")
    clocks: list[ClockView]
    overdue: bool = False
    received_at: datetime
    intake: IntakeView
    mediations: list[MeetingView] = Field(default_factory=list)
    resolution: dict[str, Any] | None = None
    rating: dict[str, Any] | None = None
    materials: list[MaterialView] = Field(default_factory=list)
    citizen_updates: list[dict[str, Any]] = Field(default_factory=list)
    task_force: dict[str, Any] | None = None
    urge_count: int = 0
    auto_close_at: datetime | None = None
    closed_at: datetime | None = None
    actions: list[str] = Field(default_factory=list, description="steps the caller may take now")
    deliveries: list[DeliveryView] = Field(default_factory=list,
                                           description="the case's messages on external channels, oldest first")
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
    citizen_name: str       # masked
    citizen_phone: str      # masked
    summary: str            # description, phone/ID numbers masked, shortened
    received_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    rating: int | None


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
    can_review: bool = False     # rated 1–2 and still within the review window (申请复核)
    review: dict[str, Any] | None = None  # {status, reason, decision_reason, requested_at, decided_at}
    stale: bool = False


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
    state: "CaseView | None" = None   # with as_of: the case as it stood then


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


class QueueItemOut(BaseModel):
    case_id: str
    case_no: str
    received_at: datetime
    waiting_minutes: float
    description: str                 # personal numbers masked
    township: str | None
    suggestions: list[SuggestionOut]
    reason: str
    routed_clock_breached: bool
    repeat_of: list[str] = Field(default_factory=list)


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


class ReissueOut(BaseModel):
    case_id: str
    tracking_code: str
    tracking_url: str
    qr_url: str
