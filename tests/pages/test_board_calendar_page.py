"""The supervision board's banner for a year without a holiday schedule: shown (to the centre and to a leader)
for each year the board needs and the calendar does not know, gone once the year is loaded."""

from __future__ import annotations

from datetime import UTC, date, datetime

from domain.calendar import YearSchedule, years_to_check
from domain.times import china_local
from store.calendar import save_schedule, work_calendar
from store.db import session
from tests.pages.staff_helpers import sign_in, text_of


def banner(year: int) -> str:
    return f"{year}年节假日安排尚未导入，工作日计时按周一至周五估算"


async def test_the_banner_until_the_year_is_loaded(site):
    today = china_local(datetime.now(UTC)).date()
    wanted = years_to_check(today)
    # The page reads the real clock: which years it needs, and which of them are missing, depend on today (in
    # December 2026, 2027 is missing until loaded; tests/services/test_board_calendar.py fixes the date).
    with session(site.engine) as db:
        unknown = [y for y in wanted if not work_calendar(db).known(y)]
    await sign_in(site.http, "renshe.leader")
    text = text_of((await site.get("/staff/board")).text)
    for y in wanted:
        assert (banner(y) in text) is (y in unknown), y

    with session(site.engine) as db:
        for y in unknown:  # a county loads each missing year
            day = date(y, 1, 1)
            save_schedule(db, YearSchedule(y, frozenset({day}), frozenset(), f"{y}年通知"), "ops", datetime.now(UTC))
        db.commit()
    text = text_of((await site.get("/staff/board")).text)
    assert "节假日安排尚未导入" not in text
