"""Record case histories for the replay tests: `python -m tests.replay.record_histories`.

Each scenario runs against the real workflow and activities on the time-skipping server and is written to
tests/replay/histories/<name>.json. Only scenarios without a file are recorded: the committed files are the
proof that histories made by earlier code still replay (see README, "Changing workflow code"), so they are
never overwritten. Each scenario gets a fresh demo database (plus its SETUP, if any)."""
from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.models import (
    CITIZEN, Actor, ConsultationAction, DeclineTeamAction, MediationAction, RateAction, ResolveAction, Role,
    ReviewDecisionAction, ReviewRequestAction, TriageAction, UrgeAction, WithdrawAction,
)
from domain.taxonomy import get_taxonomy
from store.db import make_engine, session
from store.migrate import upgrade
from store.seed import seed_demo
from store.tables import Staff
from tests.conftest import fast_levels
from tests.workflows.helpers import CLERK, COUNTY_LEADER, RENSHE_MEDIATOR, SUPERVISOR, start_case, until
from worker import WORKFLOWS, activities_for
from workflows.dispute_case import DisputeCase
from workflows.temporal_client import ensure_search_attributes

OUT = Path(__file__).with_name("histories")
NOW = datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc)


async def red_case_to_closed(env, tq, cases):
    h = await start_case(env, tq, cases)
    await until(h, lambda s: bool(s.team))
    await h.execute_update(DisputeCase.record_mediation, MediationAction(
        actor=RENSHE_MEDIATOR, summary="首次调解，双方分歧较大", held_at=NOW, participants=["王小明", "包工头李某"]))
    await env.sleep(timedelta(days=14, minutes=1))
    await until(h, lambda s: s.task_force is not None)
    await h.execute_update(DisputeCase.urge, UrgeAction(actor=SUPERVISOR, note="请加快"))
    await h.execute_update(DisputeCase.record_consultation, ConsultationAction(
        actor=COUNTY_LEADER, summary="专班会商：人社、白塔镇联合约谈", held_at=NOW, participants=["人社局", "白塔镇"]))
    await h.execute_update(DisputeCase.resolve, ResolveAction(actor=RENSHE_MEDIATOR, outcome="agreement",
                                                              summary="分两期结清工资"))
    await h.execute_update(DisputeCase.rate, RateAction(actor=CITIZEN, score=4, comment="解决了"))
    await h.result()
    return h


async def manual_triage_auto_close(env, tq, cases):
    h = await start_case(env, tq, cases, description="我有点事情想反映一下")
    await until(h, lambda s: s.routing_attempted)
    await env.sleep(timedelta(minutes=4))
    await h.execute_update(DisputeCase.triage, TriageAction(actor=CLERK, category="neighbor", unit="township",
                                                            township="baita"))
    st = await until(h, lambda s: s.handler is not None)
    handler = st.handler
    from domain.models import Actor
    await h.execute_update(DisputeCase.resolve, ResolveAction(
        actor=Actor(username=handler.username, role=handler.role, township=handler.township),
        outcome="handled", summary="已协调"))
    await env.sleep(timedelta(days=8))
    await h.result()
    return h


async def continued_as_new(env, tq, cases):
    h = await start_case(env, tq, cases, levels=fast_levels(history_event_limit=60))
    await until(h, lambda s: bool(s.team))
    for i in range(12):
        await h.execute_update(DisputeCase.urge, UrgeAction(actor=SUPERVISOR, note=str(i)))
    await until(h, lambda s: s.run_count > 1)
    await h.execute_update(DisputeCase.resolve, ResolveAction(actor=RENSHE_MEDIATOR, outcome="agreement", summary="ok"))
    await h.execute_update(DisputeCase.rate, RateAction(actor=CITIZEN, score=5))
    await h.result()
    return h


def second_baita_mediator(engine):
    with session(engine) as db:
        first = db.get(Staff, "baita.mediator")
        db.add(Staff(username="baita.mediator2", display_name="白塔镇调解员二", role="mediator", township="baita",
                     password_hash=first.password_hash, skills=first.skills, home_township="baita"))
        db.commit()


async def team_decline_replaced(env, tq, cases):
    """Issue 3: the township's team member declines and the next mediator of 白塔镇 replaces them."""
    h = await start_case(env, tq, cases)
    await until(h, lambda s: bool(s.team))
    await h.execute_update(DisputeCase.decline_team, DeclineTeamAction(
        actor=Actor(username="baita.mediator", role=Role.mediator, township="baita"), reason="与当事人系亲属，申请回避"))
    await until(h, lambda s: not s.team_vacancies and len(s.team) == 2)
    await h.execute_update(DisputeCase.record_mediation, MediationAction(
        actor=Actor(username="baita.mediator2", role=Role.mediator, township="baita"), summary="替补成员参与调解",
        held_at=NOW, participants=["王小明", "包工头李某"]))
    await h.execute_update(DisputeCase.resolve, ResolveAction(actor=RENSHE_MEDIATOR, outcome="agreement",
                                                              summary="一次性结清工资"))
    await h.execute_update(DisputeCase.rate, RateAction(actor=CITIZEN, score=5))
    await h.result()
    return h


async def repeat_request_flagged(env, tq, cases):
    """The same citizen again within the window: the second case is linked to the first and the clerks are
    told (the `repeat-requests` patch), then the clerk withdraws the duplicate."""
    first = await start_case(env, tq, cases)
    await until(first, lambda s: bool(s.team))
    h = await start_case(env, tq, cases, description="上次反映的白塔镇工地欠薪还没解决，包工头还是不接电话")
    await until(h, lambda s: s.routing_attempted and s.recorded_seq == s.next_seq - 1)
    await h.execute_update(DisputeCase.withdraw, WithdrawAction(actor=CLERK, reason="与前案重复，并入前案办理"))
    await h.result()
    await first.terminate("recording finished")
    return h


async def review_rehandled(env, tq, cases):
    """Rated 2, review asked, sent back by the supervisor, handled again and rated 5 (the `citizen-review`
    patch)."""
    h = await start_case(env, tq, cases)
    await until(h, lambda s: bool(s.team))
    await h.execute_update(DisputeCase.resolve, ResolveAction(actor=RENSHE_MEDIATOR, outcome="handled", summary="已协调"))
    await h.execute_update(DisputeCase.rate, RateAction(actor=CITIZEN, score=2, comment="只付了一半"))
    await h.execute_update(DisputeCase.request_review, ReviewRequestAction(actor=CITIZEN, reason="工资只付了一半"))
    await h.execute_update(DisputeCase.review_decision, ReviewDecisionAction(
        actor=SUPERVISOR, rehandle=True, reason="协议未履行完毕，退回重办"))
    await h.execute_update(DisputeCase.resolve, ResolveAction(actor=RENSHE_MEDIATOR, outcome="agreement", summary="已付清"))
    await h.execute_update(DisputeCase.rate, RateAction(actor=CITIZEN, score=5))
    await h.result()
    return h


SCENARIOS = {"red_case_by_timers": red_case_to_closed,  # recorded with the `timer-decides-deadlines` patch
             "red_case_notices_with_records": red_case_to_closed,  # recorded with `notices-with-records`
             "red_case_to_closed": red_case_to_closed, "review_rehandled": review_rehandled, "repeat_request_flagged": repeat_request_flagged, "manual_triage_auto_close": manual_triage_auto_close,
             "continued_as_new": continued_as_new, "team_decline_replaced": team_decline_replaced}
SETUP = {"team_decline_replaced": second_baita_mediator}


def recorded(name: str) -> bool:
    return (OUT / f"{name}.json").exists() or (OUT / f"{name}.run1.json").exists()


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, concurrent.futures.ThreadPoolExecutor(8) as ex:
        for name, scenario in SCENARIOS.items():
            if recorded(name):
                print(f"kept {name} (already recorded)")
                continue
            engine = make_engine(f"sqlite:///{tmp}/{name}.db")
            upgrade(engine)
            seed_demo(engine, get_taxonomy(), "x", time_cost=1, memory_kib=1024)
            if name in SETUP:
                SETUP[name](engine)
            env = await WorkflowEnvironment.start_time_skipping(
                data_converter=pydantic_data_converter,
                test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server"))
            await ensure_search_attributes(env.client, env.client.namespace)
            tq = f"record-{name}"
            async with Worker(env.client, task_queue=tq, workflows=WORKFLOWS,
                              activities=activities_for(engine, get_taxonomy()), activity_executor=ex):
                h = await scenario(env, tq, [])
                # Every run of the chain, oldest first, so replay covers continue-as-new too.
                runs, run_id = [], (await h.describe()).run_id
                while run_id:
                    history = await env.client.get_workflow_handle(h.id, run_id=run_id).fetch_history()
                    runs.append(history)
                    start = history.events[0].workflow_execution_started_event_attributes
                    run_id = start.continued_execution_run_id
                for i, history in enumerate(reversed(runs)):
                    path = OUT / (f"{name}.json" if len(runs) == 1 else f"{name}.run{i + 1}.json")
                    path.write_text(history.to_json())
                    print(f"wrote {path} ({len(history.events)} events)")
            await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
