"""A low rating is not the end: 申请复核, and the supervisor's decision to re-handle or uphold."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain.models import (
    CITIZEN,
    CodeReissueAction,
    RateAction,
    ResolveAction,
    ReviewDecisionAction,
    ReviewRequestAction,
)
from tests.workflows.helpers import (
    CLERK,
    RENSHE_MEDIATOR,
    SUPERVISOR,
    event_types,
    eventually,
    inbox,
    start_case,
    until,
)
from workflows.dispute_case import DisputeCase


async def resolved_and_rated(h, score):
    await until(h, lambda s: bool(s.team))
    await h.execute_update(
        DisputeCase.resolve, ResolveAction(actor=RENSHE_MEDIATOR, outcome="handled", summary="已协调")
    )
    return await h.execute_update(DisputeCase.rate, RateAction(actor=CITIZEN, score=score, comment="没解决"))


async def test_review_sends_the_case_back_with_fresh_clocks(skipping_env, worker, task_queue, engine, cases):
    h = await start_case(skipping_env, task_queue, cases)
    await skipping_env.sleep(timedelta(days=8))  # yellow before resolution
    st = await resolved_and_rated(h, 2)
    assert st.status == "closed" and st.review_open_until is not None and st.colour == "yellow"
    st = await h.execute_update(DisputeCase.request_review, ReviewRequestAction(actor=CITIZEN, reason="工资只付了一半"))
    assert st.status == "under_review"
    await eventually(lambda: ("supervisor", "review_requested") in inbox(engine, st.case_id))
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await h.execute_update(
            DisputeCase.review_decision, ReviewDecisionAction(actor=RENSHE_MEDIATOR, rehandle=True, reason="x")
        )
    assert err.value.cause.type == "forbidden"
    now = await skipping_env.get_current_time()
    st = await h.execute_update(
        DisputeCase.review_decision,
        ReviewDecisionAction(actor=SUPERVISOR, rehandle=True, reason="协议未履行完毕，退回重办"),
    )
    assert st.status == "mediating" and st.rating is None and st.resolution is None and st.colour == "green"
    yellow = st.clock("yellow")
    assert yellow.running and yellow.due_at >= now + timedelta(days=7) - timedelta(minutes=1)
    got = await eventually(
        lambda: x if ("renshe.mediator", "review_rehandle") in (x := inbox(engine, st.case_id)) else None
    )
    assert ("renshe.leader", "review_rehandle") in got
    # Handled again, rated well this time: the case closes for good.
    await h.execute_update(
        DisputeCase.resolve, ResolveAction(actor=RENSHE_MEDIATOR, outcome="agreement", summary="已付清")
    )
    await h.execute_update(DisputeCase.rate, RateAction(actor=CITIZEN, score=5))
    assert (await h.result()).status == "closed"
    types = event_types(engine, st.case_id)
    assert types.count("rated") == 2 and "review_requested" in types and "reopened" in types


async def test_upheld_result_closes_with_the_reason_the_citizen_sees(skipping_env, worker, task_queue, engine, cases):
    h = await start_case(skipping_env, task_queue, cases)
    await resolved_and_rated(h, 1)
    await h.execute_update(DisputeCase.request_review, ReviewRequestAction(actor=CITIZEN, reason="不满意"))
    st = await h.execute_update(
        DisputeCase.review_decision,
        ReviewDecisionAction(actor=SUPERVISOR, rehandle=False, reason="经核查，欠薪已按协议全额支付，维持原处理结果"),
    )
    assert st.status == "closed" and st.review.status == "upheld"
    assert st.review.decision_reason.startswith("经核查")
    assert (await h.result()).status == "closed"


async def test_no_review_after_a_good_rating_or_after_the_window(skipping_env, worker, task_queue, engine, cases):
    good = await start_case(skipping_env, task_queue, cases)
    await resolved_and_rated(good, 4)
    assert (await good.result()).status == "closed"  # nothing waits after a good rating
    low = await start_case(skipping_env, task_queue, cases)
    await resolved_and_rated(low, 2)
    await skipping_env.sleep(timedelta(days=7, minutes=1))
    assert (await low.result()).status == "closed"
    assert event_types(engine, (await low.query(DisputeCase.state)).case_id)[-1] == "review_window_closed"


async def test_reissuing_a_code_is_recorded_with_its_actor_but_not_the_code(
    skipping_env, worker, task_queue, engine, cases
):
    h = await start_case(skipping_env, task_queue, cases)
    await until(h, lambda s: bool(s.team))
    st = await h.execute_update(
        DisputeCase.reissue_code, CodeReissueAction(actor=CLERK, reason="群众称查询码被他人看到")
    )
    with pytest.raises(WorkflowUpdateFailedError):
        await h.execute_update(DisputeCase.reissue_code, CodeReissueAction(actor=CITIZEN))
    assert event_types(engine, st.case_id)[-1] == "code_reissued"
