"""How the county organises its safety inspections (平安督查): the weekly plan of unannounced visits per district
(片区包干), the re-training class (回炉班) for the people behind an overdue hazard, and the summons (约谈) for the
leader of a unit that is overdue again. Pure: the planning activity, the hazard recorder and the tests share it.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel

from domain.times import china_local


class VisitKind(StrEnum):
    weekly = "weekly"  # the week's plan for a district (每周片区督查)
    daily = "daily"  # an inspector's own daily round (日常督查)
    special = "special"  # a covert special visit (专项暗访)
    leader_led = "leader_led"  # led by a county leader (县领导领衔)


VISIT_KIND_ZH = {
    VisitKind.weekly: "片区周督查",
    VisitKind.daily: "日常督查",
    VisitKind.special: "专项暗访",
    VisitKind.leader_led: "县领导领衔督查",
}


def district_zh(district: int | None) -> str:
    return f"第{district}片区" if district else "全县"


def week_of(at: datetime) -> date:
    """The Monday (China date) of the week `at` falls in: the plan's key."""
    return monday_of(china_local(at).date())


def monday_of(day: date) -> date:
    """The Monday of the week `day` falls in."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class PlannedVisit:
    week: date
    district: int
    slot: int  # 1..n within the district's week: with (week, district) the key that makes planning idempotent
    planned_for: date
    township: str
    domain: str
    team: str


def plan_week(
    week: date,
    districts: dict[int, list[str]],
    domains: list[str],
    teams: dict[int, list[str]],
    visits_per_district: int,
) -> list[PlannedVisit]:
    """The week's unannounced visits: `visits_per_district` per district on distinct working days, each to one of
    the district's townships and one domain, by one of the district's teams. The choice is drawn from the week
    itself (the same week always gives the same plan, so a retried planning writes nothing twice) and cycles
    through domains so that over a few weeks each district sees all seven. Only inspectors ever read the plan:
    the visited unit hears nothing before the visit."""
    seed = int.from_bytes(hashlib.sha256(week.isoformat().encode()).digest()[:8], "big")
    draw = random.Random(seed)  # noqa: S311 (a plan, not a secret)
    week_no = week.isocalendar().week
    out: list[PlannedVisit] = []
    for district, townships in sorted(districts.items()):
        if not townships:
            continue
        days = sorted(draw.sample(range(5), k=min(visits_per_district, 5)))  # Monday..Friday
        district_teams = teams.get(district) or [""]
        for slot, day in enumerate(days, start=1):
            domain = domains[(week_no * visits_per_district + slot + district) % len(domains)] if domains else ""
            out.append(
                PlannedVisit(
                    week=week,
                    district=district,
                    slot=slot,
                    planned_for=week + timedelta(days=day),
                    township=draw.choice(townships),
                    domain=domain,
                    team=district_teams[(week_no + slot) % len(district_teams)],
                )
            )
    return out


class PlanStart(BaseModel):
    """The weekly plan workflow's input: the week to plan (its Monday), or None for the week it runs in (what the
    Schedule's runs pass)."""

    week: date | None = None


class PlanRequest(BaseModel):
    week: date  # a Monday


class PlanResult(BaseModel):
    week: date
    visits: int  # the week's planned visits
    new: int  # those this run wrote (0 when the week was planned before)


# --- re-training (回炉班) and summons (约谈) ---------------------------------------------------------------

RETRAINING_NOTICE = timedelta(days=3)  # a class needs this much notice; a later enrolment goes to the next one


def retraining_class_for(at: datetime) -> date:
    """The class an overdue hazard's people are enrolled in: the classes meet on the last Friday of each month,
    and the first one at least RETRAINING_NOTICE after `at` (China dates) is theirs."""
    earliest = china_local(at + RETRAINING_NOTICE).date()
    month = earliest.replace(day=1)
    while True:
        friday = _last_friday(month)
        if friday >= earliest:
            return friday
        month = (month + timedelta(days=32)).replace(day=1)


def _last_friday(month_start: date) -> date:
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    last = next_month - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - 4) % 7)


def summons_due(earlier_overdue: list[datetime], at: datetime, within: timedelta) -> bool:
    """A unit overdue again within `within` of an earlier overdue hazard: its leader is summoned for a talk."""
    return any(timedelta(0) <= at - earlier <= within for earlier in earlier_overdue)
