"""Write a week's inspection plan (片区周督查): the visits of domain.inspection.plan_week as `inspection_visits`
rows, and a notice to each visiting team's inspectors, in one transaction. Nobody else is told: the visit is
unannounced, so the unit and the township visited hear nothing before it (不打招呼、直奔基层).

Idempotent: a visit is keyed by (week, district, slot) and its notice by the visit, so a retried activity, a
second run for the same week, or the Schedule and the worker's start-up planning the same week at once (the
unique key refuses the second writer, whose retry then finds the rows) write nothing twice."""

from __future__ import annotations

import uuid

from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio import activity

from activities.notifications import Notifier
from domain import inspection
from domain.inspection import PlanRequest, PlanResult, VisitKind
from domain.models import Audience, NotificationRequest
from domain.settings import Settings
from domain.taxonomy import Taxonomy
from store import inspection_plan as queries
from store.db import session
from store.tables import InspectionVisit


class InspectionPlanner:
    def __init__(self, engine: Engine, taxonomy: Taxonomy, settings: Settings, notifier: Notifier):
        self.engine, self.taxonomy, self.settings, self.notifier = engine, taxonomy, settings, notifier

    @activity.defn
    def plan_inspection_week(self, req: PlanRequest) -> PlanResult:
        districts = {d: [t.code for t in towns] for d, towns in self.taxonomy.districts().items()}
        domains = [d.code for d in self.taxonomy.inspection_domains]
        with session(self.engine) as db:
            plan = inspection.plan_week(
                req.week,
                districts,
                domains,
                queries.teams_by_district(db),
                self.settings.inspection_visits_per_district,
            )
            existing = {
                (v.district, v.slot): v
                for v in db.exec(
                    select(InspectionVisit).where(
                        InspectionVisit.week == req.week, InspectionVisit.kind == VisitKind.weekly.value
                    )
                ).all()
            }
            visits, new = [], 0
            for p in plan:
                visit = existing.get((p.district, p.slot))
                if visit is None:  # a week planned before keeps its visits (and their teams), whatever changed since
                    visit = InspectionVisit(
                        visit_id=uuid.uuid4().hex,
                        kind=VisitKind.weekly.value,
                        week=p.week,
                        slot=p.slot,
                        district=p.district,
                        township=p.township,
                        domain=p.domain,
                        team=p.team or None,
                        planned_for=p.planned_for,
                        status="planned",
                    )
                    db.add(visit)
                    new += 1
                visits.append(visit)
            for visit in visits:
                self._tell_team(db, visit)
            db.commit()
        return PlanResult(week=req.week, visits=len(visits), new=new)

    def _tell_team(self, db, visit: InspectionVisit) -> None:
        """The team's inspectors only (a team with nobody active left: the centre's supervisors, who must find
        one)."""
        members = queries.team_members(db, visit.team) if visit.team else []
        self.notifier.queue(
            db,
            NotificationRequest(
                key=f"inspection-visit:{visit.visit_id}",
                case_id=visit.visit_id,
                case_no=f"{visit.week}/{visit.district}/{visit.slot}",
                kind="inspection_planned",
                params={
                    "planned_for": visit.planned_for.isoformat() if visit.planned_for else "",
                    "district": visit.district,
                    "township": visit.township,
                    "domain": visit.domain,
                    "team": visit.team,
                },
                audience=Audience(usernames=members),
            ),
        )
