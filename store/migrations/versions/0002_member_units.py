"""cases.team_units → cases.member_units: the departments the team's members come from.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05

The column was named like the live case's `team_units` (the departments a category draws a team from) but held
something else: the units or townships of the actual members. Renamed, and refilled with departments only
(looked up from the staff directory), which is what jurisdiction reads it for: a unit sees the cases its people
sit on the team of.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOWNSHIP_LED = "township"  # the placeholder unit of township-led cases (domain.taxonomy), frozen here

cases = sa.table(
    "cases", sa.column("case_id", sa.String()), sa.column("team", sa.JSON()), sa.column("member_units", sa.JSON())
)
staff = sa.table("staff", sa.column("username", sa.String()), sa.column("unit", sa.String()))


def _as_list(value: object) -> list[str]:
    if isinstance(value, str):  # some drivers hand JSON back as text
        value = json.loads(value)
    return [str(v) for v in value or []]


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.alter_column("team_units", new_column_name="member_units")
    conn = op.get_bind()
    unit_of = {name: unit for name, unit in conn.execute(sa.select(staff.c.username, staff.c.unit))}
    for case_id, team in conn.execute(sa.select(cases.c.case_id, cases.c.team)).all():
        units = sorted({unit_of[m] for m in _as_list(team) if unit_of.get(m) and unit_of[m] != TOWNSHIP_LED})
        conn.execute(cases.update().where(cases.c.case_id == case_id).values(member_units=units))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.alter_column("member_units", new_column_name="team_units")
