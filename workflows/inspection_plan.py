"""WeeklyInspectionPlan: plans a week of unannounced inspection visits (片区周督查), 1–2 per district.

Started each Monday by the Temporal Schedule `inspection-weekly-plan` (services/inspection_plan.py), or for one
week by `wuhuan inspection plan` and by the worker at start-up. The plan itself is domain.inspection.plan_week,
run by the one activity that writes the visits and tells the teams; the week is the one the run starts in, read
from workflow time so that a replay plans the same week. Planning a week twice writes nothing twice: the visits
are keyed by (week, district, slot) and the notices by visit.
"""

from __future__ import annotations

from datetime import date, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain import inspection
    from domain.inspection import PlanRequest, PlanResult, PlanStart
    from workflows import activity_api as act

PLAN_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
SCHEDULE_ID = "inspection-weekly-plan"


def workflow_id(week: date) -> str:
    """One workflow per week planned by hand or at start-up: starting it again for the same week is refused."""
    return f"inspection-plan-{week}"


@workflow.defn
class WeeklyInspectionPlan:
    @workflow.run
    async def run(self, start: PlanStart) -> PlanResult:
        week = start.week or inspection.week_of(workflow.now())
        return await workflow.execute_activity(
            act.plan_inspection_week,
            PlanRequest(week=week),
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=PLAN_RETRY,
        )
