"""SQL of the inspection figures and lists (services/inspection_reports.py says what each figure counts): a
grouped count of conditions, the leaders of the responsible units, and the re-training enrolments and summonses
of a set of hazards. Portable between SQLite and PostgreSQL; no rule is decided here, the conditions come from
the service."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import case, func
from sqlalchemy import select as core_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from domain.models import Role
from store.tables import HazardRow, RetrainingEnrolment, Staff, Summons

GROUP_KEYS = (HazardRow.district, HazardRow.domain, HazardRow.unit, HazardRow.township)


def grouped_counts(
    db: Session, where: Sequence[ColumnElement[bool]], measures: Sequence[ColumnElement[bool]]
) -> list[tuple[tuple[Any, ...], list[int]]]:
    """((district, domain, unit, township), [count of rows meeting each measure]) for every group with a row:
    one pass over the hazards, however many; the caller rolls the groups up."""
    q = core_select(*GROUP_KEYS, *(func.count(case((m, 1))) for m in measures)).where(*where).group_by(*GROUP_KEYS)
    return [(tuple(row[:4]), [int(n) for n in row[4:]]) for row in db.connection().execute(q)]


def leaders_by_unit(db: Session) -> dict[tuple[str | None, str | None], Staff]:
    """Every active main leader by (unit, None) for a department and (None, township) for a township: the first by
    username, as store.inspection.unit_leader picks one (one query for a whole list, not one per row)."""
    rows = db.exec(
        select(Staff).where(Staff.role == Role.leader.value, Staff.active == True).order_by(Staff.username)  # noqa: E712
    ).all()
    out: dict[tuple[str | None, str | None], Staff] = {}
    for s in rows:
        key = (s.unit, None) if s.unit is not None else (None, s.township)
        out.setdefault(key, s)
    return out


def enrolments_of(db: Session, hazard_ids: Iterable[str]) -> list[RetrainingEnrolment]:
    ids = list(hazard_ids)
    if not ids:
        return []
    q = select(RetrainingEnrolment).where(RetrainingEnrolment.hazard_id.in_(ids))
    return list(db.exec(q.order_by(RetrainingEnrolment.class_date, RetrainingEnrolment.id)).all())


def summonses_of(db: Session, hazard_ids: Iterable[str]) -> list[Summons]:
    ids = list(hazard_ids)
    if not ids:
        return []
    return list(db.exec(select(Summons).where(Summons.hazard_id.in_(ids)).order_by(Summons.created_at)).all())


def enrolments(db: Session, scope: ColumnElement[bool], where: Sequence[ColumnElement[bool]] = ()) -> list[Any]:
    """(enrolment, hazard) of the hazards in scope, newest class first."""
    q = (
        select(RetrainingEnrolment, HazardRow)
        .join(HazardRow, HazardRow.hazard_id == RetrainingEnrolment.hazard_id)
        .where(scope, *where)
        .order_by(RetrainingEnrolment.class_date.desc(), RetrainingEnrolment.unit, RetrainingEnrolment.id)
    )
    return list(db.exec(q).all())


def summonses(db: Session, scope: ColumnElement[bool], where: Sequence[ColumnElement[bool]] = ()) -> list[Any]:
    """(summons, hazard) of the hazards in scope, newest first."""
    q = (
        select(Summons, HazardRow)
        .join(HazardRow, HazardRow.hazard_id == Summons.hazard_id)
        .where(scope, *where)
        .order_by(Summons.created_at.desc(), Summons.id.desc())
    )
    return list(db.exec(q).all())
