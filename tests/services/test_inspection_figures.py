"""The inspection figures, lists, exposure list, re-training roster and summonses (services/inspection_reports.py)
against values worked out by hand from the county of tests/services/inspection_county.py (its table is the
working). Rates are None, never 100 %, when nothing was due."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

from domain.models import Actor, Role
from domain.taxonomy import get_taxonomy
from services import inspection_exports
from services import inspection_reports as reports
from services.errors import Refusal
from services.schemas import BoardPeriod
from store.db import session
from tests.services.inspection_county import CLASS_LAST, CLASS_NEXT, NOW, d, seed

SUPERVISOR = Actor(username="supervisor", role=Role.supervisor)
COUNTY_LEADER = Actor(username="county_leader", role=Role.county_leader)
JIAOJING = Actor(username="jiaojing.leader", role=Role.leader, unit="jiaojing")
BAITA = Actor(username="baita.leader", role=Role.leader, township="baita")
INSPECTOR_1 = Actor(username="insp.x", role=Role.inspector, district=1)
CLERK = Actor(username="clerk", role=Role.clerk)
TX = get_taxonomy()


@pytest.fixture
def county(engine):
    seed(engine)
    return engine


def figures(engine, actor=SUPERVISOR, **filters):
    with session(engine) as db:
        return reports.figures(db, actor, TX, NOW, reports.InspectionFilters(**filters))


def rates(g) -> tuple:
    return (g.due, g.on_time, g.rectification_rate, g.recheck_due, g.rechecked, g.recheck_rate, g.overdue_now)


def test_county_figures_by_hand(county):
    f = figures(county)
    # found 12; open: H03 H05 H06 H08 H09 H11 H12 = 7; ever struck off: H01 H02 H04 H05 H07 H10 H12 = 7;
    # closed (re-checked, holds): H01 H10 = 2.
    assert (f.found, f.open, f.struck_off, f.closed) == (12, 7, 7, 2)
    # Fallen due: all but H06 (+4) and H11 (+9) = 10; struck off on time: H01 H02 H05 H07 H10 = 5 -> 50 %.
    assert (f.due, f.on_time, f.rectification_rate) == (10, 5, 0.5)
    # Re-check due by now: H01 (-1) H05 (-2) H07 (-5) H10 (-10) H12 (-4) = 5 (H02 +5, H04 +29 not yet);
    # re-checked: H01 H05 H10 H12 = 4 -> 80 %; recurred: H05 H12 = 2 of 4 -> 50 %.
    assert (f.recheck_due, f.rechecked, f.recheck_rate) == (5, 4, 0.8)
    assert (f.recurred, f.recurrence_rate) == (2, 0.5)
    # Overdue now (not handed in, past the deadline): H03, H09, H12 (H08 handed in on time, H05 due +6).
    assert f.overdue == f.overdue_now == 3


def test_by_district_and_domain(county):
    f = figures(county)
    by_district = {g.district: g for g in f.by_district}
    assert sorted(by_district) == [1, 2, 3, 4, 5, 6]  # every district shows
    # 1 (fuying): H03 H04 H08 H11 — due H03 H04 H08, none on time; no re-check due; H03 overdue.
    assert rates(by_district[1]) == (3, 0, 0.0, 0, 0, None, 1)
    # 2 (baita): H01 H02 H05 H09 — due all 4, on time H01 H02 H05; re-check due H01 H05, both done; H09 overdue.
    assert rates(by_district[2]) == (4, 3, 0.75, 2, 2, 1.0, 1)
    assert by_district[2].recurrence_rate == 0.5  # H05 of H01, H05
    # 3 (guanlu): H06 H07 H10 H12 — due H07 H10 H12, on time H07 H10; re-check due H07 H10 H12, done H10 H12.
    assert rates(by_district[3]) == (3, 2, 0.6667, 3, 2, 0.6667, 1)
    # Nothing there: no rate at all, never a fake 100 %.
    assert rates(by_district[5]) == (0, 0, None, 0, 0, None, 0) and by_district[5].district_zh == "第5片区"

    by_domain = {g.domain: g for g in f.by_domain}
    assert [g.domain for g in f.by_domain] == [d.code for d in TX.inspection_domains]
    assert rates(by_domain["work_safety"]) == (2, 2, 1.0, 1, 1, 1.0, 0)
    assert rates(by_domain["traffic"]) == (3, 0, 0.0, 1, 1, 1.0, 2)  # H03 H04 H12; H12 re-checked; H03 H12 overdue
    assert rates(by_domain["food_drug"]) == (1, 1, 1.0, 1, 0, 0.0, 0)  # H07 on time, its re-check not done
    assert rates(by_domain["rental_housing"]) == (2, 0, 0.0, 0, 0, None, 1)  # H08 waits on verification, H09 late
    assert rates(by_domain["drowning"]) == (0, 0, None, 0, 0, None, 0) and by_domain["drowning"].found == 1
    assert by_domain["traffic"].domain_zh == "交通安全"


def test_overdue_by_unit(county):
    f = figures(county)
    rows = [(u.unit, u.township, u.overdue_now, u.overdue_ever, u.hazards) for u in f.overdue_by_unit]
    # jiaojing: H03 H04 H12 all overdue once, H03 H12 now; baita itself: H05 H09, H09 overdue.
    assert rows[:2] == [("jiaojing", None, 2, 3, 3), ("township", "baita", 1, 1, 2)]
    assert set(rows[2:]) == {
        ("yingji", None, 0, 0, 2),
        ("shijian", None, 0, 0, 2),
        ("gongan", None, 0, 0, 2),
        ("township", "fuying", 0, 0, 1),
    }
    assert f.overdue_by_unit[0].unit_zh == "县公安局交警大队" and f.overdue_by_unit[1].unit_zh == "白塔镇"


def test_period(county):
    f = figures(county, period=BoardPeriod(start=d(-7), end=NOW))
    # Found in the week: H06 H11. Fallen due in it: H03 (-5) H04 (-4) H05 (-6.5) H08 (-2) H09 (-1); on time H05.
    assert (f.found, f.due, f.on_time, f.rectification_rate) == (2, 5, 1, 0.2)
    # Re-check due in it: H01 (-1) H05 (-2) H07 (-5) H12 (-4); done H01 H05 H12; recurred H05 H12.
    assert (f.recheck_due, f.rechecked, f.recheck_rate, f.recurred, f.recurrence_rate) == (4, 3, 0.75, 2, 0.6667)
    assert f.overdue == 3  # a now-figure: the period does not change it
    # A period ending in the future counts only what fell due by now.
    later = figures(county, period=BoardPeriod(start=d(-7), end=d(30)))
    assert (later.due, later.recheck_due) == (5, 4)


def test_filters(county):
    f = figures(county, domain=["traffic", "food_drug"])
    assert (f.due, f.on_time, f.found) == (4, 1, 5)  # H03 H04 H12 + H07; H07 on time
    f = figures(county, unit=["township"])
    assert (f.due, f.on_time, f.overdue) == (2, 1, 1)  # H05 on time, H09 late; H11 not due
    f = figures(county, district=[5])
    assert (f.found, f.due, f.rectification_rate, f.recheck_rate, f.recurrence_rate) == (0, 0, None, None, None)
    assert [g.district for g in f.by_district] == [5]


def test_jurisdiction(county):
    # A department's leader: its own hazards only (H03 H04 H12).
    f = figures(county, JIAOJING)
    assert (f.found, f.due, f.on_time, f.overdue) == (3, 3, 0, 2)
    assert [u.unit for u in f.overdue_by_unit] == ["jiaojing"]
    # A township's leader: every hazard in the township (H01 H02 H05 H09).
    f = figures(county, BAITA)
    assert (f.found, f.due, f.on_time, f.rectification_rate) == (4, 4, 3, 0.75)
    # A district's inspector: the district (H03 H04 H08 H11).
    assert figures(county, INSPECTOR_1).found == 4
    with pytest.raises(Refusal) as err:
        figures(county, CLERK)
    assert err.value.status_code == 403 and err.value.code == "forbidden_role"


def listed(engine, kind, actor=SUPERVISOR, **filters):
    with session(engine) as db:
        return reports.inspection_list(db, actor, kind, TX, NOW, reports.InspectionFilters(**filters))


def test_lists(county):
    out = listed(county, "hazards")
    assert out.total == 12 and out.title == "问题隐患清单"
    assert [r.hazard_no for r in out.rows][:3] == ["H11", "H06", "H09"]  # newest found first
    h09 = next(r for r in out.rows if r.hazard_no == "H09")
    assert (h09.unit_zh, h09.district_zh, h09.status_zh, h09.overdue_now) == ("白塔镇", "第2片区", "整改中", True)
    assert [r.hazard_no for r in listed(county, "hazards", status=["struck_off"]).rows] == ["H04", "H02", "H07"]
    assert listed(county, "hazards", period=BoardPeriod(start=d(-7), end=NOW)).total == 2
    assert listed(county, "hazards", JIAOJING).total == 3

    m = {r.hazard_no: r for r in listed(county, "measures").rows}
    assert (m["H01"].on_time_zh, m["H01"].recheck, m["H01"].recheck_zh) == ("是", "held", "合格")
    assert (m["H04"].on_time, m["H03"].on_time, m["H06"].on_time) == (False, False, None)
    assert (m["H05"].recheck, m["H02"].recheck, m["H07"].recheck, m["H06"].recheck) == (
        "recurred",
        "pending",
        "due",
        None,
    )
    assert m["H06"].on_time_zh == "未到期" and m["H06"].measure == "H06 整改措施"

    r = {x.hazard_no: x for x in listed(county, "responsibilities").rows}
    assert (r["H03"].leader, r["H03"].responsible, r["H03"].overdue_now) == ("jiaojing.leader", "H03责任人", True)
    assert [(e.person, e.class_date) for e in r["H03"].retraining] == [("张三", CLASS_NEXT)]
    assert [s.held_at for s in r["H03"].summonses] == [None]
    assert r["H09"].leader == "baita.leader" and r["H09"].responsible is None  # the township's own leader
    assert r["H01"].retraining == [] and r["H01"].exposed_at is None and not r["H01"].overdue

    with pytest.raises(Refusal) as err:
        listed(county, "nonsense")
    assert err.value.status_code == 404
    with pytest.raises(Refusal):
        reports.parse_filters(status="lost")
    with pytest.raises(Refusal):
        reports.parse_filters(district="north")
    f = reports.parse_filters(district="1,2", domain="traffic, food_drug", start="2026-03-01")
    assert f.district == [1, 2] and f.domain == ["traffic", "food_drug"] and f.period.start is not None


def test_exposure(county):
    with session(county) as db:
        out = reports.exposure(db, SUPERVISOR, TX, NOW, reports.InspectionFilters())
        mine = reports.exposure(db, BAITA, TX, NOW, reports.InspectionFilters())
    # Still open first, longest overdue first: H03 5 days; H09 and H12 1 day each (H12 by its new deadline);
    # then H04, struck off, 2 days late (deadline -4, handed in -2).
    assert [(e.hazard_no, e.days_overdue, e.still_open) for e in out] == [
        ("H03", 5.0, True),
        ("H09", 1.0, True),
        ("H12", 1.0, True),
        ("H04", 2.0, False),
    ]
    assert (out[0].leader, out[0].unit_zh, out[1].leader) == ("jiaojing.leader", "县公安局交警大队", "baita.leader")
    assert [e.hazard_no for e in mine] == ["H09"]


def test_roster_and_attendance(county):
    with session(county) as db:
        classes = reports.roster(db, SUPERVISOR, TX)
        assert [(c.class_date, c.enrolled, c.attended, c.unmarked) for c in classes] == [
            (CLASS_NEXT, 2, 0, 2),
            (CLASS_LAST, 1, 1, 0),
        ]
        assert [p.person for p in reports.roster(db, JIAOJING, TX)[0].people] == ["张三"]
        zhang = classes[0].people[0] if classes[0].people[0].person == "张三" else classes[0].people[1]
        with pytest.raises(Refusal) as err:
            reports.mark_attendance(db, JIAOJING, TX, zhang.id, True, NOW)
        assert err.value.status_code == 403
        marked = reports.mark_attendance(db, SUPERVISOR, TX, zhang.id, False, NOW)
        assert (marked.attended, marked.marked_by, marked.marked_at) == (False, "supervisor", NOW)
        assert reports.roster(db, SUPERVISOR, TX)[0].absent == 1
        with pytest.raises(Refusal) as err:
            reports.mark_attendance(db, SUPERVISOR, TX, 9999, True, NOW)
        assert err.value.status_code == 404


def test_summonses(county):
    with session(county) as db:
        (s,) = reports.summonses(db, SUPERVISOR, TX)
        assert (s.unit_zh, s.leader, s.earlier_hazard_nos, s.held) == (
            "县公安局交警大队",
            "jiaojing.leader",
            ["H12"],
            False,
        )
        assert reports.summonses(db, BAITA, TX) == []
        with pytest.raises(Refusal) as err:
            reports.mark_held(db, JIAOJING, TX, s.id, None, NOW)
        assert err.value.status_code == 403
        held = reports.mark_held(db, COUNTY_LEADER, TX, s.id, " 已约谈，限期整改 ", NOW)
        assert (held.held, held.held_by, held.note, held.held_at) == (True, "county_leader", "已约谈，限期整改", NOW)
        with pytest.raises(Refusal) as err:
            reports.mark_held(db, SUPERVISOR, TX, s.id, None, NOW)
        assert err.value.status_code == 409 and err.value.code == "already_held"


def test_workbooks(county):
    with session(county) as db:
        for kind, title, headers in (
            (
                "hazards",
                "问题隐患清单",
                ["编号", "领域", "乡镇（街道）", "片区", "场所", "隐患描述", "等级", "责任单位"],
            ),
            ("measures", "整改措施清单", ["编号", "隐患", "整改措施", "整改期限", "提交时间", "销号时间", "是否按期"]),
            ("responsibilities", "责任清单", ["编号", "责任单位", "责任人", "单位主要领导", "整改期限", "逾期"]),
        ):
            export = inspection_exports.list_export(db, SUPERVISOR, kind, TX, NOW, reports.InspectionFilters())
            assert export.filename.startswith(title) and export.filename.endswith(".xlsx")
            wb = load_workbook(BytesIO(export.data))
            ws = wb[title]
            rows = list(ws.iter_rows(values_only=True))
            assert list(rows[0][: len(headers)]) == headers
            assert len(rows) == 13 and ws.freeze_panes == "A2" and ws.column_dimensions["A"].width > 8
        export = inspection_exports.list_export(db, JIAOJING, "responsibilities", TX, NOW, reports.InspectionFilters())
        rows = list(load_workbook(BytesIO(export.data))["责任清单"].iter_rows(values_only=True))
        assert sorted(r[0] for r in rows[1:]) == ["H03", "H04", "H12"]

        f = reports.figures(db, SUPERVISOR, TX, NOW, reports.InspectionFilters())
        wb = load_workbook(BytesIO(inspection_exports.figures_export(f).data))
        assert wb.sheetnames == ["概览", "按片区", "按领域", "按单位逾期"]
        overview = {r[0]: r[1] for r in wb["概览"].iter_rows(min_row=2, values_only=True)}
        assert overview["整改率（按期销号/到期）"] == 0.5 and overview["回头看率"] == 0.8
        assert overview["当前逾期未整改"] == 3
        by_district = list(wb["按片区"].iter_rows(min_row=2, values_only=True))
        assert by_district[4][0] == "第5片区" and by_district[4][4] == "—"  # no rate where nothing was due
