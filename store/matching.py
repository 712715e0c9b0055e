"""Choosing people (交办, 组团): the candidates of a unit or township with their open caseload, read from the
staff directory and `case_assignments`, ranked by domain.matching. Each choice comes back with its reason and
the ranking behind it, which the workflow records. The matching activities (activities/assignment.py) and the
team suggestion a person may accept (services/steps.py) both ask this.

Reads per decision: the candidates of the unit(s) concerned (indexed by unit / township) and their open
caseload from `case_assignments` (one grouped query over those people only), whatever the number of cases."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import and_, or_, select

from domain import matching
from domain.matching import Candidate, Need
from domain.models import (
    Actor,
    HandlerChoice,
    HandlerRequest,
    JointTaskForceRequest,
    MemberRequest,
    Role,
    TaskForcePlan,
    TaskForceRequest,
    TeamChoice,
    TeamRequest,
    TeamSlot,
)
from domain.taxonomy import Taxonomy, is_department
from store import workload
from store.db import session
from store.tables import Staff

HANDLER_ROLES = (Role.mediator.value, Role.leader.value)  # a leader only when no mediator can
TEAM_ROLES = (Role.mediator.value,)  # a unit's leader is told, not drafted
SHOWN = 5  # candidates recorded with each choice

Seat = tuple[str | None, str | None]  # (unit, None) or (None, township)


def _ref(c: Candidate) -> Actor:
    return Actor(username=c.username, role=Role(c.role), unit=c.unit, township=c.township)


class Matcher:
    def __init__(self, engine: Engine, taxonomy: Taxonomy):
        self.engine, self.taxonomy = engine, taxonomy
        self.names = {c.code: c.zh for c in taxonomy.dispute_categories} | {t.code: t.zh for t in taxonomy.townships}

    # --- reading -----------------------------------------------------------------------------------

    def candidates(self, db, seats: list[Seat], roles: tuple[str, ...]) -> dict[Seat, list[Candidate]]:
        """The active staff of each seat's unit (or township) with their open caseload: two queries."""
        pools: dict[Seat, list[Candidate]] = {seat: [] for seat in seats}
        units = sorted({u for u, _ in seats if u})
        towns = sorted({t for u, t in seats if u is None and t})
        conds = []
        if units:
            conds.append(Staff.unit.in_(units))
        if towns:
            conds.append(and_(Staff.unit.is_(None), Staff.township.in_(towns)))
        if not conds:
            return pools
        rows = db.exec(
            select(
                Staff.username,
                Staff.role,
                Staff.unit,
                Staff.township,
                Staff.skills,
                Staff.capacity,
                Staff.on_duty,
                Staff.leave_until,
                Staff.home_township,
                Staff.last_assigned_at,
            ).where(Staff.active, Staff.role.in_(roles), or_(*conds))
        ).all()
        loads = workload.open_loads(db, [r[0] for r in rows])
        for name, role, unit, town, skills, capacity, on_duty, leave_until, home, last in rows:
            total, handling = loads.get(name, (0, 0))
            c = Candidate(
                username=name,
                role=role,
                unit=unit,
                township=town,
                skills=tuple(skills) if skills is not None else None,
                capacity=capacity,
                open_cases=total,
                handling=handling,
                on_duty=on_duty,
                leave_until=leave_until,
                home_township=home,
                last_assigned_at=last,
            )
            seat: Seat = (unit, None) if unit else (None, town)
            if seat in pools:
                pools[seat].append(c)
        return pools

    def label(self, seat: Seat) -> str:
        unit, township = seat
        return self.taxonomy.unit_zh(unit) if unit else self.taxonomy.township_zh(township)

    def need(self, now: datetime, category: str | None, township: str | None, declined=(), fallback=()) -> Need:
        return Need(
            category=category,
            township=township,
            now=now,
            declined=frozenset(declined),
            fallback_roles=frozenset(fallback),
            names=self.names,
        )

    def fill(self, seat: Seat, pool: list[Candidate], need: Need, taken: set[str]) -> TeamSlot:
        """One seat by the score; people already on the case are not candidates."""
        ranked = matching.rank([c for c in pool if c.username not in taken], need)
        chosen = matching.best(ranked)
        member = next((_ref(c) for c in pool if chosen and c.username == chosen.username), None)
        return TeamSlot(
            unit=seat[0],
            township=seat[1],
            label=self.label(seat),
            member=member,
            reason=matching.summary(ranked, self.label(seat)),
            candidates=ranked[:SHOWN],
        )

    # --- choices -----------------------------------------------------------------------------------

    def choose_handler(self, req: HandlerRequest, now: datetime) -> HandlerChoice:
        unit = req.unit if is_department(req.unit) else None
        seat: Seat = (unit, None) if unit else (None, req.township)
        with session(self.engine) as db:
            pool = self.candidates(db, [seat], HANDLER_ROLES)[seat]
        ranked = matching.rank(pool, self.need(now, req.category, req.township, fallback={Role.leader.value}))
        chosen = matching.best(ranked)
        where = self.label(seat) or "属地乡镇"
        reason = matching.summary(ranked, where)
        if chosen is None:
            return HandlerChoice(handler=None, reason=reason, candidates=ranked[:SHOWN])
        person = next(c for c in pool if c.username == chosen.username)
        return HandlerChoice(handler=_ref(person), reason=reason, candidates=ranked[:SHOWN])

    def match_team(self, req: TeamRequest, now: datetime) -> TeamChoice:
        """One member from each of the category's units, plus the township's where it is known; the handler
        keeps their own unit's seat."""
        seats: list[Seat] = [(u, None) for u in req.team_units if is_department(u)]
        if req.township:
            seats.append((None, req.township))
        h = req.handler

        def handler_sits(seat: Seat) -> bool:
            unit, township = seat
            return h is not None and (
                (unit is not None and h.unit == unit)
                or (township is not None and h.unit is None and h.township == township)
            )

        open_seats = [seat for seat in seats if not handler_sits(seat)]
        need = self.need(now, req.category, req.township, declined=req.exclude)
        with session(self.engine) as db:
            pools = self.candidates(db, open_seats, TEAM_ROLES)
        slots: list[TeamSlot] = []
        taken = {h.username} if h else set()  # the declined stay in the ranking, marked and excluded
        for seat in seats:
            if handler_sits(seat):
                assert h is not None
                slots.append(
                    TeamSlot(
                        unit=seat[0],
                        township=seat[1],
                        label=self.label(seat),
                        member=h,
                        kept_handler=True,
                        reason=f"{self.label(seat)}：承办人 {h.username}",
                    )
                )
                continue
            slot = self.fill(seat, pools[seat], need, taken)
            if slot.member is not None:
                taken.add(slot.member.username)
            slots.append(slot)
        members = [s.member for s in slots if s.member is not None]
        missing = [s.unit or s.township or "" for s in slots if s.member is None]
        return TeamChoice(
            members=members, missing_units=missing, reason="；".join(s.reason for s in slots), slots=slots
        )

    def find_team_member(self, req: MemberRequest, now: datetime) -> TeamSlot:
        """The next person for a seat a member declined; `member` None when nobody can be found."""
        seat: Seat = (req.unit, None) if req.unit else (None, req.township)
        with session(self.engine) as db:
            pool = self.candidates(db, [seat], TEAM_ROLES)[seat]
        need = self.need(now, req.category, req.township, declined=req.exclude)
        return self.fill(seat, pool, need, set(req.on_case))

    def task_force_plan(self, req: JointTaskForceRequest) -> TaskForcePlan:
        """Who a red case's task force brings together: the county leader in charge of its lead unit (or in touch
        with its township: taxonomy.yaml's county_leaders), the main leaders of the drafted units and of the
        township, and the centre's overall convener(s) — county leaders the taxonomy puts in charge of nothing."""
        in_charge = self.taxonomy.leader_in_charge(req.unit, req.township)
        listed = {leader.username for leader in self.taxonomy.county_leaders}
        townships = [req.township] if req.township else []
        with session(self.engine) as db:
            leaders = db.exec(
                select(Staff).where(Staff.active, Staff.role.in_([Role.leader.value, Role.county_leader.value]))
            ).all()
        active = {p.username for p in leaders}
        members = sorted(
            p.username
            for p in leaders
            if p.role == Role.leader.value
            and ((p.unit is not None and p.unit in req.units) or (p.unit is None and p.township in townships))
        )
        conveners = sorted(
            p.username for p in leaders if p.role == Role.county_leader.value and p.username not in listed
        )
        led_by = in_charge.username if in_charge is not None and in_charge.username in active else None
        return TaskForcePlan(led_by=led_by, members=members, units=req.units, townships=townships, conveners=conveners)

    def task_force_leader(self, req: TaskForceRequest) -> str | None:
        """The county leader who leads the task force of a red case (the first on the roster)."""
        with session(self.engine) as db:
            leader = db.exec(
                select(Staff.username)
                .where(Staff.active, Staff.role == Role.county_leader.value)
                .order_by(Staff.username)
            ).first()
        return leader
