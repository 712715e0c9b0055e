"""Inspection visits (督查走访): the week's plan as the inspectors see it, and recording a visit on the phone.

Visits are unannounced: only inspectors and the county's overseers ever read them. A unit's leaders and
mediators get 403 here, whatever they ask; they hear of a visit only through the hazards it found.

An inspector of a district sees the district's visits and those they recorded anywhere (the same reading as
hazards: domain.hazards.sees_hazard); a county-wide inspector, a supervisor, a county leader and the auditor see
every visit. A planned visit (the weekly Schedule's) becomes done when it is recorded; a daily round, a covert
special visit or one led by a county leader is recorded unplanned and created done."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlalchemy import and_, func, or_, true, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from domain.inspection import VISIT_KIND_ZH, VisitKind, district_zh, week_of
from domain.models import Actor, Role
from domain.taxonomy import Taxonomy
from domain.times import china_local, from_china_wall_time
from services.context import Services
from services.db import run
from services.errors import Refusal, forbidden, invalid, not_found
from services.inspection import list_item
from services.inspection_schemas import HazardListItem
from services.schemas import Checked, Problem
from store.directory import display_names
from store.inspection import hazard_filter
from store.tables import HazardRow, InspectionVisit, Staff

Line = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Paragraph = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]

READERS = frozenset({Role.inspector, Role.supervisor, Role.county_leader, Role.auditor})
RECORDERS = frozenset({Role.inspector, Role.supervisor})
UNPLANNED = (VisitKind.daily, VisitKind.special, VisitKind.leader_led)
STATUS_ZH = {"planned": "待走访", "done": "已走访"}


class VisitIn(Checked):
    """A visit as recorded. For a planned visit `kind`, `township` and `domain` default to the plan's (the team
    may end up in another township of the district, or find the domain it came for is not the one at fault)."""

    model_config = ConfigDict(extra="forbid")

    kind: VisitKind | None = None
    township: Code | None = None
    domain: Code | None = None
    site: Line = ""
    note: Paragraph | None = None

    def problems(self, taxonomy: Taxonomy, planned: bool) -> list[Problem]:
        """Everything wrong with the record, in the form's order."""
        found: list[Problem] = []
        if not planned and self.kind not in UNPLANNED:
            found.append(Problem("kind", "invalid_kind", "请选择督查方式：日常督查、专项暗访或县领导领衔督查"))
        if self.township and taxonomy.township(self.township) is None:
            found.append(Problem("township", "unknown_township", f"未知的乡镇（街道）代码：{self.township}"))
        elif not planned and not self.township:
            found.append(Problem("township", "township_required", "请选择走访的乡镇（街道）"))
        if self.domain and taxonomy.inspection_domain(self.domain) is None:
            found.append(Problem("domain", "unknown_domain", f"未知的督查领域代码：{self.domain}"))
        elif not planned and not self.domain:
            found.append(Problem("domain", "domain_required", "请选择督查领域"))
        if not self.site:
            found.append(Problem("site", "site_required", "请填写走访的场所或点位"))
        return found


class VisitRecorded(BaseModel):
    visit_id: str


class VisitListQuery(BaseModel):
    """`week`: any day of the week wanted (its Monday is used); none: this week and next."""

    week: date | None = None
    district: int | None = None
    status: str | None = None  # planned, done
    mine: bool = False  # only the caller's team's (and the caller's own) visits


class VisitItem(BaseModel):
    visit_id: str
    kind: str
    kind_zh: str
    week: date | None
    district: int | None
    district_zh: str
    township: str | None
    township_zh: str
    domain: str | None
    domain_zh: str
    team: str | None
    planned_for: date | None
    status: str
    status_zh: str
    site: str | None
    note: str | None
    visited_at: datetime | None
    visited_by: str | None
    visited_by_name: str | None
    mine: bool  # the caller's team's, or recorded by the caller
    hazards: int


class VisitListOut(BaseModel):
    items: list[VisitItem]
    start: date  # the Monday of the first week listed
    end: date  # the Sunday of the last
    district: int | None


def _team_of(db: Session, actor: Actor) -> str | None:
    staff = db.get(Staff, actor.username)
    return staff.team if staff is not None else None


def _may_read(actor: Actor) -> None:
    if actor.role not in READERS:
        # Unannounced: the visited units never read the plan.
        raise Refusal(403, "forbidden_role", "督查走访计划仅供督查专员和督查负责人查看")


def _visible(actor: Actor) -> ColumnElement[bool]:
    if actor.role == Role.inspector and actor.district is not None:
        return or_(InspectionVisit.district == actor.district, InspectionVisit.visited_by == actor.username)
    return true()


def _window(query: VisitListQuery, now: datetime) -> tuple[date, date]:
    if query.week is not None:
        monday = query.week - timedelta(days=query.week.weekday())
        return monday, monday + timedelta(days=6)
    monday = week_of(now)
    return monday, monday + timedelta(days=13)


def _china_midnight(day: date) -> datetime:
    return from_china_wall_time(datetime.combine(day, time()))


def list_visits(db: Session, actor: Actor, query: VisitListQuery, taxonomy: Taxonomy, now: datetime) -> VisitListOut:
    """The visits of a period (default: this week and next), planned first by date, then the done ones."""
    _may_read(actor)
    if query.status not in (None, "", "planned", "done"):
        raise invalid("invalid_filter", "状态只能是 planned 或 done", field="status")
    if query.district is not None and query.district not in taxonomy.districts():
        raise invalid("unknown_district", f"未知的督查片区：{query.district}", field="district")
    if actor.role == Role.inspector and actor.district is not None and query.district not in (None, actor.district):
        raise forbidden("not_in_jurisdiction", "只能查看本片区的督查走访")
    start, end = _window(query, now)
    in_window = or_(
        and_(col(InspectionVisit.week).is_not(None), InspectionVisit.week >= start, InspectionVisit.week <= end),
        and_(
            col(InspectionVisit.week).is_(None),
            col(InspectionVisit.visited_at) >= _china_midnight(start),
            col(InspectionVisit.visited_at) < _china_midnight(end + timedelta(days=1)),
        ),
    )
    q = select(InspectionVisit).where(in_window, _visible(actor))
    if query.district is not None:
        q = q.where(InspectionVisit.district == query.district)
    if query.status:
        q = q.where(InspectionVisit.status == query.status)
    team = _team_of(db, actor)
    if query.mine:
        own = InspectionVisit.visited_by == actor.username
        q = q.where(or_(InspectionVisit.team == team, own) if team else own)
    rows = list(db.exec(q).all())
    counts = dict(
        db.exec(  # type: ignore[call-overload]
            select(HazardRow.visit_id, func.count())
            .where(col(HazardRow.visit_id).in_([r.visit_id for r in rows]))
            .group_by(HazardRow.visit_id)
        ).all()
    )
    names = display_names(db, {r.visited_by for r in rows if r.visited_by})

    def order(r: InspectionVisit) -> tuple:
        day = r.planned_for or (china_local(r.visited_at).date() if r.visited_at else date.max)
        return (r.status != "planned", day, r.district or 0, r.slot or 0, r.visit_id)

    items = [_item(r, taxonomy, team, actor, counts.get(r.visit_id, 0), names) for r in sorted(rows, key=order)]
    return VisitListOut(items=items, start=start, end=end, district=query.district)


def _item(
    r: InspectionVisit, taxonomy: Taxonomy, team: str | None, actor: Actor, hazards: int, names: dict[str, str]
) -> VisitItem:
    kind = VisitKind(r.kind) if r.kind in VisitKind.__members__ else None
    return VisitItem(
        visit_id=r.visit_id,
        kind=r.kind,
        kind_zh=VISIT_KIND_ZH[kind] if kind else r.kind,
        week=r.week,
        district=r.district,
        district_zh=district_zh(r.district),
        township=r.township,
        township_zh=taxonomy.township_zh(r.township) if r.township else "",
        domain=r.domain,
        domain_zh=taxonomy.inspection_domain_zh(r.domain) if r.domain else "",
        team=r.team,
        planned_for=r.planned_for,
        status=r.status,
        status_zh=STATUS_ZH.get(r.status, r.status),
        site=r.site,
        note=r.note,
        visited_at=r.visited_at,
        visited_by=r.visited_by,
        visited_by_name=names.get(r.visited_by or "", r.visited_by),
        mine=bool(team and r.team == team) or r.visited_by == actor.username,
        hazards=hazards,
    )


def get_visit(db: Session, actor: Actor, visit_id: str, taxonomy: Taxonomy) -> VisitItem:
    """One visit, for the page that records it (404 when unknown or outside the caller's district)."""
    _may_read(actor)
    row = db.exec(select(InspectionVisit).where(InspectionVisit.visit_id == visit_id, _visible(actor))).first()
    if row is None:
        raise not_found("visit_not_found", "督查走访不存在")
    hazards = db.exec(select(func.count()).where(HazardRow.visit_id == visit_id)).one()
    names = display_names(db, {row.visited_by} if row.visited_by else set())
    return _item(row, taxonomy, _team_of(db, actor), actor, int(hazards), names)


async def record_visit(
    svc: Services, actor: Actor, visit_id: str | None, body: VisitIn, now: datetime | None = None
) -> VisitRecorded:
    """Record a planned visit as done, or an unplanned one as a new, done visit (see `record`)."""
    at = now or datetime.now(UTC)
    return await run(svc.engine, lambda db: record(db, actor, visit_id, body, svc.taxonomy, at))


def record(
    db: Session, actor: Actor, visit_id: str | None, body: VisitIn, taxonomy: Taxonomy, now: datetime
) -> VisitRecorded:
    """Record a planned visit as done, or an unplanned one as a new, done visit. Nothing is written when it is
    refused: 403 (not an inspector; another district's visit), 404, 409 `visit_already_recorded`, 422."""
    if actor.role not in RECORDERS:
        raise Refusal(403, "forbidden_role", "只有督查专员可以记录督查走访")
    problems = body.problems(taxonomy, planned=visit_id is not None)
    if problems:
        first = problems[0]
        raise invalid(first.code, first.message, field=first.field)
    if visit_id is None:
        return _record_unplanned(db, actor, body, taxonomy, now)
    row = db.get(InspectionVisit, visit_id)
    if row is None:
        raise not_found("visit_not_found", "督查走访不存在")
    if actor.role == Role.inspector and actor.district is not None and row.district != actor.district:
        raise forbidden("not_in_jurisdiction", "这是其他片区的督查任务，不能由您记录")
    township = body.township or row.township
    if township and body.township and row.district is not None:
        place = taxonomy.township(township)
        if place is not None and place.district != row.district:
            raise invalid("township_outside_district", "所选乡镇（街道）不属于本次督查的片区", field="township")
    # One writer wins: the row changes only while it is still planned (two phones recording the same visit).
    done = db.exec(  # type: ignore[call-overload]
        update(InspectionVisit)
        .where(col(InspectionVisit.visit_id) == visit_id, col(InspectionVisit.status) == "planned")
        .values(
            status="done",
            township=township,
            domain=body.domain or row.domain,
            site=body.site,
            note=body.note or None,
            visited_at=now,
            visited_by=actor.username,
        )
    )
    if done.rowcount != 1:
        db.rollback()
        raise Refusal(409, "visit_already_recorded", "该督查走访已记录，不能重复记录")
    db.commit()
    return VisitRecorded(visit_id=visit_id)


def _record_unplanned(db: Session, actor: Actor, body: VisitIn, taxonomy: Taxonomy, now: datetime) -> VisitRecorded:
    place = taxonomy.township(body.township)
    staff = db.get(Staff, actor.username)
    row = InspectionVisit(
        visit_id=f"v-{uuid.uuid4().hex[:16]}",
        kind=(body.kind or VisitKind.daily).value,
        district=place.district if place is not None else None,
        township=body.township,
        domain=body.domain,
        team=staff.team if staff is not None else None,
        status="done",
        site=body.site,
        note=body.note or None,
        visited_at=now,
        visited_by=actor.username,
        created_at=now,
    )
    db.add(row)
    db.commit()
    return VisitRecorded(visit_id=row.visit_id)


def hazards_found(db: Session, actor: Actor, visit_id: str, taxonomy: Taxonomy, now: datetime) -> list[HazardListItem]:
    """The hazards reported on a visit that the caller may see, in the order they were found."""
    rows = db.exec(
        select(HazardRow)
        .where(HazardRow.visit_id == visit_id, hazard_filter(actor))
        .order_by(col(HazardRow.found_at), col(HazardRow.hazard_no))
    ).all()
    return [list_item(r, taxonomy, now) for r in rows]
