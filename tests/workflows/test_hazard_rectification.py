"""A hazard's workflow on the time-skipping server with the real recorder and read model: on time to struck off
and re-checked; late (reminded, exposed, 平安办 told); verification refused then accepted; recurrence at the
re-check with a new deadline. Refused steps leave no trace."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import select
from temporalio.client import WorkflowUpdateFailedError

from domain import hazards as hz
from domain.models import Actor, Role
from store.db import session
from store.tables import HazardEventRow, HazardRow, Notification, RetrainingEnrolment, Summons
from tests.workflows.helpers import poll
from workflows.hazard_rectification import HazardRectification, workflow_id

LEVELS = hz.HazardLevels(
    major=timedelta(days=3), general=timedelta(days=7), minor=timedelta(days=15), recheck_after=timedelta(days=30)
)
INSPECTOR = Actor(username="inspector", role=Role.inspector)
UNIT = Actor(username="xiaofang.leader", role=Role.leader, unit="xiaofang")


async def start(env, task_queue, started, severity="major"):
    hazard_id = uuid.uuid4().hex
    report = hz.HazardReport(
        hazard_id=hazard_id,
        hazard_no=f"YH-{hazard_id[:6]}",
        domain="residential_fire",
        township="baita",
        site="白塔镇某小区3幢",
        description="消防通道被杂物堵塞",
        severity=severity,
        unit="xiaofang",
        responsible="物业经理张某",
        measure="清理杂物，设置禁停标识",
        found_by="inspector",
        found_at=await env.get_current_time(),
    )
    handle = await env.client.start_workflow(
        HazardRectification.run,
        hz.HazardStart(report=report, levels=LEVELS),
        id=workflow_id(hazard_id),
        task_queue=task_queue,
    )
    started.append(handle)
    return handle


def evidence(now) -> hz.EvidenceAction:
    return hz.EvidenceAction(
        actor=UNIT,
        evidence=hz.Evidence(
            material_id=uuid.uuid4().hex,
            filename="整改后.jpg",
            content_type="image/jpeg",
            size=100,
            stored_name="x",
            by=UNIT.username,
            at=now,
        ),
    )


def types(engine, hazard_id):
    with session(engine) as db:
        return [
            e.type
            for e in db.exec(
                select(HazardEventRow).where(HazardEventRow.hazard_id == hazard_id).order_by(HazardEventRow.seq)
            )
        ]


async def settled(handle, predicate):
    async def ready():
        s = await handle.query(HazardRectification.state)
        return s if predicate(s) and s.recorded_seq == s.next_seq - 1 else None

    return await poll(ready, "the hazard's state")


async def test_on_time_struck_off_and_rechecked(skipping_env, worker, engine, cases):
    env = skipping_env
    h = await start(env, worker.task_queue, cases)
    await settled(h, lambda s: s.recorded_seq >= 1)
    with pytest.raises(WorkflowUpdateFailedError):  # nothing to verify yet
        await h.execute_update(HazardRectification.verify, hz.VerifyAction(actor=INSPECTOR, accept=True))
    await env.sleep(timedelta(days=1))
    s = await h.execute_update(HazardRectification.submit_evidence, evidence(await env.get_current_time()))
    assert s.status == hz.HazardStatus.submitted
    s = await h.execute_update(HazardRectification.verify, hz.VerifyAction(actor=INSPECTOR, accept=True))
    assert s.status == hz.HazardStatus.struck_off and not s.overdue
    await env.sleep(timedelta(days=31))
    await settled(h, lambda s: s.recheck_at is None)
    await h.execute_update(HazardRectification.recheck, hz.RecheckAction(actor=INSPECTOR, holds=True))
    outcome = await h.result()
    assert outcome.status == hz.HazardStatus.rechecked and not outcome.overdue
    hazard_id = outcome.hazard_id
    assert types(engine, hazard_id) == ["found", "evidence_submitted", "struck_off", "recheck_due", "rechecked"]
    with session(engine) as db:
        row = db.get(HazardRow, hazard_id)
        assert row.status == "rechecked" and row.struck_off_on_time is True and row.district == 2


async def test_late_hazard_is_exposed_and_the_office_told_then_rejected_and_accepted(
    skipping_env, worker, engine, cases
):
    env = skipping_env
    h = await start(env, worker.task_queue, cases)
    await env.sleep(timedelta(days=3, hours=1))
    s = await settled(h, lambda s: s.overdue)
    assert s.exposed_at is not None
    hazard_id = s.report.hazard_id
    assert types(engine, hazard_id)[:3] == ["found", "reminded", "overdue"]
    with session(engine) as db:
        told = {
            n.recipient
            for n in db.exec(
                select(Notification).where(Notification.case_id == hazard_id, Notification.kind == "hazard_overdue")
            )
        }
    assert {"xiaofang.leader", "zhengfa.leader"} <= told
    await h.execute_update(HazardRectification.submit_evidence, evidence(await env.get_current_time()))
    with pytest.raises(WorkflowUpdateFailedError):  # a refusal needs a reason
        await h.execute_update(HazardRectification.verify, hz.VerifyAction(actor=INSPECTOR, accept=False))
    s = await h.execute_update(
        HazardRectification.verify, hz.VerifyAction(actor=INSPECTOR, accept=False, reason="照片看不出已清理")
    )
    assert s.status == hz.HazardStatus.rectifying and s.rejections == 1
    await h.execute_update(HazardRectification.submit_evidence, evidence(await env.get_current_time()))
    s = await h.execute_update(HazardRectification.verify, hz.VerifyAction(actor=INSPECTOR, accept=True))
    assert s.status == hz.HazardStatus.struck_off
    assert types(engine, hazard_id).count("overdue") == 1
    with session(engine) as db:
        assert db.get(HazardRow, hazard_id).struck_off_on_time is False
    # Back at the re-check: the new deadline does not make the late striking-off an on-time one.
    await env.sleep(timedelta(days=30, hours=1))
    s = await h.execute_update(HazardRectification.recheck, hz.RecheckAction(actor=INSPECTOR, holds=False))
    assert s.status == hz.HazardStatus.reopened
    with session(engine) as db:
        assert db.get(HazardRow, hazard_id).struck_off_on_time is False


async def test_recurrence_at_recheck_reopens_with_a_new_deadline(skipping_env, worker, engine, cases):
    env = skipping_env
    h = await start(env, worker.task_queue, cases, severity="general")
    await h.execute_update(HazardRectification.submit_evidence, evidence(await env.get_current_time()))
    await h.execute_update(HazardRectification.verify, hz.VerifyAction(actor=INSPECTOR, accept=True))
    outsider = Actor(username="shijian.leader", role=Role.leader, unit="shijian")
    with pytest.raises(WorkflowUpdateFailedError):  # not the inspector
        await h.execute_update(HazardRectification.recheck, hz.RecheckAction(actor=outsider, holds=False))
    await env.sleep(timedelta(days=30, hours=1))
    s = await h.execute_update(
        HazardRectification.recheck, hz.RecheckAction(actor=INSPECTOR, holds=False, note="通道又被电动车堵住")
    )
    assert s.status == hz.HazardStatus.reopened and s.reopened == 1
    assert s.deadline > s.report.found_at + timedelta(days=37)
    await env.sleep(timedelta(days=8))
    s = await settled(h, lambda s: s.overdue)
    assert types(engine, s.report.hazard_id)[-1] == "overdue"


async def test_overdue_enrols_the_responsible_in_retraining_and_a_second_miss_summons_the_leader(
    skipping_env, worker, engine, cases
):
    env = skipping_env
    first = await start(env, worker.task_queue, cases)
    await env.sleep(timedelta(days=1))
    second = await start(env, worker.task_queue, cases)
    await env.sleep(timedelta(days=2, hours=1))
    s1 = await settled(first, lambda s: s.overdue)
    with session(engine) as db:
        (enrolled,) = db.exec(select(RetrainingEnrolment)).all()
        assert (enrolled.hazard_id, enrolled.person, enrolled.unit) == (s1.report.hazard_id, "物业经理张某", "xiaofang")
        # The class meets on the last Friday of a month, at least three days after the deadline was missed.
        assert enrolled.class_date.weekday() == 4 and (enrolled.class_date - enrolled.enrolled_at.date()).days >= 3
        assert db.exec(select(Summons)).all() == []  # a first miss: no summons
    await env.sleep(timedelta(days=1))
    s2 = await settled(second, lambda s: s.overdue)
    with session(engine) as db:
        assert len(db.exec(select(RetrainingEnrolment)).all()) == 2
        (summons,) = db.exec(select(Summons)).all()
        assert (summons.unit, summons.leader, summons.hazard_id) == ("xiaofang", "xiaofang.leader", s2.report.hazard_id)
        assert summons.earlier_hazard_nos == [s1.report.hazard_no]
        kinds = {
            (n.kind, n.recipient)
            for n in db.exec(select(Notification).where(Notification.case_id == s2.report.hazard_id))
        }
    assert {("hazard_summons", "xiaofang.leader"), ("hazard_summons", "zhengfa.leader")} <= kinds
    assert ("hazard_retraining", "xiaofang.leader") in kinds
