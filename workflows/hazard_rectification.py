"""HazardRectification: one workflow per hazard found on an inspection, from handing it on to the responsible
unit to struck off (销号) and re-checked (回头看).

The loop waits for a step (the unit's evidence, the inspector's verification or re-check, as Workflow Updates) or
for the hazard's next clock (a reminder before the deadline, the deadline itself, the re-check); the rules are in
domain.hazards. Like a case, every step's events and notices are recorded in one activity, in order.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import hazards
    from domain.case_flow import CaseRuleError, Effects
    from domain.hazards import (
        EvidenceAction,
        HazardAction,
        HazardOutcome,
        HazardRecord,
        HazardStart,
        HazardState,
        HazardStatus,
        RecheckAction,
        VerifyAction,
    )
    from domain.models import CaseEvent, NotificationRequest
    from workflows import activity_api as act

RECORD_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))


def workflow_id(hazard_id: str) -> str:
    return f"hazard-{hazard_id}"


@workflow.defn
class HazardRectification:
    @workflow.init
    def __init__(self, start: HazardStart) -> None:
        self.h: HazardState = hazards.initial_state(start.report, start.levels)
        self._events: list[CaseEvent] = []
        self._notices: list[NotificationRequest] = []

    @workflow.run
    async def run(self, start: HazardStart) -> HazardOutcome:
        h = self.h
        fx = Effects()
        fx.event(
            "found", h.report.found_by, severity=h.report.severity, unit=h.report.unit, deadline=h.deadline.isoformat()
        )
        fx.notify("hazard_assigned", hazards.leaders_of(h), site=h.report.site, deadline=h.deadline.isoformat())
        self._emit(fx)
        while True:
            await self._flush()
            if h.status == HazardStatus.rechecked:
                break
            due = hazards.next_due(h)
            timeout = max((due - workflow.now()).total_seconds(), 0.001) if due else None
            try:
                await workflow.wait_condition(lambda: bool(self._events), timeout=timeout)
            except TimeoutError:
                assert due is not None
                self._emit(hazards.fire(h, due))  # decided on the timer's own deadline, never on now()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return HazardOutcome(hazard_id=h.report.hazard_id, status=h.status, overdue=h.overdue)

    # --- the unit's and the inspector's steps -------------------------------------------------------

    @workflow.update
    async def submit_evidence(self, action: EvidenceAction) -> HazardState:
        return await self._handle("submit_evidence", action)

    @submit_evidence.validator
    def _v_submit_evidence(self, action: EvidenceAction) -> None:
        self._validate("submit_evidence", action)

    @workflow.update
    async def verify(self, action: VerifyAction) -> HazardState:
        return await self._handle("verify", action)

    @verify.validator
    def _v_verify(self, action: VerifyAction) -> None:
        self._validate("verify", action)

    @workflow.update
    async def recheck(self, action: RecheckAction) -> HazardState:
        return await self._handle("recheck", action)

    @recheck.validator
    def _v_recheck(self, action: RecheckAction) -> None:
        self._validate("recheck", action)

    @workflow.query
    def state(self) -> HazardState:
        return self.h

    # --- plumbing ----------------------------------------------------------------------------------

    def _validate(self, step: str, action: HazardAction) -> None:
        try:
            hazards.check(self.h, step, action)
        except CaseRuleError as e:
            raise ApplicationError(e.message, {"code": e.code}, type=e.kind, non_retryable=True) from None

    async def _handle(self, step: str, action: HazardAction) -> HazardState:
        self._validate(step, action)  # the hazard may have moved since validation
        self._emit(hazards.apply(self.h, step, action, workflow.now()))
        target = self.h.next_seq - 1
        await workflow.wait_condition(lambda: self.h.recorded_seq >= target)
        return self.h

    def _emit(self, fx: Effects) -> None:
        h = self.h
        events, notices = fx.numbered(h.next_seq, workflow.now(), h.report.hazard_id, h.report.hazard_no)
        self._events += events
        self._notices += notices
        h.next_seq += len(events)

    async def _flush(self) -> None:
        while self._events:
            events, self._events = self._events, []
            notices, self._notices = self._notices, []
            await workflow.execute_activity(
                act.record_hazard_events,
                HazardRecord(hazard_id=self.h.report.hazard_id, events=events, state=self.h, notices=notices),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RECORD_RETRY,
            )
            self.h.recorded_seq = events[-1].seq
