"""Service-level clocks held as data (docs/architecture.md, the clocks): each has a due time from intake and is
met, breached or stopped. The workflow's loop waits for the earliest running one; nothing here reads the time itself."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.models import CaseState, Clock, ServiceLevels, SupervisionColour

# The order a county reads them in, and the order breaches due at the same instant are processed in.
CLOCK_ORDER = ("routed", "assigned", "team", "yellow", "red", "task_force")
SERVICE_CLOCKS = CLOCK_ORDER[:5]  # the service levels the board counts compliance of (not the task force's)
COLOUR_CLOCKS = {"yellow": SupervisionColour.yellow, "red": SupervisionColour.red}
# The minute clocks' reminders: the clerk a minute before routing is due, the lead unit's leader a minute before
# a person must be named, the handler a quarter of an hour before the team. The colour clocks' reminder is a
# setting (WUHUAN_SLA_REMIND_BEFORE, ServiceLevels.remind_before).
MINUTE_REMINDERS = {"routed": timedelta(minutes=1), "assigned": timedelta(minutes=1), "team": timedelta(minutes=15)}


def _reminder(levels: ServiceLevels, name: str, start: datetime, due_at: datetime) -> datetime | None:
    """When a clock's reminder goes out; None without reminders (cases opened before them) or when the clock is
    shorter than its reminder."""
    if levels.remind_before is None:
        return None
    before = MINUTE_REMINDERS.get(name, levels.remind_before)
    return due_at - before if due_at - before > start else None


def make_clock(levels: ServiceLevels, name: str, start: datetime, due_at: datetime) -> Clock:
    return Clock(name=name, due_at=due_at, remind_at=_reminder(levels, name, start, due_at))


def initial_clocks(state: CaseState) -> list[Clock]:
    t0, lv = state.received_at, state.levels
    return [
        make_clock(lv, "routed", t0, t0 + lv.routed_within),
        make_clock(lv, "assigned", t0, t0 + lv.assigned_within),
        make_clock(lv, "yellow", t0, t0 + lv.yellow_after),
        make_clock(lv, "red", t0, t0 + lv.red_after),
    ]


def set_due(state: CaseState, name: str, due_at: datetime, start: datetime, known: bool = True) -> None:
    """A clock's due time from the calendar (working days), its reminder moved with it."""
    clock = state.clock(name)
    if clock is None:
        return
    clock.due_at, clock.calendar_known = due_at, known
    clock.remind_at = _reminder(state.levels, name, start, due_at) if clock.reminded_at is None else clock.remind_at


def ticking(clock: Clock) -> bool:
    """Running and not standing still: a clock that can fall due or remind."""
    return clock.running and clock.paused_at is None


def ensure_team_clock(state: CaseState, needed: bool) -> None:
    """A team clock exists while the case's category needs a team (it may change on re-routing)."""
    existing = state.clock("team")
    if needed and existing is None:
        t0 = state.received_at
        state.clocks.append(make_clock(state.levels, "team", t0, t0 + state.levels.team_within))
        state.clocks.sort(key=lambda c: CLOCK_ORDER.index(c.name))
    elif not needed and existing is not None and existing.running:
        state.clocks.remove(existing)


def meet(state: CaseState, name: str, at: datetime) -> Clock | None:
    """Mark a running clock met; returns it, or None when it was not running (met, breached, absent)."""
    clock = state.clock(name)
    if clock is None or not clock.running:
        return None
    clock.met_at = at
    return clock


def stop_running(state: CaseState, at: datetime) -> list[Clock]:
    stopped = [c for c in state.clocks if c.running]
    for clock in stopped:
        clock.stopped_at = at
    return stopped


def restart_colour_clocks(state: CaseState, now: datetime) -> None:
    """A case sent back for re-handling gets fresh yellow and red clocks from the decision."""
    lv = state.levels
    state.clocks = [c for c in state.clocks if c.name not in COLOUR_CLOCKS]
    state.clocks += [
        make_clock(lv, "yellow", now, now + lv.yellow_after),
        make_clock(lv, "red", now, now + lv.red_after),
    ]
    state.clocks.sort(key=lambda c: CLOCK_ORDER.index(c.name))
    state.colour = SupervisionColour.green


def due(state: CaseState, now: datetime) -> list[Clock]:
    """Ticking clocks whose time has come, in processing order."""
    return sorted(
        (c for c in state.clocks if ticking(c) and c.due_at <= now),
        key=lambda c: (c.due_at, CLOCK_ORDER.index(c.name)),
    )


def reminders_due(state: CaseState, now: datetime) -> list[Clock]:
    """Ticking clocks whose reminder is due and not yet sent."""
    return [
        c
        for c in state.clocks
        if ticking(c) and c.remind_at is not None and c.reminded_at is None and c.remind_at <= now
    ]


def next_deadline(state: CaseState) -> datetime | None:
    times = [c.due_at for c in state.clocks if ticking(c)]
    times += [c.remind_at for c in state.clocks if ticking(c) and c.remind_at is not None and c.reminded_at is None]
    if state.auto_close_at is not None and state.closed_at is None:
        times.append(state.auto_close_at)
    if state.review_open_until is not None:
        times.append(state.review_open_until)
    return min(times) if times else None


def next_running(clocks: list[Clock]) -> Clock | None:
    """The ticking clock that falls due first: what a person handling the case should watch."""
    running = [c for c in clocks if ticking(c)]
    return min(running, key=lambda c: (c.due_at, CLOCK_ORDER.index(c.name))) if running else None


def colour_after_breach(current: SupervisionColour, clock_name: str) -> SupervisionColour:
    new = COLOUR_CLOCKS.get(clock_name)
    if new is None:
        return current
    order = list(SupervisionColour)
    return new if order.index(new) > order.index(current) else current


# --- pausing and extending the colour clocks ---------------------------------------------------------------


def pause_colour_clocks(state: CaseState, now: datetime) -> list[Clock]:
    """暂停计时: the running yellow and red clocks stand still (the minute clocks are done by then)."""
    paused = [c for c in state.clocks if c.name in COLOUR_CLOCKS and ticking(c)]
    for clock in paused:
        clock.paused_at = now
    return paused


def resume_colour_clocks(state: CaseState, now: datetime, due_times: dict[str, datetime]) -> list[Clock]:
    """恢复计时: each paused clock is due later by the time it stood still — the calendar's answer for working-day
    cases (`due_times`), else the natural time; its reminder moves with it."""
    resumed = [c for c in state.clocks if c.paused_at is not None]
    for clock in resumed:
        assert clock.paused_at is not None
        shift = due_times[clock.name] - clock.due_at if clock.name in due_times else now - clock.paused_at
        _move(clock, shift)
        clock.paused_at = None
    return resumed


def extend_colour_clocks(state: CaseState, duration: timedelta, due_times: dict[str, datetime]) -> list[Clock]:
    """An approved extension: the yellow and red clocks not yet breached are due later by `duration` (by the
    calendar's answer for working-day cases). A colour already reached stays: the extension is not a pardon."""
    moved = [c for c in state.clocks if c.name in COLOUR_CLOCKS and c.running]
    for clock in moved:
        _move(clock, due_times[clock.name] - clock.due_at if clock.name in due_times else duration)
    return moved


def _move(clock: Clock, shift: timedelta) -> None:
    clock.due_at += shift
    if clock.remind_at is not None and clock.reminded_at is None:
        clock.remind_at += shift


def restart_routing_clock(state: CaseState, now: datetime) -> None:
    """退回: the case waits for the clerks again, with a fresh routing clock."""
    lv = state.levels
    state.clocks = [c for c in state.clocks if c.name != "routed"]
    state.clocks.append(make_clock(lv, "routed", now, now + lv.routed_within))
    state.clocks.sort(key=lambda c: CLOCK_ORDER.index(c.name))


def add_task_force_clock(state: CaseState, deadline: datetime) -> None:
    state.clocks.append(Clock(name="task_force", due_at=deadline))
    state.clocks.sort(key=lambda c: CLOCK_ORDER.index(c.name))
