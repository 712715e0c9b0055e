"""Record case histories for the replay tests (docs/changing-workflow-code.md).

    .venv/bin/python -m tests.replay.record_histories                    # record only what is missing
    .venv/bin/python -m tests.replay.record_histories --current          # re-record the current set
    .venv/bin/python -m tests.replay.record_histories --current --only review_rehandled
    .venv/bin/python -m tests.replay.record_histories --freeze before-<patch-id>

tests/replay/histories/ holds two kinds of file:
- the historical set, `histories/*.json` (and any frozen `histories/<name>/`): written by earlier versions of
  the workflow code. They are the proof that cases started under that code still replay, so this script
  never overwrites or deletes one;
- the current set, `histories/current/*.json`: every scenario as today's code writes it, made with the
  production worker (worker.build_worker: its cache setting) and the encrypting data converter with the tests'
  key (tests/conftest.py TEST_PAYLOAD_KEYS), so that each is what production would store; plus the SIMULATED
  ones, today's code with a patch and the later ones switched off. `--current` records them again after a
  change to the workflow code, but only if the files it would replace still replay against that code (a
  change that breaks them needs `workflow.patched`, not a new recording). Before a change that adds a patch id,
  `--freeze before-<id>` copies the current set into the historical set, where it proves the id's old path.

Each scenario runs against the real workflow and activities on the time-skipping server (REAL_TIME ones on the
dev server), with a fresh demo database (plus its SETUP, if any). A scenario that continues as new is written
one file per run (`<name>.run1.json`, ...). Record from committed workflow code: the script warns otherwise."""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import inspect
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from domain import hazards as hz
from domain.digest import DigestStart
from domain.inspection import PlanStart
from domain.models import (
    CITIZEN,
    Actor,
    ConsultationAction,
    DeclineTeamAction,
    ExtensionDecisionAction,
    ExtensionRequestAction,
    MediationAction,
    PauseAction,
    RateAction,
    ResolveAction,
    ResumeAction,
    ReviewDecisionAction,
    ReviewRequestAction,
    Role,
    SendBackAction,
    TriageAction,
    UrgeAction,
    WithdrawAction,
)
from domain.settings import Settings
from domain.taxonomy import get_taxonomy
from store.db import make_engine, session
from store.migrate import upgrade
from store.seed import seed_demo
from store.tables import Staff
from tests.conftest import BIN, TEST_PAYLOAD_KEYS, encrypting_converter, fast_levels, signing_interceptors
from tests.workflows.helpers import CLERK, COUNTY_LEADER, RENSHE_MEDIATOR, SUPERVISOR, poll, start_case, until
from worker import WORKFLOWS, build_worker
from workflows import patches, search_attributes
from workflows.daily_digest import DailyDigest
from workflows.dispute_case import DisputeCase
from workflows.hazard_rectification import HazardRectification
from workflows.hazard_rectification import workflow_id as hazard_workflow_id
from workflows.inspection_plan import WeeklyInspectionPlan
from workflows.temporal_client import ensure_search_attributes

OUT = Path(__file__).with_name("histories")
CURRENT = OUT / "current"
NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
DEBT = "邻居老李前年借了我两万元，写了借条，到期后一直拖着不还，多次催讨无果"


async def red_case_to_closed(env, tq, cases):
    h = await start_case(env, tq, cases)
    await until(h, lambda s: bool(s.team))
    await h.execute_update(
        DisputeCase.record_mediation,
        MediationAction(
            actor=RENSHE_MEDIATOR, summary="首次调解，双方分歧较大", held_at=NOW, participants=["王小明", "包工头李某"]
        ),
    )
    await env.sleep(timedelta(days=14, minutes=1))
    await until(h, lambda s: s.task_force is not None)
    await h.execute_update(DisputeCase.urge, UrgeAction(actor=SUPERVISOR, note="请加快"))
    await h.execute_update(
        DisputeCase.record_consultation,
        ConsultationAction(
            actor=COUNTY_LEADER,
            summary="专班会商：人社、白塔镇联合约谈",
            held_at=NOW,
            participants=["人社局", "白塔镇"],
        ),
    )
    await h.execute_update(
        DisputeCase.resolve, ResolveAction(actor=RENSHE_MEDIATOR, outcome="agreement", summary="分两期结清工资")
    )
    await h.execute_update(DisputeCase.rate, RateAction(actor=CITIZEN, score=4, comment="解决了"))
    await h.result()
    return h


async def manual_triage_auto_close(env, tq, cases):
    h = await start_case(env, tq, cases, description="我有点事情想反映一下")
    await until(h, lambda s: s.routing_attempted)
    await env.sleep(timedelta(minutes=4))
    await h.execute_update(
        DisputeCase.triage, TriageAction(actor=CLERK, category="neighbor", unit="township", township="baita")
    )
    st = await until(h, lambda s: s.handler is not None)
    handler = st.handler
    from domain.models import Actor

    await h.execute_update(
        DisputeCase.resolve,
        ResolveAction(
            actor=Actor(username=handler.username, role=handler.role, township=handler.township),
            outcome="handled",
            summary="已协调",
        ),
    )
    await env.sleep(timedelta(days=8))
    await h.result()
    return h


async def red_case_worker_down(env, tq, cases, workers):
    """No worker runs while the yellow and the red deadline pass (an outage); the worker that comes back finds
    both due at once: the shape of history in which `timer-decides-deadlines` changed the commands. On the dev
    server, in real time, with deadlines of seconds (see REAL_TIME)."""
    h = await start_case(
        env, tq, cases, levels=fast_levels(yellow_after=timedelta(seconds=6), red_after=timedelta(seconds=12))
    )
    await until(h, lambda s: bool(s.team))
    await workers.down_for(env, timedelta(seconds=20))
    await until(h, lambda s: s.task_force is not None)
    await h.execute_update(
        DisputeCase.resolve, ResolveAction(actor=RENSHE_MEDIATOR, outcome="agreement", summary="分两期结清工资")
    )
    await h.execute_update(DisputeCase.rate, RateAction(actor=CITIZEN, score=4))
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
        db.add(
            Staff(
                username="baita.mediator2",
                display_name="白塔镇调解员二",
                role="mediator",
                township="baita",
                password_hash=first.password_hash,
                skills=first.skills,
                home_township="baita",
            )
        )
        db.commit()


async def team_decline_replaced(env, tq, cases):
    """The township's team member declines and the next mediator of 白塔镇 replaces them."""
    h = await start_case(env, tq, cases)
    await until(h, lambda s: bool(s.team))
    await h.execute_update(
        DisputeCase.decline_team,
        DeclineTeamAction(
            actor=Actor(username="baita.mediator", role=Role.mediator, township="baita"),
            reason="与当事人系亲属，申请回避",
        ),
    )
    await until(h, lambda s: not s.team_vacancies and len(s.team) == 2)
    await h.execute_update(
        DisputeCase.record_mediation,
        MediationAction(
            actor=Actor(username="baita.mediator2", role=Role.mediator, township="baita"),
            summary="替补成员参与调解",
            held_at=NOW,
            participants=["王小明", "包工头李某"],
        ),
    )
    await h.execute_update(
        DisputeCase.resolve, ResolveAction(actor=RENSHE_MEDIATOR, outcome="agreement", summary="一次性结清工资")
    )
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


async def low_rating_review_lapsed(env, tq, cases):
    """Rated 1 and no review asked: the case stays open for the review window, then ends (today's counterpart of
    the historical low_rating_before_review.json, which ended at the rating)."""
    h = await start_case(env, tq, cases)
    await until(h, lambda s: bool(s.team))
    await h.execute_update(
        DisputeCase.resolve, ResolveAction(actor=RENSHE_MEDIATOR, outcome="handled", summary="已协调")
    )
    await h.execute_update(DisputeCase.rate, RateAction(actor=CITIZEN, score=1, comment="没有解决"))
    await env.sleep(timedelta(days=8))
    await h.result()
    return h


async def review_rehandled(env, tq, cases):
    """Rated 2, review asked, sent back by the supervisor, handled again and rated 5 (the `citizen-review`
    patch)."""
    h = await start_case(env, tq, cases)
    await until(h, lambda s: bool(s.team))
    await h.execute_update(
        DisputeCase.resolve, ResolveAction(actor=RENSHE_MEDIATOR, outcome="handled", summary="已协调")
    )
    await h.execute_update(DisputeCase.rate, RateAction(actor=CITIZEN, score=2, comment="只付了一半"))
    await h.execute_update(DisputeCase.request_review, ReviewRequestAction(actor=CITIZEN, reason="工资只付了一半"))
    await h.execute_update(
        DisputeCase.review_decision,
        ReviewDecisionAction(actor=SUPERVISOR, rehandle=True, reason="协议未履行完毕，退回重办"),
    )
    await h.execute_update(
        DisputeCase.resolve, ResolveAction(actor=RENSHE_MEDIATOR, outcome="agreement", summary="已付清")
    )
    await h.execute_update(DisputeCase.rate, RateAction(actor=CITIZEN, score=5))
    await h.result()
    return h


# --- hazards (HazardRectification): each path of the workflow tests ------------------------------

HAZARD_LEVELS = hz.HazardLevels(
    major=timedelta(days=3), general=timedelta(days=7), minor=timedelta(days=15), recheck_after=timedelta(days=30)
)
INSPECTOR = Actor(username="inspector", role=Role.inspector)
FIRE_UNIT = Actor(username="xiaofang.leader", role=Role.leader, unit="xiaofang")


async def daily_digest_sent(env, tq, cases):
    """The morning digest as the Schedule starts it: no day given, so the China date the run starts on."""
    h = await env.client.start_workflow(DailyDigest.run, DigestStart(), id="daily-digest", task_queue=tq)
    await h.result()
    return h


async def red_case_joint_task_force(env, tq, cases):
    """Issue 12's clocks: the handler reminded, a pause, an extension asked and approved, red under the joint
    mechanism (the leader in charge leads, the drafted units' leaders told), a consultation, the task force's
    deadline passing (the convener told), then resolved and rated."""
    levels = fast_levels(remind_before=timedelta(days=1), task_force_within=timedelta(days=3))
    h = await start_case(env, tq, cases, levels=levels)
    await until(h, lambda s: bool(s.team))
    await h.execute_update(DisputeCase.pause, PauseAction(actor=RENSHE_MEDIATOR, reason="等待当事人提供工资条"))
    await env.sleep(timedelta(days=2))
    await h.execute_update(DisputeCase.resume, ResumeAction(actor=RENSHE_MEDIATOR, note="材料已交"))
    await h.execute_update(
        DisputeCase.request_extension,
        ExtensionRequestAction(actor=RENSHE_MEDIATOR, duration=timedelta(days=1), reason="等待工程款结算"),
    )
    await h.execute_update(
        DisputeCase.decide_extension, ExtensionDecisionAction(actor=SUPERVISOR, approve=True, reason="同意延期1天")
    )
    await env.sleep(timedelta(days=15, minutes=1))  # past the moved red clock (14 + 2 paused + 1 extended)
    await until(h, lambda s: s.task_force is not None)
    await h.execute_update(
        DisputeCase.record_consultation,
        ConsultationAction(
            actor=Actor(username="cl.shehui", role=Role.county_leader),
            summary="县领导领衔专班会商：人社局、白塔镇联合约谈包工头",
            held_at=NOW,
            participants=["人社局", "白塔镇"],
        ),
    )
    await env.sleep(timedelta(days=3, minutes=1))
    await until(h, lambda s: s.task_force is not None and s.task_force.overdue_at is not None)
    await h.execute_update(
        DisputeCase.resolve, ResolveAction(actor=RENSHE_MEDIATOR, outcome="agreement", summary="分两期结清工资")
    )
    await h.execute_update(DisputeCase.rate, RateAction(actor=CITIZEN, score=5, comment="专班解决了"))
    await h.result()
    return h


async def case_sent_back_twice(env, tq, cases):
    """退回 twice by the unit it was routed to; the second time only a supervisor may route it."""
    h = await start_case(
        env, tq, cases, description="邻居老李前年借了我两万元，写了借条，到期后一直拖着不还，多次催讨无果"
    )
    st = await until(h, lambda s: s.status == "assigned")
    if st.unit == "township":
        sender = Actor(username=f"{st.township}.leader", role=Role.leader, township=st.township)
    else:
        sender = Actor(username=f"{st.unit}.leader", role=Role.leader, unit=st.unit)
    again = TriageAction(actor=CLERK, category=st.category, unit=st.unit, township=st.township, needs_team=False)
    await h.execute_update(DisputeCase.send_back, SendBackAction(actor=sender, reason="非本单位职责"))
    await h.execute_update(DisputeCase.triage, again)
    await until(h, lambda s: s.status == "assigned")
    await h.execute_update(DisputeCase.send_back, SendBackAction(actor=sender, reason="仍非本单位职责"))
    await h.execute_update(
        DisputeCase.triage, again.model_copy(update={"actor": SUPERVISOR, "reason": "督办员裁定：由该单位承办"})
    )
    await until(h, lambda s: s.status == "assigned")
    await h.execute_update(DisputeCase.withdraw, WithdrawAction(actor=CLERK, reason="当事人已自行和解"))
    await h.result()
    return h


async def start_hazard(env, tq, cases, name: str, severity: str = "major"):
    """A blocked fire escape in 白塔镇, handed to the fire brigade (the hazard of tests/workflows)."""
    report = hz.HazardReport(
        hazard_id=f"replay-{name}",
        hazard_no=f"YH-{name}",
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
    h = await env.client.start_workflow(
        HazardRectification.run,
        hz.HazardStart(report=report, levels=HAZARD_LEVELS),
        id=hazard_workflow_id(report.hazard_id),
        task_queue=tq,
    )
    cases.append(h)
    return h


async def hazard_settled(h, predicate):
    async def ready():
        s = await h.query(HazardRectification.state)
        return s if predicate(s) and s.recorded_seq == s.next_seq - 1 else None

    return await poll(ready, "the hazard's state")


async def hand_in(env, h):
    at = await env.get_current_time()
    evidence = hz.Evidence(
        material_id=f"m-{at.timestamp():.0f}",
        filename="整改后.jpg",
        content_type="image/jpeg",
        size=100,
        stored_name="x",
        by=FIRE_UNIT.username,
        at=at,
    )
    await h.execute_update(HazardRectification.submit_evidence, hz.EvidenceAction(actor=FIRE_UNIT, evidence=evidence))


async def recheck_holds(env, h):
    await env.sleep(timedelta(days=30, hours=1))
    await hazard_settled(h, lambda s: s.recheck_at is None)
    await h.execute_update(HazardRectification.recheck, hz.RecheckAction(actor=INSPECTOR, holds=True))
    await h.result()


async def hazard_on_time(env, tq, cases):
    """Evidence within the deadline, accepted (销号), re-checked 30 days later: holds (closed)."""
    h = await start_hazard(env, tq, cases, "on-time")
    await env.sleep(timedelta(days=1))
    await hand_in(env, h)
    await h.execute_update(HazardRectification.verify, hz.VerifyAction(actor=INSPECTOR, accept=True))
    await recheck_holds(env, h)
    return h


async def hazard_late(env, tq, cases):
    """Reminded, then overdue (exposed, re-training, 平安办 told), rectified late, struck off and re-checked."""
    h = await start_hazard(env, tq, cases, "late")
    await env.sleep(timedelta(days=3, hours=1))
    await hazard_settled(h, lambda s: s.overdue)
    await hand_in(env, h)
    await h.execute_update(HazardRectification.verify, hz.VerifyAction(actor=INSPECTOR, accept=True))
    await recheck_holds(env, h)
    return h


async def hazard_rejected_then_accepted(env, tq, cases):
    """The first evidence is rejected with a reason (back to rectifying), the second accepted."""
    h = await start_hazard(env, tq, cases, "rejected")
    await hand_in(env, h)
    await h.execute_update(
        HazardRectification.verify, hz.VerifyAction(actor=INSPECTOR, accept=False, reason="照片看不出已清理")
    )
    await hand_in(env, h)
    await h.execute_update(HazardRectification.verify, hz.VerifyAction(actor=INSPECTOR, accept=True))
    await recheck_holds(env, h)
    return h


async def hazard_recurred(env, tq, cases):
    """Struck off, recurred at the re-check (reopened with a new deadline), rectified again, and held at the
    second re-check."""
    h = await start_hazard(env, tq, cases, "recurred", severity="general")
    await hand_in(env, h)
    await h.execute_update(HazardRectification.verify, hz.VerifyAction(actor=INSPECTOR, accept=True))
    await env.sleep(timedelta(days=30, hours=1))
    await h.execute_update(
        HazardRectification.recheck, hz.RecheckAction(actor=INSPECTOR, holds=False, note="通道又被电动车堵住")
    )
    await hand_in(env, h)
    await h.execute_update(HazardRectification.verify, hz.VerifyAction(actor=INSPECTOR, accept=True))
    await recheck_holds(env, h)
    return h


async def inspection_week_planned(env, tq, cases):
    """The weekly plan as the Schedule starts it: no week given, so the week the run starts in."""
    h = await env.client.start_workflow(
        WeeklyInspectionPlan.run, PlanStart(), id="inspection-weekly-plan", task_queue=tq
    )
    await h.result()
    return h


# The historical files were made by earlier versions of this script from these scenarios (git log -- <file>
# says which commit): red_case_by_timers.json and red_case_notices_with_records.json are red_case_to_closed
# again, recorded when `timer-decides-deadlines` and `notices-with-records` came in; low_rating_before_review.json
# was recorded by hand before `citizen-review` (a case rated 1, which then ended at once).
# The current set: each scenario once, as today's code records it.
SCENARIOS = {
    "red_case_to_closed": red_case_to_closed,
    "red_case_worker_down": red_case_worker_down,
    "review_rehandled": review_rehandled,
    "low_rating_review_lapsed": low_rating_review_lapsed,
    "repeat_request_flagged": repeat_request_flagged,
    "manual_triage_auto_close": manual_triage_auto_close,
    "continued_as_new": continued_as_new,
    "team_decline_replaced": team_decline_replaced,
    "hazard_on_time": hazard_on_time,
    "hazard_late": hazard_late,
    "hazard_rejected_then_accepted": hazard_rejected_then_accepted,
    "hazard_recurred": hazard_recurred,
    "inspection_week_planned": inspection_week_planned,
    "red_case_joint_task_force": red_case_joint_task_force,
    "case_sent_back_twice": case_sent_back_twice,
    "daily_digest_sent": daily_digest_sent,
}
# Simulated older code, where no history of the real older code shows a patch's old path changing the commands:
# today's code with that patch and every later one (workflows/patches.py ALL, in order) switched off, which
# is what the code just before the patch did on each guarded branch.
# - repeat-requests: before it routing never answered with repeat_of, so only a rolling upgrade (the routing
#   activity on a new worker, the workflow task on an old one) put a repeat into a history without the marker;
# - timer-decides-deadlines: the histories recorded before it never had two deadlines fall due in one task.
SIMULATED = {
    "repeat_request_flagged.before-repeat-requests": ("repeat_request_flagged", patches.REPEAT_REQUESTS),
    "red_case_worker_down.before-timer-decides-deadlines": ("red_case_worker_down", patches.TIMER_DECIDES_DEADLINES),
}
SETUP = {"team_decline_replaced": second_baita_mediator}
# The time-skipping server does not move its clock while a workflow task waits for a worker, so a scenario
# with the worker down runs on the dev server, in real time.
REAL_TIME = {"red_case_worker_down"}


def recorded(name: str) -> bool:
    return (CURRENT / f"{name}.json").exists() or (CURRENT / f"{name}.run1.json").exists()


@contextlib.contextmanager
def code_before(patch_id: str | None) -> Iterator[None]:
    """`workflow.patched` answers False for `patch_id` and every patch after it, as the code before it took
    their old paths. The workflow sandbox passes temporalio through, so the workflow code sees this, on every
    replay alike."""
    if patch_id is None:
        yield
        return
    off = set(patches.ALL[patches.ALL.index(patch_id) :])
    real = workflow.patched

    def patched(id: str, *args, **kwargs) -> bool:
        return False if id in off else real(id, *args, **kwargs)

    workflow.patched = patched  # type: ignore[assignment]
    try:
        yield
    finally:
        workflow.patched = real  # type: ignore[assignment]


class Workers:
    """The scenario's worker, made by the production builder; a scenario may take it down for a while."""

    def __init__(self, make: Callable[[], Worker]):
        self.make = make
        self.worker = make()

    async def __aenter__(self) -> Workers:
        await self.worker.__aenter__()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.worker.__aexit__(*exc)

    async def down_for(self, env: WorkflowEnvironment, duration: timedelta) -> None:
        await self.worker.__aexit__(None, None, None)
        await env.sleep(duration)
        self.worker = self.make()
        await self.worker.__aenter__()


async def failing_replays(paths: list[Path]) -> list[str]:
    replayer = Replayer(workflows=WORKFLOWS, data_converter=encrypting_converter(TEST_PAYLOAD_KEYS))
    failing = []
    for path in paths:
        result = await replayer.replay_workflow(
            WorkflowHistory.from_json(path.stem, path.read_text()), raise_on_replay_failure=False
        )
        if result.replay_failure is not None:
            failing.append(f"{path.name}: {result.replay_failure}")
    return failing


def uncommitted_workflow_code() -> list[str]:
    """Files of the code the histories record that differ from the commit: fixtures made from them would
    describe code that no commit holds."""
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--", "workflows", "domain", "activities"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parents[2],
            timeout=30,
        )
    except OSError:
        return []
    return [line[3:] for line in out.stdout.splitlines()] if out.returncode == 0 else []


async def environment(real_time: bool) -> WorkflowEnvironment:
    converter = encrypting_converter(TEST_PAYLOAD_KEYS)
    if real_time:
        attributes = [arg for key in search_attributes.ALL for arg in ("--search-attribute", f"{key.name}=Keyword")]
        return await WorkflowEnvironment.start_local(
            data_converter=converter,
            interceptors=signing_interceptors(TEST_PAYLOAD_KEYS),
            dev_server_existing_path=str(BIN / "temporal"),
            dev_server_extra_args=attributes + ["--log-level", "error"],
        )
    return await WorkflowEnvironment.start_time_skipping(
        data_converter=converter,
        interceptors=signing_interceptors(TEST_PAYLOAD_KEYS),
        test_server_existing_path=str(BIN / "temporal-test-server"),
    )


async def record(
    name: str,
    scenario,
    tmp: str,
    ex: concurrent.futures.Executor,
    before: str | None = None,
    setup=None,
    real_time: bool = False,
) -> None:
    """Run one scenario and write its runs into the current set (the only folder this script writes)."""
    engine = make_engine(f"sqlite:///{tmp}/{name}.db")
    upgrade(engine)
    seed_demo(engine, get_taxonomy(), "x", time_cost=1, memory_kib=1024)
    if setup is not None:
        setup(engine)
    env = await environment(real_time)
    try:
        await ensure_search_attributes(env.client, env.client.namespace)
        tq = f"record-{name}"
        settings = Settings(payload_keys=TEST_PAYLOAD_KEYS)
        with code_before(before):
            async with Workers(lambda: build_worker(env.client, settings, engine, get_taxonomy(), ex, tq)) as w:
                # Only a scenario that takes the worker down asks for it.
                more = {"workers": w} if "workers" in inspect.signature(scenario).parameters else {}
                h = await scenario(env, tq, [], **more)
        # Every run of the chain, oldest first, so replay covers continue-as-new too.
        runs, run_id = [], (await h.describe()).run_id
        while run_id:
            history = await env.client.get_workflow_handle(h.id, run_id=run_id).fetch_history()
            runs.append(history)
            start = history.events[0].workflow_execution_started_event_attributes
            run_id = start.continued_execution_run_id
        CURRENT.mkdir(parents=True, exist_ok=True)
        # A re-recording may continue as new a different number of times.
        for stale in [*CURRENT.glob(f"{name}.run*.json"), CURRENT / f"{name}.json"]:
            stale.unlink(missing_ok=True)
        for i, history in enumerate(reversed(runs)):
            path = CURRENT / (f"{name}.json" if len(runs) == 1 else f"{name}.run{i + 1}.json")
            path.write_text(history.to_json())
            print(f"wrote {path} ({len(history.events)} events)")
    finally:
        await env.shutdown()
        engine.dispose()


async def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.replay.record_histories", description=__doc__.split("\n")[0])
    p.add_argument(
        "--current", action="store_true", help="record the current set (histories/current/) again, overwriting it"
    )
    p.add_argument(
        "--only", action="append", default=[], metavar="NAME", help="only this current-set fixture (repeatable)"
    )
    p.add_argument(
        "--freeze", metavar="NAME", help="copy histories/current/ to histories/NAME/ (a new historical set) and stop"
    )
    args = p.parse_args(argv)
    if args.freeze:
        target = OUT / args.freeze
        if target.exists() or args.freeze == CURRENT.name:
            print(f"{target} exists: historical sets are never overwritten", file=sys.stderr)
            return 2
        shutil.copytree(CURRENT, target)
        print(f"froze {CURRENT} as {target} ({len(list(target.glob('*.json')))} files)")
        return 0
    current = {name: (scenario, None) for name, scenario in SCENARIOS.items()}
    current.update({name: (SCENARIOS[base], patch_id) for name, (base, patch_id) in SIMULATED.items()})
    unknown = sorted(set(args.only) - set(current))
    if unknown:
        print(f"unknown current-set fixture(s): {', '.join(unknown)}; known: {', '.join(current)}", file=sys.stderr)
        return 2
    if args.current:
        replaced = [
            p
            for p in sorted(CURRENT.glob("*.json"))
            if not args.only or p.name.removesuffix(".json").split(".run")[0] in args.only
        ]
        failing = await failing_replays(replaced)
        if failing:
            print(
                "not re-recording: these histories of the current set no longer replay against this code, so "
                "running cases would break too; guard the change with workflow.patched "
                "(docs/changing-workflow-code.md):\n  " + "\n  ".join(failing),
                file=sys.stderr,
            )
            return 1
    dirty = uncommitted_workflow_code()
    if dirty:
        print("warning: recording from uncommitted workflow code: " + ", ".join(dirty), file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp, concurrent.futures.ThreadPoolExecutor(32) as ex:
        for name, (scenario, before) in current.items():
            if args.only and name not in args.only:
                continue
            if recorded(name) and not args.current:
                print(f"kept {CURRENT.name}/{name} (already recorded; --current records it again)")
                continue
            base = SIMULATED.get(name, (name, None))[0]
            await record(name, scenario, tmp, ex, before, SETUP.get(base), base in REAL_TIME)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
