"""The supervision board from SQL aggregates: each clock's state, the days to resolution and the review request as
columns of `cases`, and the indexes the board's queries use.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

`clock_routed` … `clock_red` copy each clock's state (met | breached | running | stopped; NULL: no such clock)
out of the `clocks` JSON, because counting inside JSON is written differently on SQLite and PostgreSQL;
`resolution_days` holds resolved_at - received_at in days, because date arithmetic is too; `review_requested_at`
keeps that the citizen asked for review (复核) after a decision clears the rating. The record activity writes
them with the rest of the row (activities/records.py); this revision fills them in for the rows already there:
the clocks from each row's JSON, the days from its two times, the review from the `review_requested` events.

The indexes (store/board.py says how each query uses them): one in (unit, township, clock states) order for the
flow figures, so grouping streams without a sort; one for the open cases by status and colour; (unit | township |
nothing, resolution_days) to read medians off in order; (resolved_at) for the weekly trend. Each also holds a
leader's jurisdiction, so a leader's board is read from indexes too. They make the single-column indexes on
unit, township and status redundant (each is the first column of a new one), so those are dropped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLOCKS = ("routed", "assigned", "team", "yellow", "red")  # domain.clocks.CLOCK_ORDER, frozen here
BATCH = 2000

cases = sa.table(
    "cases",
    sa.column("case_id", sa.String()),
    sa.column("clocks", sa.JSON()),
    sa.column("received_at", sa.DateTime(timezone=True)),
    sa.column("resolved_at", sa.DateTime(timezone=True)),
    sa.column("resolution_days", sa.Float()),
    sa.column("review_requested_at", sa.DateTime(timezone=True)),
    *(sa.column(f"clock_{name}", sa.String()) for name in CLOCKS),
)
case_events = sa.table(
    "case_events",
    sa.column("case_id", sa.String()),
    sa.column("type", sa.String()),
    sa.column("at", sa.DateTime(timezone=True)),
)

# A leader's jurisdiction (store/jurisdiction.py) in each index, the JSON lists as the text its filter matches.
JURISDICTION = ["handler", sa.text("CAST(team AS VARCHAR)"), sa.text("CAST(member_units AS VARCHAR)")]
INDEXES = (
    (
        "ix_cases_board_flow",
        [
            "unit",
            "township",
            *(f"clock_{name}" for name in CLOCKS),
            "received_at",
            "status",
            "resolution_days",
            "rating",
            "review_requested_at",
            *JURISDICTION,
        ],
    ),
    ("ix_cases_board_open", ["status", "colour", "unit", "township", *JURISDICTION]),
    ("ix_cases_unit_resolution", ["unit", "resolution_days", "received_at", "township", *JURISDICTION]),
    ("ix_cases_township_resolution", ["township", "resolution_days", "received_at", "unit", *JURISDICTION]),
    ("ix_cases_resolution", ["resolution_days", "received_at", "unit", "township", *JURISDICTION]),
    ("ix_cases_resolved_at", ["resolved_at", "resolution_days", "unit", "township", *JURISDICTION]),
)
# Each is the first column of a new one, which serves its lookups too.
REPLACED = (("ix_cases_unit", ["unit"]), ("ix_cases_township", ["township"]), ("ix_cases_status", ["status"]))


def _state(clock: dict) -> str:
    """domain.models.Clock.state, frozen here."""
    if clock.get("met_at") is not None:
        return "met"
    if clock.get("breached"):
        return "breached"
    return "stopped" if clock.get("stopped_at") is not None else "running"


def _as_list(value: object) -> list[dict]:
    if isinstance(value, str):  # some drivers hand JSON back as text
        value = json.loads(value)
    return [c for c in value or [] if isinstance(c, dict)]


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for name in CLOCKS:
            batch_op.add_column(sa.Column(f"clock_{name}", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("resolution_days", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("review_requested_at", sa.DateTime(timezone=True), nullable=True))

    conn = op.get_bind()
    update = (
        cases.update()
        .where(cases.c.case_id == sa.bindparam("b_case_id"))
        .values(
            resolution_days=sa.bindparam("b_days"), **{f"clock_{name}": sa.bindparam(f"b_{name}") for name in CLOCKS}
        )
    )
    batch: list[dict] = []
    rows = conn.execute(sa.select(cases.c.case_id, cases.c.clocks, cases.c.received_at, cases.c.resolved_at)).all()
    for case_id, clocks, received_at, resolved_at in rows:
        states = {c.get("name"): _state(c) for c in _as_list(clocks)}
        days = (resolved_at - received_at).total_seconds() / 86400 if resolved_at is not None else None
        batch.append({"b_case_id": case_id, "b_days": days, **{f"b_{name}": states.get(name) for name in CLOCKS}})
        if len(batch) >= BATCH:
            conn.execute(update, batch)
            batch = []
    if batch:
        conn.execute(update, batch)

    latest_review = (
        sa.select(sa.func.max(case_events.c.at))
        .where(case_events.c.case_id == cases.c.case_id, case_events.c.type == "review_requested")
        .scalar_subquery()
    )
    conn.execute(cases.update().values(review_requested_at=latest_review))

    for index, _ in REPLACED:
        op.drop_index(index, table_name="cases")
    for index, columns in INDEXES:
        op.create_index(index, "cases", columns, unique=False)


def downgrade() -> None:
    for index, _ in INDEXES:
        op.drop_index(index, table_name="cases")
    for index, columns in REPLACED:
        op.create_index(index, "cases", columns, unique=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("review_requested_at")
        batch_op.drop_column("resolution_days")
        for name in reversed(CLOCKS):
            batch_op.drop_column(f"clock_{name}")
