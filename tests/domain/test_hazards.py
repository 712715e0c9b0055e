"""The hazard's rules on their own: the steps' table, the deadline by severity, the reminder, overdue and
exposure once per deadline, rejection, striking off and the re-check that closes or reopens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain import hazards as hz
from domain.case_flow import CaseRuleError
from domain.models import Actor, Role

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LEVELS = hz.HazardLevels(
    major=timedelta(days=3), general=timedelta(days=7), minor=timedelta(days=15), recheck_after=timedelta(days=30)
)
INSPECTOR = Actor(username="inspector", role=Role.inspector)
UNIT = Actor(username="xiaofang.leader", role=Role.leader, unit="xiaofang")
OTHER = Actor(username="shijian.leader", role=Role.leader, unit="shijian")


def hazard(severity="major", unit="xiaofang") -> hz.HazardState:
    report = hz.HazardReport(
        hazard_id="h1",
        hazard_no="YH1",
        domain="residential_fire",
        township="baita",
        site="白塔镇某小区",
        description="消防通道堵塞",
        severity=severity,
        unit=unit,
        responsible="物业经理张某",
        measure="清理通道",
        found_by="inspector",
        found_at=T0,
    )
    return hz.initial_state(report, LEVELS)


def evidence(at=T0) -> hz.EvidenceAction:
    return hz.EvidenceAction(
        actor=UNIT,
        evidence=hz.Evidence(
            material_id="m1",
            filename="after.jpg",
            content_type="image/jpeg",
            size=10,
            stored_name="x",
            by=UNIT.username,
            at=at,
        ),
    )


def test_deadline_by_severity():
    assert hazard("major").deadline == T0 + timedelta(days=3)
    assert hazard("minor").deadline == T0 + timedelta(days=15)


def test_on_time_path_to_struck_off_and_recheck_holds():
    h = hazard()
    with pytest.raises(CaseRuleError) as err:
        hz.check(h, "submit_evidence", evidence().model_copy(update={"actor": OTHER}))
    assert err.value.kind == "forbidden"
    with pytest.raises(CaseRuleError) as err:
        hz.check(h, "verify", hz.VerifyAction(actor=INSPECTOR, accept=True))
    assert err.value.kind == "illegal_state"
    hz.check(h, "submit_evidence", evidence())
    hz.apply(h, "submit_evidence", evidence(), T0 + timedelta(days=1))
    assert h.status == hz.HazardStatus.submitted
    fx = hz.apply(h, "verify", hz.VerifyAction(actor=INSPECTOR, accept=True), T0 + timedelta(days=2))
    assert h.status == hz.HazardStatus.struck_off and fx.events[0][2]["on_time"] is True
    assert hz.next_due(h) == T0 + timedelta(days=32)
    fx = hz.fire(h, T0 + timedelta(days=32))
    assert [e[0] for e in fx.events] == ["recheck_due"] and hz.next_due(h) is None
    hz.check(h, "recheck", hz.RecheckAction(actor=INSPECTOR, holds=True))
    hz.apply(h, "recheck", hz.RecheckAction(actor=INSPECTOR, holds=True), T0 + timedelta(days=33))
    assert h.status == hz.HazardStatus.rechecked and not h.overdue


def test_late_hazard_is_reminded_then_exposed_once_and_a_rejection_needs_a_reason():
    h = hazard()
    assert hz.next_due(h) == T0 + timedelta(days=2)  # the reminder, a day before the deadline
    fx = hz.fire(h, T0 + timedelta(days=2))
    assert [e[0] for e in fx.events] == ["reminded"]
    assert hz.next_due(h) == T0 + timedelta(days=3)
    fx = hz.fire(h, T0 + timedelta(days=3))
    assert [e[0] for e in fx.events] == ["overdue"] and h.overdue and h.exposed_at is not None
    assert "zhengfa" in fx.notices[0][1].unit_leaders  # 平安办
    assert hz.next_due(h) is None and not hz.fire(h, T0 + timedelta(days=4)).events  # once per deadline
    hz.apply(h, "submit_evidence", evidence(), T0 + timedelta(days=4))
    with pytest.raises(CaseRuleError) as err:
        hz.check(h, "verify", hz.VerifyAction(actor=INSPECTOR, accept=False, reason=" "))
    assert err.value.code == "reason_required"
    hz.apply(
        h, "verify", hz.VerifyAction(actor=INSPECTOR, accept=False, reason="照片看不出已清理"), T0 + timedelta(days=4)
    )
    assert h.status == hz.HazardStatus.rectifying and h.rejections == 1


def test_recurrence_at_recheck_reopens_with_a_new_deadline():
    h = hazard("general")
    hz.apply(h, "submit_evidence", evidence(), T0)
    hz.apply(h, "verify", hz.VerifyAction(actor=INSPECTOR, accept=True), T0)
    fx = hz.apply(
        h, "recheck", hz.RecheckAction(actor=INSPECTOR, holds=False, note="通道又被堵"), T0 + timedelta(days=31)
    )
    assert h.status == hz.HazardStatus.reopened and h.reopened == 1
    assert h.deadline == T0 + timedelta(days=38) and fx.events[0][0] == "reopened"
    assert hz.next_due(h) == T0 + timedelta(days=37)
    hz.check(h, "submit_evidence", evidence())


def test_the_township_itself_rectifies_a_township_hazard():
    h = hazard(unit="township")
    hz.check(
        h,
        "submit_evidence",
        evidence().model_copy(update={"actor": Actor(username="baita.leader", role=Role.leader, township="baita")}),
    )
    with pytest.raises(CaseRuleError):
        hz.check(
            h,
            "submit_evidence",
            evidence().model_copy(
                update={"actor": Actor(username="tianshi.leader", role=Role.leader, township="tianshi")}
            ),
        )
