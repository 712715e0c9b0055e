"""Every service-level clock, met and missed, on the time-skipping server."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from domain.models import ResolveAction, TriageAction, WithdrawAction
from store.db import session
from store.tables import Case, Staff
from tests.workflows.helpers import (
    CLERK,
    RENSHE_MEDIATOR,
    events,
    eventually,
    inbox,
    start_case,
    until,
)
from workflows.dispute_case import DisputeCase

VAGUE = "我有点事情想反映一下，麻烦你们帮忙处理"
LABOUR_NO_PLACE = "包工头拖欠我们三个月工资不给，电话也不接"


async def test_routed_and_assigned_clocks_met_record_when(skipping_env, worker, task_queue, engine, cases):
    h = await start_case(skipping_env, task_queue, cases)
    st = await until(h, lambda s: bool(s.team))
    for name in ("routed", "assigned", "team"):
        clock = st.clock(name)
        assert clock.met_at is not None and not clock.breached
        assert clock.met_at <= clock.due_at
    assert len(events(engine, st.case_id, "clock_met")) == 3


async def test_vague_text_waits_for_a_clerk_and_misses_routing_and_assignment(
    skipping_env, worker, task_queue, engine, cases
):
    h = await start_case(skipping_env, task_queue, cases, description=VAGUE)
    st = await until(h, lambda s: s.routing_attempted)
    assert st.status == "received"
    assert events(engine, st.case_id, "routing_pending")
    await skipping_env.sleep(timedelta(minutes=5, seconds=1))
    st = await until(h, lambda s: s.clock("assigned").breached)
    assert st.clock("routed").breached and st.colour == "green"
    breached = [e.detail["clock"] for e in events(engine, st.case_id, "clock_breached")]
    assert breached == ["routed", "assigned"]
    await eventually(lambda: ("supervisor", "reminder") in inbox(engine, st.case_id))
    with session(engine) as db:
        assert db.get(Case, st.case_id).overdue
    # A clerk routes it late: the routing clock stays breached (a late step never un-misses a clock).
    st = await h.execute_update(
        DisputeCase.triage,
        TriageAction(actor=CLERK, category="neighbor", unit="township", township="baita", reason="电话回访后确认"),
    )
    st = await until(h, lambda s: s.handler is not None)
    assert st.handler.username == "baita.mediator"
    assert st.clock("routed").breached and st.clock("routed").met_at is None


async def test_no_one_on_duty_misses_assignment_and_tells_the_unit_leader(
    skipping_env, worker, task_queue, engine, cases
):
    with session(engine) as db:
        for person in db.exec(select(Staff).where(Staff.unit == "renshe")):
            person.on_duty = False
            db.add(person)
        db.commit()
    h = await start_case(skipping_env, task_queue, cases)
    st = await until(h, lambda s: s.assignment_attempted_for == s.routing_version and s.status == "routed")
    assert st.handler is None
    await eventually(lambda: ("renshe.leader", "assignment_pending") in inbox(engine, st.case_id))
    await skipping_env.sleep(timedelta(minutes=5, seconds=1))
    st = await until(h, lambda s: s.clock("assigned").breached)
    assert not st.clock("routed").breached


async def test_team_clock_missed_when_no_second_party_is_found(skipping_env, worker, task_queue, engine, cases):
    h = await start_case(skipping_env, task_queue, cases, description=LABOUR_NO_PLACE)
    st = await until(h, lambda s: s.team_attempted_for == s.routing_version and s.handler is not None)
    assert st.township is None and st.team == []
    assert events(engine, st.case_id, "team_incomplete")
    await skipping_env.sleep(timedelta(hours=1, seconds=1))
    st = await until(h, lambda s: s.clock("team").breached)
    assert st.clock("assigned").met_at is not None


async def test_resolution_before_seven_days_meets_yellow_and_red(skipping_env, worker, task_queue, engine, cases):
    h = await start_case(skipping_env, task_queue, cases)
    await until(h, lambda s: bool(s.team))
    await skipping_env.sleep(timedelta(days=3))
    st = await h.execute_update(
        DisputeCase.resolve, ResolveAction(actor=RENSHE_MEDIATOR, outcome="agreement", summary="双方达成协议")
    )
    assert st.clock("yellow").met_at is not None and st.clock("red").met_at is not None
    await skipping_env.sleep(timedelta(days=6))
    st = await h.query(DisputeCase.state)
    assert st.colour == "green" and not st.clock("yellow").breached


async def test_yellow_and_red_fire_once_each_with_escalations(skipping_env, worker, task_queue, engine, cases):
    h = await start_case(skipping_env, task_queue, cases)
    await until(h, lambda s: bool(s.team))
    await skipping_env.sleep(timedelta(days=15))
    st = await until(h, lambda s: s.colour == "red" and s.task_force is not None)
    assert [e.detail["clock"] for e in events(engine, st.case_id, "clock_breached")] == ["yellow", "red"]
    assert len(events(engine, st.case_id, "turned_yellow")) == 1
    assert len(events(engine, st.case_id, "turned_red")) == 1
    # A labour case: the county leader in charge of 人社局 (cl.shehui) leads, not the first leader on a roster.
    assert events(engine, st.case_id, "task_force_started")[0].detail["led_by"] == "cl.shehui"
    got = await eventually(lambda: x if ("cl.shehui", "task_force") in (x := inbox(engine, st.case_id)) else None)
    assert {
        ("renshe.leader", "turned_yellow"),
        ("baita.leader", "turned_yellow"),
        ("cl.shehui", "turned_red"),
    } <= got
    # Red goes to the leader in charge only: the other county leaders and the convener are not told.
    assert not {r for r, k in got if k == "turned_red"} - {"cl.shehui"}


async def test_unrated_resolved_case_closes_itself(skipping_env, worker, task_queue, engine, cases):
    h = await start_case(skipping_env, task_queue, cases)
    await until(h, lambda s: bool(s.team))
    await h.execute_update(
        DisputeCase.resolve, ResolveAction(actor=RENSHE_MEDIATOR, outcome="handled", summary="已协调支付")
    )
    await skipping_env.sleep(timedelta(days=7, seconds=1))
    outcome = await h.result()
    assert outcome.status == "closed"
    closed = events(engine, outcome.case_id, "closed")
    assert len(closed) == 1 and closed[0].actor == "system"


async def test_withdrawal_stops_every_running_clock(skipping_env, worker, task_queue, engine, cases):
    h = await start_case(skipping_env, task_queue, cases, description=VAGUE)
    await until(h, lambda s: s.routing_attempted)
    st = await h.execute_update(DisputeCase.withdraw, WithdrawAction(actor=CLERK, reason="群众自行和解"))
    assert st.status == "withdrawn"
    assert all(c.stopped_at is not None for c in st.clocks)
    outcome = await h.result()
    assert outcome.status == "withdrawn"
    assert not events(engine, outcome.case_id, "clock_breached")
