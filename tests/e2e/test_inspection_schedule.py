"""The weekly inspection plan's Schedule on the real dev server (the time-skipping server has no schedules): the
worker's start-up creates it once with the configured cron, leaves an existing one alone, and a run of it writes
the week's visits; start-up also plans the current week, but only while it has no visits."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import func, select

from domain.inspection import PlanResult, week_of
from domain.settings import Settings
from services.inspection_plan import ensure_inspection_schedule
from store.db import session
from store.tables import InspectionVisit
from testkit.waiting import poll
from tests.conftest import TEST_PAYLOAD_KEYS, worker_for
from worker import start_inspection_planning
from workflows.inspection_plan import SCHEDULE_ID, workflow_id


def weekly_visits(engine) -> int:
    with session(engine) as db:
        return db.exec(select(func.count()).select_from(InspectionVisit)).one()


async def test_the_schedule_is_created_once_with_the_cron_and_its_run_plans_the_week(
    dev_server, engine, executor, task_queue
):
    settings = Settings(
        temporal_task_queue=task_queue, inspection_plan_cron="30 1 * * 1", payload_keys=TEST_PAYLOAD_KEYS
    )
    client = dev_server.client
    first = await ensure_inspection_schedule(client, settings.model_copy(update={"inspection_plan_cron": "0 2 * * *"}))
    await first.pause(note="paused by the operator")
    # A changed cron is followed by the schedule that exists, and the operator's pause is kept.
    handle = await ensure_inspection_schedule(client, settings)
    again = await ensure_inspection_schedule(client, settings)
    assert first.id == handle.id == again.id == SCHEDULE_ID
    desc = await again.describe()
    assert desc.schedule.state.paused and desc.schedule.state.note.endswith("paused by the operator")
    await again.unpause()
    # The server keeps a cron expression as a calendar: what it promises is the next runs, Mondays 01:30 UTC.
    assert len(desc.info.next_action_times) >= 2
    assert all((t.weekday(), t.hour, t.minute) == (0, 1, 30) for t in desc.info.next_action_times)
    assert desc.schedule.action.workflow == "WeeklyInspectionPlan"
    assert desc.schedule.action.task_queue == task_queue
    assert len([s async for s in await client.list_schedules() if s.id == SCHEDULE_ID]) == 1

    async with worker_for(dev_server, engine, executor, task_queue, settings):
        await handle.trigger()

        async def planned():
            return weekly_visits(engine) == 12 or None

        await poll(planned, "the scheduled run's visits")
        # Start-up planning finds the week planned already and starts nothing.
        await start_inspection_planning(client, settings, engine)
    assert weekly_visits(engine) == 12
    runs = [w async for w in client.list_workflows('WorkflowType = "WeeklyInspectionPlan"')]
    assert len(runs) == 1 and runs[0].id.startswith(SCHEDULE_ID)


async def test_start_up_plans_the_current_week_when_it_has_no_visits(dev_server, engine, executor, task_queue):
    settings = Settings(temporal_task_queue=task_queue, payload_keys=TEST_PAYLOAD_KEYS)
    client = dev_server.client
    async with worker_for(dev_server, engine, executor, task_queue, settings):
        await start_inspection_planning(client, settings, engine)
        week = week_of(datetime.now(UTC))
        result = await client.get_workflow_handle(workflow_id(week), result_type=PlanResult).result()
        assert (result.week, result.visits, result.new) == (week, 12, 12)
        await start_inspection_planning(client, settings, engine)  # a restart: planned already
    assert weekly_visits(engine) == 12
    assert (await client.get_schedule_handle(SCHEDULE_ID).describe()).schedule.action.workflow == "WeeklyInspectionPlan"
