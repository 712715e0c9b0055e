"""The morning digest's Schedule: `daily-digest` runs DailyDigest every day at WUHUAN_DIGEST_AT (China time).
Created by every worker at start (services/schedules.py: an existing one follows a changed time and keeps an
operator's pause)."""

from __future__ import annotations

import logging
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleHandle,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from domain.digest import DigestStart, digest_cron
from domain.settings import Settings
from services.schedules import ensure_schedule
from workflows.daily_digest import SCHEDULE_ID, DailyDigest

log = logging.getLogger("wuhuan.digest")


def daily_schedule(settings: Settings) -> Schedule:
    """A run missed while the server was down is caught up within two hours (a digest at noon helps nobody)."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            DailyDigest.run, DigestStart(), id=SCHEDULE_ID, task_queue=settings.temporal_task_queue
        ),
        spec=ScheduleSpec(cron_expressions=[digest_cron(settings.digest_at)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(hours=2)),
    )


async def ensure_digest_schedule(client: Client, settings: Settings) -> ScheduleHandle:
    return await ensure_schedule(client, SCHEDULE_ID, daily_schedule(settings), digest_cron(settings.digest_at))
