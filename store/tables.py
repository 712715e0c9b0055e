"""SQLModel tables: the organisation, the case read model, its append-only event log, materials,
notifications (inbox and outbox of the external channel) and the task forces of red cases. The workflow is the
truth; these are its views. The schema is made and changed by the migrations in store/migrations/."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, String, Text, UniqueConstraint, cast
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Unit(SQLModel, table=True):
    __tablename__ = "units"
    code: str = Field(primary_key=True)
    zh: str
    en: str = ""


class Township(SQLModel, table=True):
    __tablename__ = "townships"
    code: str = Field(primary_key=True)
    zh: str
    district: int


class Staff(SQLModel, table=True):
    __tablename__ = "staff"
    username: str = Field(primary_key=True)
    display_name: str
    role: str = Field(index=True)
    unit: str | None = Field(default=None, index=True)
    township: str | None = Field(default=None, index=True)
    phone: str | None = None
    email: str | None = None
    # Message preferences (domain/channels.py): texts and e-mail on or off, and quiet hours (China time,
    # "22:00-07:30") that hold back what is not urgent. The inbox is always on.
    sms_enabled: bool = True
    email_enabled: bool = True
    quiet_hours: str | None = Field(default=None, max_length=11)
    password_hash: str
    active: bool = True
    on_duty: bool = True  # False: on leave (until leave_until, inclusive, when it is set)
    capacity: int = 30  # most open cases at once (as handler or team member)
    created_at: datetime = Field(default_factory=utcnow)
    # Matching profile. Nullable: databases from before it are adopted with the columns empty (store.migrate).
    skills: list[str] | None = Field(default=None, sa_column=Column(JSON))  # category codes
    leave_until: date | None = None
    home_township: str | None = None
    last_assigned_at: datetime | None = None  # kept by the record activity; fair rotation
    # Inspectors (督查专员): their district (片区) and team; None for everyone else (and county-wide inspectors).
    district: int | None = Field(default=None, index=True)
    team: str | None = None


class Case(SQLModel, table=True):
    """One row per case, upserted by the record activity from the workflow's snapshot."""

    __tablename__ = "cases"
    case_id: str = Field(primary_key=True)
    case_no: str = Field(index=True, unique=True)
    status: str  # indexed with colour, unit and township: ix_cases_board_open, below
    colour: str = Field(index=True)
    category: str | None = Field(default=None, index=True)
    unit: str | None = None  # unit and township lead indexes of the board's, below
    township: str | None = None
    handler: str | None = Field(default=None, index=True)
    team: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    member_units: list[str] = Field(default_factory=list, sa_column=Column(JSON))  # the members' departments
    description: str
    citizen_name: str
    citizen_phone: str
    address: str | None = None
    channel: str
    clocks: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    # Each clock's state copied out of `clocks` (met | breached | running | stopped; None: the case has no such
    # clock, e.g. no team clock where no team is needed), so the board counts compliance with plain SQL: JSON
    # queries are written differently on SQLite and PostgreSQL. Kept by the record activity with `clocks`.
    clock_routed: str | None = Field(default=None, max_length=8)
    clock_assigned: str | None = Field(default=None, max_length=8)
    clock_team: str | None = Field(default=None, max_length=8)
    clock_yellow: str | None = Field(default=None, max_length=8)
    clock_red: str | None = Field(default=None, max_length=8)
    # Issue 12: standing still (暂停计时) now, for how long in all, and extensions approved / refused.
    paused: bool = Field(default=False)
    paused_seconds: int = 0
    extensions_approved: int = 0
    extensions_refused: int = 0
    sent_back: int = 0
    overdue: bool = Field(default=False, index=True)  # some clock breached
    received_at: datetime = Field(index=True)
    routed_at: datetime | None = None
    assigned_at: datetime | None = None
    resolved_at: datetime | None = None
    # Days from intake to resolution (None until resolved): what the board averages, ranks for medians and
    # sums by week, kept as a number because date arithmetic is written differently on SQLite and PostgreSQL.
    resolution_days: float | None = None
    closed_at: datetime | None = None
    outcome: str | None = None
    rating: int | None = None
    # When the citizen asked for review (复核) of the result; kept after the decision (a re-handled case's rating
    # is cleared), so the board's review rate counts it.
    review_requested_at: datetime | None = None
    needs_manual_triage: bool = Field(default=False, index=True)
    # The workflow's whole CaseState as of `last_seq` (what `record_case_events` received with those events):
    # the staff case view, the answer after a step and the citizen's tracking view are built from it, so no
    # query reaches an open case (docs/durability.md, "The cache and replay"). None on a row last written
    # before migration 0010, until the case records again or `wuhuan audit reconcile` fills it.
    state: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    last_seq: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


# The supervision board's indexes (store/board.py says which query reads which; migration 0004 makes them). Each
# carries the columns of a leader's jurisdiction (store/jurisdiction.py: handler, team, unit, member_units,
# township), the JSON lists as the very text the filter matches, so a leader's board is read from indexes alone.
_cases = Case.__table__.c  # type: ignore[attr-defined]
_JURISDICTION = (_cases.handler, cast(_cases.team, String), cast(_cases.member_units, String))
BOARD_INDEXES = (
    Index(
        "ix_cases_board_flow",
        _cases.unit,
        _cases.township,
        _cases.clock_routed,
        _cases.clock_assigned,
        _cases.clock_team,
        _cases.clock_yellow,
        _cases.clock_red,
        _cases.received_at,
        _cases.status,
        _cases.resolution_days,
        _cases.rating,
        _cases.review_requested_at,
        *_JURISDICTION,
    ),
    Index("ix_cases_board_open", _cases.status, _cases.colour, _cases.unit, _cases.township, *_JURISDICTION),
    Index(
        "ix_cases_unit_resolution",
        _cases.unit,
        _cases.resolution_days,
        _cases.received_at,
        _cases.township,
        *_JURISDICTION,
    ),
    Index(
        "ix_cases_township_resolution",
        _cases.township,
        _cases.resolution_days,
        _cases.received_at,
        _cases.unit,
        *_JURISDICTION,
    ),
    Index(
        "ix_cases_resolution", _cases.resolution_days, _cases.received_at, _cases.unit, _cases.township, *_JURISDICTION
    ),
    Index(
        "ix_cases_resolved_at", _cases.resolved_at, _cases.resolution_days, _cases.unit, _cases.township, *_JURISDICTION
    ),
)


class CaseAssignment(SQLModel, table=True):
    """Who works on which case, as handler or team member: the matcher's open caseload. Derived from each
    case's snapshot by the record activity (store.workload), so it can always be rebuilt from `cases`."""

    __tablename__ = "case_assignments"
    __table_args__ = (Index("ix_case_assignments_load", "username", "open", "part"),)
    case_id: str = Field(primary_key=True)
    username: str = Field(primary_key=True)
    part: str  # handler | member
    open: bool = True
    assigned_at: datetime


class CaseEventRow(SQLModel, table=True):
    """Append-only log of business steps; (case_id, seq) makes a retried write a no-op."""

    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(index=True)
    seq: int
    at: datetime
    type: str = Field(index=True)
    actor: str
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    recorded_at: datetime = Field(default_factory=utcnow)
    # Tamper-evident chain (domain/audit_chain.py): hash = H(prev_hash || canonical content), per case.
    # Nullable only for the upgrade step (store/chain.py seals rows written before it); new rows always have them.
    prev_hash: str | None = None
    hash: str | None = None
    hash_alg: str | None = Field(default=None, max_length=8)  # sm3 | sha256


class AccessLogRow(SQLModel, table=True):
    """Append-only: who read which case's history or dossier, when, from where."""

    __tablename__ = "access_log"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True)
    role: str
    case_id: str = Field(index=True)
    what: str  # history | replay | dossier
    at: datetime = Field(default_factory=utcnow, index=True)
    client: str | None = None  # client address


class TrackingCode(SQLModel, table=True):
    """民声码: only a hash of the code is kept; a reissued code revokes the old one."""

    __tablename__ = "tracking_codes"
    code_hash: str = Field(primary_key=True)
    case_id: str = Field(index=True)
    issued_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class CaseNumberCounter(SQLModel, table=True):
    __tablename__ = "case_number_counters"
    day: str = Field(primary_key=True)  # YYYYMMDD for case numbers; a series prefix before it for others (YH…)
    last: int = 0


class MaterialRow(SQLModel, table=True):
    __tablename__ = "materials"
    material_id: str = Field(primary_key=True)
    case_id: str = Field(index=True)
    filename: str
    content_type: str
    size: int
    stored_name: str
    note: str | None = None
    uploaded_by: str
    uploaded_at: datetime = Field(default_factory=utcnow)


class Notification(SQLModel, table=True):
    """In-app inbox. (key, recipient) is unique: a retried send delivers nothing twice."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("key", "recipient"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True)
    recipient: str = Field(index=True)
    case_id: str = Field(index=True)
    kind: str
    text: str
    channel: str = "inbox"
    created_at: datetime = Field(default_factory=utcnow)
    read: bool = False


class NotificationDelivery(SQLModel, table=True):
    """Outbox of the external message channels (webhook, sms, email; domain/channels.py): one row per
    (notification key, recipient, channel), written in the same transaction as what calls for it and sent by the
    relay (activities/delivery.py), which retries with backoff until the channel accepts it. A staff message's
    text is its inbox row's; a message with no inbox row (a citizen's text, an e-mail queued by `queue_email`)
    carries its own `text` (and `subject`, `html`), blanked once delivered: a citizen's receipt holds the
    tracking link, a credential. A citizen's recipient is `citizen:<case_id>`: the phone is read from the case
    when sending, never copied here."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("key", "recipient", "channel"),
        Index("ix_notification_deliveries_due", "status", "next_attempt_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    key: str
    recipient: str
    case_id: str = Field(index=True)
    kind: str
    channel: str = "webhook"
    status: str = "pending"  # pending | delivered | failed (nowhere to send it: no phone or address)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=200)  # e.g. "HTTP 503"; never message text
    created_at: datetime = Field(default_factory=utcnow)
    last_attempt_at: datetime | None = None
    next_attempt_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None
    lease_until: datetime | None = None  # a relay is sending it; another may take it over after this
    lease_token: str | None = None  # which claim holds the lease
    subject: str | None = Field(default=None, max_length=200)  # an e-mail's subject
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    html: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class TaskForceRow(SQLModel, table=True):
    """专班: started when a case turns red, led by a county leader, listed on the board (挂图作战)."""

    __tablename__ = "task_forces"
    case_id: str = Field(primary_key=True)
    led_by: str | None = None
    units: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    started_at: datetime
    consultations: int = 0
    closed_at: datetime | None = None
    # The joint mechanism (issue 12): who was drafted in, the deadline, and when it passed unmet.
    members: list[str] | None = Field(default=None, sa_column=Column(JSON))
    deadline: datetime | None = None
    overdue_at: datetime | None = None


class StaffSession(SQLModel, table=True):
    """A signed-in browser of the staff console. Only a hash of the session's cookie is kept (like tracking codes),
    so the table alone cannot be used to sign in; signing out or an expiry ends it for good."""

    __tablename__ = "staff_sessions"
    id_hash: str = Field(primary_key=True)
    username: str = Field(index=True)
    csrf: str  # the token every form of this session carries
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    ended_at: datetime | None = None
    client: str | None = None


class HazardRow(SQLModel, table=True):
    """One row per hazard (问题隐患), upserted by the hazard record activity from the workflow's state: what the
    three lists (hazards, measures, responsibilities), the exposure list and the figures read."""

    __tablename__ = "hazards"
    hazard_id: str = Field(primary_key=True)
    hazard_no: str = Field(index=True, unique=True)
    domain: str = Field(index=True)
    township: str = Field(index=True)
    district: int | None = Field(default=None, index=True)
    site: str
    description: str
    severity: str
    unit: str = Field(index=True)
    responsible: str | None = None
    measure: str
    found_by: str
    found_at: datetime = Field(index=True)
    deadline: datetime
    status: str = Field(index=True)
    overdue: bool = Field(default=False, index=True)
    exposed_at: datetime | None = None
    submitted_at: datetime | None = None
    struck_off_at: datetime | None = None
    struck_off_on_time: bool | None = None
    recheck_at: datetime | None = None
    closed_at: datetime | None = None
    rejections: int = 0
    reopened: int = 0
    visit_id: str | None = Field(default=None, index=True)
    recheck_due_at: datetime | None = None  # when the re-check (回头看) became or becomes due; kept once past
    rechecked_at: datetime | None = None
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))  # the workflow's state, for views
    last_seq: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class HazardEventRow(SQLModel, table=True):
    """Append-only log of a hazard's steps; (hazard_id, seq) makes a retried write a no-op."""

    __tablename__ = "hazard_events"
    __table_args__ = (UniqueConstraint("hazard_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    hazard_id: str = Field(index=True)
    seq: int
    at: datetime
    type: str = Field(index=True)
    actor: str
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    recorded_at: datetime = Field(default_factory=utcnow)


class InspectionVisit(SQLModel, table=True):
    """A visit of an inspection team (督查走访): planned by the weekly Schedule (or recorded unplanned: a daily
    round, a covert special visit, one led by a county leader), then recorded on the inspector's phone with the
    hazards found. Seen by inspectors and overseers only: the visited unit hears nothing before the visit."""

    __tablename__ = "inspection_visits"
    __table_args__ = (UniqueConstraint("week", "district", "slot"),)
    visit_id: str = Field(primary_key=True)
    kind: str = Field(index=True)  # domain.inspection.VisitKind
    week: date | None = Field(default=None, index=True)  # planned visits: the Monday of their week
    slot: int | None = None
    district: int | None = Field(default=None, index=True)
    township: str | None = Field(default=None, index=True)
    domain: str | None = Field(default=None, index=True)
    team: str | None = None
    planned_for: date | None = Field(default=None, index=True)
    status: str = Field(default="planned", index=True)  # planned, done
    site: str | None = None
    note: str | None = None
    visited_at: datetime | None = None
    visited_by: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class RetrainingEnrolment(SQLModel, table=True):
    """A person enrolled in the re-training class (回炉班) for a hazard that passed its deadline, and whether they
    came. `key` (hazard and the deadline missed) makes the recorder's retried write a no-op."""

    __tablename__ = "retraining_enrolments"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    class_date: date = Field(index=True)
    hazard_id: str = Field(index=True)
    hazard_no: str
    unit: str = Field(index=True)
    township: str
    person: str  # the responsible person as written on the list (the unit's leader when nobody was named)
    enrolled_at: datetime
    attended: bool | None = None  # None until the class's attendance is taken
    marked_by: str | None = None
    marked_at: datetime | None = None


class Summons(SQLModel, table=True):
    """约谈: the leader of a unit overdue again within the period is summoned for a talk."""

    __tablename__ = "summonses"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    unit: str = Field(index=True)
    township: str
    leader: str | None = None  # the unit's (or township's) leader's username, when the directory has one
    hazard_id: str = Field(index=True)
    hazard_no: str
    earlier_hazard_nos: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    reason: str
    created_at: datetime
    held_at: datetime | None = None
    held_by: str | None = None
    note: str | None = None


class InspectionPhoto(SQLModel, table=True):
    """A photo taken on a visit, uploaded before the hazard it shows is reported (a phone on a weak network sends
    each photo as soon as it is taken); the report names its photos, which are then the hazard's."""

    __tablename__ = "inspection_photos"
    photo_id: str = Field(primary_key=True)
    uploaded_by: str = Field(index=True)
    filename: str
    content_type: str
    size: int
    stored_name: str
    uploaded_at: datetime = Field(default_factory=utcnow)
    hazard_id: str | None = Field(default=None, index=True)  # set once a report used it


class CalendarYear(SQLModel, table=True):
    """A year's holiday schedule a county loaded itself (`wuhuan calendar load`); it overrides the package's for
    that year (domain/calendar.py)."""

    __tablename__ = "calendar_years"
    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    source: str  # the notice's title and number
    loaded_at: datetime = Field(default_factory=utcnow)
    loaded_by: str


class CalendarDay(SQLModel, table=True):
    """A day a loaded schedule names: a day off (holiday) or a make-up working day (workday)."""

    __tablename__ = "calendar_days"
    day: date = Field(primary_key=True)
    year: int = Field(index=True)  # the schedule's year (a notice may name days at the end of the year before)
    kind: str  # holiday | workday
    name: str = ""
