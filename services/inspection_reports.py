"""What the safety-inspection module reports (平安督查): the three lists (三张清单), the exposure list (曝光台), the
re-training roster (回炉班) and its attendance, the summonses (约谈), and the figures the county reports.

Everything covers only the hazards the caller may see (store.inspection.hazard_filter: the county's overseers
every hazard, an inspector the district's, a leader or mediator their unit's or township's); clerks and citizens
are refused (403 `forbidden_role`). Filters: district, domain, township, unit (each may name several values),
status (the lists), and a period `from`–`to` (half-open, China time for dates; services.board.parse_period).

Figures (docs/inspection.md, "Figures"). `now` is the moment of the request; the period [from, to) defaults to
all time. A hazard *falls due* at its deadline, or when it is struck off (销号) if that comes first.

- found: hazards found in the period (found_at); of them open (open now), struck_off (ever struck off, closed or
  reopened since included), closed (re-checked and holding).
- due: hazards that fell due in the period and by now. on_time: of them, those struck off on time (the evidence
  that was accepted was submitted by the deadline: struck_off_on_time). rectification_rate = on_time / due.
- recheck_due: hazards whose re-check (回头看) fell due in the period and by now (at recheck_due_at, or when it
  was done if earlier). rechecked: of them, those re-checked (rechecked_at set). recheck_rate = rechecked /
  recheck_due.
- recurred: of the re-checked, those reopened at a re-check (reopened > 0). recurrence_rate = recurred /
  rechecked.
- overdue (overdue now): hazards not yet handed in (assigned, rectifying, reopened) and past their deadline at
  this moment (domain.hazards.overdue_now), whatever the period; evidence handed in waits on the inspector.
- overdue_by_unit: per responsible unit (a township-led hazard's unit is its township): overdue_now; hazards (found
  in the period); overdue_ever (of those, passed a deadline unrectified at least once).
- by_district, by_domain: the same due / on_time / recheck / overdue_now figures per district and domain.

A rate is None when its denominator is 0: nothing was due, which is not 100 %.

Lists (docs/inspection.md, "Lists"): hazards found in the period (found_at), newest first, with the filters.
问题隐患清单 (hazards), 整改措施清单 (measures), 责任清单 (responsibilities).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import and_, case, func, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from domain.hazards import OPEN, RECTIFYING, SEVERITY_ZH, STATUS_ZH, HazardStatus
from domain.hazards import overdue_now as is_overdue_now
from domain.inspection import district_zh
from domain.models import Actor, Role
from domain.taxonomy import TOWNSHIP_LED, Taxonomy
from domain.times import as_utc, china_local
from services.board import parse_period
from services.errors import Refusal, invalid, not_found
from services.schemas import BoardPeriod
from store import inspection as sql_inspection
from store import inspection_figures as sql
from store.tables import HazardRow, RetrainingEnrolment, Staff, Summons

VIEWERS = frozenset({Role.inspector, Role.supervisor, Role.county_leader, Role.auditor, Role.leader, Role.mediator})
ATTENDANCE_TAKERS = frozenset({Role.supervisor})
SUMMONS_HOLDERS = frozenset({Role.supervisor, Role.county_leader})
OPEN_VALUES = tuple(sorted(s.value for s in OPEN))
RECTIFYING_VALUES = tuple(sorted(s.value for s in RECTIFYING))
STATUS_VALUES = frozenset(s.value for s in HazardStatus)
ListKind = Literal["hazards", "measures", "responsibilities"]
LIST_KINDS: dict[str, str] = {"hazards": "问题隐患清单", "measures": "整改措施清单", "responsibilities": "责任清单"}
DAY = 86400


# --- who and what -------------------------------------------------------------------------------------------


def check_viewer(actor: Actor) -> None:
    if actor.role not in VIEWERS:
        raise Refusal(403, "forbidden_role", "平安督查的清单和统计供督查专员、督办员、县领导、审计员和责任单位查看")


class InspectionFilters(BaseModel):
    """The filters of the lists and figures (each may name several values); the period is half-open."""

    district: list[int] = Field(default_factory=list)
    domain: list[str] = Field(default_factory=list)
    township: list[str] = Field(default_factory=list)
    unit: list[str] = Field(default_factory=list)
    status: list[str] = Field(default_factory=list)  # the lists only
    period: BoardPeriod = Field(default_factory=BoardPeriod)


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def parse_filters(
    district: str | None = None,
    domain: str | None = None,
    township: str | None = None,
    unit: str | None = None,
    status: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> InspectionFilters:
    """The filters as typed in a query string (comma-separated values); 422 `invalid_filter` or `invalid_period`."""
    try:
        districts = [int(d) for d in _csv(district)]
    except ValueError:
        raise invalid("invalid_filter", "片区应为数字，如 1 或 1,2", field="district") from None
    statuses = _csv(status)
    unknown = [s for s in statuses if s not in STATUS_VALUES]
    if unknown:
        raise invalid("invalid_filter", f"未知的隐患状态：{'、'.join(unknown)}", field="status")
    return InspectionFilters(
        district=districts,
        domain=_csv(domain),
        township=_csv(township),
        unit=_csv(unit),
        status=statuses,
        period=parse_period(start, end),
    )


def _scope(actor: Actor, f: InspectionFilters) -> list[ColumnElement[bool]]:
    """The caller's jurisdiction and the place filters (not the period, whose column depends on the figure)."""
    conds: list[ColumnElement[bool]] = [sql_inspection.hazard_filter(actor)]
    for column, values in (
        (HazardRow.district, f.district),
        (HazardRow.domain, f.domain),
        (HazardRow.township, f.township),
        (HazardRow.unit, f.unit),
    ):
        if values:
            conds.append(column.in_(values))
    return conds


def _within(column: Any, period: BoardPeriod) -> ColumnElement[bool]:
    conds = []
    if period.start is not None:
        conds.append(column >= period.start)
    if period.end is not None:
        conds.append(column < period.end)
    return and_(*conds) if conds else true()


def _unit_zh(tx: Taxonomy, unit: str, township: str) -> str:
    """A township-led hazard's responsible unit is the township itself."""
    return tx.township_zh(township) if unit == TOWNSHIP_LED else tx.unit_zh(unit)


def _days(seconds: float) -> float:
    return round(max(seconds, 0) / DAY, 1)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# --- the figures --------------------------------------------------------------------------------------------


class FigureGroup(BaseModel):
    found: int = 0
    due: int = 0
    on_time: int = 0
    rectification_rate: float | None = None
    recheck_due: int = 0
    rechecked: int = 0
    recheck_rate: float | None = None
    recurred: int = 0
    recurrence_rate: float | None = None
    overdue_now: int = 0


class DistrictFigures(FigureGroup):
    district: int | None
    district_zh: str


class DomainFigures(FigureGroup):
    domain: str
    domain_zh: str


class UnitOverdue(BaseModel):
    unit: str  # `township` for a township-led hazard: `township` says which
    unit_zh: str
    township: str | None  # set only for a township-led unit
    overdue_now: int
    overdue_ever: int
    hazards: int


class InspectionFigures(FigureGroup):
    generated_at: datetime
    period: BoardPeriod
    open: int = 0
    struck_off: int = 0
    closed: int = 0
    overdue: int = 0  # open and past the deadline now (the contract's name; the same as overdue_now)
    overdue_by_unit: list[UnitOverdue] = Field(default_factory=list)
    by_district: list[DistrictFigures] = Field(default_factory=list)
    by_domain: list[DomainFigures] = Field(default_factory=list)


MEASURES = ("found", "open", "struck_off", "closed", "found_overdue", "due", "on_time", "recheck_due", "rechecked",
            "recurred", "overdue_now")  # fmt: skip


def _measures(period: BoardPeriod, now: datetime) -> list[ColumnElement[bool]]:
    """The conditions counted, in the order of MEASURES: the definitions of the module's docstring in SQL."""
    h = HazardRow
    found = _within(h.found_at, period)
    falls_due = case(
        (and_(h.struck_off_at.is_not(None), h.struck_off_at < h.deadline), h.struck_off_at), else_=h.deadline
    )
    due = and_(falls_due <= now, _within(falls_due, period))
    recheck_falls_due = case(
        (
            and_(h.rechecked_at.is_not(None), (h.recheck_due_at.is_(None)) | (h.rechecked_at < h.recheck_due_at)),
            h.rechecked_at,
        ),
        else_=h.recheck_due_at,
    )
    recheck_due = and_(recheck_falls_due <= now, _within(recheck_falls_due, period))
    rechecked = and_(recheck_due, h.rechecked_at.is_not(None))
    is_open = h.status.in_(OPEN_VALUES)
    return [
        found,
        and_(found, is_open),
        and_(found, h.struck_off_at.is_not(None)),
        and_(found, h.status == HazardStatus.rechecked.value),
        and_(found, h.overdue.is_(True)),
        due,
        and_(due, h.struck_off_on_time.is_(True)),
        recheck_due,
        rechecked,
        and_(rechecked, h.reopened > 0),
        and_(h.status.in_(RECTIFYING_VALUES), h.deadline < now),  # domain.hazards.overdue_now in SQL
    ]


def _group(v: dict[str, int]) -> dict[str, Any]:
    return dict(
        found=v["found"],
        due=v["due"],
        on_time=v["on_time"],
        rectification_rate=_ratio(v["on_time"], v["due"]),
        recheck_due=v["recheck_due"],
        rechecked=v["rechecked"],
        recheck_rate=_ratio(v["rechecked"], v["recheck_due"]),
        recurred=v["recurred"],
        recurrence_rate=_ratio(v["recurred"], v["rechecked"]),
        overdue_now=v["overdue_now"],
    )


def figures(db: Session, actor: Actor, tx: Taxonomy, now: datetime, f: InspectionFilters) -> InspectionFigures:
    """The figures of the module's docstring over the hazards the caller may see, with the filters (not status)."""
    check_viewer(actor)
    now = as_utc(now)
    zero = dict.fromkeys(MEASURES, 0)
    whole = dict(zero)
    districts: dict[int | None, dict[str, int]] = defaultdict(lambda: dict(zero))
    domains: dict[str, dict[str, int]] = defaultdict(lambda: dict(zero))
    units: dict[tuple[str, str | None], dict[str, int]] = defaultdict(lambda: dict(zero))
    # Every district and domain shows, with zeros and no rates where nothing happened (the charts keep their axes).
    for d in f.district or list(tx.districts()):
        districts[d]
    for code in f.domain or [d.code for d in tx.inspection_domains]:
        domains[code]
    grouped = sql.grouped_counts(db, _scope(actor, f), _measures(f.period, now))
    for (district, domain, unit, township), counts in grouped:
        unit_key = (unit, township if unit == TOWNSHIP_LED else None)
        for acc in (whole, districts[district], domains[domain], units[unit_key]):
            for name, n in zip(MEASURES, counts, strict=True):
                acc[name] += n

    by_unit = [
        UnitOverdue(
            unit=unit,
            unit_zh=_unit_zh(tx, unit, township or ""),
            township=township,
            overdue_now=v["overdue_now"],
            overdue_ever=v["found_overdue"],
            hazards=v["found"],
        )
        for (unit, township), v in units.items()
        if v["found"] or v["overdue_now"]
    ]
    by_unit.sort(key=lambda u: (-u.overdue_now, -u.overdue_ever, -u.hazards, u.unit_zh))
    return InspectionFigures(
        generated_at=now,
        period=f.period,
        **_group(whole),
        open=whole["open"],
        struck_off=whole["struck_off"],
        closed=whole["closed"],
        overdue=whole["overdue_now"],
        overdue_by_unit=by_unit,
        by_district=[
            DistrictFigures(district=d, district_zh=district_zh(d), **_group(v))
            for d, v in sorted(districts.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
        ],
        by_domain=[
            DomainFigures(domain=code, domain_zh=tx.inspection_domain_zh(code), **_group(v))
            for code, v in sorted(domains.items(), key=lambda kv: _domain_order(tx, kv[0]))
        ],
    )


def _domain_order(tx: Taxonomy, code: str) -> tuple[int, str]:
    codes = [d.code for d in tx.inspection_domains]
    return (codes.index(code), code) if code in codes else (len(codes), code)


# --- the three lists ----------------------------------------------------------------------------------------


class HazardListRow(BaseModel):
    """问题隐患清单: 编号, 领域, 乡镇, 片区, 场所, 隐患描述, 等级, 责任单位, 发现时间, 状态."""

    hazard_id: str
    hazard_no: str
    domain: str
    domain_zh: str
    township: str
    township_zh: str
    district: int | None
    district_zh: str
    site: str
    description: str
    severity: str
    severity_zh: str
    unit: str
    unit_zh: str
    found_at: datetime
    status: str
    status_zh: str
    deadline: datetime
    overdue_now: bool


class MeasureRow(BaseModel):
    """整改措施清单: 编号, 隐患, 整改措施, 期限, 提交时间, 销号时间, 是否按期, 回头看."""

    hazard_id: str
    hazard_no: str
    site: str
    description: str
    measure: str
    deadline: datetime
    submitted_at: datetime | None
    struck_off_at: datetime | None
    on_time: bool | None  # None: not struck off and not yet past the deadline
    on_time_zh: str
    recheck: Literal["held", "recurred", "due", "pending"] | None
    recheck_zh: str
    recheck_due_at: datetime | None
    rechecked_at: datetime | None


class RetrainingMark(BaseModel):
    person: str
    class_date: date
    attended: bool | None


class SummonsMark(BaseModel):
    id: int
    leader: str | None
    created_at: datetime
    held_at: datetime | None


class ResponsibilityRow(BaseModel):
    """责任清单: 编号, 责任单位, 责任人, 单位主要领导, 期限, 逾期, 曝光, 回炉班, 约谈."""

    hazard_id: str
    hazard_no: str
    unit: str
    unit_zh: str
    township: str
    township_zh: str
    responsible: str | None
    leader: str | None
    leader_name: str | None
    deadline: datetime
    overdue: bool  # passed a deadline unrectified at least once
    overdue_now: bool
    exposed_at: datetime | None
    retraining: list[RetrainingMark]
    summonses: list[SummonsMark]


class ListOut(BaseModel):
    kind: str
    title: str
    rows: list[HazardListRow] | list[MeasureRow] | list[ResponsibilityRow]
    total: int
    page: int
    page_size: int


def _list_conditions(actor: Actor, f: InspectionFilters) -> list[ColumnElement[bool]]:
    conds = [*_scope(actor, f), _within(HazardRow.found_at, f.period)]
    if f.status:
        conds.append(HazardRow.status.in_(f.status))
    return conds


def count_list(db: Session, actor: Actor, f: InspectionFilters) -> int:
    check_viewer(actor)
    return int(db.exec(select(func.count()).select_from(HazardRow).where(*_list_conditions(actor, f))).one())


def list_hazard_rows(
    db: Session, actor: Actor, f: InspectionFilters, offset: int = 0, limit: int | None = None
) -> list[HazardRow]:
    check_viewer(actor)
    q = (
        select(HazardRow)
        .where(*_list_conditions(actor, f))
        .order_by(HazardRow.found_at.desc(), HazardRow.hazard_no.desc())
        .offset(offset)
    )
    if limit is not None:
        q = q.limit(limit)
    return list(db.exec(q).all())


def _overdue_now(row: HazardRow, now: datetime) -> bool:
    return row.status in STATUS_VALUES and is_overdue_now(row.status, as_utc(row.deadline), now)


def _status_zh(status: str) -> str:
    return STATUS_ZH.get(HazardStatus(status), status) if status in STATUS_VALUES else status


def hazard_rows(rows: Sequence[HazardRow], tx: Taxonomy, now: datetime) -> list[HazardListRow]:
    return [
        HazardListRow(
            hazard_id=r.hazard_id,
            hazard_no=r.hazard_no,
            domain=r.domain,
            domain_zh=tx.inspection_domain_zh(r.domain),
            township=r.township,
            township_zh=tx.township_zh(r.township),
            district=r.district,
            district_zh=district_zh(r.district) if r.district else "—",
            site=r.site,
            description=r.description,
            severity=r.severity,
            severity_zh=SEVERITY_ZH.get(r.severity, r.severity),
            unit=r.unit,
            unit_zh=_unit_zh(tx, r.unit, r.township),
            found_at=as_utc(r.found_at),
            status=r.status,
            status_zh=_status_zh(r.status),
            deadline=as_utc(r.deadline),
            overdue_now=_overdue_now(r, now),
        )
        for r in rows
    ]


def _recheck(r: HazardRow, now: datetime) -> tuple[Literal["held", "recurred", "due", "pending"] | None, str]:
    if r.status == HazardStatus.rechecked.value:
        return "held", "合格"
    if r.reopened and r.rechecked_at is not None and (r.struck_off_at is None or r.rechecked_at >= r.struck_off_at):
        return "recurred", f"复发（{r.reopened}次）"
    if r.status == HazardStatus.struck_off.value and r.recheck_due_at is not None:
        if as_utc(r.recheck_due_at) <= now:
            return "due", "待回头看（已到期）"
        return "pending", f"待回头看（{_china_day(r.recheck_due_at)}起）"
    return None, "—"


def _china_day(t: datetime) -> str:
    return china_local(as_utc(t)).strftime("%Y-%m-%d")


def measure_rows(rows: Sequence[HazardRow], now: datetime) -> list[MeasureRow]:
    out = []
    for r in rows:
        if r.struck_off_on_time is not None:
            on_time: bool | None = r.struck_off_on_time
        elif r.overdue or _overdue_now(r, now):
            on_time = False
        else:
            on_time = None
        recheck, recheck_zh = _recheck(r, now)
        out.append(
            MeasureRow(
                hazard_id=r.hazard_id,
                hazard_no=r.hazard_no,
                site=r.site,
                description=r.description,
                measure=r.measure,
                deadline=as_utc(r.deadline),
                submitted_at=as_utc(r.submitted_at),
                struck_off_at=as_utc(r.struck_off_at),
                on_time=on_time,
                on_time_zh={True: "是", False: "否", None: "未到期"}[on_time],
                recheck=recheck,
                recheck_zh=recheck_zh,
                recheck_due_at=as_utc(r.recheck_due_at),
                rechecked_at=as_utc(r.rechecked_at),
            )
        )
    return out


def _leader(leaders: dict[tuple[str | None, str | None], Staff], unit: str, township: str) -> Staff | None:
    return leaders.get((None, township) if unit == TOWNSHIP_LED else (unit, None))


def responsibility_rows(db: Session, rows: Sequence[HazardRow], tx: Taxonomy, now: datetime) -> list[ResponsibilityRow]:
    leaders = sql.leaders_by_unit(db)
    ids = [r.hazard_id for r in rows]
    retraining: dict[str, list[RetrainingMark]] = defaultdict(list)
    for e in sql.enrolments_of(db, ids):
        retraining[e.hazard_id].append(RetrainingMark(person=e.person, class_date=e.class_date, attended=e.attended))
    summoned: dict[str, list[SummonsMark]] = defaultdict(list)
    for s in sql.summonses_of(db, ids):
        summoned[s.hazard_id].append(
            SummonsMark(id=s.id or 0, leader=s.leader, created_at=as_utc(s.created_at), held_at=as_utc(s.held_at))
        )
    out = []
    for r in rows:
        leader = _leader(leaders, r.unit, r.township)
        out.append(
            ResponsibilityRow(
                hazard_id=r.hazard_id,
                hazard_no=r.hazard_no,
                unit=r.unit,
                unit_zh=_unit_zh(tx, r.unit, r.township),
                township=r.township,
                township_zh=tx.township_zh(r.township),
                responsible=r.responsible,
                leader=leader.username if leader else None,
                leader_name=leader.display_name if leader else None,
                deadline=as_utc(r.deadline),
                overdue=r.overdue,
                overdue_now=_overdue_now(r, now),
                exposed_at=as_utc(r.exposed_at),
                retraining=retraining.get(r.hazard_id, []),
                summonses=summoned.get(r.hazard_id, []),
            )
        )
    return out


def list_rows(
    db: Session, kind: str, rows: Sequence[HazardRow], tx: Taxonomy, now: datetime
) -> list[HazardListRow] | list[MeasureRow] | list[ResponsibilityRow]:
    if kind == "hazards":
        return hazard_rows(rows, tx, now)
    if kind == "measures":
        return measure_rows(rows, now)
    return responsibility_rows(db, rows, tx, now)


def check_kind(kind: str) -> None:
    if kind not in LIST_KINDS:
        raise not_found("unknown_list", "清单不存在：可选 hazards、measures、responsibilities")


def inspection_list(
    db: Session,
    actor: Actor,
    kind: str,
    tx: Taxonomy,
    now: datetime,
    f: InspectionFilters,
    page: int = 1,
    page_size: int = 100,
) -> ListOut:
    """One page of a list, newest found first, with the total the filters match."""
    check_kind(kind)
    check_viewer(actor)
    now = as_utc(now)
    total = count_list(db, actor, f)
    rows = list_hazard_rows(db, actor, f, (page - 1) * page_size, page_size)
    return ListOut(
        kind=kind,
        title=LIST_KINDS[kind],
        rows=list_rows(db, kind, rows, tx, now),
        total=total,
        page=page,
        page_size=page_size,
    )


# --- the exposure list (曝光台) -------------------------------------------------------------------------------


class ExposedHazard(BaseModel):
    hazard_id: str
    hazard_no: str
    unit: str
    unit_zh: str
    township: str
    township_zh: str
    leader: str | None  # the unit's (for the township itself, the township's) main leader
    leader_name: str | None
    responsible: str | None
    domain_zh: str
    site: str
    description: str
    deadline: datetime
    exposed_at: datetime
    days_overdue: float  # from the deadline to now while open; to the (late) submission once struck off
    still_open: bool
    status: str
    status_zh: str


def exposure(db: Session, actor: Actor, tx: Taxonomy, now: datetime, f: InspectionFilters) -> list[ExposedHazard]:
    """The hazards on the exposure list (exposed_at set), still open first, the longest overdue first."""
    check_viewer(actor)
    now = as_utc(now)
    conds = [*_scope(actor, f), HazardRow.exposed_at.is_not(None), _within(HazardRow.exposed_at, f.period)]
    rows = db.exec(select(HazardRow).where(*conds)).all()
    leaders = sql.leaders_by_unit(db)
    out = []
    for r in rows:
        leader = _leader(leaders, r.unit, r.township)
        still_open = r.status in OPEN_VALUES
        until = now if still_open else as_utc(r.submitted_at or r.struck_off_at or now)
        out.append(
            ExposedHazard(
                hazard_id=r.hazard_id,
                hazard_no=r.hazard_no,
                unit=r.unit,
                unit_zh=_unit_zh(tx, r.unit, r.township),
                township=r.township,
                township_zh=tx.township_zh(r.township),
                leader=leader.username if leader else None,
                leader_name=leader.display_name if leader else None,
                responsible=r.responsible,
                domain_zh=tx.inspection_domain_zh(r.domain),
                site=r.site,
                description=r.description,
                deadline=as_utc(r.deadline),
                exposed_at=as_utc(r.exposed_at),
                days_overdue=_days((until - as_utc(r.deadline)).total_seconds()),
                still_open=still_open,
                status=r.status,
                status_zh=_status_zh(r.status),
            )
        )
    out.sort(key=lambda e: (not e.still_open, -e.days_overdue, e.hazard_no))
    return out


# --- the re-training roster (回炉班) ---------------------------------------------------------------------------


class Enrolment(BaseModel):
    id: int
    class_date: date
    person: str
    unit: str
    unit_zh: str
    township: str
    township_zh: str
    hazard_id: str
    hazard_no: str
    site: str
    enrolled_at: datetime
    attended: bool | None  # None: not marked yet
    marked_by: str | None
    marked_at: datetime | None


class RetrainingClass(BaseModel):
    class_date: date
    enrolled: int
    attended: int
    absent: int
    unmarked: int
    people: list[Enrolment]


def _enrolment(e: RetrainingEnrolment, h: HazardRow, tx: Taxonomy) -> Enrolment:
    return Enrolment(
        id=e.id or 0,
        class_date=e.class_date,
        person=e.person,
        unit=e.unit,
        unit_zh=_unit_zh(tx, e.unit, e.township),
        township=e.township,
        township_zh=tx.township_zh(e.township),
        hazard_id=e.hazard_id,
        hazard_no=e.hazard_no,
        site=h.site,
        enrolled_at=as_utc(e.enrolled_at),
        attended=e.attended,
        marked_by=e.marked_by,
        marked_at=as_utc(e.marked_at),
    )


def roster(db: Session, actor: Actor, tx: Taxonomy, f: InspectionFilters | None = None) -> list[RetrainingClass]:
    """Each class (newest first) with the people enrolled for hazards the caller may see, and who came."""
    check_viewer(actor)
    f = f or InspectionFilters()
    by_date: dict[date, list[Enrolment]] = defaultdict(list)
    for e, h in sql.enrolments(db, and_(*_scope(actor, f))):
        by_date[e.class_date].append(_enrolment(e, h, tx))
    return [
        RetrainingClass(
            class_date=day,
            enrolled=len(people),
            attended=sum(1 for p in people if p.attended is True),
            absent=sum(1 for p in people if p.attended is False),
            unmarked=sum(1 for p in people if p.attended is None),
            people=people,
        )
        for day, people in sorted(by_date.items(), reverse=True)
    ]


def mark_attendance(
    db: Session, actor: Actor, tx: Taxonomy, enrolment_id: int, attended: bool, now: datetime
) -> Enrolment:
    """The supervisor records whether an enrolled person came (or corrects it); who and when stay on the row."""
    if actor.role not in ATTENDANCE_TAKERS:
        raise Refusal(403, "forbidden_role", "回炉班考勤由督办员登记")
    found = sql.enrolments(db, true(), [RetrainingEnrolment.id == enrolment_id])
    if not found:
        raise not_found("unknown_enrolment", "回炉班学员记录不存在")
    e, h = found[0]
    e.attended, e.marked_by, e.marked_at = attended, actor.username, as_utc(now)
    db.add(e)
    db.commit()
    db.refresh(e)
    return _enrolment(e, h, tx)


# --- summonses (约谈) ------------------------------------------------------------------------------------------


class SummonsView(BaseModel):
    id: int
    unit: str
    unit_zh: str
    township: str
    township_zh: str
    leader: str | None
    leader_name: str | None
    hazard_id: str
    hazard_no: str
    site: str
    earlier_hazard_nos: list[str]
    reason: str
    created_at: datetime
    held: bool
    held_at: datetime | None
    held_by: str | None
    note: str | None


def _summons(s: Summons, h: HazardRow, tx: Taxonomy, names: dict[str, str]) -> SummonsView:
    return SummonsView(
        id=s.id or 0,
        unit=s.unit,
        unit_zh=_unit_zh(tx, s.unit, s.township),
        township=s.township,
        township_zh=tx.township_zh(s.township),
        leader=s.leader,
        leader_name=names.get(s.leader or ""),
        hazard_id=s.hazard_id,
        hazard_no=s.hazard_no,
        site=h.site,
        earlier_hazard_nos=list(s.earlier_hazard_nos or []),
        reason=s.reason,
        created_at=as_utc(s.created_at),
        held=s.held_at is not None,
        held_at=as_utc(s.held_at),
        held_by=s.held_by,
        note=s.note,
    )


def _names(db: Session, usernames: set[str]) -> dict[str, str]:
    if not usernames:
        return {}
    return {s.username: s.display_name for s in db.exec(select(Staff).where(Staff.username.in_(usernames))).all()}


def summonses(db: Session, actor: Actor, tx: Taxonomy, f: InspectionFilters | None = None) -> list[SummonsView]:
    """The summonses over hazards the caller may see: not yet held first, newest first."""
    check_viewer(actor)
    f = f or InspectionFilters()
    found = sql.summonses(db, and_(*_scope(actor, f)))
    names = _names(db, {s.leader for s, _ in found if s.leader})
    out = [_summons(s, h, tx, names) for s, h in found]
    out.sort(key=lambda s: s.held)  # stable: newest first within each
    return out


def mark_held(db: Session, actor: Actor, tx: Taxonomy, summons_id: int, note: str | None, now: datetime) -> SummonsView:
    """约谈 held: the supervisor or a county leader records it once (409 `already_held` after)."""
    if actor.role not in SUMMONS_HOLDERS:
        raise Refusal(403, "forbidden_role", "约谈由督办员或县领导登记")
    found = sql.summonses(db, true(), [Summons.id == summons_id])
    if not found:
        raise not_found("unknown_summons", "约谈记录不存在")
    s, h = found[0]
    if s.held_at is not None:
        raise Refusal(409, "already_held", "该约谈已登记为已约谈")
    s.held_at, s.held_by = as_utc(now), actor.username
    s.note = (note or "").strip() or None
    db.add(s)
    db.commit()
    db.refresh(s)
    return _summons(s, h, tx, _names(db, {s.leader} if s.leader else set()))
