"""The read model's side of the morning digest: the leaders, and the open cases each digest covers (red, yellow,
or with a clock falling due on the day), within the leader's jurisdiction or the units and townships in charge."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import or_
from sqlalchemy.orm import defer
from sqlmodel import Session, select

from domain.case_flow import ENDED
from domain.digest import DigestCase, Reach, covers
from domain.jurisdiction import scope_of
from domain.models import Actor, Clock, Role
from domain.taxonomy import Taxonomy
from domain.times import as_utc, from_china_wall_time
from store import jurisdiction
from store.tables import Case, Staff, TaskForceRow


def leaders(db: Session) -> list[Staff]:
    """Everyone who may get a digest: active main leaders and county leaders."""
    roles = [Role.leader.value, Role.county_leader.value]
    return list(db.exec(select(Staff).where(Staff.active, Staff.role.in_(roles)).order_by(Staff.username)).all())


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = from_china_wall_time(datetime(day.year, day.month, day.day))
    return start, start + timedelta(days=1)


def digest_cases(db: Session, actor: Actor, reach: Reach, day: date, taxonomy: Taxonomy) -> list[DigestCase]:
    # Every open case of the reach, without the workflow's whole state (kilobytes a row) that no digest line reads.
    q = select(Case).options(defer(Case.state)).where(Case.status.not_in([s.value for s in ENDED]))
    if reach.jurisdiction:
        where = jurisdiction.case_filter(scope_of(actor))
        if where is not None:
            q = q.where(where)
    elif reach.red_only:
        q = q.where(Case.colour == "red")
    else:
        q = q.where(or_(Case.unit.in_(reach.units), Case.township.in_(reach.townships)))
    start, end = day_bounds(day)
    rows = db.exec(q).all()
    overdue = {
        tf.case_id
        for tf in db.exec(select(TaskForceRow).where(TaskForceRow.case_id.in_([r.case_id for r in rows]))).all()
        if tf.overdue_at is not None
    }
    out = []
    for row in rows:
        if not covers(reach, row.unit, row.township, row.colour):
            continue
        clocks = [Clock.model_validate(c) for c in row.clocks or []]
        due = tuple(
            (c.name, as_utc(c.due_at))
            for c in clocks
            if c.running and c.paused_at is None and start <= as_utc(c.due_at) < end
        )
        if row.colour not in ("red", "yellow") and not due:
            continue
        out.append(
            DigestCase(
                case_id=row.case_id,
                case_no=row.case_no,
                colour=row.colour,
                category_zh=taxonomy.category_zh(row.category),
                unit_zh=taxonomy.unit_zh(row.unit) if row.unit != "township" else "",
                township_zh=taxonomy.township_zh(row.township) if row.township else "",
                handler=row.handler,
                received_at=as_utc(row.received_at),
                due_today=due,
                task_force_overdue=row.case_id in overdue,
            )
        )
    return out
