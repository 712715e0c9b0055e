"""The working-day calendar's use cases: a due time for whoever asks (`GET /api/v1/calendar/due`), loading and
showing a year's schedule (`wuhuan calendar load | show`), and the board's word on which years are known."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import isodate
import yaml
from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.calendar import CalendarError, DueAnswer, WorkCalendar, YearSchedule, parse_schedule, years_to_check
from domain.times import from_china_wall_time
from services.errors import invalid
from store import calendar as store
from store.db import session

LONGEST = timedelta(days=3660)  # ten years: no clock of the county's runs longer, and the count stays cheap


# --- a due time ------------------------------------------------------------------------------------------------


def _start(text: str | None) -> datetime:
    try:
        return from_china_wall_time(datetime.fromisoformat((text or "").strip()))
    except (ValueError, OverflowError):
        raise invalid(
            "invalid_start", "起始时间格式有误，应为 ISO 时间（如 2026-09-28T09:00，不带时区按北京时间）", field="start"
        ) from None


def _duration(text: str | None) -> timedelta:
    message = "时长格式有误，应为 ISO 8601 时长，以天、小时、分钟计（如 P7D、PT3M、P1DT2H）"
    try:
        value = isodate.parse_duration((text or "").strip())
    except (isodate.ISO8601Error, ValueError, TypeError, OverflowError):
        raise invalid("invalid_duration", message, field="duration") from None
    if not isinstance(value, timedelta):  # months and years: not a fixed number of days, working or natural
        raise invalid("invalid_duration", message, field="duration")
    if value <= timedelta(0) or value > LONGEST:
        raise invalid("invalid_duration", "时长应大于零且不超过十年", field="duration")
    return value


def _days(text: str | None) -> str:
    if text not in ("natural", "working"):
        raise invalid("invalid_days", "days 应为 working（工作日）或 natural（自然日）", field="days")
    return text


def due(db: Session, start: str | None, duration: str | None, days: str | None) -> DueAnswer:
    """When a clock of `duration` started at `start` falls due, counting natural or working days; 422
    invalid_start | invalid_duration | invalid_days. A start without an offset is China time."""
    begin, length, counting = _start(start), _duration(duration), _days(days)
    try:
        return store.work_calendar(db).due(begin, length, counting)  # type: ignore[arg-type]
    except OverflowError:
        raise invalid("invalid_duration", "到期时间超出了可计算的范围", field="duration") from None


# --- loading and showing a year ----------------------------------------------------------------------------------


def read_schedule_file(path: Path) -> YearSchedule:
    """A schedule file, parsed and checked; CalendarError says what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise CalendarError(f"读不了文件 {path}：{e}") from None
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise CalendarError(f"文件不是有效的 YAML：{e}") from None
    return parse_schedule(data)


@dataclass
class Loaded:
    schedule: YearSchedule
    replaced: bool


def load_file(engine: Engine, path: Path, loaded_by: str, now: datetime) -> Loaded:
    """Check a schedule file and store it, in place of an earlier load of the same year; a file that does not
    pass is refused whole (CalendarError) and nothing is written."""
    schedule = read_schedule_file(path)
    with session(engine) as db:
        replaced = store.save_schedule(db, schedule, loaded_by, now)
        db.commit()
    return Loaded(schedule, replaced)


@dataclass
class YearInfo:
    year: int
    known: bool
    source: str | None  # the notice (or the package) it comes from
    loaded_at: datetime | None = None  # set when the county loaded it
    loaded_by: str | None = None
    schedule: YearSchedule | None = None


def year_info(db: Session, year: int, calendar: WorkCalendar | None = None) -> YearInfo:
    calendar = calendar or store.work_calendar(db)
    schedule = calendar.schedule(year)
    row = store.loaded_year(db, year)
    return YearInfo(
        year=year,
        known=schedule is not None,
        source=schedule.source if schedule else None,
        loaded_at=row.loaded_at if row else None,
        loaded_by=row.loaded_by if row else None,
        schedule=schedule,
    )


def board_years(db: Session, today: date) -> list[dict[str, Any]]:
    """What the supervision board says about the calendar: this year and, from 1 November, the next, each with
    whether its schedule is known and where it comes from."""
    calendar = store.work_calendar(db)
    return [
        {"year": info.year, "known": info.known, "source": info.source}
        for info in (year_info(db, y, calendar) for y in years_to_check(today))
    ]
