"""The smallest workflow with DisputeCase's shape, for bench/repro_cache/repro.py (nothing of the project's code).

The loop of DisputeCase, reduced: record what happened (an activity), then wait for a step or the clock's
deadline (`workflow.wait_condition(..., timeout=...)`, i.e. a timer); when the timer fires, a "breached" event
is emitted and recorded by the next pass of the loop. A step is a Workflow Update (with a validator, as every
DisputeCase step has, or without) that emits an event and waits until the loop has recorded it, or, for comparison, a
signal. A query returns the state, as the API's case view does.

The knobs (`Knobs`) switch single ingredients on and off so the reproduction can bisect them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError


@dataclass
class Knobs:
    timer: float = 4.0  # seconds from the start to the clock's deadline
    update_waits: bool = True  # the update handler waits until the loop has recorded its event (DisputeCase)
    update_activity: bool = False  # the update handler runs an activity itself instead of waiting for the loop


@dataclass
class Record:
    workflow_id: str
    events: list[str]


@activity.defn
async def record(r: Record) -> int:
    """Stands for record_case_events: a short write to the read model."""
    return len(r.events)


@workflow.defn
class MiniCase:
    @workflow.init
    def __init__(self, k: Knobs) -> None:
        self.k = k
        self.pending: list[str] = []
        self.log: list[str] = []
        self.next_seq = 1
        self.recorded = 0
        self.breached = False
        self.closed = False

    @workflow.run
    async def run(self, k: Knobs) -> list[str]:
        deadline = workflow.now() + timedelta(seconds=k.timer)
        self._emit("received")
        while True:
            await self._flush()
            if self.closed:
                break
            # As DisputeCase since "timer-decides-deadlines": a timer is always started and only its firing
            # breaches the clock.
            timeout = None if self.breached else max((deadline - workflow.now()).total_seconds(), 0.001)
            try:
                await workflow.wait_condition(lambda: bool(self.pending) or self.closed, timeout=timeout)
            except TimeoutError:
                self.breached = True
                self._emit("breached")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.log

    def _emit(self, name: str) -> int:
        self.pending.append(f"{self.next_seq}:{name}")
        self.next_seq += 1
        return self.next_seq - 1

    async def _flush(self) -> None:
        while self.pending:
            events, self.pending = self.pending, []
            await workflow.execute_activity(
                record,
                Record(workflow.info().workflow_id, events),
                start_to_close_timeout=timedelta(seconds=10),
            )
            self.log += events
            self.recorded = int(events[-1].split(":")[0])

    def _apply_step(self, name: str) -> int:
        seq = self._emit(name)
        if name == "close":
            self.closed = True
        return seq

    # --- the step, as an update (DisputeCase) or as a signal (for comparison) ---------------------------

    @workflow.update
    async def step(self, name: str) -> int:
        return await self._step(name)

    @step.validator
    def _check_step(self, name: str) -> None:
        if self.closed:
            raise ApplicationError("already closed", non_retryable=True)

    @workflow.update
    async def step_plain(self, name: str) -> int:
        """The same step without a validator."""
        return await self._step(name)

    async def _step(self, name: str) -> int:
        if self.k.update_activity:
            await workflow.execute_activity(
                record, Record(workflow.info().workflow_id, [name]), start_to_close_timeout=timedelta(seconds=10)
            )
        seq = self._apply_step(name)
        if self.k.update_waits:
            await workflow.wait_condition(lambda: self.recorded >= seq)
        return seq

    @workflow.signal
    async def step_signal(self, name: str) -> None:
        self._apply_step(name)

    @workflow.query
    def state(self) -> dict:
        return {"log": self.log, "pending": self.pending, "breached": self.breached, "closed": self.closed}
