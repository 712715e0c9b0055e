"""The inspection organisation's rules: the weekly plan (1–2 unannounced visits per district on distinct working
days, the same plan for the same week, domains in rotation, townships of the district, the district's teams), the
re-training class an overdue hazard's people go to, and when a unit's leader is summoned."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from domain.inspection import monday_of, plan_week, retraining_class_for, summons_due, week_of
from domain.taxonomy import get_taxonomy

TX = get_taxonomy()
DISTRICTS = {d: [t.code for t in towns] for d, towns in TX.districts().items()}
DOMAINS = [d.code for d in TX.inspection_domains]
TEAMS = {d: [f"gongan-{d}", f"yingji-{d}", f"shijian-{d}"] for d in DISTRICTS}
MONDAY = date(2026, 12, 7)


def plan(week=MONDAY, per_district=2, teams=TEAMS):
    return plan_week(week, DISTRICTS, DOMAINS, teams, per_district)


@pytest.mark.parametrize("per_district", [1, 2])
def test_each_district_gets_its_visits_on_distinct_working_days_of_the_week(per_district):
    visits = plan(per_district=per_district)
    assert Counter(v.district for v in visits) == {d: per_district for d in DISTRICTS}
    for d in DISTRICTS:
        mine = [v for v in visits if v.district == d]
        assert [v.slot for v in mine] == list(range(1, per_district + 1))
        days = [v.planned_for for v in mine]
        assert len(set(days)) == per_district
        assert all(MONDAY <= day <= MONDAY + timedelta(days=4) for day in days)  # Monday to Friday
        assert all(v.township in DISTRICTS[d] for v in mine), "a district's visits stay in its townships"
        assert all(v.team in TEAMS[d] for v in mine), "a district's own teams visit it"
        assert all(v.domain in DOMAINS and v.week == MONDAY for v in mine)


def test_the_same_week_always_gives_the_same_plan_and_another_week_another():
    assert plan() == plan()
    assert plan() != plan(MONDAY + timedelta(days=7))


def test_domains_rotate_so_that_each_district_sees_all_seven_within_a_few_weeks():
    for d in DISTRICTS:
        seen = {v.domain for w in range(4) for v in plan(MONDAY + timedelta(weeks=w)) if v.district == d}
        assert seen == set(DOMAINS), d
    this, next_ = plan(), plan(MONDAY + timedelta(weeks=1))
    assert [v.domain for v in this] != [v.domain for v in next_]


def test_a_district_with_no_team_is_still_planned_with_no_team_named():
    visits = plan(teams={1: ["gongan-1"]})
    assert {v.team for v in visits if v.district == 1} == {"gongan-1"}
    assert {v.team for v in visits if v.district != 1} == {""}


def test_the_week_is_the_china_monday():
    # Sunday 23:30 UTC is already Monday 07:30 in China: next week's plan.
    assert week_of(datetime(2026, 12, 6, 23, 30, tzinfo=UTC)) == MONDAY
    assert week_of(datetime(2026, 12, 6, 15, 59, tzinfo=UTC)) == MONDAY - timedelta(days=7)
    assert week_of(datetime(2026, 12, 13, 15, 59, tzinfo=UTC)) == MONDAY
    assert monday_of(date(2026, 12, 10)) == MONDAY and monday_of(MONDAY) == MONDAY


def test_retraining_class_is_the_last_friday_of_the_month_with_three_days_notice():
    # November 2026's last Friday is the 27th, December's the 25th.
    assert retraining_class_for(datetime(2026, 11, 10, 2, tzinfo=UTC)) == date(2026, 11, 27)
    assert retraining_class_for(datetime(2026, 11, 24, 2, tzinfo=UTC)) == date(2026, 11, 27)  # 3 days before
    assert retraining_class_for(datetime(2026, 11, 25, 2, tzinfo=UTC)) == date(2026, 12, 25)  # too late: next
    assert retraining_class_for(datetime(2026, 12, 30, 2, tzinfo=UTC)) == date(2027, 1, 29)  # across the year
    assert retraining_class_for(datetime(2026, 12, 30, 2, tzinfo=UTC)).weekday() == 4


def test_a_unit_overdue_again_within_the_period_is_summoned():
    at = datetime(2026, 12, 1, tzinfo=UTC)
    within = timedelta(days=90)
    assert not summons_due([], at, within)  # the first miss: exposure and re-training, no summons
    assert summons_due([at - timedelta(days=30)], at, within)
    assert summons_due([at - within], at, within)  # the window's edge counts
    assert not summons_due([at - within - timedelta(seconds=1)], at, within)
    assert not summons_due([at + timedelta(days=1)], at, within)  # a later miss is not an earlier one
