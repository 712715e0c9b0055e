"""Every illegal step is refused with its kind and leaves the case exactly as it was."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from domain.models import (
    CITIZEN,
    Actor,
    AssignAction,
    ConsultationAction,
    RateAction,
    ResolveAction,
    Role,
    TeamAction,
    TriageAction,
    UrgeAction,
)
from tests.workflows.helpers import AUDITOR, RENSHE_MEDIATOR, SUPERVISOR, event_types, start_case, until
from workflows.dispute_case import DisputeCase

FULIAN_MEDIATOR = Actor(username="fulian.mediator", role=Role.mediator, unit="fulian")
NOW = datetime(2026, 11, 28, tzinfo=UTC)

REFUSED = [
    ("rate", RateAction(actor=CITIZEN, score=5), "illegal_state"),
    ("resolve", ResolveAction(actor=FULIAN_MEDIATOR, outcome="agreement", summary="x"), "forbidden"),
    ("resolve", ResolveAction(actor=CITIZEN, outcome="agreement", summary="x"), "forbidden"),
    ("urge", UrgeAction(actor=AUDITOR), "forbidden"),
    ("urge", UrgeAction(actor=RENSHE_MEDIATOR), "forbidden"),
    (
        "assign",
        AssignAction(actor=SUPERVISOR, handler=Actor(username="fulian.mediator", role=Role.mediator, unit="fulian")),
        "invalid",
    ),
    ("form_team", TeamAction(actor=SUPERVISOR, members=[]), "invalid"),
    (
        "record_consultation",
        ConsultationAction(actor=SUPERVISOR, summary="x", held_at=NOW, participants=[]),
        "illegal_state",
    ),
    ("triage", TriageAction(actor=RENSHE_MEDIATOR, category="labor", unit="renshe"), "forbidden"),
]


@pytest.mark.parametrize("update,action,kind", REFUSED, ids=[f"{u}-{k}-{i}" for i, (u, _, k) in enumerate(REFUSED)])
async def test_refused_step_changes_nothing(skipping_env, worker, task_queue, engine, cases, update, action, kind):
    h = await start_case(skipping_env, task_queue, cases)
    before = await until(h, lambda s: bool(s.team))
    logged = event_types(engine, before.case_id)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await h.execute_update(update, action)
    assert err.value.cause.type == kind
    assert err.value.cause.details[0]["code"]
    assert (await h.query(DisputeCase.state)).model_dump() == before.model_dump()
    assert event_types(engine, before.case_id) == logged


async def test_steps_on_a_closed_case_are_refused(skipping_env, worker, task_queue, engine, cases):
    h = await start_case(skipping_env, task_queue, cases)
    await until(h, lambda s: bool(s.team))
    await h.execute_update(DisputeCase.resolve, ResolveAction(actor=RENSHE_MEDIATOR, outcome="agreement", summary="ok"))
    await h.execute_update(DisputeCase.rate, RateAction(actor=CITIZEN, score=4))
    outcome = await h.result()
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):
        await h.execute_update(DisputeCase.rate, RateAction(actor=CITIZEN, score=1))
    st = await h.query(DisputeCase.state)
    assert st.rating.score == 4 and outcome.status == "closed"
