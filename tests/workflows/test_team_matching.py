"""Explained assignment and team matching on the time-skipping server: the score breakdown in the events and
the caseload table, a member declining and being replaced, and nobody left to replace them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select
from temporalio.client import WorkflowUpdateFailedError

from domain.models import Actor, DeclineTeamAction, ResolveAction, Role
from store.db import session
from store.tables import CaseAssignment, Staff
from tests.workflows.helpers import RENSHE_MEDIATOR, event_types, events, eventually, inbox, start_case, until
from workflows.dispute_case import DisputeCase

BAITA_MEDIATOR = Actor(username="baita.mediator", role=Role.mediator, township="baita")


def add_mediator(engine, username: str, township: str = "baita", **over) -> None:
    """A second township mediator with the same profile as the seeded one."""
    with session(engine) as db:
        skills = db.get(Staff, f"{township}.mediator").skills
        db.add(
            Staff(
                username=username,
                display_name="第二调解员",
                role="mediator",
                township=township,
                password_hash="x",
                skills=skills,
                home_township=township,
                **over,
            )
        )
        db.commit()


async def test_choices_are_recorded_with_their_score_breakdown(skipping_env, worker, task_queue, engine, cases):
    h = await start_case(skipping_env, task_queue, cases)
    st = await until(h, lambda s: bool(s.team))
    assigned = events(engine, st.case_id, "assigned")[0].detail
    assert assigned["handler"] == "renshe.mediator" and "综合" in assigned["reason"]
    top = assigned["scores"][0]
    assert top["username"] == "renshe.mediator" and top["rank"] == 1 and top["eligible"]
    assert {f["name"] for f in top["factors"]} >= {"skill", "load", "locality", "rotation", "duty", "capacity"}
    # The unit's leader is ranked too, as a fallback.
    assert [c["username"] for c in assigned["scores"]] == ["renshe.mediator", "renshe.leader"]
    team = events(engine, st.case_id, "team_formed")[0].detail
    seats = {(x["unit"], x["township"]): x for x in team["slots"]}
    assert seats[("renshe", None)]["kept_handler"]
    baita = seats[(None, "baita")]
    assert baita["member"]["username"] == "baita.mediator" and baita["candidates"][0]["username"] == "baita.mediator"
    assert "常驻白塔镇" in baita["candidates"][0]["reason"]
    with session(engine) as db:
        rows = {
            (r.username, r.part, r.open)
            for r in db.exec(select(CaseAssignment).where(CaseAssignment.case_id == st.case_id))
        }
        assert rows == {("renshe.mediator", "handler", True), ("baita.mediator", "member", True)}
        assert db.get(Staff, "baita.mediator").last_assigned_at is not None
    await h.execute_update(DisputeCase.resolve, ResolveAction(actor=RENSHE_MEDIATOR, outcome="handled", summary="ok"))
    with session(engine) as db:
        assert not any(r.open for r in db.exec(select(CaseAssignment).where(CaseAssignment.case_id == st.case_id)))


async def test_a_declining_member_is_replaced_and_the_replacement_invited(
    skipping_env, worker, task_queue, engine, cases
):
    add_mediator(engine, "baita.mediator2")
    h = await start_case(skipping_env, task_queue, cases)
    st = await until(h, lambda s: bool(s.team))
    assert [m.username for m in st.team] == ["renshe.mediator", "baita.mediator"]  # a tie: by name
    st = await h.execute_update(
        DisputeCase.decline_team, DeclineTeamAction(actor=BAITA_MEDIATOR, reason="本人系当事人亲属，需回避")
    )
    assert st.team_declined == ["baita.mediator"]
    st = await until(h, lambda s: not s.team_vacancies and len(s.team) == 2)
    assert [m.username for m in st.team] == ["renshe.mediator", "baita.mediator2"]
    assert st.clock("team").met_at is not None and not st.clock("team").breached
    declined = events(engine, st.case_id, "team_member_declined")[0]
    assert declined.actor == "baita.mediator" and declined.detail["reason"] == "本人系当事人亲属，需回避"
    replaced = events(engine, st.case_id, "team_member_replaced")[0].detail
    assert replaced["member"] == "baita.mediator2" and replaced["replaces"] == "baita.mediator"
    ranking = {c["username"]: c for c in replaced["scores"]}
    assert ranking["baita.mediator2"]["rank"] == 1
    assert not ranking["baita.mediator"]["eligible"] and "谢绝" in ranking["baita.mediator"]["excluded_because"]
    got = await eventually(
        lambda: x if ("baita.mediator2", "team_invited") in (x := inbox(engine, st.case_id)) else None
    )
    assert ("renshe.mediator", "team_member_declined") in got
    # Once out, always out: the same person cannot decline again, nor can the handler.
    for actor in (BAITA_MEDIATOR, RENSHE_MEDIATOR):
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await h.execute_update(DisputeCase.decline_team, DeclineTeamAction(actor=actor, reason="不参加"))
        assert err.value.cause.type == "forbidden"


async def test_nobody_to_replace_tells_the_leader_and_the_team_clock_is_missed(
    skipping_env, worker, task_queue, engine, cases
):
    h = await start_case(skipping_env, task_queue, cases)
    await until(h, lambda s: bool(s.team))
    await h.execute_update(DisputeCase.decline_team, DeclineTeamAction(actor=BAITA_MEDIATOR, reason="病假"))
    st = await until(h, lambda s: not s.team_vacancies)
    assert [m.username for m in st.team] == ["renshe.mediator"]
    assert st.clock("team").running
    types = event_types(engine, st.case_id)
    assert types[-3:] == ["team_member_declined", "team_member_unavailable", "clock_reopened"]
    unavailable = events(engine, st.case_id, "team_member_unavailable")[0].detail
    assert "无可选人员" in unavailable["reason"]
    await eventually(lambda: ("baita.leader", "team_member_needed") in inbox(engine, st.case_id))
    await skipping_env.sleep(timedelta(hours=1, seconds=1))
    st = await until(h, lambda s: s.clock("team").breached)
    assert [e.detail["clock"] for e in events(engine, st.case_id, "clock_breached")] == ["team"]
    await eventually(lambda: ("supervisor", "reminder") in inbox(engine, st.case_id))
