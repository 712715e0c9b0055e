"""Routing (分流): which category, unit and township a new case belongs to, with what confidence, and
whether it repeats an earlier request (重复访: linked and flagged, never merged)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import or_, select
from temporalio import activity

from domain import routing
from domain.models import RouteRequest, RoutingDecision
from domain.privacy import normalise_phone
from domain.taxonomy import Taxonomy
from domain.triage.repeats import similar
from domain.triage.service import ModelHolder
from store.db import session
from store.tables import Case


class Triage:
    def __init__(
        self, engine: Engine, taxonomy: Taxonomy, models: ModelHolder, threshold: float, repeat_window: timedelta
    ):
        self.engine, self.taxonomy, self.models = engine, taxonomy, models
        self.threshold, self.repeat_window = threshold, repeat_window

    @activity.defn
    def route_case(self, req: RouteRequest) -> RoutingDecision:
        decision = routing.decide(self.taxonomy, self.models.get(), req.intake, self.threshold)
        decision.repeat_of = self.earlier_requests(req, decision.township)
        return decision

    def earlier_requests(self, req: RouteRequest, township: str | None) -> list[str]:
        """Cases of the same citizen, or a near-identical text about the same place, within the window."""
        since = (req.received_at or datetime.now(UTC)) - self.repeat_window
        phone = normalise_phone(req.intake.citizen_phone)
        # Only candidates leave the database: the same (normalised) phone, or the same township.
        place = Case.township == township if township else Case.township.is_(None)
        with session(self.engine) as db:
            rows = db.exec(
                select(Case.case_id, Case.citizen_phone, Case.description, Case.township)
                .where(Case.received_at >= since, Case.case_id != req.case_id, or_(Case.citizen_phone == phone, place))
                .order_by(Case.received_at.desc())
                .limit(5000)
            ).all()
        found = [
            case_id
            for case_id, p, text, town in rows
            if normalise_phone(p) == phone or (town == township and similar(text, req.intake.description))
        ]
        return found[:5]
