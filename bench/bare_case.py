"""Temporal's bare "case-like" workflow for bench/bench_intake.py and bench/bench_clocks.py: two activities, a wait for
a signal with a timeout, one activity; and a workflow that only sleeps (a timer), for the clocks' baseline. No
codec, no database, the SDK's default worker (sandbox, cache of 1,000).

    .venv/bin/python bench/bare_case.py <temporal host:port> <task queue>      (the benches start it themselves)"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.common import RetryPolicy


@activity.defn
async def bare_step(n: int) -> int:
    return n + 1


@workflow.defn
class BareCase:
    """Two activities, a signal wait with a timeout (a timer that the signal cancels), one activity."""

    def __init__(self) -> None:
        self.acted = False

    @workflow.signal
    def act(self) -> None:
        self.acted = True

    @workflow.run
    async def run(self, n: int) -> int:
        timeout, retry = timedelta(seconds=30), RetryPolicy(maximum_attempts=5)
        n = await workflow.execute_activity(bare_step, n, start_to_close_timeout=timeout, retry_policy=retry)
        n = await workflow.execute_activity(bare_step, n, start_to_close_timeout=timeout, retry_policy=retry)
        try:
            await workflow.wait_condition(lambda: self.acted, timeout=timedelta(minutes=5))
        except TimeoutError:
            pass
        return await workflow.execute_activity(bare_step, n, start_to_close_timeout=timeout, retry_policy=retry)


@workflow.defn
class BareTimer:
    """Sleeps until a given moment (epoch seconds), then ends: what a clock falling due costs Temporal alone."""

    @workflow.run
    async def run(self, due: float) -> float:
        await asyncio.sleep(max(due - workflow.now().timestamp(), 0.001))
        return workflow.now().timestamp()


async def run_worker(target: str, queue: str) -> None:
    from temporalio.client import Client
    from temporalio.worker import Worker

    # The same bytecode setting as `wuhuan worker` (worker.enable_bytecode_cache), so both sandboxes pay alike.
    if sys.dont_write_bytecode:
        sys.dont_write_bytecode = False
        sys.pycache_prefix = sys.pycache_prefix or str(Path(tempfile.gettempdir()) / "wuhuan-pycache")
    client = await Client.connect(target)
    worker = Worker(client, task_queue=queue, workflows=[BareCase, BareTimer], activities=[bare_step])
    await worker.run()


if __name__ == "__main__":
    # Imported by its own name, never as __main__, so that the workflow sandbox can import it again.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bare_case

    asyncio.run(bare_case.run_worker(sys.argv[1], sys.argv[2]))
