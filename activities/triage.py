"""Routing (分流): which category, unit and township a new case belongs to, and with what confidence."""
from __future__ import annotations

from sqlalchemy.engine import Engine
from temporalio import activity

from domain import routing
from domain.models import RouteRequest, RoutingDecision
from domain.taxonomy import Taxonomy


class Triage:
    def __init__(self, engine: Engine, taxonomy: Taxonomy):
        self.engine, self.taxonomy = engine, taxonomy

    @activity.defn
    def route_case(self, req: RouteRequest) -> RoutingDecision:
        i = req.intake
        return routing.classify(self.taxonomy, i.description, i.address, i.category_hint, i.township_hint)
