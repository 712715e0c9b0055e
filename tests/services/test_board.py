"""The supervision board's figures (services/board.py over store/board.py's SQL) on a real SQLite read model, against
values worked out by hand for the county in board_county.py: the whole county and leaders' slices, every period
bound in China time (across midnight, a week, a month and a year), cases without a team clock, a case re-handled
after review, and the weekly trend against the baseline; on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from domain.models import Actor, Role
from services import board
from services.errors import Refusal
from store.db import session
from store.tables import Case
from tests.services.board_county import NOW, seed

SUPERVISOR = Actor(username="supervisor", role=Role.supervisor)
RENSHE = Actor(username="renshe.leader", role=Role.leader, unit="renshe")
XIAGE = Actor(username="xiage.leader", role=Role.leader, township="xiage")


@pytest.fixture(params=["sqlite", "postgresql"])
def county(request):
    """The county on SQLite, and on PostgreSQL (a throwaway server, as tests/store uses): the same SQL on both."""
    engine = request.getfixturevalue("engine" if request.param == "sqlite" else "pg_engine")
    seed(engine)
    return engine


def view(engine, viewer=SUPERVISOR, start=None, end=None, **kw):
    from domain.taxonomy import get_taxonomy

    with session(engine) as db:
        return board.board(db, viewer, get_taxonomy(), NOW, board.parse_period(start, end), **kw)


def row(rows, key: str, code: str):
    return next(r for r in rows if getattr(r, key) == code)


def test_the_record_activity_keeps_the_board_columns(county):
    with session(county) as db:
        rows = {r.case_no[-1]: r for r in db.exec(select(Case)).all()}
    clocks = lambda r: (r.clock_routed, r.clock_assigned, r.clock_team, r.clock_yellow, r.clock_red)  # noqa: E731
    assert clocks(rows["B"]) == ("met", "breached", "breached", "met", "met")
    assert clocks(rows["D"]) == ("met", "met", None, "running", "running")  # no team needed: no team clock
    assert clocks(rows["G"]) == ("met", "stopped", "stopped", "stopped", "stopped")
    assert rows["A"].resolution_days == 3.0 and rows["J"].resolution_days == 0.25 and rows["C"].resolution_days is None
    # Re-handled after review: B resolved again (its rating the new one), C open again with its rating cleared;
    # both keep that they asked for review.
    assert (rows["B"].rating, rows["C"].rating) == (4, None)
    assert rows["B"].review_requested_at is not None and rows["C"].review_requested_at is not None
    assert rows["C"].member_units == ["renshe", "weijian"]


def test_county_over_everything(county):
    v = view(county)
    assert (v.scope, v.scope_zh, v.period.start, v.period.end) == ("county", "全县", None, None)
    assert v.totals.model_dump() == {"cases": 10, "resolved": 4, "closed": 4, "open": 5}
    assert v.by_colour == {"green": 3, "yellow": 1, "red": 1}
    assert (v.average_resolution_days, v.median_resolution_days) == (4.31, 3.5)  # 0.25, 3, 4, 10
    sl = {name: c.model_dump() for name, c in v.service_levels.items()}
    assert sl["routed"] == {"met": 9, "breached": 0, "running": 1, "stopped": 0, "compliance": 1.0}
    assert sl["assigned"] == {"met": 7, "breached": 1, "running": 1, "stopped": 1, "compliance": 0.875}
    assert sl["team"] == {"met": 3, "breached": 1, "running": 0, "stopped": 1, "compliance": 0.75}
    assert sl["yellow"] == {"met": 3, "breached": 3, "running": 3, "stopped": 1, "compliance": 0.5}
    assert sl["red"] == {"met": 4, "breached": 1, "running": 4, "stopped": 1, "compliance": 0.8}
    assert v.satisfaction.model_dump() == {"average": 4.0, "count": 3, "satisfied": 2, "satisfied_share": 0.6667}
    assert (v.reviewed, v.review_rate) == (2, 0.5)  # B and C, of A, B, H rated and C rated then re-handled

    assert [u.unit for u in v.by_unit] == ["fayuan", "fulian", "renshe", "shijian", "township", "unrouted", "weijian"]
    renshe = row(v.by_unit, "unit", "renshe")
    assert (renshe.unit_zh, renshe.open, renshe.total, renshe.received, renshe.resolved) == ("县人力社保局", 0, 0, 4, 3)
    assert (renshe.average_days, renshe.median_days) == (5.67, 4.0)  # A 3, B 4, H 10
    assert {n: (c.met, c.breached, c.stopped, c.compliance) for n, c in renshe.clocks.items()} == {
        "routed": (4, 0, 0, 1.0),
        "assigned": (2, 1, 1, 0.6667),
        "team": (2, 1, 1, 0.6667),
    }
    assert (renshe.satisfaction.average, renshe.satisfaction.satisfied_share) == (4.0, 0.6667)
    assert (renshe.reviewed, renshe.review_rate) == (1, 0.3333)
    weijian = row(v.by_unit, "unit", "weijian")
    assert (weijian.open, weijian.green, weijian.resolved, weijian.median_days, weijian.review_rate) == (
        1,
        1,
        0,
        None,
        1.0,
    )
    assert weijian.satisfaction.count == 0 and weijian.satisfaction.average is None
    shijian = row(v.by_unit, "unit", "shijian")  # no team needed: no team clock at all
    assert shijian.clocks["team"].model_dump() == {
        "met": 0,
        "breached": 0,
        "running": 0,
        "stopped": 0,
        "compliance": None,
    }
    assert (shijian.average_days, shijian.median_days) == (0.25, 0.25)
    assert row(v.by_unit, "unit", "township").unit_zh == "属地乡镇（街道）"
    unrouted = row(v.by_unit, "unit", "unrouted")
    assert (unrouted.unit_zh, unrouted.open, unrouted.clocks["routed"].running) == ("待分流", 1, 1)

    assert [t.township for t in v.by_township] == ["anzhou", "baita", "fuying", "guanlu", "tianshi", "unknown", "xiage"]
    baita = row(v.by_township, "township", "baita")
    assert (baita.township_zh, baita.open, baita.received, baita.average_days, baita.median_days) == (
        "白塔镇",
        0,
        3,
        3.5,
        3.5,
    )
    tianshi = row(v.by_township, "township", "tianshi")  # C open and re-handled, H resolved in 10 days
    assert (tianshi.open, tianshi.green, tianshi.median_days, tianshi.reviewed, tianshi.review_rate) == (
        1,
        1,
        10.0,
        1,
        0.5,
    )
    assert (row(v.by_township, "township", "xiage").red, row(v.by_township, "township", "unknown").open) == (1, 1)


def test_yellow_and_red_lists_name_the_county_leader_in_charge(county):
    v = view(county)
    (f,) = v.yellow
    assert (f.case_no, f.status_zh, f.unit_zh, f.township_zh, f.category_zh) == (
        "WH-2026-F",
        "已交办",
        "县人民法院",
        "安洲街道",
        "合同债务纠纷",
    )
    assert (f.handler, f.handler_name, f.days_open) == ("fayuan.mediator", "县人民法院调解员", 10.08)  # 10 d 2 h
    assert (f.leader_in_charge, f.leader_in_charge_zh) == ("cl.zhengfa", "县委副书记、政法委书记")
    (e,) = v.red
    assert (e.case_no, e.unit, e.township, e.days_open) == ("WH-2026-E", "township", "xiage", 18.08)
    # Township-led: the leader who keeps in touch with the township.
    assert (e.leader_in_charge, e.leader_in_charge_zh) == ("cl.chengjian", "副县长（城建和自然资源）")


def test_weekly_trend_in_china_weeks_against_the_baseline(county):
    trend = view(county, baseline_days=28.5).trend
    assert trend.baseline_days == 28.5
    assert [w.week for w in trend.weeks] == [f"2026-W{n:02d}" for n in range(1, 12)]  # from J's week to now's
    assert (trend.weeks[0].start, trend.weeks[0].end) == (date(2025, 12, 29), date(2026, 1, 4))
    figures = {w.week: (w.resolved, w.average_days, w.difference_days) for w in trend.weeks}
    assert figures["2026-W01"] == (1, 0.25, -28.25)  # J, resolved 1 Jan 02:00 China (31 Dec in UTC)
    assert figures["2026-W03"] == (1, 10.0, -18.5)  # H
    # A was resolved on Monday 2 March at 00:30 China time, still Sunday in UTC: this week, with B.
    assert figures["2026-W09"] == (0, None, None)
    assert figures["2026-W10"] == (2, 3.5, -25.0)
    assert view(county, baseline_days=3.0).trend.weeks[9].difference_days == 0.5


def test_period_of_days_counts_cases_received_in_china_time(county):
    v = view(county, start="2026-02-27", end="2026-03-01")  # 27 Feb 00:00 to 2 Mar 00:00, China time
    # A arrived at 00:30 on 27 Feb China time (26 Feb in UTC); B and F on 28 Feb; C on 2 Mar is out.
    assert v.totals.model_dump() == {"cases": 3, "resolved": 2, "closed": 2, "open": 5}
    assert (v.average_resolution_days, v.median_resolution_days) == (3.5, 3.5)
    assert v.by_colour == {"green": 3, "yellow": 1, "red": 1}  # now, whatever the period
    assert [c.case_no for c in v.red] == ["WH-2026-E"]  # received before the period, red now
    assert v.service_levels["assigned"].model_dump() == {
        "met": 2,
        "breached": 1,
        "running": 0,
        "stopped": 0,
        "compliance": 0.6667,
    }
    renshe = row(v.by_unit, "unit", "renshe")
    assert (renshe.received, renshe.resolved, renshe.median_days) == (2, 2, 3.5)
    assert row(v.by_unit, "unit", "township").received == 0  # E is listed for being open, not for its flow
    # The trend counts resolutions within the period: A's, at 00:30 on 2 Mar, falls after it.
    assert [(w.week, w.resolved) for w in v.trend.weeks] == [("2026-W09", 0)]


def test_period_bounds_as_times_mean_china_time_unless_they_say_otherwise(county):
    local = view(county, start="2026-03-02T00:00", end="2026-03-08")
    utc = view(county, start="2026-03-01T16:00:00Z", end="2026-03-08T16:00:00+00:00")
    assert local.period == utc.period
    assert local.model_dump(exclude={"generated_at"}) == utc.model_dump(exclude={"generated_at"})
    # C and G arrived that week; D at 00:00 on Monday 9 March is the next one's.
    assert (local.totals.cases, local.totals.resolved) == (2, 0)
    assert local.average_resolution_days is None and local.median_resolution_days is None
    assert [(w.week, w.resolved, w.average_days) for w in local.trend.weeks] == [("2026-W10", 2, 3.5)]
    d_day = view(county, start="2026-03-09", end="2026-03-09")
    assert (d_day.totals.cases, row(d_day.by_unit, "unit", "fulian").received) == (1, 1)


def test_a_month_and_a_year_boundary(county):
    january = view(county, start="2026-01-01", end="2026-01-31")
    # Received in January: H only (J arrived on New Year's Eve); but J was resolved at 02:00 on 1 January China
    # time, so January's first week counts it.
    assert (january.totals.cases, january.average_resolution_days) == (1, 10.0)
    assert [(w.week, w.resolved, w.average_days) for w in january.trend.weeks] == [
        ("2026-W01", 1, 0.25),
        ("2026-W02", 0, None),
        ("2026-W03", 1, 10.0),
        ("2026-W04", 0, None),
        ("2026-W05", 0, None),
    ]
    december = view(county, start="2025-12-01", end="2025-12-31")
    assert (december.totals.cases, december.totals.resolved) == (1, 1)  # J, resolved the next year
    assert [(w.week, w.resolved) for w in december.trend.weeks] == [("2026-W01", 0)]  # 31 Dec only: J is in January


def test_a_leader_sees_their_own_slice(county):
    v = view(county, RENSHE)
    assert (v.scope, v.scope_zh) == ("renshe", "县人力社保局")
    # renshe's own cases A, B, G, H, and C, whose team has a renshe member.
    assert v.totals.model_dump() == {"cases": 5, "resolved": 3, "closed": 3, "open": 1}
    assert v.by_colour == {"green": 1, "yellow": 0, "red": 0}
    assert [u.unit for u in v.by_unit] == ["renshe", "weijian"]
    assert [t.township for t in v.by_township] == ["baita", "tianshi"]
    assert (v.average_resolution_days, v.median_resolution_days) == (5.67, 4.0)
    assert (v.reviewed, v.review_rate) == (2, 0.5)
    assert v.yellow == [] and v.red == []
    assert [w.week for w in v.trend.weeks][0] == "2026-W02"  # from H, their first case
    assert {w.week: w.resolved for w in v.trend.weeks if w.resolved} == {"2026-W03": 1, "2026-W10": 2}

    x = view(county, XIAGE)
    assert (x.scope, x.scope_zh, x.totals.cases) == ("xiage", "下各镇", 1)
    assert [c.case_no for c in x.red] == ["WH-2026-E"] and x.red[0].leader_in_charge == "cl.chengjian"
    assert [t.township for t in x.by_township] == ["xiage"] and x.by_colour["red"] == 1

    nobody = view(county, Actor(username="inspector", role=Role.inspector))
    assert nobody.totals.cases == 0 and nobody.by_unit == [] and nobody.trend.weeks == []


def test_an_empty_read_model_gives_an_empty_board(engine):
    v = view(engine)
    assert v.totals.model_dump() == {"cases": 0, "resolved": 0, "closed": 0, "open": 0}
    assert v.by_unit == [] and v.trend.weeks == [] and v.median_resolution_days is None
    assert v.service_levels["routed"].compliance is None


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-02-30", None),
        ("yesterday", None),
        (None, "2026-13-01"),
        ("2026-03-02", "2026-03-01"),
        ("2026-03-02T08:00", "2026-03-02T08:00"),
        ("0001-01-01", None),
    ],
)
def test_a_bad_period_is_refused(start, end):
    with pytest.raises(Refusal) as err:
        board.parse_period(start, end)
    assert (err.value.status_code, err.value.code) == (422, "invalid_period")
    assert err.value.message.startswith("统计期间")
