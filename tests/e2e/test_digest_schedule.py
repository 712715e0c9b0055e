"""The morning digest's Schedule on the real dev server (the time-skipping server has no schedules): created at
WUHUAN_DIGEST_AT China time, a run of it queues each leader's digest e-mail once, and a second run of the day
queues nothing more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from activities.digest import DigestSender
from domain.digest import DigestResult, DigestStart
from domain.settings import Settings
from domain.taxonomy import get_taxonomy
from domain.times import china_local
from services.digest import ensure_digest_schedule
from store.db import session
from store.tables import NotificationDelivery
from testkit.waiting import poll
from tests.activities.test_digest import seed
from tests.conftest import TEST_PAYLOAD_KEYS, worker_for
from workflows.daily_digest import SCHEDULE_ID, DailyDigest


def digests(engine) -> list[NotificationDelivery]:
    with session(engine) as db:
        return list(db.exec(select(NotificationDelivery).where(NotificationDelivery.kind == "digest")).all())


async def test_the_digest_schedule_runs_at_the_china_time_and_queues_each_leaders_email_once(
    dev_server, engine, executor, task_queue
):
    seed(engine)  # a red, a yellow and a due-today case (tests/activities/test_digest.py)
    settings = Settings(
        temporal_task_queue=task_queue,
        digest_at="07:30",
        smtp_host="127.0.0.1",
        smtp_from="矛调中心 <noreply@demo.wuhuan.invalid>",
        payload_keys=TEST_PAYLOAD_KEYS,
    )
    client = dev_server.client
    handle = await ensure_digest_schedule(client, settings)
    assert handle.id == SCHEDULE_ID
    desc = await handle.describe()
    # 07:30 in China is 23:30 UTC the day before.
    assert desc.info.next_action_times and all((t.hour, t.minute) == (23, 30) for t in desc.info.next_action_times)

    today = china_local(datetime.now(UTC)).date()
    with session(engine) as db:
        sender = DigestSender(engine, get_taxonomy(), lambda *args: True)
        expected = {username for username, _, _ in sender.digests(db, today, datetime.now(UTC))}
    assert {"renshe.leader", "cl.shehui", "county_leader"} <= expected

    async with worker_for(dev_server, engine, executor, task_queue, settings):
        await handle.trigger()
        await poll(lambda: len(digests(engine)) >= len(expected) or None, "the digests of the scheduled run")
        # Another run the same day (a retry, an operator's trigger) queues nothing twice.
        again = await client.execute_workflow(
            DailyDigest.run,
            DigestStart(day=today),
            id=f"digest-again-{task_queue}",
            task_queue=task_queue,
            result_type=DigestResult,
            execution_timeout=timedelta(minutes=1),
        )
    assert again.sent == 0
    rows = digests(engine)
    assert len(rows) == len(expected) and {r.recipient for r in rows} == expected
    assert all(r.channel == "email" and r.subject.startswith("【每日督办】") for r in rows)
