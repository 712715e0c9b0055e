"""The supervision board (挂图作战): figures over the read-model rows the caller may see — the whole county for
the centre and the county leaders, their own unit's or township's slice for a leader — for any period.

Now-figures (open cases by colour, the yellow and red lists, task forces at work, undelivered messages) do not
depend on the period; flow figures (resolution times, clock compliance, satisfaction, review) count the cases
received in it, and the weekly trend the cases resolved in it. The figures are SQL aggregates (store/board.py):
the board costs a few queries whatever the number of cases, never a row per case in Python."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from domain.case_flow import STATUS_ZH
from domain.clocks import SERVICE_CLOCKS
from domain.jurisdiction import scope_of
from domain.models import Actor, CaseStatus
from domain.settings import Settings
from domain.taxonomy import Taxonomy
from domain.times import CHINA, as_utc, china_local
from services.calendar import board_years
from services.errors import invalid
from services.schemas import (
    BoardCalendar,
    BoardCalendarYear,
    BoardCase,
    BoardPeriod,
    BoardStandstill,
    BoardTaskForce,
    BoardTotals,
    BoardTownshipRow,
    BoardTrend,
    BoardUndelivered,
    BoardUndeliveredCase,
    BoardUnitRow,
    BoardView,
    BoardWeek,
    ClockCompliance,
    Satisfaction,
)
from store import board as sql
from store import directory
from store import jurisdiction as sql_jurisdiction
from store.tables import Case

COLOURS = ("green", "yellow", "red")
TARGET_CLOCKS = ("routed", "assigned", "team")  # the clocks with a service level in minutes or hours
UNROUTED, UNKNOWN = "unrouted", "unknown"
DEFAULT_BASELINE_DAYS: float = Settings.model_fields["board_baseline_days"].default
DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
TREND_MAX_WEEKS = 260  # five years of weeks; a longer period shows its latest five years


# --- the period -------------------------------------------------------------------------------------------


def _bound(text: str | None, name: str, label: str) -> datetime | None:
    """A bound as typed: a date is that China-time day (its start for `from`, the next day's start for `to`, so
    the day is included); a time without an offset is China wall time."""
    text = (text or "").strip()
    if not text:
        return None
    message = f"统计期间的{label}格式有误，应为日期（如 2026-03-01）或时间（如 2026-03-01T08:00）"
    try:
        if DATE_ONLY.fullmatch(text):
            day = date.fromisoformat(text) + (timedelta(days=1) if name == "to" else timedelta(0))
            return datetime.combine(day, time(0), CHINA).astimezone(UTC)
        t = datetime.fromisoformat(text)
        return (t if t.tzinfo is not None else t.replace(tzinfo=CHINA)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise invalid("invalid_period", message, field=name) from None


def parse_period(from_text: str | None, to_text: str | None) -> BoardPeriod:
    """`from` and `to` as a person types them (ISO dates or times); 422 `invalid_period` otherwise."""
    start, end = _bound(from_text, "from", "起始"), _bound(to_text, "to", "截止")
    if start is not None and end is not None and start >= end:
        raise invalid("invalid_period", "统计期间的起始应早于截止", field="from")
    return BoardPeriod(start=start, end=end)


# --- shaping ----------------------------------------------------------------------------------------------


def _ratio(part: int | float, whole: int | float, digits: int = 4) -> float | None:
    return round(part / whole, digits) if whole else None


def _compliance(states: dict[str, int]) -> ClockCompliance:
    met, breached = states["met"], states["breached"]
    return ClockCompliance(
        met=met,
        breached=breached,
        running=states["running"],
        stopped=states["stopped"],
        compliance=_ratio(met, met + breached),
    )


def _group(now_counts: dict[str, int], flow: sql.Flow, median: float | None) -> dict[str, Any]:
    """The fields of a BoardGroup (a unit's or a township's row)."""
    open_ = sum(now_counts.get(c, 0) for c in COLOURS)
    return dict(
        open=open_,
        total=open_,
        **{c: now_counts.get(c, 0) for c in COLOURS},
        received=flow.received,
        resolved=flow.resolved,
        average_days=_ratio(flow.resolution_days, flow.resolved, 2),
        median_days=round(median, 2) if median is not None else None,
        clocks={name: _compliance(flow.clock(name)) for name in TARGET_CLOCKS},
        satisfaction=_satisfaction(flow),
        reviewed=flow.reviewed,
        review_rate=_ratio(flow.reviewed, flow.ever_rated),
    )


def _satisfaction(flow: sql.Flow) -> Satisfaction:
    return Satisfaction(
        average=_ratio(flow.rating_sum, flow.rated, 2),
        count=flow.rated,
        satisfied=flow.satisfied,
        satisfied_share=_ratio(flow.satisfied, flow.rated),
    )


def _days(delta: timedelta) -> float:
    return round(delta.total_seconds() / 86400, 2)


def _listed(
    rows: list[sql.ListedCase], tx: Taxonomy, now: datetime, overdue: frozenset[str] = frozenset()
) -> list[BoardCase]:
    out = []
    for r in rows:
        leader = tx.leader_in_charge(r.unit, r.township)
        out.append(
            BoardCase(
                case_id=r.case_id,
                case_no=r.case_no,
                status=r.status,
                status_zh=STATUS_ZH.get(CaseStatus(r.status), r.status),
                category=r.category,
                category_zh=tx.category_zh(r.category) if r.category else None,
                unit=r.unit,
                unit_zh=tx.unit_zh(r.unit) if r.unit else None,
                township=r.township,
                township_zh=tx.township_zh(r.township) if r.township else None,
                handler=r.handler,
                handler_name=r.handler_name,
                received_at=as_utc(r.received_at),
                days_open=_days(now - as_utc(r.received_at)),
                leader_in_charge=leader.username if leader else None,
                leader_in_charge_zh=leader.zh if leader else None,
                paused=r.paused,
                task_force_overdue=r.case_id in overdue,
            )
        )
    out.sort(key=lambda c: not c.task_force_overdue)  # stable: the overdue task forces' cases first, oldest first
    return out


def _county_leader_zh(tx: Taxonomy, username: str | None) -> str | None:
    """A county leader's post from the taxonomy, when the staff directory has no display name for them."""
    return next((leader.zh for leader in tx.county_leaders if leader.username == username), None)


def _monday(t: datetime) -> date:
    """The Monday of the China-time week `t` falls in."""
    day = china_local(t).date()
    return day - timedelta(days=day.weekday())


def _china_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), CHINA).astimezone(UTC)


def _trend(
    db: Session, scope: ColumnElement[bool] | None, period: BoardPeriod, now: datetime, baseline: float
) -> BoardTrend:
    """Every China-time week of the period, from its start (or the first case in scope: nothing is resolved
    before it) up to its end or now, at most TREND_MAX_WEEKS of the latest: the cases resolved that week within
    the period and their average days to resolution, against the baseline."""
    trend = BoardTrend(baseline_days=baseline)
    first = sql.first_received(db, scope)
    if first is None:
        return trend
    start = max(as_utc(first), period.start) if period.start is not None else as_utc(first)
    end = min(period.end, now) if period.end is not None else now
    if start >= end:
        return trend
    mondays = []
    monday = _monday(end - timedelta(microseconds=1))
    while len(mondays) < TREND_MAX_WEEKS and _china_midnight(monday + timedelta(days=7)) > start:
        mondays.append(monday)
        monday -= timedelta(days=7)
    mondays.reverse()
    # Each week cut to the period, so its first and last weeks count only what was resolved within it.
    ranges = [(max(_china_midnight(m), start), min(_china_midnight(m + timedelta(days=7)), end)) for m in mondays]
    figures = sql.weekly(db, scope, ranges)
    for i, monday in enumerate(mondays):
        iso = monday.isocalendar()
        n, total = figures.get(i, (0, 0.0))
        average = round(total / n, 2) if n else None
        trend.weeks.append(
            BoardWeek(
                week=f"{iso.year}-W{iso.week:02d}",
                start=monday,
                end=monday + timedelta(days=6),
                resolved=n,
                average_days=average,
                difference_days=round(average - baseline, 2) if average is not None else None,
            )
        )
    return trend


def _undelivered(db: Session, scope: ColumnElement[bool] | None) -> BoardUndelivered:
    by_case: dict[str, list] = defaultdict(list)
    for d, case_no, status, unit, township in sql.pending_deliveries(db, scope):
        by_case[d.case_id].append((d, case_no, status, unit, township))
    cases = []
    for case_id, items in by_case.items():
        ds = [i[0] for i in items]
        _, case_no, status, unit, township = items[0]
        latest = max(ds, key=lambda d: (d.last_attempt_at is not None, d.last_attempt_at))
        cases.append(
            BoardUndeliveredCase(
                case_id=case_id,
                case_no=case_no,
                status=status,
                unit=unit,
                township=township,
                messages=len(ds),
                since=as_utc(min(d.created_at for d in ds)),
                attempts=max(d.attempts for d in ds),
                last_error=latest.last_error,
            )
        )
    cases.sort(key=lambda c: (c.since, c.case_no))
    return BoardUndelivered(messages=sum(c.messages for c in cases), cases=cases)


# --- the board --------------------------------------------------------------------------------------------


def board(
    db: Session,
    viewer: Actor,
    tx: Taxonomy,
    now: datetime,
    period: BoardPeriod | None = None,
    baseline_days: float = DEFAULT_BASELINE_DAYS,
) -> BoardView:
    """Open cases by colour, unit and township; per unit and township the period's resolution times, clock
    compliance, satisfaction and review rate; the yellow and red lists with the county leader in charge; task
    forces at work; undelivered messages; and the weekly trend against the county's baseline."""
    period = period or BoardPeriod()
    now = as_utc(now)
    scope = sql_jurisdiction.case_filter(scope_of(viewer))
    start, end = period.start, period.end

    now_by_pair: dict[tuple[str | None, str | None], dict[str, int]] = defaultdict(dict)
    for unit, township, colour, n in sql.open_colours(db, scope):
        now_by_pair[(unit, township)][colour] = now_by_pair[(unit, township)].get(colour, 0) + n
    flow_by_pair = sql.flows(db, scope, start, end)

    # Roll the (unit, township) pairs up into units, townships and the whole.
    units: dict[str | None, tuple[dict[str, int], sql.Flow]] = {}
    townships: dict[str | None, tuple[dict[str, int], sql.Flow]] = {}
    whole_now: dict[str, int] = dict.fromkeys(COLOURS, 0)
    whole = sql.Flow()
    for pair in set(now_by_pair) | set(flow_by_pair):
        counts, flow = now_by_pair.get(pair, {}), flow_by_pair.get(pair, sql.Flow())
        for key, table in ((pair[0], units), (pair[1], townships)):
            acc_now, acc_flow = table.setdefault(key, ({}, sql.Flow()))
            for colour, n in counts.items():
                acc_now[colour] = acc_now.get(colour, 0) + n
            acc_flow.add(flow)
        for colour, n in counts.items():
            whole_now[colour] = whole_now.get(colour, 0) + n
        whole.add(flow)

    unit_codes = sorted(units, key=lambda c: c or UNROUTED)
    township_codes = sorted(townships, key=lambda c: c or UNKNOWN)
    found = sql.medians(
        db,
        scope,
        start,
        end,
        [sql.MedianGroup(Case.unit, code, units[code][1].resolved) for code in unit_codes]
        + [sql.MedianGroup(Case.township, code, townships[code][1].resolved) for code in township_codes]
        + [sql.MedianGroup(None, None, whole.resolved)],
    )
    median_unit = dict(zip(unit_codes, found[: len(unit_codes)], strict=True))
    median_township = dict(zip(township_codes, found[len(unit_codes) : -1], strict=True))
    median_all = found[-1]

    by_unit = [
        BoardUnitRow(
            unit=code or UNROUTED,
            unit_zh=tx.unit_zh(code) if code else "待分流",
            **_group(*units[code], median_unit[code]),
        )
        for code in unit_codes
    ]
    by_township = [
        BoardTownshipRow(
            township=code or UNKNOWN,
            township_zh=tx.township_zh(code) if code else "未明确",
            **_group(*townships[code], median_township[code]),
        )
        for code in township_codes
    ]

    active = sql.active_task_forces(db, scope)
    names = directory.display_names(db, {u for tf, *_ in active for u in [tf.led_by or "", *(tf.members or [])]})
    forces = [
        BoardTaskForce(
            case_id=tf.case_id,
            case_no=case_no,
            led_by=tf.led_by,
            units=list(tf.units or []),
            started_at=as_utc(tf.started_at),
            consultations=tf.consultations,
            closed_at=as_utc(tf.closed_at),
            status=status,
            township=township,
            led_by_name=names.get(tf.led_by or "") or _county_leader_zh(tx, tf.led_by),
            units_zh=[tx.unit_zh(u) for u in tf.units or []],
            members=list(tf.members or []),
            member_names=[names.get(m, m) for m in tf.members or []],
            deadline=as_utc(tf.deadline) if tf.deadline else None,
            overdue_at=as_utc(tf.overdue_at) if tf.overdue_at else None,
            # Past the deadline even if the workflow has not said so yet (a worker down): the board does not wait.
            overdue=tf.overdue_at is not None or (tf.deadline is not None and as_utc(tf.deadline) <= now),
        )
        for tf, case_no, status, township in active
    ]
    forces.sort(key=lambda f: not f.overdue)  # stable: overdue first, each part oldest first
    overdue = frozenset(f.case_id for f in forces if f.overdue)
    held = sql.standstill(db, scope, start, end)

    if scope is None:
        scope_code, scope_zh = "county", "全县"
    elif viewer.unit:
        scope_code, scope_zh = viewer.unit, tx.unit_zh(viewer.unit)
    else:
        scope_code = viewer.township or viewer.username
        scope_zh = tx.township_zh(viewer.township) if viewer.township else viewer.username
    return BoardView(
        generated_at=now,
        scope=scope_code,
        scope_zh=scope_zh,
        period=period,
        totals=BoardTotals(
            cases=whole.received, resolved=whole.resolved, closed=whole.closed, open=sum(whole_now.values())
        ),
        by_colour={c: whole_now.get(c, 0) for c in COLOURS},
        by_unit=by_unit,
        by_township=by_township,
        service_levels={name: _compliance(whole.clock(name)) for name in SERVICE_CLOCKS},
        average_resolution_days=_ratio(whole.resolution_days, whole.resolved, 2),
        median_resolution_days=round(median_all, 2) if median_all is not None else None,
        satisfaction=_satisfaction(whole),
        reviewed=whole.reviewed,
        review_rate=_ratio(whole.reviewed, whole.ever_rated),
        yellow=_listed(sql.coloured(db, scope, "yellow"), tx, now),
        red=_listed(sql.coloured(db, scope, "red"), tx, now, overdue),
        task_forces=forces,
        undelivered=_undelivered(db, scope),
        trend=_trend(db, scope, period, now, baseline_days),
        calendar=BoardCalendar(years=[BoardCalendarYear(**y) for y in board_years(db, china_local(now).date())]),
        standstill=BoardStandstill(
            paused_now=held.paused_now,
            paused_cases=held.paused_cases,
            paused_days=round(held.paused_seconds / 86400, 2),
            extended_cases=held.extended_cases,
            extensions_approved=held.extensions_approved,
            extensions_refused=held.extensions_refused,
            sent_back_cases=held.sent_back_cases,
            sent_back=held.sent_back,
        ),
    )
