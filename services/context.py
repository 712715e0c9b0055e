"""What every service works with: the settings, the read model's engine, the county's taxonomy, the link to the
case engine, the rate limiter, the sign-in guard and the triage model. One per process, built by its entry point."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from domain.settings import Settings
from domain.taxonomy import Taxonomy
from domain.triage.service import ModelHolder
from services.accounts import LoginGuard
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
    logins: LoginGuard = field(default_factory=LoginGuard)  # sign-in throttle and hash turns (services/accounts.py)

    def __post_init__(self) -> None:
        self.logins.configure(self.settings)
