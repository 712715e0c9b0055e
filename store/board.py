"""The supervision board's figures as SQL aggregates over the read model: a few queries whose answers are a few
thousand rows at most, however many cases there are (services/board.py shapes them into the board).

Portable between SQLite and PostgreSQL, and fast on both, by reading columns the record activity keeps for the
purpose: each clock's state (`clock_routed` …, since counting inside the `clocks` JSON is written differently on
each) and `resolution_days` (date arithmetic is too). The indexes of migration 0004 serve these queries, each
holding a leader's jurisdiction too so that a leader's board is read from indexes alone: the flow figures stream
through one index already in (unit, township, clock states) order, so grouping needs no sort; the open cases are
read off an index by status and colour; a median is read by walking an index in order of resolution time to the
middle row (ORDER BY … LIMIT … OFFSET), not by sorting every duration; each week of the trend is a range of the
resolution-time index. SQLite sorts slowly and readily walks a whole index to avoid a sort: several queries are
shaped around that, and say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, case, func, literal, select, union_all
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from domain.case_flow import OPEN
from domain.clocks import SERVICE_CLOCKS
from store.tables import Case, NotificationDelivery, Staff, TaskForceRow

OPEN_VALUES = tuple(sorted(s.value for s in OPEN))
CLOCK_STATES = ("met", "breached", "running", "stopped")


# A Flow is a vector of sums, so that rolling (unit, township) pairs up into units, townships and the county is
# adding vectors: the figures first, then each clock's count in each state.
FIGURES = ("received", "resolved", "closed", "resolution_days", "rated", "rating_sum", "satisfied", "reviewed",
           "ever_rated")  # fmt: skip
AT_STATE = {
    (name, state): len(FIGURES) + i * len(CLOCK_STATES) + j
    for i, name in enumerate(SERVICE_CLOCKS)
    for j, state in enumerate(CLOCK_STATES)
}
WIDTH = len(FIGURES) + len(AT_STATE)


class Flow:
    """Sums over the cases received in the period, for one (unit, township) pair or any grouping of them."""

    __slots__ = ("v",)

    def __init__(self, v: list[float] | None = None):
        self.v = v if v is not None else [0] * WIDTH

    def add(self, other: Flow) -> None:
        self.v = [a + b for a, b in zip(self.v, other.v, strict=True)]

    @property
    def received(self) -> int:
        return int(self.v[0])

    @property
    def resolved(self) -> int:
        return int(self.v[1])

    @property
    def closed(self) -> int:
        return int(self.v[2])

    @property
    def resolution_days(self) -> float:
        """Summed over the resolved cases."""
        return float(self.v[3])

    @property
    def rated(self) -> int:
        return int(self.v[4])

    @property
    def rating_sum(self) -> int:
        return int(self.v[5])

    @property
    def satisfied(self) -> int:
        """Rated 4–5."""
        return int(self.v[6])

    @property
    def reviewed(self) -> int:
        """Asked for review (复核)."""
        return int(self.v[7])

    @property
    def ever_rated(self) -> int:
        """Rated, or rated once and re-handled after review (its rating cleared)."""
        return int(self.v[8])

    def clock(self, name: str) -> dict[str, int]:
        """How many cases have the clock in each state (none of a case without it)."""
        return {state: int(self.v[AT_STATE[(name, state)]]) for state in CLOCK_STATES}


def _rows(db: Session, q: Any) -> list[Any]:
    # Core rows on the session's connection (its transaction, so every query of a board reads the same
    # snapshot), without the ORM's per-row work.
    return list(db.connection().execute(q).all())


def _period(column: Any, start: datetime | None, end: datetime | None) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if start is not None:
        conds.append(column >= start)
    if end is not None:
        conds.append(column < end)
    return conds


def _where(scope: ColumnElement[bool] | None, *conds: ColumnElement[bool]) -> list[ColumnElement[bool]]:
    return ([scope] if scope is not None else []) + list(conds)


def _count_if(cond: ColumnElement[bool]) -> Any:
    return func.count(case((cond, 1)))  # COUNT skips the NULL of a CASE without ELSE


def open_colours(db: Session, scope: ColumnElement[bool] | None) -> list[tuple[str | None, str | None, str, int]]:
    """Now: (unit, township, colour, open cases), a row per status too (the caller adds them up): grouped in the
    order of the open-cases index, SQLite reads the few open cases off it; grouped by unit first, it would
    rather walk a whole index in that order than sort them."""
    keys = [Case.status, Case.colour, Case.unit, Case.township]
    q = select(*keys, func.count()).where(*_where(scope, Case.status.in_(OPEN_VALUES))).group_by(*keys)
    return [(unit, township, colour, n) for _, colour, unit, township, n in _rows(db, q)]


def flows(
    db: Session, scope: ColumnElement[bool] | None, start: datetime | None, end: datetime | None
) -> dict[tuple[str | None, str | None], Flow]:
    """The cases received in [start, end), summed per (unit, township): one pass over the flow index, every flow
    figure. The clocks' states are part of the grouping rather than counted by a CASE each (twenty of those
    cost more than the rest of the query): the index is in that order too, so the grouping still needs no sort."""
    clock_columns = [getattr(Case, f"clock_{name}") for name in SERVICE_CLOCKS]
    keys = [Case.unit, Case.township, *clock_columns]
    q = (
        select(
            *keys,
            func.count(),
            func.count(Case.resolution_days),
            _count_if(Case.status == "closed"),
            func.sum(Case.resolution_days),  # NULL without resolved cases: read as 0 below
            func.count(Case.rating),
            func.sum(Case.rating),
            _count_if(Case.rating >= 4),
            func.count(Case.review_requested_at),
            _count_if(Case.rating.is_not(None) | Case.review_requested_at.is_not(None)),
        )
        .where(*_where(scope, *_period(Case.received_at, start, end)))
        .group_by(*keys)
    )
    sums: dict[tuple[str | None, str | None], list[float]] = {}
    at_state = [{state: AT_STATE[(name, state)] for state in CLOCK_STATES} for name in SERVICE_CLOCKS]
    first = 2 + len(SERVICE_CLOCKS)
    for row in db.connection().execute(q):  # streamed: each row is garbage at once, not a heap the GC walks
        acc = sums.get((row[0], row[1]))
        if acc is None:
            acc = sums[(row[0], row[1])] = [0] * WIDTH
        for i, x in enumerate(row[first:]):
            if x is not None:  # a SUM over no resolved or rated case
                acc[i] += x
        n = row[first]
        for states, state in zip(at_state, row[2:first], strict=True):
            if state in states:  # None: the case has no such clock
                acc[states[state]] += n
    return {pair: Flow(v) for pair, v in sums.items()}


@dataclass(frozen=True)
class MedianGroup:
    """The resolved cases whose `column` is `value` (every one when `column` is None), `resolved` of them."""

    column: Any
    value: str | None
    resolved: int


def medians(
    db: Session,
    scope: ColumnElement[bool] | None,
    start: datetime | None,
    end: datetime | None,
    groups: list[MedianGroup],
) -> list[float | None]:
    """The median days to resolution of each group's cases received in [start, end), in order; `resolved` comes
    from `flows` (the same filter). Each group's middle one or two rows are read off an index in order of
    resolution time (ORDER BY … LIMIT … OFFSET), all groups in one statement."""
    arms = []
    for i, g in enumerate(groups):
        if g.resolved <= 0:
            continue
        conds = [Case.resolution_days.is_not(None), *_period(Case.received_at, start, end)]
        if g.column is not None:
            conds.append(g.column.is_(None) if g.value is None else g.column == g.value)
        middle = (
            select(Case.resolution_days.label("days"))
            .where(*_where(scope, *conds))
            .order_by(Case.resolution_days)
            .limit(2 if g.resolved % 2 == 0 else 1)
            .offset((g.resolved - 1) // 2)
            .subquery()
        )
        arms.append(select(literal(i, Integer).label("grp"), middle.c.days))
    found: dict[int, list[float]] = {}
    if arms:
        for i, days in _rows(db, union_all(*arms)):
            found.setdefault(i, []).append(float(days))
    return [sum(found[i]) / len(found[i]) if i in found else None for i in range(len(groups))]


def weekly(
    db: Session, scope: ColumnElement[bool] | None, weeks: list[tuple[datetime, datetime]]
) -> dict[int, tuple[int, float]]:
    """For each (start, end) of `weeks` (by position): the cases resolved in it and the sum of their days to
    resolution; weeks without any are left out. One query, the weeks as rows over the resolution-time index."""
    if not weeks:
        return {}
    stamp = DateTime(timezone=True)
    bounds = union_all(
        *(
            select(literal(i, Integer).label("idx"), literal(s, stamp).label("lo"), literal(e, stamp).label("hi"))
            for i, (s, e) in enumerate(weeks)
        )
    ).subquery("weeks")
    in_week = (Case.resolved_at >= bounds.c.lo) & (Case.resolved_at < bounds.c.hi)
    if scope is None:
        # Each week counts its own range in two correlated subqueries: nothing is sorted.
        q = select(
            bounds.c.idx,
            select(func.count(Case.resolution_days)).where(in_week).scalar_subquery(),
            select(func.sum(Case.resolution_days)).where(in_week).scalar_subquery(),
        )
    else:
        # Evaluating a leader's scope costs more than sorting their slice: once per case, in a join by week.
        q = (
            select(bounds.c.idx, func.count(Case.resolution_days), func.sum(Case.resolution_days))
            .select_from(bounds)
            .join(Case, in_week)
            .where(scope)
            .group_by(bounds.c.idx)
        )
    return {int(i): (n, float(s)) for i, n, s in _rows(db, q) if n}


def first_received(db: Session, scope: ColumnElement[bool] | None) -> datetime | None:
    return db.connection().execute(select(func.min(Case.received_at)).where(*_where(scope))).scalar()


@dataclass(frozen=True)
class ListedCase:
    case_id: str
    case_no: str
    status: str
    category: str | None
    unit: str | None
    township: str | None
    handler: str | None
    handler_name: str | None
    received_at: datetime
    paused: bool = False


def coloured(db: Session, scope: ColumnElement[bool] | None, colour: str) -> list[ListedCase]:
    """Now: the open cases of one colour, oldest first, with their handler's name."""
    q = (
        select(
            Case.case_id,
            Case.case_no,
            Case.status,
            Case.category,
            Case.unit,
            Case.township,
            Case.handler,
            Staff.display_name,
            Case.received_at,
            Case.paused,
        )
        .outerjoin(Staff, Staff.username == Case.handler)
        .where(*_where(scope, Case.status.in_(OPEN_VALUES), Case.colour == colour))
    )
    # Sorted here, not by ORDER BY: given one, SQLite walks the whole received_at index to save sorting the few
    # open cases, instead of seeking them by status.
    return sorted((ListedCase(*r) for r in _rows(db, q)), key=lambda c: (c.received_at, c.case_no))


@dataclass(frozen=True)
class Standstill:
    """Pausing, extensions and sending back: `paused_now` over the open cases now, the rest over the cases
    received in the period (read-model columns kept by the record activity, issue 12)."""

    paused_now: int = 0
    paused_cases: int = 0  # paused at least once, the pause over (resumed)
    paused_seconds: int = 0  # the pauses that are over, summed; a pause still on counts once it is resumed
    extended_cases: int = 0
    extensions_approved: int = 0
    extensions_refused: int = 0
    sent_back_cases: int = 0
    sent_back: int = 0


def standstill(
    db: Session, scope: ColumnElement[bool] | None, start: datetime | None, end: datetime | None
) -> Standstill:
    now = select(func.count()).where(*_where(scope, Case.status.in_(OPEN_VALUES), Case.paused.is_(True)))
    flow = select(
        _count_if(Case.paused_seconds > 0),
        func.coalesce(func.sum(Case.paused_seconds), 0),
        _count_if(Case.extensions_approved > 0),
        func.coalesce(func.sum(Case.extensions_approved), 0),
        func.coalesce(func.sum(Case.extensions_refused), 0),
        _count_if(Case.sent_back > 0),
        func.coalesce(func.sum(Case.sent_back), 0),
    ).where(*_where(scope, *_period(Case.received_at, start, end)))
    paused_now = db.connection().execute(now).scalar() or 0
    row = db.connection().execute(flow).one()
    return Standstill(int(paused_now), *(int(x or 0) for x in row))


def active_task_forces(
    db: Session, scope: ColumnElement[bool] | None
) -> list[tuple[TaskForceRow, str, str, str | None]]:
    """Now: the task forces still at work (not closed), with their case's number, status and township."""
    q = (
        select(TaskForceRow, Case.case_no, Case.status, Case.township)
        .join(Case, Case.case_id == TaskForceRow.case_id)
        .where(*_where(scope, TaskForceRow.closed_at.is_(None)))
        # Past their deadline first (the overall convener's list), then the oldest.
        .order_by(TaskForceRow.overdue_at.is_(None), TaskForceRow.overdue_at, TaskForceRow.started_at, Case.case_no)
    )
    return [(tf, no, status, township) for tf, no, status, township in db.execute(q).all()]


def pending_deliveries(
    db: Session, scope: ColumnElement[bool] | None
) -> list[tuple[NotificationDelivery, str, str, str | None, str | None]]:
    """Messages an external channel has not accepted yet, on the cases in scope, with their case's facts."""
    q = (
        select(NotificationDelivery, Case.case_no, Case.status, Case.unit, Case.township)
        .join(Case, Case.case_id == NotificationDelivery.case_id)
        .where(*_where(scope, NotificationDelivery.status == "pending"))
    )
    return [(d, no, status, unit, township) for d, no, status, unit, township in db.execute(q).all()]
