"""The pure state machine: the table's allowed moves and who may make them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain import case_flow, clocks
from domain.case_flow import STEPS, CaseRuleError
from domain.models import (
    CITIZEN,
    Actor,
    AssignAction,
    CaseIntake,
    CaseState,
    CaseStatus,
    RateAction,
    ResolveAction,
    Role,
    TriageAction,
)
from tests.conftest import fast_levels

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
SUP = Actor(username="supervisor", role=Role.supervisor)
BAITA_MED = Actor(username="baita.mediator", role=Role.mediator, township="baita")


def new_case() -> CaseState:
    s = CaseState(
        case_id="c1",
        case_no="MT-1",
        received_at=T0,
        intake_by="citizen",
        levels=fast_levels(),
        intake=CaseIntake(description="邻居家排水", citizen_name="李四", citizen_phone="13900000000"),
    )
    s.clocks = clocks.initial_clocks(s)
    return s


def test_every_status_has_a_step_out_or_is_an_end():
    reachable_from = {st for step in STEPS.values() for st in step.allowed_from}
    assert reachable_from | case_flow.ENDED == set(CaseStatus)


def test_triage_then_assign_meets_both_clocks_and_notifies_the_handler():
    s = new_case()
    case_flow.check(s, "triage", TriageAction(actor=SUP, category="neighbor", unit="township", township="baita"))
    case_flow.apply(
        s,
        "triage",
        TriageAction(actor=SUP, category="neighbor", unit="township", township="baita"),
        T0 + timedelta(minutes=1),
    )
    action = AssignAction(actor=SUP, handler=BAITA_MED)
    case_flow.check(s, "assign", action)
    fx = case_flow.apply(s, "assign", action, T0 + timedelta(minutes=2))
    assert s.status == CaseStatus.assigned
    assert s.clock("routed").met_at and s.clock("assigned").met_at
    assert fx.notices[0][0] == "assigned" and fx.notices[0][1].usernames == ["baita.mediator"]


def test_handler_of_another_township_is_invalid():
    s = new_case()
    case_flow.apply(s, "triage", TriageAction(actor=SUP, category="neighbor", unit="township", township="baita"), T0)
    other = Actor(username="tianshi.mediator", role=Role.mediator, township="tianshi")
    with pytest.raises(CaseRuleError) as err:
        case_flow.check(s, "assign", AssignAction(actor=SUP, handler=other))
    assert err.value.kind == "invalid"


def test_township_leader_may_assign_its_own_case_but_not_anothers():
    s = new_case()
    case_flow.apply(s, "triage", TriageAction(actor=SUP, category="neighbor", unit="township", township="baita"), T0)
    own = Actor(username="baita.leader", role=Role.leader, township="baita")
    case_flow.check(s, "assign", AssignAction(actor=own, handler=BAITA_MED))
    other = Actor(username="tianshi.leader", role=Role.leader, township="tianshi")
    with pytest.raises(CaseRuleError) as err:
        case_flow.check(s, "assign", AssignAction(actor=other, handler=BAITA_MED))
    assert err.value.kind == "forbidden"


def test_rating_needs_resolution_and_closes():
    s = new_case()
    with pytest.raises(CaseRuleError) as err:
        case_flow.check(s, "rate", RateAction(actor=CITIZEN, score=3))
    assert err.value.kind == "illegal_state"
    case_flow.apply(s, "triage", TriageAction(actor=SUP, category="neighbor", unit="township", township="baita"), T0)
    case_flow.apply(s, "assign", AssignAction(actor=SUP, handler=BAITA_MED), T0)
    case_flow.apply(s, "resolve", ResolveAction(actor=SUP, outcome="handled", summary="ok"), T0 + timedelta(days=1))
    assert s.auto_close_at == T0 + timedelta(days=8)
    case_flow.apply(s, "rate", RateAction(actor=CITIZEN, score=3), T0 + timedelta(days=2))
    assert s.status == CaseStatus.closed and s.auto_close_at is None


def test_breaching_red_before_yellow_was_processed_still_goes_yellow_then_red():
    s = new_case()
    late = T0 + timedelta(days=20)
    order = [c.name for c in clocks.due(s, late)]
    assert order == ["routed", "assigned", "yellow", "red"]
    for name in order:
        case_flow.breach(s, name, late)
    assert s.colour == "red"


def test_auditor_can_do_nothing():
    s = new_case()
    auditor = Actor(username="auditor", role=Role.auditor)
    for name in STEPS:
        with pytest.raises(CaseRuleError) as err:
            case_flow.check(s, name, type("A", (), {"actor": auditor})())
        assert err.value.kind == "forbidden"
