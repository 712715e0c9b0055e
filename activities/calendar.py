"""The working-day calendar for the case workflow: a clock's due time, and its due time after a pause.

The workflow cannot read the database (nor should it ask a package for holidays: a schedule loaded later would
change what a replay computes), so it asks these activities and keeps their answers in its history. Both only
read: a retry computes the same answer unless a schedule was loaded in between, when it gives the newer one."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from temporalio import activity

from domain.calendar import DueAnswer, DueRequest, PauseShiftRequest
from store.calendar import work_calendar
from store.db import session


class CalendarClock:
    def __init__(self, engine: Engine):
        self.engine = engine

    @activity.defn
    def compute_due(self, req: DueRequest) -> DueAnswer:
        """When a clock of req.duration started at req.start falls due, natural or working days
        (domain/calendar.py: WorkCalendar.due)."""
        with session(self.engine) as db:
            return work_calendar(db).due(req.start, req.duration, req.days)

    @activity.defn
    def shift_for_pause(self, req: PauseShiftRequest) -> DueAnswer:
        """A clock's due time after a pause: natural days move it by the pause's length; working days by the part
        of the pause that fell on working days (domain/calendar.py: WorkCalendar.shift_for_pause)."""
        with session(self.engine) as db:
            return work_calendar(db).shift_for_pause(req.due_at, req.paused_at, req.resumed_at, req.days)
