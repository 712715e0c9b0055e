"""The calendar activities the case workflow calls (activities/calendar.py): called from a workflow through their
declarations in workflows/activity_api.py, on the time-skipping server with the project's encrypting converter,
against the read model's calendar — the package's years, and a year loaded afterwards counting from the next call
on (no restart)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from temporalio import workflow
from temporalio.testing import ActivityEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.calendar import CalendarClock
from domain.calendar import DueAnswer, DueRequest, PauseShiftRequest, parse_schedule
from domain.times import CHINA
from store.calendar import save_schedule
from store.db import session
from workflows import activity_api

FIXTURE_2027 = Path(__file__).parents[1] / "domain" / "data" / "calendar-2027.yaml"


@workflow.defn(sandboxed=False)
class AsksTheCalendar:
    """What DisputeCase does with these activities: ask, and keep the answer."""

    @workflow.run
    async def run(self, due: DueRequest, pause: PauseShiftRequest) -> list[DueAnswer]:
        opts = {"start_to_close_timeout": timedelta(seconds=30)}
        first = await workflow.execute_activity(activity_api.compute_due, due, **opts)
        shifted = await workflow.execute_activity(activity_api.shift_for_pause, pause, **opts)
        return [first, shifted]


def cn(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA)


async def test_the_workflow_asks_and_gets_the_calendar_answers(skipping_env, engine, executor, task_queue):
    clock = CalendarClock(engine)
    async with Worker(
        skipping_env.client,
        task_queue=task_queue,
        workflows=[AsksTheCalendar],
        activities=[clock.compute_due, clock.shift_for_pause],
        activity_executor=executor,
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        due = DueRequest(start=cn(2026, 2, 12, 10, 0), duration=timedelta(days=7), days="working")
        pause = PauseShiftRequest(
            due_at=cn(2026, 3, 20, 9, 0), paused_at=cn(2026, 3, 6, 17, 0), resumed_at=cn(2026, 3, 9, 9), days="working"
        )
        first, shifted = await skipping_env.client.execute_workflow(
            AsksTheCalendar.run, args=[due, pause], id=f"calendar-{uuid.uuid4().hex[:8]}", task_queue=task_queue
        )
    # Over Spring Festival with its two make-up Saturdays; a pause from Friday 17:00 to Monday 09:00 is 16 hours.
    assert first == DueAnswer(due_at=cn(2026, 2, 28, 10, 0).astimezone(UTC), calendar_known=True)
    assert shifted == DueAnswer(due_at=cn(2026, 3, 21, 1, 0).astimezone(UTC), calendar_known=True)


async def test_a_year_loaded_later_counts_from_the_next_call(engine):
    env, clock = ActivityEnvironment(), CalendarClock(engine)
    req = DueRequest(start=cn(2026, 12, 28, 9, 0), duration=timedelta(days=7), days="working")
    before = env.run(clock.compute_due, req)
    assert before.calendar_known is False and before.unknown_years == [2027]
    assert before.due_at == cn(2027, 1, 6, 9, 0)  # 2027 taken as Monday–Friday: Friday 1.1 counted

    with session(engine) as db:
        save_schedule(db, parse_schedule(yaml.safe_load(FIXTURE_2027.read_text("utf-8"))), "ops", datetime.now(UTC))
        db.commit()
    after = env.run(clock.compute_due, req)
    assert after.calendar_known is True and after.due_at == cn(2027, 1, 7, 9, 0)  # 1.1–1.3 off in the file

    natural = env.run(
        clock.shift_for_pause,
        PauseShiftRequest(
            due_at=cn(2027, 1, 7, 9, 0), paused_at=cn(2027, 1, 1, 0), resumed_at=cn(2027, 1, 2, 0), days="natural"
        ),
    )
    assert natural.due_at == cn(2027, 1, 8, 9, 0) and natural.calendar_known
