"""The matching activities (交办, 组团, 专班): the workflow asks, store.matching.Matcher answers. The decision's
time is the time the workflow scheduled the activity, so a retry ranks the candidates as the first try did."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from temporalio import activity

from domain.models import (
    HandlerChoice,
    HandlerRequest,
    JointTaskForceRequest,
    MemberRequest,
    TaskForcePlan,
    TaskForceRequest,
    TeamChoice,
    TeamRequest,
    TeamSlot,
)
from domain.taxonomy import Taxonomy
from store.matching import Matcher


def _decided_at() -> datetime:
    return activity.info().current_attempt_scheduled_time


class Assignment:
    def __init__(self, engine: Engine, taxonomy: Taxonomy):
        self.matcher = Matcher(engine, taxonomy)

    @activity.defn
    def choose_handler(self, req: HandlerRequest) -> HandlerChoice:
        return self.matcher.choose_handler(req, _decided_at())

    @activity.defn
    def match_team(self, req: TeamRequest) -> TeamChoice:
        return self.matcher.match_team(req, _decided_at())

    @activity.defn
    def find_team_member(self, req: MemberRequest) -> TeamSlot:
        return self.matcher.find_team_member(req, _decided_at())

    @activity.defn
    def start_task_force(self, req: TaskForceRequest) -> str | None:
        """Red cases that breached before the joint mechanism (their histories replay this call)."""
        return self.matcher.task_force_leader(req)

    @activity.defn
    def form_task_force(self, req: JointTaskForceRequest) -> TaskForcePlan:
        return self.matcher.task_force_plan(req)
