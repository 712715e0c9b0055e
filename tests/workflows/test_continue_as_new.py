"""A long case continues as new before its history grows large, carrying its whole state."""

from __future__ import annotations

from datetime import timedelta

from domain.models import CITIZEN, RateAction, ResolveAction, UrgeAction
from tests.conftest import fast_levels
from tests.workflows.helpers import RENSHE_MEDIATOR, SUPERVISOR, event_types, start_case, until
from workflows.dispute_case import DisputeCase


async def test_long_case_continues_as_new_and_keeps_its_state(skipping_env, worker, task_queue, engine, cases):
    h = await start_case(skipping_env, task_queue, cases, levels=fast_levels(history_event_limit=60))
    first = await until(h, lambda s: bool(s.team))
    first_run = (await h.describe()).run_id
    for i in range(12):
        await h.execute_update(DisputeCase.urge, UrgeAction(actor=SUPERVISOR, note=f"第{i + 1}次"))
    st = await until(h, lambda s: s.run_count > 1)
    assert (await h.describe()).run_id != first_run
    assert st.urge_count == 12 and st.handler == first.handler and st.team == first.team
    assert [c.model_dump() for c in st.clocks] == [c.model_dump() for c in first.clocks]
    # The clocks keep running in the new run, and the case still finishes.
    await skipping_env.sleep(timedelta(days=7, minutes=1))
    st = await until(h, lambda s: s.colour == "yellow")
    await h.execute_update(DisputeCase.resolve, ResolveAction(actor=RENSHE_MEDIATOR, outcome="agreement", summary="ok"))
    await h.execute_update(DisputeCase.rate, RateAction(actor=CITIZEN, score=5))
    assert (await h.result()).status == "closed"
    final = await h.query(DisputeCase.state)
    types = event_types(engine, st.case_id)
    assert types.count("urged") == 12 and types.count("turned_yellow") == 1 and types[-1] == "closed"
    assert len(types) == final.next_seq - 1  # one gapless log across both runs
