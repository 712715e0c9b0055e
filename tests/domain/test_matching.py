"""The explained matcher (domain.matching): hard limits, the score's factors, ties, and the case-flow side
of a member declining (domain.case_flow)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain import automation, case_flow, clocks, matching
from domain.case_flow import CaseRuleError
from domain.matching import Candidate, Need
from domain.models import (
    Actor,
    CaseIntake,
    CaseState,
    CaseStatus,
    DeclineTeamAction,
    Role,
    TeamSlot,
    TeamVacancy,
)
from tests.conftest import fast_levels

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # 10:00 in the county
NAMES = {"labor": "劳资纠纷", "baita": "白塔镇", "tianshi": "田市镇"}


def need(**over) -> Need:
    base = dict(category="labor", township="baita", now=NOW, names=NAMES)
    base.update(over)
    return Need(**base)


def person(name: str, **over) -> Candidate:
    base = dict(username=name, role="mediator", unit="renshe", skills=("labor",), capacity=30, open_cases=0)
    base.update(over)
    return Candidate(**base)


def test_someone_on_leave_is_never_chosen_however_good_their_score():
    ranked = matching.rank(
        [person("a", on_duty=False, home_township="baita"), person("b", open_cases=25, skills=("consumer",))], need()
    )
    assert matching.best(ranked).username == "b"
    a = next(s for s in ranked if s.username == "a")
    assert not a.eligible and a.total > ranked[0].total and "休假" in a.excluded_because
    assert next(f for f in a.factors if f.name == "duty").passed is False


def test_leave_until_a_date_ends_the_day_after():
    on_leave = person("a", on_duty=False, leave_until=date(2026, 11, 28))
    assert not matching.score(on_leave, need()).eligible
    assert "休假至 2026-11-28" in matching.score(on_leave, need()).excluded_because
    back = matching.score(on_leave, need(now=NOW + timedelta(days=1)))
    assert back.eligible and "休假已于" in back.reason


def test_at_or_over_capacity_is_never_chosen_even_when_alone():
    ranked = matching.rank(
        [person("full", open_cases=30), person("over", open_cases=31), person("zero", capacity=0)], need()
    )
    assert matching.best(ranked) is None
    assert all(not s.eligible for s in ranked)
    assert "已满" in ranked[0].excluded_because
    assert "无可选人员" in matching.summary(ranked, "县人力社保局")


def test_declined_people_are_excluded_but_shown():
    ranked = matching.rank([person("a"), person("b", open_cases=5)], need(declined=frozenset({"a"})))
    assert matching.best(ranked).username == "b"
    a = ranked[-1]
    assert a.username == "a" and not a.eligible and "谢绝" in a.excluded_because


def test_locality_breaks_a_tie():
    ranked = matching.rank([person("a", home_township="tianshi"), person("b", home_township="baita")], need())
    assert [s.username for s in ranked] == ["b", "a"]
    loc = {f.name: f for f in ranked[0].factors}["locality"]
    assert loc.points == matching.WEIGHTS["locality"] and "白塔镇" in loc.note


def test_rotation_breaks_a_tie_least_recently_assigned_first():
    ranked = matching.rank(
        [
            person("a", last_assigned_at=NOW - timedelta(hours=2)),
            person("b", last_assigned_at=NOW - timedelta(hours=30)),
            person("c"),
        ],
        need(),
    )
    assert [s.username for s in ranked] == ["c", "b", "a"]
    # Beyond the horizon rotation is full for both: the earlier assignment still goes first, then the name.
    old = [person("y", last_assigned_at=NOW - timedelta(days=9)), person("x", last_assigned_at=NOW - timedelta(days=5))]
    assert [s.username for s in matching.rank(old, need())] == ["y", "x"]
    same = [person("y"), person("x")]
    assert [s.username for s in matching.rank(same, need())] == ["x", "y"]


def test_skill_and_load_weigh_as_documented():
    ranked = matching.rank([person("skilled", open_cases=15), person("idle", skills=("consumer",))], need())
    assert ranked[0].username == "skilled"  # 40 + 15 beats 0 + 30
    f = {x.name: x for x in ranked[0].factors}
    assert f["skill"].points == 40 and f["load"].points == 15 and "15/30" in f["load"].note
    unknown = matching.score(person("n", skills=None), need())
    assert {x.name: x for x in unknown.factors}["skill"].points == 20


def test_a_leader_is_only_a_fallback_when_asked():
    ranked = matching.rank(
        [person("boss", role="leader", home_township="baita"), person("med", open_cases=20)],
        need(fallback_roles=frozenset({"leader"})),
    )
    assert [s.username for s in ranked] == ["med", "boss"] and ranked[1].eligible
    assert "仅在无其他人选时承办" in ranked[1].reason and "仅在" not in ranked[0].reason
    assert (
        matching.rank(
            [person("boss", role="leader"), person("med", open_cases=29, on_duty=False)],
            need(fallback_roles=frozenset({"leader"})),
        )[0].username
        == "boss"
    )


def test_the_breakdown_is_complete_and_explained():
    s = matching.score(
        person("a", open_cases=3, handling=2, home_township="baita", last_assigned_at=NOW - timedelta(hours=36)), need()
    )
    names = [f.name for f in s.factors]
    assert names == ["skill", "load", "locality", "rotation", "duty", "capacity"]
    scored = [f for f in s.factors if f.weight]
    assert sum(f.weight for f in scored) == 100
    assert s.total == pytest.approx(sum(f.points for f in scored))
    assert s.total == pytest.approx(40 + 27 + 15 + 7.5)
    for text in (
        "综合",
        "专长",
        "擅长劳资纠纷",
        "在办 3/30 件（承办 2）",
        "常驻白塔镇",
        "距上次交办 36.0 小时",
        "在岗",
    ):
        assert text in s.reason, text
    ranked = matching.rank([person("a"), person("b", open_cases=1)], need())
    assert [s.rank for s in ranked] == [1, 2]
    assert "a，综合" in matching.summary(ranked, "县人力社保局") and "2 人中可选 2 人" in matching.summary(ranked, "x")


# --- declining, in the pure state machine ----------------------------------------------------------------

RENSHE = Actor(username="renshe.mediator", role=Role.mediator, unit="renshe")
BAITA = Actor(username="baita.mediator", role=Role.mediator, township="baita")
BAITA2 = Actor(username="baita.mediator2", role=Role.mediator, township="baita")


def teamed() -> CaseState:
    s = CaseState(
        case_id="c1",
        case_no="MT-1",
        received_at=NOW,
        intake_by="citizen",
        levels=fast_levels(),
        intake=CaseIntake(description="欠薪", citizen_name="王", citizen_phone="13800001234"),
    )
    s.clocks = clocks.initial_clocks(s)
    s.category, s.unit, s.township, s.needs_team, s.team_units = "labor", "renshe", "baita", True, ["renshe"]
    clocks.ensure_team_clock(s, True)
    s.handler, s.team, s.status = RENSHE, [RENSHE, BAITA], CaseStatus.team_formed
    clocks.meet(s, "team", NOW + timedelta(seconds=1))
    return s


def decline(s, who: Actor, reason="本周在外培训"):
    return DeclineTeamAction(
        actor=Actor(username=who.username, role=who.role, unit=who.unit, township=who.township), reason=reason
    )


def test_only_a_member_who_is_not_the_handler_may_decline_while_working():
    s = teamed()
    for who, kind in ((RENSHE, "forbidden"), (BAITA2, "forbidden")):
        with pytest.raises(CaseRuleError) as err:
            case_flow.check(s, "decline_team", decline(s, who))
        assert err.value.kind == kind
    with pytest.raises(CaseRuleError) as err:
        case_flow.check(s, "decline_team", decline(s, BAITA, reason="  "))
    assert err.value.kind == "invalid"
    case_flow.check(s, "decline_team", decline(s, BAITA))
    s.status = CaseStatus.resolved
    with pytest.raises(CaseRuleError) as err:
        case_flow.check(s, "decline_team", decline(s, BAITA))
    assert err.value.kind == "illegal_state"


def test_decline_then_replacement_or_the_leader_told_and_the_clock_running_again():
    s = teamed()
    fx = case_flow.apply(s, "decline_team", decline(s, BAITA), NOW + timedelta(minutes=5))
    assert [m.username for m in s.team] == ["renshe.mediator"] and s.team_declined == ["baita.mediator"]
    assert s.team_vacancies == [
        TeamVacancy(
            unit=None,
            township="baita",
            declined_by="baita.mediator",
            reason="本周在外培训",
            at=NOW + timedelta(minutes=5),
        )
    ]
    assert [e[0] for e in fx.events] == ["team_member_declined"]
    vacancy = s.team_vacancies.pop()

    replaced = teamed()
    replaced.team = [RENSHE]
    fx = automation.fill_vacancy(replaced, vacancy, TeamSlot(township="baita", member=BAITA2, reason="r"), NOW)
    assert [m.username for m in replaced.team] == ["renshe.mediator", "baita.mediator2"]
    assert [e[0] for e in fx.events] == ["team_member_replaced"]
    assert fx.notices[0][0] == "team_invited" and fx.notices[0][1].usernames == ["baita.mediator2"]
    # The seat is taken now: a second answer for it changes nothing.
    assert not automation.fill_vacancy(replaced, vacancy, TeamSlot(township="baita", member=BAITA2), NOW).events

    nobody = teamed()
    nobody.team = [RENSHE]
    fx = automation.fill_vacancy(
        nobody, vacancy, TeamSlot(township="baita", member=None, reason="无"), NOW + timedelta(minutes=6)
    )
    assert [e[0] for e in fx.events] == ["team_member_unavailable", "clock_reopened"]
    kind, audience, params = fx.notices[0]
    assert kind == "team_member_needed" and audience.township_leaders == ["baita"]
    assert nobody.clock("team").running

    late = teamed()
    late.team = [RENSHE]
    fx = automation.fill_vacancy(late, vacancy, TeamSlot(township="baita"), NOW + timedelta(hours=2))
    assert [e[0] for e in fx.events] == ["team_member_unavailable"] and late.clock("team").met_at is not None
