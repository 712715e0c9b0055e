"""The rules pages rely on, from their one home: the six stages a citizen follows, and which steps a person may
take now (the pages offer exactly these; the workflow's validator refuses the rest)."""

from __future__ import annotations

from datetime import UTC, datetime

from domain import stages
from domain.case_flow import STEPS, allowed_steps, can_request_review, is_low_rating
from domain.models import (
    Actor,
    CaseIntake,
    CaseState,
    CaseStatus,
    Rating,
    Role,
    ServiceLevels,
)

T0 = datetime(2026, 12, 1, tzinfo=UTC)
LEVELS = ServiceLevels(
    routed_within=180,
    assigned_within=300,
    team_within=3600,
    yellow_after=7 * 86400,
    red_after=14 * 86400,
    close_unrated_after=7 * 86400,
)
HANDLER = Actor(username="renshe.mediator", role=Role.mediator, unit="renshe")


def case(status: CaseStatus, **over) -> CaseState:
    return CaseState(
        case_id="c",
        case_no="N",
        received_at=T0,
        intake_by="citizen",
        levels=LEVELS,
        status=status,
        intake=CaseIntake(description="x", citizen_name="x", citizen_phone="x"),
        unit="renshe",
        township="baita",
        handler=HANDLER,
        **over,
    )


def test_every_status_has_a_stage():
    assert set(stages.COMPLETED_BY_STATUS) == set(CaseStatus)
    assert [zh for _, zh in stages.STAGES] == ["受理", "分流", "交办", "调解", "监督", "评价"]
    assert stages.completed("received") == 1 and stages.completed("closed") == 6
    assert stages.ended_early("withdrawn") and not stages.ended_early("resolved")
    assert stages.citizen_may_add("resolved") and not stages.citizen_may_add("closed")


def test_the_handler_is_offered_what_the_table_allows_now():
    working = allowed_steps(case(CaseStatus.mediating), HANDLER)
    assert {"record_mediation", "resolve", "withdraw", "form_team"} <= set(working)
    assert "urge" not in working and "auto_close" not in working and "rate" not in working
    assert allowed_steps(case(CaseStatus.closed), HANDLER) == []


def test_read_only_and_outside_people_are_offered_nothing():
    auditor = Actor(username="auditor", role=Role.auditor)
    assert allowed_steps(case(CaseStatus.mediating), auditor) == []
    stranger = Actor(username="sifa.mediator", role=Role.mediator, unit="sifa")
    assert allowed_steps(case(CaseStatus.mediating), stranger) == []
    supervisor = Actor(username="supervisor", role=Role.supervisor)
    assert "urge" in allowed_steps(case(CaseStatus.mediating), supervisor)
    assert set(allowed_steps(case(CaseStatus.mediating), supervisor)) <= set(STEPS)


def test_low_rating_and_review_window():
    assert is_low_rating(1) and is_low_rating(2) and not is_low_rating(3)
    rated = case(CaseStatus.closed, rating=Rating(score=2, at=T0), review_open_until=T0)
    assert can_request_review(rated)
    assert not can_request_review(rated.model_copy(update={"rating": Rating(score=3, at=T0)}))
    assert not can_request_review(rated.model_copy(update={"review_open_until": None}))
