"""The staff directory: people as the rules see them, and their names for display."""

from __future__ import annotations

from sqlmodel import Session, select

from domain.models import Actor, Role
from store.tables import Staff


def actor_of(staff: Staff) -> Actor:
    return Actor(
        username=staff.username,
        role=Role(staff.role),
        unit=staff.unit,
        township=staff.township,
        district=staff.district,
    )


def active(db: Session, username: str) -> Staff | None:
    person = db.get(Staff, username)
    return person if person is not None and person.active else None


def display_names(db: Session, usernames: set[str]) -> dict[str, str]:
    usernames = {u for u in usernames if u}
    if not usernames:
        return {}
    return {s.username: s.display_name for s in db.exec(select(Staff).where(Staff.username.in_(usernames))).all()}
