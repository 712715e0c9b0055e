"""The working-day calendar (domain/calendar.py) against the State Council's 2026 schedule (国办发明电〔2025〕7号),
written out here from the notice so that the package's data is checked, not trusted; a loaded 2027 file (a test
fixture); a year without a schedule, flagged; pauses; and what a schedule file must satisfy."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from domain.calendar import (
    CalendarError,
    WorkCalendar,
    YearSchedule,
    package_schedules,
    parse_schedule,
    years_to_check,
)
from domain.times import CHINA

FIXTURE_2027 = Path(__file__).parent / "data" / "calendar-2027.yaml"


def days(first: str, last: str) -> set[date]:
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    return {a + timedelta(days=i) for i in range((b - a).days + 1)}


# The 2026 notice: 元旦 1.1–1.3, 1.4 (Sun) worked; 春节 2.15–2.23, 2.14 (Sat) and 2.28 (Sat) worked; 清明 4.4–4.6;
# 劳动节 5.1–5.5, 5.9 (Sat) worked; 端午 6.19–6.21; 中秋 9.25–9.27; 国庆 10.1–10.7, 9.20 (Sun) and 10.10 (Sat) worked.
OFFICIAL_2026_OFF = (
    days("2026-01-01", "2026-01-03")
    | days("2026-02-15", "2026-02-23")
    | days("2026-04-04", "2026-04-06")
    | days("2026-05-01", "2026-05-05")
    | days("2026-06-19", "2026-06-21")
    | days("2026-09-25", "2026-09-27")
    | days("2026-10-01", "2026-10-07")
)
OFFICIAL_2026_WORKED = {date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9)} | {
    date(2026, 9, 20),
    date(2026, 10, 10),
}


def cn(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA)


@pytest.fixture(scope="module")
def package() -> WorkCalendar:
    return WorkCalendar(package_schedules())


@pytest.fixture(scope="module")
def with_2027() -> WorkCalendar:
    return WorkCalendar([*package_schedules(), parse_schedule(yaml.safe_load(FIXTURE_2027.read_text("utf-8")))])


def working_due(cal: WorkCalendar, start: datetime, duration: timedelta):
    answer = cal.due(start, duration, "working")
    return answer.due_at.astimezone(CHINA), answer.calendar_known


# --- the 2026 schedule -------------------------------------------------------------------------------------------


def test_the_package_has_the_official_2026_schedule(package):
    s = package.schedule(2026)
    assert s is not None and "chinesecalendar" in s.source
    assert set(s.holidays) == OFFICIAL_2026_OFF
    assert set(s.workdays) == OFFICIAL_2026_WORKED
    assert all(d.weekday() >= 5 for d in s.workdays)  # every make-up day is a Saturday or a Sunday
    assert [name for name, _, _ in s.ranges()] == ["元旦", "春节", "清明", "劳动节", "端午", "中秋", "国庆节"]


def test_every_day_of_2026(package):
    d = date(2026, 1, 1)
    while d.year == 2026:
        expected = d in OFFICIAL_2026_WORKED or (d.weekday() < 5 and d not in OFFICIAL_2026_OFF)
        assert package.is_working_day(d) is expected, d
        d += timedelta(days=1)
    assert package.known(2026) and not package.known(2027)


def test_seven_working_days_before_spring_festival_take_in_both_make_up_saturdays(package):
    # Thu 2.12: Fri 2.13, Sat 2.14 (worked), 2.15–2.23 off, Tue 2.24 … Fri 2.27, Sat 2.28 (worked) is the 7th.
    assert working_due(package, cn(2026, 2, 12, 10, 0), timedelta(days=7)) == (cn(2026, 2, 28, 10, 0), True)
    # Natural days do not care: a week later.
    assert package.due(cn(2026, 2, 12, 10, 0), timedelta(days=7), "natural").due_at == cn(2026, 2, 19, 10, 0)


def test_labour_day_and_its_make_up_saturday(package):
    # Thu 4.30: 5.1–5.5 off, Wed 5.6, Thu 5.7, Fri 5.8, Sat 5.9 (worked), Mon 5.11, Tue 5.12, Wed 5.13.
    assert working_due(package, cn(2026, 4, 30, 9, 0), timedelta(days=7)) == (cn(2026, 5, 13, 9, 0), True)


def test_mid_autumn_and_national_day(package):
    # Fri 9.18: Sun 9.20 (worked) is the first; 9.25–9.27 off; Tue 9.29 the seventh.
    assert working_due(package, cn(2026, 9, 18, 15, 30), timedelta(days=7)) == (cn(2026, 9, 29, 15, 30), True)
    # Mon 9.28: 9.29, 9.30, then 10.1–10.7 off, Thu 10.8, Fri 10.9, Sat 10.10 (worked), Mon 10.12, Tue 10.13.
    assert working_due(package, cn(2026, 9, 28, 8, 0), timedelta(days=7)) == (cn(2026, 10, 13, 8, 0), True)
    # The seed's 14 days as working days from Mon 9.21: 9.22–9.24 (3), 9.28–9.30 (6), 10.8, 10.9, Sat 10.10 (9),
    # 10.12–10.16 (14): 25 natural days.
    assert working_due(package, cn(2026, 9, 21, 9, 0), timedelta(days=14)) == (cn(2026, 10, 16, 9, 0), True)


def test_a_sunday_make_up_day_counts_and_the_start_day_does_not(package):
    # Sat 1.3 is a holiday, Sun 1.4 is worked: the next working day after 1.3 is the Sunday.
    assert working_due(package, cn(2026, 1, 3, 11, 0), timedelta(days=1)) == (cn(2026, 1, 4, 11, 0), True)
    # Received on an ordinary Saturday: the first working day after it is Monday, at the same time of day.
    assert working_due(package, cn(2026, 3, 7, 10, 0), timedelta(days=1)) == (cn(2026, 3, 9, 10, 0), True)


def test_the_date_is_china_times(package):
    # 2026-02-13T17:00Z is Saturday 2.14 01:00 in the county (a make-up day): the next working day is Tue 2.24.
    answer = package.due(datetime(2026, 2, 13, 17, 0, tzinfo=UTC), timedelta(days=1), "working")
    assert answer.due_at == datetime(2026, 2, 23, 17, 0, tzinfo=UTC) and answer.due_at.tzinfo == UTC
    # A naive start means UTC, as everywhere in the domain.
    assert package.due(datetime(2026, 2, 13, 17, 0), timedelta(days=1), "working").due_at == answer.due_at


def test_hours_and_minutes_are_natural_time_after_the_whole_days(package):
    start = cn(2026, 3, 6, 10, 0)  # a Friday
    assert working_due(package, start, timedelta(minutes=3)) == (cn(2026, 3, 6, 10, 3), True)
    assert working_due(package, start, timedelta(days=1, hours=2)) == (cn(2026, 3, 9, 12, 0), True)
    assert working_due(package, cn(2026, 3, 6, 23, 0), timedelta(hours=2)) == (cn(2026, 3, 7, 1, 0), True)


def test_working_days_between(package):
    assert package.working_days_between(date(2026, 3, 9), date(2026, 3, 16)) == 5  # Monday to Monday
    # Fri 2.13 to Fri 2.27 over Spring Festival: Sat 2.14 (worked), then 2.24–2.27.
    assert package.working_days_between(date(2026, 2, 13), date(2026, 2, 27)) == 5
    assert package.working_days_between(date(2026, 10, 1), date(2026, 10, 7)) == 0
    assert package.working_days_between(date(2026, 3, 16), date(2026, 3, 9)) == 0


# --- a year without a schedule, and a loaded one ------------------------------------------------------------------


def test_a_year_without_a_schedule_is_counted_monday_to_friday_and_flagged(package):
    # Mon 2026-12-28: 12.29, 12.30, 12.31, then 2027 as Monday–Friday (1.1 a Friday counts), 1.4, 1.5, 1.6.
    answer = package.due(cn(2026, 12, 28, 9, 0), timedelta(days=7), "working")
    assert answer.due_at == cn(2027, 1, 6, 9, 0)
    assert answer.calendar_known is False and answer.unknown_years == [2027]
    # Within a known year, or in natural days, nothing is unknown.
    assert package.due(cn(2026, 12, 1, 9, 0), timedelta(days=7), "working").calendar_known is True
    assert package.due(cn(2026, 12, 28, 9, 0), timedelta(days=7), "natural").calendar_known is True
    assert package.is_working_day(date(2027, 1, 1)) and not package.is_working_day(date(2027, 1, 2))


def test_a_loaded_year(with_2027):
    assert with_2027.known(2027) and "测试用" in with_2027.schedule(2027).source
    # Now 1.1–1.3 are off: the seventh working day after 12.28 is Thu 1.7.
    assert working_due(with_2027, cn(2026, 12, 28, 9, 0), timedelta(days=7)) == (cn(2027, 1, 7, 9, 0), True)
    # Fri 2.5: 2.6–2.13 off, Sun 2.14 worked (1st), 2.15–2.19, Sat 2.20 worked (7th).
    assert working_due(with_2027, cn(2027, 2, 5, 9, 0), timedelta(days=7)) == (cn(2027, 2, 20, 9, 0), True)


def test_the_same_count_without_the_2027_file(package):
    assert working_due(package, cn(2027, 2, 5, 9, 0), timedelta(days=7)) == (cn(2027, 2, 16, 9, 0), False)


def test_a_loaded_year_replaces_the_packages():
    odd = YearSchedule(2026, frozenset({date(2026, 3, 10)}), frozenset(), "a correction")
    cal = WorkCalendar([*package_schedules(), odd])
    assert not cal.is_working_day(date(2026, 3, 10))
    assert cal.is_working_day(date(2026, 2, 16))  # the package's Spring Festival is gone with its year
    assert cal.schedule(2026).source == "a correction"


# --- pauses -------------------------------------------------------------------------------------------------------


def test_a_natural_pause_moves_the_due_time_by_its_length(package):
    due = cn(2026, 3, 20, 9, 0)
    answer = package.shift_for_pause(due, cn(2026, 3, 6, 17, 0), cn(2026, 3, 9, 9, 0), "natural")
    assert answer.due_at == due + timedelta(hours=64) and answer.calendar_known


def test_a_working_pause_moves_it_by_the_working_time_paused(package):
    due = cn(2026, 3, 20, 9, 0)  # a Friday
    shift = lambda a, b: package.shift_for_pause(due, a, b, "working").due_at.astimezone(CHINA)  # noqa: E731
    # Friday 17:00 to Monday 09:00: 7 hours of Friday and 9 of Monday; the weekend costs nothing.
    assert shift(cn(2026, 3, 6, 17, 0), cn(2026, 3, 9, 9, 0)) == cn(2026, 3, 21, 1, 0)
    # Two whole working days (Mon 10:00 to Wed 10:00): two working days later, at the same time of day.
    assert shift(cn(2026, 3, 9, 10, 0), cn(2026, 3, 11, 10, 0)) == cn(2026, 3, 24, 9, 0)
    # A pause inside a weekend, or over the Spring Festival holiday, moves nothing.
    assert shift(cn(2026, 3, 7, 9, 0), cn(2026, 3, 8, 18, 0)) == due
    assert shift(cn(2026, 2, 15, 10, 0), cn(2026, 2, 23, 18, 0)) == due
    # A resume before (or at) the pause moves nothing either.
    assert shift(cn(2026, 3, 9, 10, 0), cn(2026, 3, 9, 10, 0)) == due


def test_a_working_pause_counts_working_days_after_the_due_date(package):
    # Due Thu 9.24 10:00; paused a whole working day: the next working day after 9.24 is Mon 9.28 (中秋 9.25–27).
    answer = package.shift_for_pause(cn(2026, 9, 24, 10, 0), cn(2026, 9, 21, 0, 0), cn(2026, 9, 22, 0, 0), "working")
    assert answer.due_at == cn(2026, 9, 28, 10, 0) and answer.calendar_known


def test_a_pause_into_an_unknown_year_is_flagged(package):
    answer = package.shift_for_pause(cn(2026, 12, 31, 9, 0), cn(2026, 12, 30, 9, 0), cn(2027, 1, 4, 9, 0), "working")
    assert answer.calendar_known is False and answer.unknown_years == [2027]


# --- the board's years ---------------------------------------------------------------------------------------------


def test_the_board_asks_for_next_year_from_november():
    assert years_to_check(date(2026, 10, 31)) == [2026]
    assert years_to_check(date(2026, 11, 1)) == [2026, 2027]
    assert years_to_check(date(2026, 12, 31)) == [2026, 2027]


# --- schedule files --------------------------------------------------------------------------------------------------


def good(**over) -> dict:
    data = {
        "year": 2027,
        "source": "国务院办公厅关于2027年部分节假日安排的通知（测试）",
        "holidays": [{"name": "元旦", "from": date(2027, 1, 1), "to": "2027-01-03"}],
        "workdays": ["2027-02-14"],
    }
    data.update(over)
    return data


def test_the_fixture_file_parses():
    s = parse_schedule(yaml.safe_load(FIXTURE_2027.read_text("utf-8")))
    assert s.year == 2027 and len(s.holidays) == 3 + 8 + 7
    assert s.workdays == {date(2027, 2, 14), date(2027, 2, 20), date(2027, 10, 9)}
    assert s.names[date(2027, 2, 14)] == "春节" and s.names[date(2027, 10, 9)] == "国庆节"


def test_a_notice_may_name_the_end_of_the_year_before():
    # As the 2019 notice did: 2018-12-30 to 2019-01-01 off, Saturday 2018-12-29 worked.
    s = parse_schedule(
        good(year=2019, holidays=[{"name": "元旦", "from": "2018-12-30", "to": "2019-01-01"}], workdays=["2018-12-29"])
    )
    assert date(2018, 12, 30) in s.holidays and date(2018, 12, 29) in s.workdays


@pytest.mark.parametrize(
    ("over", "says"),
    [
        ({"workdays": ["2027-02-15"]}, "不是周六或周日"),  # a Monday
        ({"workdays": ["2027-01-02"]}, "既是放假日"),  # a Saturday that is also off
        ({"holidays": [{"name": "国庆节", "from": "2028-10-01", "to": "2028-10-07"}]}, "不在2027年内"),
        ({"holidays": [{"name": "元旦", "from": "2026-11-30", "to": "2026-11-30"}]}, "不在2027年内"),
        ({"workdays": ["2028-01-01"]}, "不在2027年内"),
        ({"holidays": [{"name": "春节", "from": "2027-02-13", "to": "2027-02-06"}]}, "早于起始日"),
        ({"holidays": [{"name": "春节", "from": "2027-02-30", "to": "2027-03-01"}]}, "不是日期"),
        ({"holidays": [{"name": "春节", "from": "2027-02-06"}]}, "{name, from, to}"),
        (
            {
                "holidays": [
                    {"name": "a", "from": "2027-01-01", "to": "2027-01-02"},
                    {"name": "b", "from": "2027-01-02", "to": "2027-01-02"},
                ]
            },  # noqa: E501
            "出现了两次",
        ),
        ({"holidays": []}, "holidays"),
        ({"year": "2027"}, "year"),
        ({"year": True}, "year"),
        ({"source": " "}, "source 不能为空"),
        ({"source": "示例（EXAMPLE）"}, "示例文件"),
        ({"workday": ["2027-02-14"]}, "不认识的项"),
    ],
)
def test_a_bad_schedule_is_refused_with_the_reason(over, says):
    with pytest.raises(CalendarError, match=None) as e:
        parse_schedule(good(**over))
    assert says in str(e.value)


def test_the_shipped_example_is_refused():
    example = Path(__file__).parents[2] / "docs" / "calendar-2027.example.yaml"
    with pytest.raises(CalendarError, match="示例文件"):
        parse_schedule(yaml.safe_load(example.read_text("utf-8")))
