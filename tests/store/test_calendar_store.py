"""The calendar in force (store/calendar.py): the package's years with the loaded ones over them, assembled once
and again only after a load; loading a year again replaces its days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from domain.calendar import YearSchedule
from store.calendar import loaded_schedules, save_schedule, work_calendar
from store.db import session
from store.tables import CalendarDay, CalendarYear

T0 = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)


def schedule(year: int, off: list[date], worked: list[date] = (), source: str = "通知") -> YearSchedule:
    return YearSchedule(year, frozenset(off), frozenset(worked), source, {d: "节" for d in [*off, *worked]})


def test_assembled_once_and_again_after_a_load(engine):
    with session(engine) as db:
        first = work_calendar(db)
        assert work_calendar(db) is first  # nothing loaded since: the same calendar, no rebuilding
        assert not first.known(2027) and first.known(2026)
        save_schedule(db, schedule(2027, [date(2027, 1, 1)]), "ops", T0)
        db.commit()
        second = work_calendar(db)
    assert second is not first and second.known(2027) and not second.is_working_day(date(2027, 1, 1))


def test_a_loaded_year_replaces_the_packages_and_a_reload_replaces_it(engine):
    with session(engine) as db:
        assert work_calendar(db).is_working_day(date(2026, 10, 8))  # an ordinary Thursday in the package
        save_schedule(db, schedule(2026, [date(2026, 10, 8)], source="更正"), "ops", T0)
        db.commit()
        cal = work_calendar(db)
        assert not cal.is_working_day(date(2026, 10, 8))
        assert cal.is_working_day(date(2026, 10, 2))  # the package's National Day is not in the loaded year
        assert cal.schedule(2026).source == "更正"

        assert save_schedule(db, schedule(2026, [date(2026, 10, 9)], source="再更正"), "ops", T0 + timedelta(1))
        db.commit()
        cal = work_calendar(db)
        assert cal.is_working_day(date(2026, 10, 8)) and not cal.is_working_day(date(2026, 10, 9))
        assert [d.day for d in db.exec(select(CalendarDay)).all()] == [date(2026, 10, 9)]
        assert db.get(CalendarYear, 2026).loaded_at.replace(tzinfo=UTC) == T0 + timedelta(1)


def test_a_notices_days_in_the_year_before_are_its_own(engine):
    with session(engine) as db:
        save_schedule(db, schedule(2027, [date(2026, 12, 31), date(2027, 1, 1)], [date(2026, 12, 26)]), "ops", T0)
        db.commit()
        (loaded,) = loaded_schedules(db)
        cal = work_calendar(db)
    assert loaded.holidays == {date(2026, 12, 31), date(2027, 1, 1)} and loaded.workdays == {date(2026, 12, 26)}
    assert not cal.is_working_day(date(2026, 12, 31)) and cal.is_working_day(date(2026, 12, 26))  # a Saturday
