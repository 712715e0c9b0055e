"""The working-day calendar: the `chinesecalendar` package's years with the years a county loaded itself
(`calendar_years`, `calendar_days`) over them, assembled into a domain.calendar.WorkCalendar.

Assembled once per process and engine, and again only when a load changed the tables: each call asks the
database one cheap question (the latest `loaded_at` and the number of loaded years), so a year loaded with
`wuhuan calendar load` counts in every API and worker process from their next computation on, no restart."""

from __future__ import annotations

import threading
import weakref
from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from domain.calendar import HOLIDAY, WorkCalendar, YearSchedule, package_schedules
from store.tables import CalendarDay, CalendarYear

_lock = threading.Lock()
_cache: weakref.WeakKeyDictionary[Engine, tuple[tuple, WorkCalendar]] = weakref.WeakKeyDictionary()
_package: list[YearSchedule] | None = None


def _package_schedules() -> list[YearSchedule]:
    global _package
    if _package is None:
        _package = package_schedules()
    return _package


def _version(db: Session) -> tuple:
    latest, count = db.exec(select(func.max(CalendarYear.loaded_at), func.count()).select_from(CalendarYear)).one()
    return (latest, count)


def loaded_schedules(db: Session) -> list[YearSchedule]:
    """The years loaded into the database, with their days."""
    days: dict[int, list[CalendarDay]] = defaultdict(list)
    for row in db.exec(select(CalendarDay)).all():
        days[row.year].append(row)
    return [
        YearSchedule(
            year=y.year,
            holidays=frozenset(d.day for d in days[y.year] if d.kind == HOLIDAY),
            workdays=frozenset(d.day for d in days[y.year] if d.kind != HOLIDAY),
            names={d.day: d.name for d in days[y.year]},
            source=y.source,
        )
        for y in db.exec(select(CalendarYear).order_by(CalendarYear.year)).all()
    ]


def work_calendar(db: Session) -> WorkCalendar:
    """The calendar in force: the package's years, each loaded year in place of the package's for that year."""
    engine = db.get_bind()
    version = _version(db)
    with _lock:
        hit = _cache.get(engine)  # type: ignore[arg-type]
        if hit is not None and hit[0] == version:
            return hit[1]
    calendar = WorkCalendar([*_package_schedules(), *loaded_schedules(db)])  # later ones replace earlier years
    with _lock:
        _cache[engine] = (version, calendar)  # type: ignore[index]
    return calendar


def loaded_year(db: Session, year: int) -> CalendarYear | None:
    return db.get(CalendarYear, year)


def save_schedule(db: Session, schedule: YearSchedule, loaded_by: str, now: datetime) -> bool:
    """Store a year's schedule in place of what was loaded for it before, in the caller's transaction (commit
    it); True when it replaced an earlier load. A day another year's schedule named (a notice's days at the end of
    the year before) is taken over by this one."""
    replaced = db.get(CalendarYear, schedule.year) is not None
    days: list[date] = [d for d, _, _ in schedule.days()]
    db.exec(delete(CalendarDay).where(CalendarDay.year == schedule.year))  # type: ignore[call-overload]
    if days:
        db.exec(delete(CalendarDay).where(CalendarDay.day.in_(days)))  # type: ignore[call-overload, attr-defined]
    db.merge(CalendarYear(year=schedule.year, source=schedule.source, loaded_at=now, loaded_by=loaded_by))
    for d, kind, name in schedule.days():
        db.add(CalendarDay(day=d, year=schedule.year, kind=kind, name=name))
    return replaced
