"""The weekly inspection plan's triggers: the Temporal Schedule that plans each week (片区周督查), planning one
week now (`wuhuan inspection plan`), and the worker's start-up planning of the current week when it has no visits
yet, so that a fresh demo has its week's visits on day one. All of them start WeeklyInspectionPlan, whose
activity writes a week's visits once however often it runs (activities/inspection_plan.py)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Engine
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleHandle,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from domain.inspection import PlanResult, PlanStart, monday_of, week_of
from domain.settings import Settings
from services.schedules import ensure_schedule
from store import inspection_plan as queries
from store.db import session
from workflows.inspection_plan import SCHEDULE_ID, WeeklyInspectionPlan, workflow_id

log = logging.getLogger("wuhuan.inspection")


def weekly_schedule(settings: Settings) -> Schedule:
    """Each run plans the week it starts in (the cron is in UTC: Monday 08:00 China time by default). Runs missed
    while the server was down are caught up within a day; a run still going when the next is due is skipped."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            WeeklyInspectionPlan.run, PlanStart(), id=SCHEDULE_ID, task_queue=settings.temporal_task_queue
        ),
        spec=ScheduleSpec(cron_expressions=[settings.inspection_plan_cron]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)),
    )


async def ensure_inspection_schedule(client: Client, settings: Settings) -> ScheduleHandle:
    """Create the schedule `inspection-weekly-plan` unless it exists (every worker calls this at start). One that
    exists follows a changed WUHUAN_INSPECTION_PLAN_CRON and task queue; whether an operator paused it is kept."""
    return await ensure_schedule(client, SCHEDULE_ID, weekly_schedule(settings), settings.inspection_plan_cron)


async def start_week_plan(client: Client, settings: Settings, week: date):
    """Start the plan of one week, or find the run that planned it: one workflow id per week, refused again
    unless the earlier run failed. Returns the workflow's handle."""
    wf_id = workflow_id(week)
    try:
        return await client.start_workflow(
            WeeklyInspectionPlan.run,
            PlanStart(week=week),
            id=wf_id,
            task_queue=settings.temporal_task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        )
    except WorkflowAlreadyStartedError:
        return client.get_workflow_handle(wf_id, result_type=PlanResult)


async def plan_week_now(client: Client, settings: Settings, week: date | None = None) -> PlanResult:
    """Plan `week` (default: the current one) and wait for it; a week planned before comes back unchanged."""
    handle = await start_week_plan(client, settings, week_of(datetime.now(UTC)) if week is None else monday_of(week))
    return await handle.result()


async def plan_current_week_if_empty(client: Client, settings: Settings, engine: Engine) -> bool:
    """At a worker's start: plan this week when it has no visits yet (a fresh system would otherwise wait for
    Monday's Schedule). Returns whether a plan was started; the worker does not wait for it."""
    week = week_of(datetime.now(UTC))
    with session(engine) as db:
        if queries.weekly_visits(db, week):
            return False
    await start_week_plan(client, settings, week)
    log.info("planning the inspection week of %s", week)
    return True
