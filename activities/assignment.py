"""Automatic assignment and team matching. Each choice comes back with its reason, which the workflow
records."""
from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import func, select
from temporalio import activity

from domain.case_flow import OPEN
from domain.models import (
    HandlerChoice, HandlerRequest, Role, StaffRef, TaskForceRequest,
    TeamChoice, TeamRequest,
)
from domain.taxonomy import Taxonomy
from store.db import session
from store.tables import Case, Staff


def staff_ref(s: Staff) -> StaffRef:
    return StaffRef(username=s.username, role=Role(s.role), unit=s.unit, township=s.township)


class Assignment:
    def __init__(self, engine: Engine, taxonomy: Taxonomy):
        self.engine, self.taxonomy = engine, taxonomy

    def _least_loaded(self, db, unit: str | None, township: str | None, exclude: set[str]) -> tuple[Staff, int] | None:
        q = select(Staff).where(Staff.active, Staff.on_duty, Staff.role.in_([Role.mediator.value, Role.leader.value]))
        q = q.where(Staff.township == township, Staff.unit.is_(None)) if unit is None else q.where(Staff.unit == unit)
        people = [p for p in db.exec(q).all() if p.username not in exclude]
        if not people:
            return None
        open_statuses = [s.value for s in OPEN]
        load = dict(db.exec(select(Case.handler, func.count()).where(Case.status.in_(open_statuses))
                            .group_by(Case.handler)).all())
        # Mediators before leaders, then the lightest load, then a stable order.
        ranked = sorted(people, key=lambda p: (p.role != Role.mediator.value, load.get(p.username, 0), p.username))
        best = ranked[0]
        return best, load.get(best.username, 0)

    @activity.defn
    def choose_handler(self, req: HandlerRequest) -> HandlerChoice:
        unit = None if req.unit == "township" else req.unit
        with session(self.engine) as db:
            found = self._least_loaded(db, unit, req.township if unit is None else None, set())
        where = self.taxonomy.unit_zh(unit) if unit else self.taxonomy.township_zh(req.township)
        if found is None:
            return HandlerChoice(handler=None, reason=f"{where}无在岗调解员")
        person, load = found
        return HandlerChoice(handler=staff_ref(person), reason=f"{where}在办案件最少的在岗人员（在办 {load} 件）")

    @activity.defn
    def match_team(self, req: TeamRequest) -> TeamChoice:
        members: list[StaffRef] = []
        missing: list[str] = []
        reasons: list[str] = []
        with session(self.engine) as db:
            wanted: list[tuple[str | None, str | None]] = [(u, None) for u in req.team_units]
            if req.township:
                wanted.append((None, req.township))
            for unit, township in wanted:
                label = self.taxonomy.unit_zh(unit) if unit else self.taxonomy.township_zh(township)
                h = req.handler
                if h is not None and ((unit and h.unit == unit) or (township and h.township == township and h.unit is None)):
                    members.append(h)
                    reasons.append(f"{label}：承办人 {h.username}")
                    continue
                found = self._least_loaded(db, unit, township, {m.username for m in members})
                if found is None:
                    missing.append(unit or township or "")
                    reasons.append(f"{label}：无在岗人员")
                else:
                    members.append(staff_ref(found[0]))
                    reasons.append(f"{label}：{found[0].username}（在办 {found[1]} 件）")
        return TeamChoice(members=members, missing_units=missing, reason="；".join(reasons))

    @activity.defn
    def start_task_force(self, req: TaskForceRequest) -> str | None:
        """The county leader who leads the task force of a red case (the first on the roster)."""
        with session(self.engine) as db:
            leader = db.exec(select(Staff.username).where(Staff.active, Staff.role == Role.county_leader.value)
                             .order_by(Staff.username)).first()
        return leader
