"""The team the matcher would form now, for a person who accepts the suggestion instead of naming members."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.models import TeamChoice, TeamRequest
from services.context import Services
from store.matching import Matcher


def suggest(svc: Services, req: TeamRequest) -> TeamChoice:
    return Matcher(svc.engine, svc.taxonomy).match_team(req, datetime.now(UTC))
