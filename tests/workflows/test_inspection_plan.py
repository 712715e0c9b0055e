"""The weekly inspection plan on the time-skipping server with the real activity and read model: the week's
visits are written once, however often the week is planned (a second run, a retried activity, the per-week
workflow id); the visiting teams' inspectors are told and nobody else (the visit is unannounced); an unplanned
week is the one the run starts in. The Schedule that starts it each week runs on the dev server (the
time-skipping server has no schedules)."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlmodel import select

from activities.inspection_plan import InspectionPlanner
from activities.notifications import Notifier
from domain.inspection import PlanRequest, PlanStart, week_of
from domain.settings import Settings, get_settings
from domain.taxonomy import get_taxonomy
from services.inspection_plan import start_week_plan
from store.db import session
from store.tables import InspectionVisit, Notification, Staff
from workflows.inspection_plan import WeeklyInspectionPlan, workflow_id

MONDAY = date(2026, 12, 7)


def visits(engine) -> list[InspectionVisit]:
    with session(engine) as db:
        return list(db.exec(select(InspectionVisit).order_by(InspectionVisit.district, InspectionVisit.slot)))


def notices(engine) -> list[Notification]:
    with session(engine) as db:
        return list(db.exec(select(Notification).where(Notification.kind == "inspection_planned")))


def staff(engine) -> dict[str, Staff]:
    with session(engine) as db:
        return {s.username: s for s in db.exec(select(Staff))}


async def plan(env, task_queue, wf_id, week=MONDAY):
    return await env.client.execute_workflow(
        WeeklyInspectionPlan.run, PlanStart(week=week), id=wf_id, task_queue=task_queue
    )


async def test_the_week_is_planned_once_and_only_the_visiting_teams_are_told(skipping_env, worker, engine):
    result = await plan(skipping_env, worker.task_queue, "plan-a")
    assert (result.week, result.visits, result.new) == (MONDAY, 12, 12)
    planned = visits(engine)
    assert Counter(v.district for v in planned) == {d: 2 for d in range(1, 7)}
    assert {(v.kind, v.status, v.week) for v in planned} == {("weekly", "planned", MONDAY)}
    people = staff(engine)
    for v in planned:
        assert people[next(u for u, s in people.items() if s.team == v.team)].district == v.district
        assert get_taxonomy().township(v.township).district == v.district

    told = notices(engine)
    by_visit: dict[str, set[str]] = {}
    for n in told:
        by_visit.setdefault(n.case_id, set()).add(n.recipient)
    assert set(by_visit) == {v.visit_id for v in planned}
    for v in planned:
        team = {u for u, s in people.items() if s.role == "inspector" and s.team == v.team}
        assert by_visit[v.visit_id] == team, v.team
    # Unannounced: no unit, no township, no leader hears of it; only the teams' inspectors.
    assert {people[n.recipient].role for n in told} == {"inspector"}
    assert all(people[n.recipient].team for n in told)
    assert "本周督查任务" in told[0].text and "请勿提前告知" in told[0].text

    again = await plan(skipping_env, worker.task_queue, "plan-b")
    assert (again.visits, again.new) == (12, 0)
    assert [v.visit_id for v in visits(engine)] == [v.visit_id for v in planned]
    assert len(notices(engine)) == len(told)


async def test_a_retried_activity_writes_nothing_twice(engine):
    settings = get_settings()
    tx = get_taxonomy()
    planner = InspectionPlanner(engine, tx, settings, Notifier(engine, tx))
    first = planner.plan_inspection_week(PlanRequest(week=MONDAY))
    told = len(notices(engine))
    second = planner.plan_inspection_week(PlanRequest(week=MONDAY))
    assert (first.new, second.new, second.visits) == (12, 0, 12)
    assert len(visits(engine)) == 12 and len(notices(engine)) == told
    one = InspectionPlanner(engine, tx, Settings(inspection_visits_per_district=1), Notifier(engine, tx))
    assert one.plan_inspection_week(PlanRequest(week=date(2026, 12, 14))).visits == 6


async def test_a_run_with_no_week_plans_the_week_it_starts_in(skipping_env, worker, engine):
    handle = await skipping_env.client.start_workflow(
        WeeklyInspectionPlan.run, PlanStart(), id="scheduled-run", task_queue=worker.task_queue
    )
    result = await handle.result()
    assert result.week == week_of((await handle.describe()).start_time)
    assert {v.week for v in visits(engine)} == {result.week}


async def test_one_workflow_per_week_planned_by_hand(skipping_env, worker, engine):
    settings = Settings(temporal_task_queue=worker.task_queue)
    first = await start_week_plan(skipping_env.client, settings, MONDAY)
    second = await start_week_plan(skipping_env.client, settings, MONDAY)
    assert first.id == second.id == workflow_id(MONDAY) == "inspection-plan-2026-12-07"
    assert (await second.result()).visits == 12
    assert (await first.describe()).run_id == (await second.describe()).run_id
