"""The weekly inspection plan's reads: the teams of each district (what the plan chooses from), a team's
inspectors (who hear of its visits) and whether a week is planned."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlmodel import Session, select

from domain.inspection import VisitKind
from domain.models import Role
from store.tables import InspectionVisit, Staff


def teams_by_district(db: Session) -> dict[int, list[str]]:
    """The inspection teams (督查组) of each district, by code. Inspectors with no team (the townships' own
    self-inspection, the county-wide ones) are on no district's plan."""
    q = (
        select(Staff.district, Staff.team)
        .where(Staff.role == Role.inspector.value, Staff.active == True)  # noqa: E712
        .where(Staff.district.is_not(None), Staff.team.is_not(None))
        .distinct()
    )
    out: dict[int, list[str]] = {}
    for district, team in db.exec(q).all():
        out.setdefault(district, []).append(team)
    return {d: sorted(teams) for d, teams in sorted(out.items())}


def team_members(db: Session, team: str) -> list[str]:
    """The active inspectors of a team (usernames)."""
    q = select(Staff.username).where(Staff.role == Role.inspector.value, Staff.team == team)
    return sorted(db.exec(q.where(Staff.active == True)).all())  # noqa: E712


def weekly_visits(db: Session, week: date) -> int:
    """How many visits the week's plan has (0: the week is not planned yet)."""
    q = select(func.count()).select_from(InspectionVisit)
    return int(db.exec(q.where(InspectionVisit.week == week, InspectionVisit.kind == VisitKind.weekly.value)).one())
