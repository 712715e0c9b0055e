"""DailyDigest: each morning's digest e-mails to the leaders (domain/digest.py says who gets what).

Started every day by the Temporal Schedule `daily-digest` at WUHUAN_DIGEST_AT (China time). The day is the China
date the run starts on, read from workflow time so that a replay asks for the same day; the one activity queues
each leader's e-mail in the outbox, once per leader and day."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.digest import DigestRequest, DigestResult, DigestStart
    from domain.times import china_local
    from workflows import activity_api as act

DIGEST_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=2))
SCHEDULE_ID = "daily-digest"


@workflow.defn
class DailyDigest:
    @workflow.run
    async def run(self, start: DigestStart) -> DigestResult:
        day = start.day or china_local(workflow.now()).date()
        return await workflow.execute_activity(
            act.send_daily_digests,
            DigestRequest(day=day),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=DIGEST_RETRY,
        )
