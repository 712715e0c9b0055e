"""The board counts pausing, extensions and sending back beside the resolution days (which stay calendar days from
intake to resolution), and lists the task forces past their deadline first, marked overdue, with the county leader
who leads them and their members — on the hand-computed county of board_county.py with a few rows changed as the
record activity would write them (cases.paused, paused_seconds, extensions_*, sent_back; task_forces.*)."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from services import exports
from store.db import session
from store.tables import Case, TaskForceRow
from tests.services.board_county import NOW, seed
from tests.services.test_board import SUPERVISOR, XIAGE, view

DAY = timedelta(days=1)


@pytest.fixture(params=["sqlite", "postgresql"])
def county(request):
    engine = request.getfixturevalue("engine" if request.param == "sqlite" else "pg_engine")
    seed(engine)
    with session(engine) as db:
        rows = {r.case_no[-1]: r for r in db.exec(select(Case)).all()}
        rows["A"].paused_seconds = int(2 * DAY.total_seconds())  # paused two days, resumed, then resolved
        rows["B"].paused_seconds = int(DAY.total_seconds() / 2)
        rows["D"].paused = True  # standing still now (its pause not over: counted once resumed)
        rows["F"].extensions_approved, rows["F"].extensions_refused = 1, 1
        rows["C"].extensions_refused = 1
        rows["D"].sent_back = 2
        rows["I"].sent_back = 1
        rows["F"].colour = "red"  # a second red case, received after E
        for r in rows.values():
            db.add(r)
        db.add(
            TaskForceRow(
                case_id=rows["E"].case_id,
                led_by="cl.chengjian",
                units=["zhujian"],
                started_at=NOW - 10 * DAY,
                members=["xiage.leader"],
                deadline=NOW + 2 * DAY,
            )
        )
        db.add(
            TaskForceRow(
                case_id=rows["F"].case_id,
                led_by="cl.zhengfa",
                units=["fayuan"],
                started_at=NOW - 5 * DAY,
                members=["fayuan.leader", "anzhou.leader"],
                deadline=NOW - DAY,
                overdue_at=NOW - DAY,
            )
        )
        db.commit()
    return engine


def test_pauses_extensions_and_send_backs_are_counted_beside_the_resolution_days(county):
    v = view(county)
    st = v.standstill
    assert st.paused_now == 1  # D
    assert (st.paused_cases, st.paused_days) == (2, 2.5)  # A and B, their pauses over
    assert (st.extensions_approved, st.extensions_refused, st.extended_cases) == (1, 2, 1)
    assert (st.sent_back_cases, st.sent_back) == (2, 3)
    # The resolution days are still intake to resolution, pauses included (A: 3.0 days, as before).
    assert v.average_resolution_days == round((3.0 + 4.0 + 10.0 + 0.25) / 4, 2)
    # Over a period: only the cases received in it (A and B in late February; D's pause is now, whenever).
    feb = view(county, start="2026-02-27", end="2026-03-01").standstill
    assert (feb.paused_cases, feb.paused_days, feb.paused_now, feb.sent_back) == (2, 2.5, 1, 0)


def test_task_forces_past_their_deadline_come_first_marked_overdue(county):
    v = view(county)
    assert [f.case_no for f in v.task_forces] == ["WH-2026-F", "WH-2026-E"]
    late, on_time = v.task_forces
    assert late.overdue and late.overdue_at is not None and not on_time.overdue
    assert late.led_by == "cl.zhengfa" and late.led_by_name and late.led_by_name != "cl.zhengfa"
    assert late.members == ["fayuan.leader", "anzhou.leader"] and len(late.member_names) == 2
    # The red list too: F's task force is overdue, so F comes before E, though received later.
    assert [(c.case_no, c.task_force_overdue) for c in v.red] == [("WH-2026-F", True), ("WH-2026-E", False)]


def test_a_deadline_passed_is_overdue_even_before_the_workflow_says_so(county):
    with session(county) as db:
        e = db.exec(select(TaskForceRow).where(TaskForceRow.led_by == "cl.chengjian")).one()
        e.deadline = NOW - timedelta(minutes=1)
        db.add(e)
        db.commit()
    assert all(f.overdue for f in view(county).task_forces)


def test_a_leader_sees_their_slice_and_the_workbook_says_it(county):
    xiage = view(county, XIAGE)
    assert [f.case_no for f in xiage.task_forces] == ["WH-2026-E"] and xiage.standstill.paused_now == 0
    wb = load_workbook(BytesIO(exports.board_workbook(view(county, SUPERVISOR))))
    overview = {r[0]: r[1] for r in wb["概览"].iter_rows(min_row=2, values_only=True)}
    assert overview["当前暂停计时案件"] == 1 and overview["累计暂停天数"] == 2.5 and overview["逾期专班"] == 1
    forces = list(wb["县领导领衔专班"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1]) for r in forces] == [("WH-2026-F", "是"), ("WH-2026-E", "否")]
    red = list(wb["红码案件"].iter_rows(min_row=2, values_only=True))
    assert red[0][0] == "WH-2026-F" and red[0][-1] == "是"
