"""Each staff member's open caseload, kept beside the read model for the matcher.

`case_assignments` holds one row per (case, person on it): the handler and the team members, and whether the
case is still open. The record activity rewrites a case's rows from every snapshot it applies (`sync`), so a
retry changes nothing and the table never drifts from `cases`; `backfill` rebuilds it for a database that had
cases before the table existed (store.migrate, when it adopts a database made before migrations). Each new
assignment also moves the person's `staff.last_assigned_at` forward (fair rotation)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, func, select

from domain.case_flow import OPEN
from domain.times import as_utc
from store.tables import Case, CaseAssignment, Staff

OPEN_VALUES = frozenset(s.value for s in OPEN)


def wanted(handler: str | None, team: Iterable[str]) -> dict[str, str]:
    parts = {name: "member" for name in team if name}
    if handler:
        parts[handler] = "handler"
    return parts


def sync(db: Session, case_id: str, handler: str | None, team: Iterable[str], is_open: bool, at: datetime) -> None:
    """Make the case's rows match its snapshot (in the caller's transaction)."""
    want = wanted(handler, team)
    rows = {r.username: r for r in db.exec(select(CaseAssignment).where(CaseAssignment.case_id == case_id))}
    for name, row in rows.items():
        if name not in want:
            db.delete(row)
    for name, part in want.items():
        row = rows.get(name)
        if row is None:
            db.add(CaseAssignment(case_id=case_id, username=name, part=part, open=is_open, assigned_at=at))
            person = db.get(Staff, name)
            if person is not None and (person.last_assigned_at is None or as_utc(person.last_assigned_at) < at):
                person.last_assigned_at = at
                db.add(person)
        elif row.part != part or row.open != is_open:
            row.part, row.open = part, is_open
            db.add(row)


def backfill(engine: Engine | Connection, batch: int = 2000) -> int:
    """Fill an empty case_assignments from the cases already recorded; returns the rows written. Given a
    connection in a transaction (store.migrate's adoption), it writes in that transaction."""
    written = 0
    with Session(engine) as db:
        if db.exec(select(CaseAssignment.case_id).limit(1)).first() is not None:
            return 0
        if db.exec(select(Case.case_id).limit(1)).first() is None:
            return 0
        last: dict[str, datetime] = {}
        rows = db.exec(
            select(Case.case_id, Case.handler, Case.team, Case.status, Case.assigned_at, Case.received_at)
        ).all()
        for case_id, handler, team, status, assigned_at, received_at in rows:
            at = as_utc(assigned_at or received_at)
            for name, part in wanted(handler, team or []).items():
                db.add(
                    CaseAssignment(
                        case_id=case_id, username=name, part=part, open=status in OPEN_VALUES, assigned_at=at
                    )
                )
                last[name] = max(last.get(name, at), at)
                written += 1
                if written % batch == 0:
                    db.flush()
        for person in db.exec(select(Staff).where(Staff.username.in_(list(last)))):
            if person.last_assigned_at is None or as_utc(person.last_assigned_at) < last[person.username]:
                person.last_assigned_at = last[person.username]
                db.add(person)
        db.commit()
    return written


def open_loads(db: Session, usernames: list[str]) -> dict[str, tuple[int, int]]:
    """username → (open cases, of which as handler), for the given people only (one indexed query)."""
    if not usernames:
        return {}
    rows = db.exec(
        select(CaseAssignment.username, CaseAssignment.part, func.count())
        .where(CaseAssignment.username.in_(usernames), CaseAssignment.open)
        .group_by(CaseAssignment.username, CaseAssignment.part)
    ).all()
    loads: dict[str, tuple[int, int]] = {}
    for name, part, n in rows:
        total, handling = loads.get(name, (0, 0))
        loads[name] = (total + n, handling + (n if part == "handler" else 0))
    return loads
