"""The safety-inspection read model in SQL: who may see which hazard (domain.hazards.sees_hazard as a WHERE
clause), a unit's leader, and the earlier overdue hazards a summons looks back on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import false, or_, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from domain.hazards import COUNTY_WIDE, HazardFacts
from domain.models import Actor, Role
from store.tables import HazardEventRow, HazardRow, Staff


def hazard_filter(a: Actor) -> ColumnElement[bool]:
    """The rows of `hazards` the actor may see: the SQL reading of domain.hazards.sees_hazard."""
    if a.role in COUNTY_WIDE:
        return true()
    if a.role == Role.inspector:
        if a.district is None:
            return true()
        return or_(HazardRow.district == a.district, HazardRow.found_by == a.username)
    if a.role in (Role.leader, Role.mediator):
        if a.unit is not None:
            return HazardRow.unit == a.unit
        if a.township is not None:
            return HazardRow.township == a.township
    return false()


def facts_of_row(row: HazardRow) -> HazardFacts:
    return HazardFacts(unit=row.unit, township=row.township, district=row.district, found_by=row.found_by)


def unit_leader(db: Session, unit: str, township: str) -> Staff | None:
    """The responsible unit's main leader (for the township itself, the township's)."""
    q = select(Staff).where(Staff.role == Role.leader.value, Staff.active == True)  # noqa: E712
    q = q.where(Staff.unit == unit) if unit != "township" else q.where(Staff.unit.is_(None), Staff.township == township)
    return db.exec(q.order_by(Staff.username)).first()


def earlier_overdue(
    db: Session, unit: str, township: str, hazard_id: str, before: datetime
) -> list[tuple[str, datetime]]:
    """(hazard_no, when) of the unit's overdue events before `before`, other than this hazard's own deadline
    events at `before` (a hazard overdue again after a re-check counts: it is the unit's second miss)."""
    q = (
        select(HazardRow.hazard_no, HazardEventRow.at, HazardEventRow.hazard_id)
        .join(HazardRow, HazardRow.hazard_id == HazardEventRow.hazard_id)
        .where(HazardEventRow.type == "overdue", HazardRow.unit == unit, HazardEventRow.at < before)
    )
    if unit == "township":
        q = q.where(HazardRow.township == township)
    return [(no, at) for no, at, _ in db.exec(q).all()]
