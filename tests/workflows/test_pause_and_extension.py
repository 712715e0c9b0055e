"""Clocks a county can live by, on the time-skipping server with the real worker and read model: a paused case
stays green across its yellow due time and its clocks resume later by the pause; several pauses add up; an
extension refused changes nothing, one approved moves yellow and red; a case sent back twice goes to a
supervisor; reminders come before the clocks; a red case's task force is led by the county leader in charge,
its members told, and its deadline passing tells the overall convener."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain.models import (
    Actor,
    ExtensionDecisionAction,
    ExtensionRequestAction,
    PauseAction,
    ResumeAction,
    Role,
    SendBackAction,
    TriageAction,
)
from tests.conftest import fast_levels
from tests.workflows.helpers import (
    CLERK,
    RENSHE_MEDIATOR,
    SUPERVISOR,
    event_types,
    events,
    eventually,
    inbox,
    start_case,
    until,
)
from workflows.dispute_case import DisputeCase

RENSHE_LEADER = Actor(username="renshe.leader", role=Role.leader, unit="renshe")
DEBT = "邻居老李前年借了我两万元，写了借条，到期后一直拖着不还，多次催讨无果"


def lead_leader(st) -> Actor:
    if st.unit == "township":
        return Actor(username=f"{st.township}.leader", role=Role.leader, township=st.township)
    return Actor(username=f"{st.unit}.leader", role=Role.leader, unit=st.unit)


DAY = timedelta(days=1)


def clock(state, name):
    return next(c for c in state.clocks if c.name == name)


async def assigned(env, task_queue, cases, **levels):
    h = await start_case(env, task_queue, cases, levels=fast_levels(**levels))
    st = await until(h, lambda s: bool(s.team))
    return h, st


async def test_a_paused_case_stays_green_and_its_clocks_resume_later_by_the_pause(
    skipping_env, worker, task_queue, engine, cases
):
    env = skipping_env
    h, st = await assigned(env, task_queue, cases)
    yellow_due, red_due = clock(st, "yellow").due_at, clock(st, "red").due_at
    await env.sleep(6 * DAY)
    with pytest.raises(WorkflowUpdateFailedError):  # a reason is required
        await h.execute_update(DisputeCase.pause, PauseAction(actor=RENSHE_MEDIATOR, reason=" "))
    st = await h.execute_update(DisputeCase.pause, PauseAction(actor=RENSHE_MEDIATOR, reason="等待当事人补充工资条"))
    assert st.paused and clock(st, "yellow").paused_at is not None
    with pytest.raises(WorkflowUpdateFailedError):  # already paused
        await h.execute_update(DisputeCase.pause, PauseAction(actor=RENSHE_MEDIATOR, reason="again"))
    await env.sleep(4 * DAY)  # past the yellow due time (day 7) while paused
    st = await until(h, lambda s: s.paused)
    assert st.colour == "green" and not clock(st, "yellow").breached
    st = await h.execute_update(DisputeCase.resume, ResumeAction(actor=RENSHE_LEADER))
    assert not st.paused
    stood = st.pauses[0].resumed_at - st.pauses[0].at
    assert stood >= 4 * DAY
    assert clock(st, "yellow").due_at == yellow_due + stood and clock(st, "red").due_at == red_due + stood
    # A second pause adds up.
    await h.execute_update(DisputeCase.pause, PauseAction(actor=RENSHE_MEDIATOR, reason="等待劳动仲裁结果"))
    await env.sleep(2 * DAY)
    st = await h.execute_update(DisputeCase.resume, ResumeAction(actor=RENSHE_MEDIATOR, note="仲裁结果已出"))
    both = sum((p.resumed_at - p.at for p in st.pauses), timedelta())
    assert clock(st, "yellow").due_at == yellow_due + both
    # The yellow clock fires once, at its moved time, not before.
    await env.sleep(yellow_due + both - st.pauses[-1].resumed_at - timedelta(hours=1))
    assert (await until(h, lambda s: True)).colour == "green"
    await env.sleep(2 * timedelta(hours=1))
    st = await until(h, lambda s: s.colour == "yellow")
    assert [e.detail["clock"] for e in events(engine, st.case_id, "clock_breached")] == ["yellow"]
    assert event_types(engine, st.case_id).count("paused") == 2


async def test_an_extension_refused_changes_nothing_and_one_approved_moves_the_colours(
    skipping_env, worker, task_queue, engine, cases
):
    h, st = await assigned(skipping_env, task_queue, cases)
    yellow_due, red_due = clock(st, "yellow").due_at, clock(st, "red").due_at
    ask = ExtensionRequestAction(actor=RENSHE_MEDIATOR, duration=3 * DAY, reason="需等待工程款结算")
    with pytest.raises(WorkflowUpdateFailedError):  # only the handler asks
        await h.execute_update(DisputeCase.request_extension, ask.model_copy(update={"actor": RENSHE_LEADER}))
    await h.execute_update(DisputeCase.request_extension, ask)
    with pytest.raises(WorkflowUpdateFailedError):  # one pending request at a time
        await h.execute_update(DisputeCase.request_extension, ask)
    with pytest.raises(WorkflowUpdateFailedError):  # the handler does not decide their own request
        await h.execute_update(
            DisputeCase.decide_extension, ExtensionDecisionAction(actor=RENSHE_MEDIATOR, approve=True, reason="好")
        )
    st = await h.execute_update(
        DisputeCase.decide_extension, ExtensionDecisionAction(actor=RENSHE_LEADER, approve=False, reason="理由不足")
    )
    assert st.extensions[0].status == "refused"
    assert (clock(st, "yellow").due_at, clock(st, "red").due_at) == (yellow_due, red_due)
    await h.execute_update(DisputeCase.request_extension, ask)
    st = await h.execute_update(
        DisputeCase.decide_extension, ExtensionDecisionAction(actor=SUPERVISOR, approve=True, reason="同意延期3天")
    )
    assert st.extensions[1].status == "approved" and st.extensions[1].decided_by == "supervisor"
    assert (clock(st, "yellow").due_at, clock(st, "red").due_at) == (yellow_due + 3 * DAY, red_due + 3 * DAY)
    types = event_types(engine, st.case_id)
    assert types.count("extension_requested") == 2 and "extension_refused" in types and "extension_approved" in types
    got = await eventually(
        lambda: x if ("renshe.mediator", "extension_decided") in (x := inbox(engine, st.case_id)) else None
    )
    assert ("renshe.leader", "extension_requested") in got


async def test_a_case_sent_back_twice_goes_to_a_supervisor(skipping_env, worker, task_queue, engine, cases):
    h, st = await assigned(skipping_env, task_queue, cases)
    with pytest.raises(WorkflowUpdateFailedError):  # the team is formed: too late to say it is not ours
        await h.execute_update(DisputeCase.send_back, SendBackAction(actor=RENSHE_LEADER, reason="非本单位职责"))
    # A debt between neighbours needs no team: its unit may still say it is not theirs once it is assigned.
    h = await start_case(skipping_env, task_queue, cases, description=DEBT, levels=fast_levels())
    st = await until(h, lambda s: s.status == "assigned")
    sender = lead_leader(st)
    back_to = TriageAction(actor=CLERK, category=st.category, unit=st.unit, township=st.township, needs_team=False)
    routed_before = clock(st, "routed")
    st = await h.execute_update(DisputeCase.send_back, SendBackAction(actor=sender, reason="非本单位职责"))
    assert st.status == "received" and st.handler is None and len(st.sent_back) == 1
    assert clock(st, "routed").due_at > routed_before.due_at and clock(st, "routed").running
    # The clerks route it again (the classifier does not send it straight back).
    await h.execute_update(DisputeCase.triage, back_to)
    st = await until(h, lambda s: s.handler is not None)
    st = await h.execute_update(DisputeCase.send_back, SendBackAction(actor=sender, reason="仍非本单位职责"))
    assert len(st.sent_back) == 2
    with pytest.raises(WorkflowUpdateFailedError):  # twice sent back: a clerk may no longer decide
        await h.execute_update(DisputeCase.triage, back_to)
    labour = TriageAction(actor=SUPERVISOR, category="labor", unit="renshe", township="baita", needs_team=False)
    st = await h.execute_update(DisputeCase.triage, labour)
    assert st.status in ("routed", "assigned") and st.unit == "renshe"
    got = await eventually(lambda: x if ("supervisor", "sent_back") in (x := inbox(engine, st.case_id)) else None)
    assert ("clerk", "sent_back") in got  # the first time, the clerks were told


async def test_reminders_come_before_the_clocks(skipping_env, worker, task_queue, engine, cases):
    env = skipping_env
    h, st = await assigned(env, task_queue, cases, remind_before=DAY)
    assert clock(st, "yellow").remind_at == clock(st, "yellow").due_at - DAY
    await env.sleep(6 * DAY + timedelta(hours=1))
    st = await until(h, lambda s: clock(s, "yellow").reminded_at is not None)
    assert st.colour == "green"
    got = await eventually(lambda: x if ("renshe.mediator", "reminder") in (x := inbox(engine, st.case_id)) else None)
    assert ("renshe.mediator", "reminder") in got
    assert [e.detail["clock"] for e in events(engine, st.case_id, "clock_reminded")] == ["yellow"]


async def test_a_red_case_task_force_is_led_by_the_leader_in_charge_and_its_deadline_tells_the_convener(
    skipping_env, worker, task_queue, engine, cases
):
    env = skipping_env
    h, st = await assigned(env, task_queue, cases, task_force_within=3 * DAY)
    await env.sleep(14 * DAY + timedelta(minutes=1))
    st = await until(h, lambda s: s.task_force is not None)
    tf = st.task_force
    assert tf.led_by == "cl.shehui" and tf.deadline == tf.started_at + 3 * DAY
    assert {"renshe.leader", "baita.leader"} <= set(tf.members) and "county_leader" in tf.conveners
    told = await eventually(lambda: x if ("renshe.leader", "task_force") in (x := inbox(engine, st.case_id)) else None)
    assert {("cl.shehui", "turned_red"), ("cl.shehui", "task_force"), ("baita.leader", "task_force")} <= told
    assert not any(r.startswith("cl.") and r != "cl.shehui" for r, _ in told)
    await env.sleep(3 * DAY + timedelta(minutes=1))
    st = await until(h, lambda s: s.task_force.overdue_at is not None)
    told = await eventually(
        lambda: x if ("county_leader", "task_force_overdue") in (x := inbox(engine, st.case_id)) else None
    )
    assert len(events(engine, st.case_id, "task_force_overdue")) == 1


async def test_working_day_clocks_come_from_the_calendar_and_a_pause_over_days_off_costs_nothing(
    skipping_env, worker, task_queue, engine, cases
):
    from domain.calendar import WorkCalendar, package_schedules

    calendar = WorkCalendar(package_schedules())
    env = skipping_env
    h, st = await assigned(env, task_queue, cases, days="working")
    for name, duration in (("yellow", 7 * DAY), ("red", 14 * DAY)):
        expected = calendar.due(st.received_at, duration, "working")
        assert clock(st, name).due_at == expected.due_at and clock(st, name).calendar_known == expected.calendar_known
        assert clock(st, name).due_at - st.received_at >= duration  # weekends (and holidays) do not count
    # Paused and resumed: the clocks move by the working time that passed while they stood still, not more.
    await h.execute_update(DisputeCase.pause, PauseAction(actor=RENSHE_MEDIATOR, reason="等待当事人补充材料"))
    before = clock(await until(h, lambda s: s.paused), "yellow")
    await env.sleep(3 * DAY)
    st = await h.execute_update(DisputeCase.resume, ResumeAction(actor=RENSHE_MEDIATOR))
    pause = st.pauses[0]
    shifted = calendar.shift_for_pause(before.due_at, pause.at, pause.resumed_at, "working")
    # (The workflow asks the calendar as the update arrives; the pause's record is closed a moment later.)
    assert abs(clock(st, "yellow").due_at - shifted.due_at) < timedelta(seconds=1)
    assert timedelta(0) <= clock(st, "yellow").due_at - before.due_at <= pause.resumed_at - pause.at
