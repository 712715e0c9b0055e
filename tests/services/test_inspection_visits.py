"""Inspection visits (services/inspection_visits.py) on the seeded demo county: who sees the plan (never the
visited units), recording a planned visit once, an unplanned one, and refusals that leave nothing behind."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from domain.inspection import week_of
from domain.models import Actor
from domain.taxonomy import get_taxonomy
from services.errors import Refusal
from services.inspection_visits import VisitIn, VisitListQuery, get_visit, list_visits, record
from store.db import session
from store.directory import actor_of
from store.tables import InspectionVisit, Staff

NOW = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)  # Wednesday 10:00 China time
MONDAY = date(2026, 3, 2)
TX = get_taxonomy()


@pytest.fixture
def county(engine):
    """The demo county with a plan for this week and next in districts 1 and 2 (as the weekly Schedule writes
    it), and one visit of two weeks ago."""
    rows = [
        # (visit_id, week, district, slot, township, domain, team, day)
        ("p-1-1", MONDAY, 1, 1, "fuying", "traffic", "gongan-1", 1),
        ("p-1-2", MONDAY, 1, 2, "anzhou", "food_drug", "yingji-2", 3),
        ("p-2-1", MONDAY, 2, 1, "baita", "drowning", "gongan-2", 2),
        ("p-1-3", MONDAY + timedelta(days=7), 1, 1, "nanfeng", "work_safety", "gongan-1", 0),
        ("p-old", MONDAY - timedelta(days=14), 1, 1, "fuying", "traffic", "gongan-1", 0),
    ]
    with session(engine) as db:
        for visit_id, week, district, slot, township, domain, team, day in rows:
            db.add(
                InspectionVisit(
                    visit_id=visit_id,
                    kind="weekly",
                    week=week,
                    district=district,
                    slot=slot,
                    township=township,
                    domain=domain,
                    team=team,
                    planned_for=week + timedelta(days=day),
                )
            )
        db.commit()
    return engine


def person(engine, username: str) -> Actor:
    with session(engine) as db:
        staff = db.get(Staff, username)
        assert staff is not None, username
        return actor_of(staff)


def listed(engine, username: str, **query) -> list[str]:
    with session(engine) as db:
        out = list_visits(db, person(engine, username), VisitListQuery(**query), TX, NOW)
    return [v.visit_id for v in out.items]


def refused(fn, *args) -> Refusal:
    with pytest.raises(Refusal) as err:
        fn(*args)
    return err.value


def test_an_inspector_sees_the_districts_plan_for_this_week_and_next(county):
    # insp.gongan.01: team gongan-1, district 1.
    assert listed(county, "insp.gongan.01") == ["p-1-1", "p-1-2", "p-1-3"]
    assert listed(county, "insp.gongan.01", mine=True) == ["p-1-1", "p-1-3"]
    assert listed(county, "insp.gongan.01", week=MONDAY - timedelta(days=12)) == ["p-old"]
    assert listed(county, "insp.gongan.06") == ["p-2-1"]  # team gongan-2, district 2
    assert listed(county, "fuying.inspector") == ["p-1-1", "p-1-2", "p-1-3"]  # the township's own inspector
    with session(county) as db:
        out = list_visits(db, person(county, "insp.gongan.01"), VisitListQuery(), TX, NOW)
    first = out.items[0]
    assert (first.township_zh, first.domain_zh, first.district_zh, first.status_zh) == (
        "福应街道",
        "交通安全",
        "第1片区",
        "待走访",
    )
    assert first.mine and not out.items[1].mine
    assert (out.start, out.end) == (MONDAY, MONDAY + timedelta(days=13))


def test_overseers_see_every_district_and_may_filter(county):
    for who in ("supervisor", "county_leader", "inspector"):  # `inspector`: county-wide, no district
        assert listed(county, who) == ["p-1-1", "p-2-1", "p-1-2", "p-1-3"]
    assert listed(county, "supervisor", district=2) == ["p-2-1"]
    assert listed(county, "supervisor", status="done") == []


def test_the_visited_units_never_see_the_plan(county):
    for who in ("gongan.leader", "gongan.mediator", "fuying.leader", "fuying.mediator", "clerk"):
        err = refused(listed, county, who)
        assert (err.status_code, err.code) == (403, "forbidden_role")
        with session(county) as db:
            err = refused(get_visit, db, person(county, who), "p-1-1", TX)
        assert err.status_code == 403


def test_an_inspector_may_not_read_another_districts_plan(county):
    err = refused(lambda: listed(county, "insp.gongan.01", district=2))
    assert (err.status_code, err.code) == (403, "not_in_jurisdiction")
    with session(county) as db:
        err = refused(get_visit, db, person(county, "insp.gongan.01"), "p-2-1", TX)
    assert (err.status_code, err.code) == (404, "visit_not_found")


def test_recording_a_planned_visit_once(county):
    me = person(county, "insp.gongan.01")
    body = VisitIn(site="  福应街道某物流园  ", note="消防通道堆放货物")
    with session(county) as db:
        assert record(db, me, "p-1-1", body, TX, NOW).visit_id == "p-1-1"
    with session(county) as db:
        row = db.get(InspectionVisit, "p-1-1")
        assert (row.status, row.site, row.note, row.visited_by) == (
            "done",
            "福应街道某物流园",
            "消防通道堆放货物",
            me.username,
        )
        assert (row.township, row.domain) == ("fuying", "traffic")  # the plan's, as none was given
        assert row.visited_at.replace(tzinfo=UTC) == NOW
    # Done visits stay on the list, after the planned ones.
    assert listed(county, "insp.gongan.01") == ["p-1-2", "p-1-3", "p-1-1"]
    assert listed(county, "insp.gongan.01", status="done") == ["p-1-1"]
    # A second phone recording the same visit is refused and changes nothing.
    other = person(county, "insp.gongan.02")
    with session(county) as db:
        err = refused(record, db, other, "p-1-1", VisitIn(site="别处"), TX, NOW + timedelta(hours=1))
    assert (err.status_code, err.code) == (409, "visit_already_recorded")
    with session(county) as db:
        row = db.get(InspectionVisit, "p-1-1")
        assert (row.site, row.visited_by) == ("福应街道某物流园", me.username)


def test_a_planned_visit_may_move_within_its_district(county):
    me = person(county, "insp.gongan.01")
    with session(county) as db:
        record(db, me, "p-1-1", VisitIn(township="anzhou", domain="residential_fire", site="安洲某小区"), TX, NOW)
        row = db.get(InspectionVisit, "p-1-1")
        assert (row.township, row.domain) == ("anzhou", "residential_fire")
        err = refused(record, db, me, "p-1-2", VisitIn(township="baita", site="白塔某处"), TX, NOW)
    assert (err.status_code, err.code, err.field) == (422, "township_outside_district", "township")


def test_refusals_leave_the_visit_planned(county):
    me = person(county, "insp.gongan.01")
    cases = [
        ("p-2-1", VisitIn(site="白塔镇某水库"), me, 403, "not_in_jurisdiction"),
        ("nope", VisitIn(site="某处"), me, 404, "visit_not_found"),
        ("p-1-2", VisitIn(township="atlantis", site="某处"), me, 422, "unknown_township"),
        ("p-1-2", VisitIn(domain="space", site="某处"), me, 422, "unknown_domain"),
        ("p-1-2", VisitIn(site="   "), me, 422, "site_required"),
        ("p-1-2", VisitIn(site="某处"), person(county, "fuying.leader"), 403, "forbidden_role"),
        ("p-1-2", VisitIn(site="某处"), person(county, "county_leader"), 403, "forbidden_role"),
    ]
    for visit_id, body, who, status, code in cases:
        with session(county) as db:
            err = refused(record, db, who, visit_id, body, TX, NOW)
        assert (err.status_code, err.code) == (status, code), visit_id
    with session(county) as db:
        assert {v.status for v in db.exec(select(InspectionVisit)).all()} == {"planned"}


def test_an_unplanned_visit_is_created_done(county):
    me = person(county, "insp.gongan.01")
    body = VisitIn(kind="special", township="baita", domain="rental_housing", site="白塔镇某出租房", note="暗访")
    with session(county) as db:
        visit_id = record(db, me, None, body, TX, NOW).visit_id
    with session(county) as db:
        row = db.get(InspectionVisit, visit_id)
        assert (row.kind, row.status, row.district, row.team, row.week) == ("special", "done", 2, "gongan-1", None)
        assert (row.township, row.domain, row.site, row.visited_by) == (
            "baita",
            "rental_housing",
            "白塔镇某出租房",
            me.username,
        )
    # Found in another district: the inspector who recorded it still sees it, that district's inspectors too.
    assert visit_id in listed(county, "insp.gongan.01")
    assert visit_id in listed(county, "insp.gongan.06")
    assert visit_id not in listed(county, "insp.gongan.11")  # district 3
    assert visit_id not in listed(county, "insp.gongan.01", week=MONDAY + timedelta(days=7))
    assert week_of(NOW) == MONDAY


def test_an_unplanned_visit_needs_its_kind_township_and_domain(county):
    me = person(county, "insp.gongan.01")
    cases = [
        (VisitIn(township="baita", domain="traffic", site="x"), "invalid_kind", "kind"),
        (VisitIn(kind="weekly", township="baita", domain="traffic", site="x"), "invalid_kind", "kind"),
        (VisitIn(kind="daily", domain="traffic", site="x"), "township_required", "township"),
        (VisitIn(kind="daily", township="atlantis", domain="traffic", site="x"), "unknown_township", "township"),
        (VisitIn(kind="daily", township="baita", site="x"), "domain_required", "domain"),
        (VisitIn(kind="leader_led", township="baita", domain="space", site="x"), "unknown_domain", "domain"),
    ]
    for body, code, field in cases:
        with session(county) as db:
            err = refused(record, db, me, None, body, TX, NOW)
        assert (err.status_code, err.code, err.field) == (422, code, field)
    with session(county) as db:
        assert len(db.exec(select(InspectionVisit)).all()) == 5
