"""The supervision board (挂图作战): figures computed from the read-model rows the caller may see — the whole
county for the centre and the county leaders, their own unit's or township's slice for a leader."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from domain.case_flow import OPEN
from domain.clocks import CLOCK_ORDER
from domain.jurisdiction import scope_of
from domain.models import Actor, Clock
from domain.taxonomy import Taxonomy
from store import jurisdiction as sql_jurisdiction
from store.tables import Case, NotificationDelivery, TaskForceRow

COLOURS = ("green", "yellow", "red")
OPEN_VALUES = frozenset(s.value for s in OPEN)


def _colour_counts() -> dict[str, int]:
    return {c: 0 for c in COLOURS} | {"total": 0}


def _days(delta) -> float:
    return round(delta.total_seconds() / 86400, 2)


def undelivered(pending: Iterable[NotificationDelivery], visible: dict[str, Case]) -> dict[str, Any]:
    """Messages an external channel has not accepted yet, on the cases the caller may see: how many, and the
    cases that have them (oldest first). Counts and reasons only, never the text or the recipients."""
    by_case: dict[str, list[NotificationDelivery]] = defaultdict(list)
    for d in pending:
        if d.case_id in visible:
            by_case[d.case_id].append(d)
    cases = []
    for case_id, ds in by_case.items():
        row, latest = visible[case_id], max(ds, key=lambda d: (d.last_attempt_at is not None, d.last_attempt_at))
        cases.append(
            {
                "case_id": case_id,
                "case_no": row.case_no,
                "status": row.status,
                "unit": row.unit,
                "township": row.township,
                "messages": len(ds),
                "since": min(d.created_at for d in ds),
                "attempts": max(d.attempts for d in ds),
                "last_error": latest.last_error,
            }
        )
    cases.sort(key=lambda c: (c["since"], c["case_no"]))
    return {"messages": sum(c["messages"] for c in cases), "cases": cases}


def compute(
    rows: Iterable[Case],
    task_forces: Iterable[TaskForceRow],
    tx: Taxonomy,
    now: datetime,
    pending_deliveries: Iterable[NotificationDelivery] = (),
) -> dict[str, Any]:
    rows = list(rows)
    open_rows = [r for r in rows if r.status in OPEN_VALUES]

    by_colour = Counter(r.colour for r in open_rows)
    by_unit: dict[str, dict[str, int]] = defaultdict(_colour_counts)
    by_township: dict[str, dict[str, int]] = defaultdict(_colour_counts)
    for r in open_rows:
        for key, table in ((r.unit or "unrouted", by_unit), (r.township or "unknown", by_township)):
            table[key][r.colour] = table[key].get(r.colour, 0) + 1
            table[key]["total"] += 1

    compliance: dict[str, dict[str, Any]] = {}
    for name in CLOCK_ORDER:
        met = breached = running = stopped = 0
        for r in rows:
            for raw in r.clocks or []:
                if raw.get("name") != name:
                    continue
                c = Clock.model_validate(raw)
                if c.met_at is not None:
                    met += 1
                elif c.breached:
                    breached += 1
                elif c.stopped_at is not None:
                    stopped += 1
                else:
                    running += 1
        decided = met + breached
        compliance[name] = {
            "met": met,
            "breached": breached,
            "running": running,
            "stopped": stopped,
            "compliance": round(met / decided, 4) if decided else None,
        }

    resolved = [r for r in rows if r.resolved_at is not None]
    avg_days = (
        round(sum((r.resolved_at - r.received_at).total_seconds() for r in resolved) / len(resolved) / 86400, 2)
        if resolved
        else None
    )
    ratings = [r.rating for r in rows if r.rating is not None]

    def listing(colour: str) -> list[dict[str, Any]]:
        picked = sorted((r for r in open_rows if r.colour == colour), key=lambda r: r.received_at)
        return [
            {
                "case_id": r.case_id,
                "case_no": r.case_no,
                "status": r.status,
                "category": r.category,
                "unit": r.unit,
                "unit_zh": tx.unit_zh(r.unit) if r.unit else None,
                "township": r.township,
                "township_zh": tx.township_zh(r.township) if r.township else None,
                "days_open": _days(now - r.received_at),
                "handler": r.handler,
            }
            for r in picked
        ]

    visible = {r.case_id: r for r in rows}
    forces = []
    for tf in sorted(task_forces, key=lambda t: t.started_at):
        row = visible.get(tf.case_id)
        if row is None:
            continue
        forces.append(
            {
                "case_id": tf.case_id,
                "case_no": row.case_no,
                "led_by": tf.led_by,
                "units": tf.units,
                "started_at": tf.started_at,
                "consultations": tf.consultations,
                "closed_at": tf.closed_at,
                "status": row.status,
                "township": row.township,
            }
        )

    return {
        "generated_at": now,
        "totals": {
            "cases": len(rows),
            "open": len(open_rows),
            "resolved": len(resolved),
            "closed": sum(1 for r in rows if r.status == "closed"),
        },
        "by_colour": {c: by_colour.get(c, 0) for c in COLOURS},
        "by_unit": [
            {"unit": k, "unit_zh": tx.unit_zh(k) if k != "unrouted" else "待分流", **v}
            for k, v in sorted(by_unit.items())
        ],
        "by_township": [
            {"township": k, "township_zh": tx.township_zh(k) if k != "unknown" else "未明确", **v}
            for k, v in sorted(by_township.items())
        ],
        "service_levels": compliance,
        "average_resolution_days": avg_days,
        "yellow": listing("yellow"),
        "red": listing("red"),
        "task_forces": forces,
        "undelivered": undelivered(pending_deliveries, visible),
        "satisfaction": {
            "average": round(sum(ratings) / len(ratings), 2) if ratings else None,
            "count": len(ratings),
            "satisfied": sum(1 for s in ratings if s >= 4),
        },
    }


def board(db: Session, viewer: Actor, tx: Taxonomy, now: datetime) -> dict[str, Any]:
    """Colours by unit and township, service-level compliance, average time to resolution, the yellow and red
    lists, the task forces, satisfaction and the messages an external channel has not accepted yet."""
    scope = sql_jurisdiction.case_filter(scope_of(viewer))
    q = select(Case) if scope is None else select(Case).where(scope)
    rows = db.exec(q).all()
    forces = db.exec(select(TaskForceRow)).all()
    pending = db.exec(select(NotificationDelivery).where(NotificationDelivery.status == "pending")).all()
    result = compute(rows, forces, tx, now, pending)
    result["scope"] = "county" if scope is None else (viewer.unit or viewer.township)
    return result
