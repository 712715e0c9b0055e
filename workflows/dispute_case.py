"""DisputeCase: one workflow per citizen request, from intake to closure.

The loop reads like the centre's day: route the case, name a responsible person, match a team, record what
happened, and otherwise wait — for a staff step (a Workflow Update) or for the next service-level clock.
What each step is allowed to do and what it changes is decided in domain.case_flow, what the system does with
an answer of the classifier or a matcher in domain.automation, and the clocks in domain.clocks; this file asks
the questions, applies the answers and records the results.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import automation, case_flow, clocks
    from domain.calendar import DueRequest, PauseShiftRequest
    from domain.case_flow import ENDED, WORKING, CaseRuleError, Effects
    from domain.models import (
        AcceptTeamAction,
        AssignAction,
        CaseEvent,
        CaseOutcome,
        CaseRecord,
        CaseStart,
        CaseState,
        CaseStatus,
        CitizenUpdateAction,
        CodeReissueAction,
        ConsultationAction,
        DeclineTeamAction,
        ExtensionDecisionAction,
        ExtensionRequestAction,
        HandlerRequest,
        JointTaskForceRequest,
        MaterialAction,
        MediationAction,
        MemberRequest,
        NotificationRequest,
        PauseAction,
        RateAction,
        RejectAction,
        ResolveAction,
        ResumeAction,
        ReviewDecisionAction,
        ReviewRequestAction,
        RouteRequest,
        SendBackAction,
        TaskForceRequest,
        TeamAction,
        TeamRequest,
        TriageAction,
        UrgeAction,
        WithdrawAction,
    )
    from workflows import activity_api as act
    from workflows import patches
    from workflows import search_attributes as sa

RECORD_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
NOTIFY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=10))
DECIDE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=20))
ACTIVITY_TIMEOUT = timedelta(seconds=30)

Request = TypeVar("Request")
Answer = TypeVar("Answer")


def workflow_id(case_id: str) -> str:
    return f"case-{case_id}"


@workflow.defn
class DisputeCase:
    @workflow.init
    def __init__(self, start: CaseStart) -> None:
        if start.carried is not None:
            self.s = start.carried
        else:
            self.s = CaseState(
                case_id=start.case_id,
                case_no=start.case_no,
                received_at=start.received_at,
                intake=start.intake,
                intake_by=start.intake_by.username,
                levels=start.levels,
            )
            self.s.clocks = clocks.initial_clocks(self.s)
        self._start = start
        self._events: list[CaseEvent] = []
        self._notices: list[NotificationRequest] = []
        self._sending: set[asyncio.Task[Any]] = set()
        self._attrs: dict[str, str] = {}

    # --- the process -------------------------------------------------------------------------------

    @workflow.run
    async def run(self, start: CaseStart) -> CaseOutcome:
        s = self.s
        if start.carried is None:
            fx = Effects()
            fx.event(
                "received",
                start.intake_by.username,
                channel=start.intake.channel,
                category_hint=start.intake.category_hint,
                township_hint=start.intake.township_hint,
            )
            self._emit(fx)
            if s.levels.days == "working":
                await self._count_working_days()
        while True:
            await self._automate()
            await self._flush()
            if s.status in ENDED and not self._awaiting_review():
                break
            if self._history_is_long():
                await self._continue_as_new()
            reached = await self._wait_for_step_or_deadline()
            if reached is not None:
                await self._fire_due_clocks(reached)
        await self._settle()
        return CaseOutcome(case_id=s.case_id, status=s.status, colour=s.colour, closed_at=s.closed_at)

    async def _count_working_days(self) -> None:
        """Working-day cases: the yellow and red clocks' due times from the calendar (the State Council's schedule,
        调休 included). A year with no schedule loaded is counted Monday to Friday and said so in the history."""
        s = self.s
        t0 = s.received_at
        for name, duration in (("yellow", s.levels.yellow_after), ("red", s.levels.red_after)):
            answer = await self._ask(act.compute_due, DueRequest(start=t0, duration=duration, days="working"))
            clocks.set_due(s, name, answer.due_at, t0, answer.calendar_known)
            if not answer.calendar_known:
                fx = Effects()
                fx.event("calendar_unknown", "system", clock=name, years=answer.unknown_years)
                self._emit(fx)

    async def _wait_for_step_or_deadline(self) -> datetime | None:
        """Wait for a step (or automation to run) or the next clock's deadline; returns the deadline whose
        timer fired, if one did."""
        deadline = clocks.next_deadline(self.s)
        timeout = (deadline - workflow.now()).total_seconds() if deadline else None
        by_timer = deadline is not None and workflow.patched(patches.TIMER_DECIDES_DEADLINES)
        if by_timer:
            assert timeout is not None
            # Clocks fire only when their timer fires, and a timer is always started, however short:
            # workflow.now() after a crashed workflow task can differ between the first run and a replay,
            # so no decision that issues commands may rest on it.
            timeout = max(timeout, 0.001)
        reached = None
        if timeout is None or timeout > 0:
            try:
                await workflow.wait_condition(lambda: bool(self._events) or self._automation_due(), timeout=timeout)
            except TimeoutError:
                reached = deadline
        if not by_timer:
            return workflow.now()  # cases started before the patch decided on the clock's reading
        return reached

    async def _automate(self) -> None:
        """The automatic steps: each runs once per routing, and stands aside if a person acted meanwhile."""
        s = self.s
        if s.status == CaseStatus.received and not s.routing_attempted:
            decision = await self._ask(
                act.route_case, RouteRequest(case_id=s.case_id, intake=s.intake, received_at=s.received_at)
            )
            s.routing_attempted = True
            if decision.repeat_of and workflow.patched(patches.REPEAT_REQUESTS):
                self._emit(automation.repeat_flagged(decision))
            if s.status == CaseStatus.received:
                triage = automation.routing_step(decision)
                if triage is not None:
                    self._step("triage", triage)
                else:
                    self._emit(automation.routing_pending(decision))
        if automation.needs_handler(s):
            version = s.routing_version
            choice = await self._ask(
                act.choose_handler,
                HandlerRequest(case_id=s.case_id, category=s.category, unit=s.unit or "", township=s.township),
            )
            s.assignment_attempted_for = version
            if s.status == CaseStatus.routed and s.handler is None and s.routing_version == version:
                assign = automation.assignment_step(choice)
                if assign is not None:
                    self._step("assign", assign)
                else:
                    self._emit(automation.assignment_pending(s, choice))
        if automation.needs_team_matching(s):
            version = s.routing_version
            team = await self._ask(
                act.match_team,
                TeamRequest(
                    case_id=s.case_id,
                    category=s.category,
                    team_units=s.team_units,
                    township=s.township,
                    handler=s.handler,
                    exclude=list(s.team_declined),
                ),
            )
            s.team_attempted_for = version
            if s.status in WORKING and not s.team and s.routing_version == version:
                form = automation.team_step(team)
                if form is not None:
                    self._step("form_team", form)
                shortfall = automation.team_shortfall(s, team)
                if shortfall is not None:
                    self._emit(shortfall)
        if s.team_vacancies and s.status not in WORKING:
            s.team_vacancies.clear()
        if s.team_vacancies:
            # A member declined (decline_team): the next person for that seat, or the seat's leader is told.
            vacancy = s.team_vacancies[0]
            slot = await self._ask(
                act.find_team_member,
                MemberRequest(
                    case_id=s.case_id,
                    category=s.category,
                    unit=vacancy.unit,
                    township=vacancy.township if vacancy.unit is None else s.township,
                    exclude=list(s.team_declined),
                    on_case=[m.username for m in s.team] + ([s.handler.username] if s.handler else []),
                ),
            )
            if vacancy in s.team_vacancies:
                s.team_vacancies.remove(vacancy)
                self._emit(automation.fill_vacancy(s, vacancy, slot, workflow.now()))

    def _automation_due(self) -> bool:
        s = self.s
        return (
            bool(s.team_vacancies)
            or (s.status == CaseStatus.received and not s.routing_attempted)
            or automation.needs_handler(s)
            or automation.needs_team_matching(s)
        )

    async def _fire_due_clocks(self, now: datetime) -> None:
        """Breach every clock (and run every scheduled step) due by `now`: the deadline whose timer fired."""
        s = self.s
        for clock in clocks.reminders_due(s, now):
            self._emit(case_flow.remind(s, clock.name, now))
        for clock in clocks.due(s, now):
            if not clock.running:
                continue
            joint = clock.name == "red" and s.task_force is None and workflow.patched(patches.JOINT_MECHANISM)
            self._emit(case_flow.breach(s, clock.name, now, joint=joint))
            if joint:
                await self._form_task_force()
            elif automation.needs_task_force(s, clock.name):
                await self._start_task_force()
        auto_close = automation.auto_close_due(s, now)
        if auto_close is not None:
            self._step("auto_close", auto_close)
        closed = automation.review_window_closed(s, now)
        if closed is not None:
            self._emit(closed)

    def _awaiting_review(self) -> bool:
        """A case rated 1–2 stays open to a review request for a while (cases rated before this existed
        ended at once, and their histories must replay so)."""
        return self.s.review_open_until is not None and workflow.patched(patches.CITIZEN_REVIEW)

    async def _start_task_force(self) -> None:
        s = self.s
        units = automation.task_force_units(s)
        leader = await self._ask(
            act.start_task_force,
            TaskForceRequest(case_id=s.case_id, case_no=s.case_no, units=units, started_at=workflow.now()),
        )
        self._emit(automation.start_task_force(s, leader, units, workflow.now()))

    async def _form_task_force(self) -> None:
        """县领导领衔 + 专班会商 + 部门组团破难: the leader in charge, the drafted units' and township's leaders."""
        s = self.s
        plan = await self._ask(
            act.form_task_force,
            JointTaskForceRequest(
                case_id=s.case_id,
                case_no=s.case_no,
                unit=s.unit,
                township=s.township,
                units=automation.joint_task_force_units(s),
            ),
        )
        self._emit(automation.start_joint_task_force(s, plan, workflow.now()))

    # --- staff and citizen steps -------------------------------------------------------------------

    @workflow.update
    async def triage(self, action: TriageAction) -> CaseState:
        return await self._handle("triage", action)

    @triage.validator
    def _v_triage(self, action: TriageAction) -> None:
        self._validate("triage", action)

    @workflow.update
    async def assign(self, action: AssignAction) -> CaseState:
        return await self._handle("assign", action)

    @assign.validator
    def _v_assign(self, action: AssignAction) -> None:
        self._validate("assign", action)

    @workflow.update
    async def form_team(self, action: TeamAction) -> CaseState:
        return await self._handle("form_team", action)

    @form_team.validator
    def _v_form_team(self, action: TeamAction) -> None:
        self._validate("form_team", action)

    @workflow.update
    async def accept_team(self, action: AcceptTeamAction) -> CaseState:
        """A team member (not the handler) confirms taking part."""
        return await self._handle("accept_team", action)

    @accept_team.validator
    def _v_accept_team(self, action: AcceptTeamAction) -> None:
        self._validate("accept_team", action)

    @workflow.update
    async def decline_team(self, action: DeclineTeamAction) -> CaseState:
        """A team member (not the handler) steps out with a reason; the matcher then fills the seat."""
        return await self._handle("decline_team", action)

    @decline_team.validator
    def _v_decline_team(self, action: DeclineTeamAction) -> None:
        self._validate("decline_team", action)

    @workflow.update
    async def record_mediation(self, action: MediationAction) -> CaseState:
        return await self._handle("record_mediation", action)

    @record_mediation.validator
    def _v_record_mediation(self, action: MediationAction) -> None:
        self._validate("record_mediation", action)

    @workflow.update
    async def resolve(self, action: ResolveAction) -> CaseState:
        return await self._handle("resolve", action)

    @resolve.validator
    def _v_resolve(self, action: ResolveAction) -> None:
        self._validate("resolve", action)

    @workflow.update
    async def withdraw(self, action: WithdrawAction) -> CaseState:
        return await self._handle("withdraw", action)

    @withdraw.validator
    def _v_withdraw(self, action: WithdrawAction) -> None:
        self._validate("withdraw", action)

    @workflow.update
    async def reject(self, action: RejectAction) -> CaseState:
        return await self._handle("reject", action)

    @reject.validator
    def _v_reject(self, action: RejectAction) -> None:
        self._validate("reject", action)

    @workflow.update
    async def urge(self, action: UrgeAction) -> CaseState:
        return await self._handle("urge", action)

    @urge.validator
    def _v_urge(self, action: UrgeAction) -> None:
        self._validate("urge", action)

    @workflow.update
    async def record_consultation(self, action: ConsultationAction) -> CaseState:
        return await self._handle("record_consultation", action)

    @record_consultation.validator
    def _v_record_consultation(self, action: ConsultationAction) -> None:
        self._validate("record_consultation", action)

    @workflow.update
    async def add_material(self, action: MaterialAction) -> CaseState:
        return await self._handle("add_material", action)

    @add_material.validator
    def _v_add_material(self, action: MaterialAction) -> None:
        self._validate("add_material", action)

    @workflow.update
    async def citizen_update(self, action: CitizenUpdateAction) -> CaseState:
        return await self._handle("citizen_update", action)

    @citizen_update.validator
    def _v_citizen_update(self, action: CitizenUpdateAction) -> None:
        self._validate("citizen_update", action)

    @workflow.update
    async def rate(self, action: RateAction) -> CaseState:
        return await self._handle("rate", action)

    @rate.validator
    def _v_rate(self, action: RateAction) -> None:
        self._validate("rate", action)

    @workflow.update
    async def request_review(self, action: ReviewRequestAction) -> CaseState:
        return await self._handle("request_review", action)

    @request_review.validator
    def _v_request_review(self, action: ReviewRequestAction) -> None:
        self._validate("request_review", action)

    @workflow.update
    async def review_decision(self, action: ReviewDecisionAction) -> CaseState:
        return await self._handle("review_decision", action)

    @review_decision.validator
    def _v_review_decision(self, action: ReviewDecisionAction) -> None:
        self._validate("review_decision", action)

    @workflow.update
    async def reissue_code(self, action: CodeReissueAction) -> CaseState:
        return await self._handle("reissue_code", action)

    @reissue_code.validator
    def _v_reissue_code(self, action: CodeReissueAction) -> None:
        self._validate("reissue_code", action)

    @workflow.update
    async def pause(self, action: PauseAction) -> CaseState:
        """暂停计时: the yellow and red clocks stand still while the case waits for the citizen or a third party."""
        return await self._handle("pause", action)

    @pause.validator
    def _v_pause(self, action: PauseAction) -> None:
        self._validate("pause", action)

    @workflow.update
    async def resume(self, action: ResumeAction) -> CaseState:
        """恢复计时: the clocks go on, due later by the time they stood still."""
        self._validate("resume", action)
        if self.s.levels.days == "working":
            now = workflow.now()
            due = {}
            for clock in self.s.clocks:
                if clock.paused_at is not None:
                    answer = await self._ask(
                        act.shift_for_pause,
                        PauseShiftRequest(
                            due_at=clock.due_at, paused_at=clock.paused_at, resumed_at=now, days="working"
                        ),
                    )
                    due[clock.name] = answer.due_at
            action = action.model_copy(update={"due_times": due})
        return await self._handle("resume", action)

    @resume.validator
    def _v_resume(self, action: ResumeAction) -> None:
        self._validate("resume", action)

    @workflow.update
    async def request_extension(self, action: ExtensionRequestAction) -> CaseState:
        """申请延期: the handler asks; the lead unit's leader or a supervisor decides."""
        return await self._handle("request_extension", action)

    @request_extension.validator
    def _v_request_extension(self, action: ExtensionRequestAction) -> None:
        self._validate("request_extension", action)

    @workflow.update
    async def decide_extension(self, action: ExtensionDecisionAction) -> CaseState:
        """审批延期: an approval moves the yellow and red clocks by the duration asked for."""
        self._validate("decide_extension", action)
        pending = self.s.pending_extension
        if action.approve and pending is not None and self.s.levels.days == "working":
            due = {}
            for clock in self.s.clocks:
                if clock.name in clocks.COLOUR_CLOCKS and clock.running:
                    answer = await self._ask(
                        act.compute_due, DueRequest(start=clock.due_at, duration=pending.duration, days="working")
                    )
                    due[clock.name] = answer.due_at
            action = action.model_copy(update={"due_times": due})
        return await self._handle("decide_extension", action)

    @decide_extension.validator
    def _v_decide_extension(self, action: ExtensionDecisionAction) -> None:
        self._validate("decide_extension", action)

    @workflow.update
    async def send_back(self, action: SendBackAction) -> CaseState:
        """退回: a unit returns a case that is not its own to the clerks; the routing clock starts again."""
        return await self._handle("send_back", action)

    @send_back.validator
    def _v_send_back(self, action: SendBackAction) -> None:
        self._validate("send_back", action)

    @workflow.query
    def state(self) -> CaseState:
        return self.s

    # --- plumbing ----------------------------------------------------------------------------------

    def _validate(self, step: str, action: case_flow.Action) -> None:
        try:
            case_flow.check(self.s, step, action)
        except CaseRuleError as e:
            raise ApplicationError(e.message, {"code": e.code}, type=e.kind, non_retryable=True) from None

    async def _handle(self, step: str, action: case_flow.Action) -> CaseState:
        self._validate(step, action)  # the state may have moved since validation
        target = self._step(step, action)
        await workflow.wait_condition(lambda: self.s.recorded_seq >= target)
        return self.s

    def _step(self, step: str, action: case_flow.Action) -> int:
        """Apply a checked step now; returns the seq its events will have once recorded."""
        fx = case_flow.apply(self.s, step, action, workflow.now())
        self._emit(fx)
        return self.s.next_seq - 1

    def _emit(self, fx: Effects) -> None:
        s = self.s
        events, notices = fx.numbered(s.next_seq, workflow.now(), s.case_id, s.case_no)
        self._events += events
        self._notices += notices
        s.next_seq += len(events)

    async def _flush(self) -> None:
        """Record events in order (one writer keeps the log ordered), with their notifications."""
        while self._events:
            events, self._events = self._events, []
            notices, self._notices = self._notices, []
            # The record activity queues the notifications in the transaction of their events (external
            # channels are sent by the outbox relay). Cases begun before that send them in activities of their
            # own, beside the case.
            together = workflow.patched(patches.NOTICES_WITH_RECORDS)
            await workflow.execute_activity(
                act.record_case_events,
                CaseRecord(case_id=self.s.case_id, events=events, state=self.s, notices=notices if together else []),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RECORD_RETRY,
            )
            self.s.recorded_seq = events[-1].seq
            for notice in [] if together else notices:
                task = asyncio.create_task(self._notify(notice))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)
        self._sync_search_attributes()

    async def _notify(self, notice: NotificationRequest) -> None:
        # Cases begun before "notices-with-records": runs beside the case, retried, never holding it up.
        await workflow.execute_activity(
            act.send_notifications, notice, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=NOTIFY_RETRY
        )

    async def _drain_notifications(self) -> None:
        if self._sending:
            await asyncio.gather(*list(self._sending))

    async def _ask(self, activity: Callable[[Request], Answer], request: Request) -> Answer:
        """Ask an activity for a decision (classifier, matcher, roster); retried until it answers."""
        return await workflow.execute_activity(
            activity, request, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=DECIDE_RETRY
        )

    def _sync_search_attributes(self) -> None:
        s = self.s
        wanted = {
            sa.CASE_STATUS.name: s.status.value,
            sa.CASE_COLOUR.name: s.colour.value,
            sa.CASE_UNIT.name: s.unit or "",
            sa.CASE_TOWNSHIP.name: s.township or "",
        }
        if wanted == self._attrs:
            return
        updates = [
            key.value_set(wanted[key.name]) if wanted[key.name] else key.value_unset()
            for key in sa.ALL
            if self._attrs.get(key.name) != wanted[key.name]
        ]
        workflow.upsert_search_attributes(updates)
        self._attrs = wanted

    def _history_is_long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self.s.levels.history_event_limit
        )

    async def _settle(self) -> None:
        """Let running update handlers finish (they wait for their events to be recorded) and send all.
        Returns only when nothing is pending, so the caller can end or continue as new at once."""
        while True:
            await self._flush()
            await self._drain_notifications()
            if workflow.all_handlers_finished() and not self._events and not self._sending:
                return
            await workflow.wait_condition(lambda: workflow.all_handlers_finished() or bool(self._events))

    async def _continue_as_new(self) -> None:
        await self._settle()
        self.s.run_count += 1
        workflow.continue_as_new(self._start.model_copy(update={"carried": self.s}))
