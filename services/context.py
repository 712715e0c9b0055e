"""What every service works with: the settings, the read model's engine, the county's taxonomy, the link to the
case engine, the rate limiter and the triage model. One per process, built by its entry point."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from domain.settings import Settings
from domain.taxonomy import Taxonomy
from domain.triage.service import ModelHolder
from services.engine import TemporalLink
from services.ratelimit import RateLimiter


@dataclass
class Services:
    settings: Settings
    engine: Engine
    taxonomy: Taxonomy
    temporal: TemporalLink
    limiter: RateLimiter
    models: ModelHolder
