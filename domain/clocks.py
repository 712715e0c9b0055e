"""Service-level clocks held as data (docs/architecture.md, the clocks): each has a due time from intake and is
met, breached or stopped. The workflow's loop waits for the earliest running one; nothing here reads the time itself."""

from __future__ import annotations

from datetime import datetime

from domain.models import CaseState, Clock, SupervisionColour

# The order a county reads them in, and the order breaches due at the same instant are processed in.
CLOCK_ORDER = ("routed", "assigned", "team", "yellow", "red")
COLOUR_CLOCKS = {"yellow": SupervisionColour.yellow, "red": SupervisionColour.red}


def initial_clocks(state: CaseState) -> list[Clock]:
    t0, lv = state.received_at, state.levels
    return [
        Clock(name="routed", due_at=t0 + lv.routed_within),
        Clock(name="assigned", due_at=t0 + lv.assigned_within),
        Clock(name="yellow", due_at=t0 + lv.yellow_after),
        Clock(name="red", due_at=t0 + lv.red_after),
    ]


def ensure_team_clock(state: CaseState, needed: bool) -> None:
    """A team clock exists while the case's category needs a team (it may change on re-routing)."""
    existing = state.clock("team")
    if needed and existing is None:
        state.clocks.append(Clock(name="team", due_at=state.received_at + state.levels.team_within))
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
    state.clocks += [Clock(name="yellow", due_at=now + lv.yellow_after), Clock(name="red", due_at=now + lv.red_after)]
    state.clocks.sort(key=lambda c: CLOCK_ORDER.index(c.name))
    state.colour = SupervisionColour.green


def due(state: CaseState, now: datetime) -> list[Clock]:
    """Running clocks whose time has come, in processing order."""
    return sorted(
        (c for c in state.clocks if c.running and c.due_at <= now),
        key=lambda c: (c.due_at, CLOCK_ORDER.index(c.name)),
    )


def next_deadline(state: CaseState) -> datetime | None:
    times = [c.due_at for c in state.clocks if c.running]
    if state.auto_close_at is not None and state.closed_at is None:
        times.append(state.auto_close_at)
    if state.review_open_until is not None:
        times.append(state.review_open_until)
    return min(times) if times else None


def next_running(clocks: list[Clock]) -> Clock | None:
    """The running clock that falls due first: what a person handling the case should watch."""
    running = [c for c in clocks if c.running]
    return min(running, key=lambda c: (c.due_at, CLOCK_ORDER.index(c.name))) if running else None


def colour_after_breach(current: SupervisionColour, clock_name: str) -> SupervisionColour:
    new = COLOUR_CLOCKS.get(clock_name)
    if new is None:
        return current
    order = list(SupervisionColour)
    return new if order.index(new) > order.index(current) else current
