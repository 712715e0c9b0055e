"""The working-day calendar for staff: when a clock falls due, in natural days or in working days by the State
Council's holiday schedule (a visit being planned, the pages' countdowns)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Caller, Db
from domain.calendar import DueAnswer
from services import calendar

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"])


@router.get("/due", response_model=DueAnswer)
def calendar_due(
    _: Caller,
    db: Db,
    start: Annotated[str | None, Query(description="ISO time; without an offset it is China time")] = None,
    duration: Annotated[str | None, Query(description="ISO 8601 duration in days, hours, minutes: P7D, PT3M")] = None,
    days: Annotated[str | None, Query(description="working | natural")] = None,
) -> DueAnswer:
    """`P{n}D` with `working`: the n-th working day after the start's China-time date, at the start's time of
    day (make-up days 调休 count, holidays do not); a remainder of hours or minutes is added as natural time.
    `calendar_known` is false when a year the count walked through has no schedule (its working days are then
    taken to be Monday–Friday, `unknown_years` says which). 422 invalid_start | invalid_duration |
    invalid_days."""
    return calendar.due(db, start, duration, days)
