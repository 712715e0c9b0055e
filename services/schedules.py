"""Keeping a Temporal Schedule as the settings say: every worker calls `ensure_schedule` at start. A schedule that
does not exist is created; one that exists is brought to a changed cron or task queue, and an operator's pause
(and its note: why it was paused) is kept. The schedule's note names the cron it follows, since the server keeps
a cron only as a calendar."""

from __future__ import annotations

import logging

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleHandle,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

log = logging.getLogger("wuhuan.schedules")


def cron_note(cron: str) -> str:
    return f"cron {cron}"


def with_note(schedule: Schedule, cron: str) -> Schedule:
    schedule.state = ScheduleState(note=cron_note(cron))
    return schedule


async def ensure_schedule(client: Client, schedule_id: str, wanted: Schedule, cron: str) -> ScheduleHandle:
    wanted = with_note(wanted, cron)
    action = wanted.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    try:
        handle = await client.create_schedule(schedule_id, wanted)
        log.info("created schedule %s (%s)", schedule_id, cron)
        return handle
    except ScheduleAlreadyRunningError:
        handle = client.get_schedule_handle(schedule_id)

    def follow(current: ScheduleUpdateInput) -> ScheduleUpdate | None:
        now = current.description.schedule
        same_queue = isinstance(now.action, ScheduleActionStartWorkflow) and now.action.task_queue == action.task_queue
        if (now.state.note or "").startswith(cron_note(cron)) and same_queue:
            return None
        wanted.state.paused = now.state.paused
        if now.state.note and not now.state.note.startswith("cron "):  # an operator's note (why it was paused)
            wanted.state.note = f"{cron_note(cron)}; {now.state.note}"
        log.info("schedule %s now follows %s", schedule_id, cron)
        return ScheduleUpdate(schedule=wanted)

    await handle.update(follow)
    return handle
