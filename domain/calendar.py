"""Working days (工作日) by the State Council's holiday schedule, and the due times of clocks that count them.

A year's schedule is the General Office's notice (国务院办公厅关于YYYY年部分节假日安排的通知): the days off
(放假, weekends inside a holiday included) and the make-up working days (调休上班) that fall on a weekend. A day is
a working day when it is a make-up day, or a weekday (Monday–Friday) that is not a day off. The schedules come
from the `chinesecalendar` package for the years it covers (`package_schedules`) and from the yearly file a
county loads itself (`wuhuan calendar load`, `parse_schedule`), which overrides the package for its year.

A year without a schedule is never guessed in silence: its working days are taken to be Monday–Friday, and every
answer that walked through such a year says so (`calendar_known` False, `unknown_years`).

Counting (the contract's "Calendar, pausing and extensions"):

- `natural`: the due time is start + duration.
- `working`: a duration of n whole days (P{n}D) is due on the n-th working day after the start's China-time
  date, at the start's China time of day — whatever the start's own day is (a case received on a Saturday at
  10:00 with P1D is due on Monday at 10:00). What is left over after the whole days (PT3M, or the 2 hours of
  P1DT2H) is added as natural time after that: the minute clocks run the same in both countings, and a
  remainder may end on a day off (Friday 23:00 + PT2H is Saturday 01:00).
- A pause (`shift_for_pause`) moves a working-days due time by the working time that passed while paused: the
  part of the pause that fell on working days (each a whole China-time day, 00:00–24:00), counted the same way
  — its whole 24 hours as working days after the due time's date, the rest as natural time. A pause over a
  weekend or a holiday costs nothing; Friday 17:00 to Monday 09:00 moves the due time by 16 hours (7 of Friday,
  9 of Monday). A pause never moves a due time earlier.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from domain.times import CHINA, as_utc

DayCount = Literal["natural", "working"]
HOLIDAY, WORKDAY = "holiday", "workday"
DAY = timedelta(days=1)
# The years a schedule may name: a notice is published for the coming year; nothing before the package's data
# (2004) or far ahead is a plausible notice.
FIRST_YEAR, LAST_YEAR = 2000, 2100
EXAMPLE_MARKS = ("EXAMPLE", "示例")  # a source saying so is the shipped example, not a notice


class CalendarError(ValueError):
    """A schedule file that cannot be loaded; the message says what to fix (in Chinese, for the operator)."""


@dataclass(frozen=True)
class YearSchedule:
    """One year's notice. `holidays` are the days off, `workdays` the make-up working days on weekends; `names`
    the holiday each of those days belongs to (元旦, 春节, ...). A notice may name days at the end of the year
    before (the 2019 notice gave 2018-12-30 and 31 off for New Year's Day): they belong to this schedule."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str
    names: Mapping[date, str] = field(default_factory=dict)

    def days(self) -> list[tuple[date, str, str]]:
        """(day, holiday|workday, name), in date order."""
        rows = [(d, HOLIDAY, self.names.get(d, "")) for d in self.holidays]
        rows += [(d, WORKDAY, self.names.get(d, "")) for d in self.workdays]
        return sorted(rows)

    def ranges(self) -> list[tuple[str, date, date]]:
        """The days off as (name, from, to) runs of consecutive days with one name, in date order."""
        out: list[tuple[str, date, date]] = []
        for d in sorted(self.holidays):
            name = self.names.get(d, "")
            if out and out[-1][0] == name and out[-1][2] + DAY == d:
                out[-1] = (name, out[-1][1], d)
            else:
                out.append((name, d, d))
        return out


# --- the answers that cross the workflow boundary --------------------------------------------------------------


class DueRequest(BaseModel):
    start: datetime
    duration: timedelta
    days: DayCount = "natural"


class PauseShiftRequest(BaseModel):
    due_at: datetime
    paused_at: datetime
    resumed_at: datetime
    days: DayCount = "natural"


class DueAnswer(BaseModel):
    due_at: datetime
    calendar_known: bool = Field(description="false when a year the count walked through has no schedule loaded")
    unknown_years: list[int] = Field(
        default_factory=list, description="the years counted Monday–Friday for want of a schedule"
    )


Due = DueAnswer


# --- the calendar ---------------------------------------------------------------------------------------------


class WorkCalendar:
    """The working days of every year with a schedule; Monday–Friday for the others (flagged, see module doc)."""

    def __init__(self, schedules: Iterable[YearSchedule] = ()):
        self._years: dict[int, YearSchedule] = {}
        for s in schedules:
            self._years[s.year] = s  # a later schedule for the same year replaces an earlier one
        # Day by day, the older notices first: a notice's days at the end of the year before override that
        # year's own schedule (the later notice is the one in force for them).
        self._days: dict[date, bool] = {}
        for year in sorted(self._years):
            s = self._years[year]
            self._days.update(dict.fromkeys(s.holidays, False))
            self._days.update(dict.fromkeys(s.workdays, True))

    def schedule(self, year: int) -> YearSchedule | None:
        return self._years.get(year)

    def years(self) -> list[int]:
        return sorted(self._years)

    def known(self, year: int) -> bool:
        return year in self._years

    def is_working_day(self, d: date) -> bool:
        working = self._days.get(d)
        return working if working is not None else d.weekday() < 5

    def add_working_days(self, d: date, n: int) -> tuple[date, set[int]]:
        """The n-th working day after `d` (n ≥ 0; n = 0 is `d` itself), and the years walked through without a
        schedule."""
        if n < 0:
            raise ValueError("n must not be negative")
        unknown: set[int] = set()
        while n > 0:
            d += DAY
            if not self.known(d.year):
                unknown.add(d.year)
            if self.is_working_day(d):
                n -= 1
        return d, unknown

    def working_days_between(self, a: date, b: date) -> int:
        """How many working days are after `a` up to and including `b` (0 when b ≤ a): Monday to the next Monday
        is 5 in a week without holidays."""
        n, d = 0, a
        while d < b:
            d += DAY
            n += self.is_working_day(d)
        return n

    def unknown_years(self, a: date, b: date) -> list[int]:
        """The years from `a`'s to `b`'s without a schedule."""
        return [y for y in range(min(a, b).year, max(a, b).year + 1) if not self.known(y)]

    def due(self, start: datetime, duration: timedelta, days: DayCount) -> DueAnswer:
        """When a clock of `duration` started at `start` falls due (see the module doc); UTC."""
        start = as_utc(start)
        if duration < timedelta(0):
            raise ValueError("duration must not be negative")
        if days == "natural":
            return DueAnswer(due_at=start + duration, calendar_known=True)
        return self._advance(start, duration)

    def shift_for_pause(self, due_at: datetime, paused_at: datetime, resumed_at: datetime, days: DayCount) -> Due:
        """A clock's due time after a pause from `paused_at` to `resumed_at` (see the module doc); UTC."""
        due_at, paused_at, resumed_at = as_utc(due_at), as_utc(paused_at), as_utc(resumed_at)
        if resumed_at <= paused_at:
            return DueAnswer(due_at=due_at, calendar_known=True)
        if days == "natural":
            return DueAnswer(due_at=due_at + (resumed_at - paused_at), calendar_known=True)
        paused, unknown = self.working_time(paused_at, resumed_at)
        moved = self._advance(due_at, paused)
        years = sorted(unknown | set(moved.unknown_years))
        return DueAnswer(due_at=moved.due_at, calendar_known=not years, unknown_years=years)

    def working_time(self, a: datetime, b: datetime) -> tuple[timedelta, set[int]]:
        """How much of [a, b) fell on working days (China-time days, 00:00–24:00), and the years without a
        schedule it touched."""
        a_local, b_local = as_utc(a).astimezone(CHINA), as_utc(b).astimezone(CHINA)
        total, unknown = timedelta(0), set()
        d = a_local.date()
        while d <= b_local.date():
            if not self.known(d.year):
                unknown.add(d.year)
            if self.is_working_day(d):
                day_start = datetime.combine(d, time(0), CHINA)
                lo, hi = max(a_local, day_start), min(b_local, day_start + DAY)
                if hi > lo:
                    total += hi - lo
            d += DAY
        return total, unknown

    def _advance(self, start: datetime, duration: timedelta) -> DueAnswer:
        local = start.astimezone(CHINA)
        whole, rest = duration.days, duration - timedelta(days=duration.days)
        day, unknown = self.add_working_days(local.date(), whole)
        due = datetime.combine(day, local.timetz()).astimezone(UTC) + rest
        years = sorted(unknown)
        return DueAnswer(due_at=due, calendar_known=not years, unknown_years=years)


# --- where schedules come from --------------------------------------------------------------------------------


def package_schedules() -> list[YearSchedule]:
    """The years the `chinesecalendar` package covers (2004 to its last year), from its tables of days off and
    make-up days. Imported here, not at module level: the workflow sandbox imports this module."""
    import chinese_calendar
    from chinese_calendar.constants import Holiday

    zh = {h.value: h.chinese for h in Holiday}
    version = getattr(chinese_calendar, "__version__", "?")
    by_year: dict[int, tuple[set[date], set[date], dict[date, str]]] = {}
    for table, kind in ((chinese_calendar.holidays, HOLIDAY), (chinese_calendar.workdays, WORKDAY)):
        for d, name in table.items():
            off, on, names = by_year.setdefault(d.year, (set(), set(), {}))
            (off if kind == HOLIDAY else on).add(d)
            names[d] = zh.get(name, name)
    return [
        YearSchedule(
            year=y,
            holidays=frozenset(off),
            workdays=frozenset(on),
            names=names,
            source=f"chinesecalendar {version}（国务院办公厅{y}年部分节假日安排）",
        )
        for y, (off, on, names) in sorted(by_year.items())
    ]


def _day(value: Any, what: str) -> date:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise CalendarError(f"{what}不是日期（应为 YYYY-MM-DD）：{value!r}") from None


def _in_notice(d: date, year: int, what: str) -> None:
    # A notice for `year` names days of that year, and may name days at the end of December of the year before
    # (New Year's Day with the weekend before it, as the 2007 and 2019 notices did).
    if d.year == year or (d.year == year - 1 and d.month == 12):
        return
    raise CalendarError(f"{what} {d.isoformat()} 不在{year}年内")


def parse_schedule(data: Any) -> YearSchedule:
    """A schedule file's content (parsed YAML) as a YearSchedule, or CalendarError saying what is wrong:

        year: 2027
        source: 国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕X号）
        holidays:
          - {name: 元旦, from: 2027-01-01, to: 2027-01-01}
        workdays: [2027-02-06]

    Every date is in the year (or in December of the year before); a make-up working day is a Saturday or a
    Sunday and is not also a day off."""
    if not isinstance(data, dict):
        raise CalendarError("文件内容应为 year、source、holidays、workdays 四项")
    unknown = set(data) - {"year", "source", "holidays", "workdays"}
    if unknown:
        raise CalendarError(
            f"不认识的项：{'、'.join(sorted(map(str, unknown)))}（应为 year、source、holidays、workdays）"
        )
    year = data.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise CalendarError(f"year 应为 {FIRST_YEAR}–{LAST_YEAR} 之间的年份：{year!r}")
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise CalendarError("source 不能为空：请写明通知的标题和文号（如 国办发明电〔2026〕X号）")
    if any(mark in source.upper() for mark in EXAMPLE_MARKS):
        # The shipped example (docs/calendar-2027.example.yaml) is not a notice: loaded as it is, it would make a
        # year look known with dates nobody published.
        raise CalendarError(
            "这是示例文件（source 写着 EXAMPLE/示例）：请按国务院办公厅的正式通知填写日期和 source 后再导入"
        )
    holidays_in = data.get("holidays")
    if not isinstance(holidays_in, list) or not holidays_in:
        raise CalendarError("holidays 应为放假安排的列表，每项 {name, from, to}")
    workdays_in = data.get("workdays") or []
    if not isinstance(workdays_in, list):
        raise CalendarError("workdays 应为调休上班日期的列表")

    names: dict[date, str] = {}
    holidays: set[date] = set()
    for i, item in enumerate(holidays_in, 1):
        if not isinstance(item, dict) or set(item) != {"name", "from", "to"}:
            raise CalendarError(f"holidays 第{i}项应为 {{name, from, to}}：{item!r}")
        name = str(item["name"] or "").strip()
        if not name:
            raise CalendarError(f"holidays 第{i}项缺少节日名称")
        first, last = _day(item["from"], f"{name}的起始日"), _day(item["to"], f"{name}的截止日")
        if last < first:
            raise CalendarError(f"{name}的截止日 {last.isoformat()} 早于起始日 {first.isoformat()}")
        for d in (first, last):
            _in_notice(d, year, f"{name}的日期")
        d = first
        while d <= last:
            if d in holidays:
                raise CalendarError(f"{d.isoformat()} 在放假安排中出现了两次（{names[d]}、{name}）")
            holidays.add(d)
            names[d] = name
            d += DAY
    workdays: set[date] = set()
    for value in workdays_in:
        d = _day(value, "调休上班日")
        _in_notice(d, year, "调休上班日")
        if d.weekday() < 5:
            raise CalendarError(f"调休上班日 {d.isoformat()} 不是周六或周日（工作日本来就上班）")
        if d in holidays:
            raise CalendarError(f"{d.isoformat()} 既是放假日（{names[d]}）又是调休上班日")
        workdays.add(d)
    # A make-up day belongs to the nearest holiday (for `calendar show` and the board; the file does not say).
    ranges = YearSchedule(year, frozenset(holidays), frozenset(), "", names).ranges()
    for d in workdays:
        nearest = min(ranges, key=lambda r: min(abs((r[1] - d).days), abs((r[2] - d).days)))
        names[d] = nearest[0]
    return YearSchedule(
        year=year, holidays=frozenset(holidays), workdays=frozenset(workdays), source=source.strip(), names=names
    )


def years_to_check(today: date) -> list[int]:
    """The years whose schedule the board asks for: this year, and from 1 November the next (its notice is
    published around then, and cases received in December run into it)."""
    return [today.year, today.year + 1] if today.month >= 11 else [today.year]
