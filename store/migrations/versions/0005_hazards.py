"""The safety-inspection read model: hazards and their event log.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hazard_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hazard_id", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hazard_id", "seq"),
    )
    with op.batch_alter_table("hazard_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hazard_events_hazard_id"), ["hazard_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hazard_events_type"), ["type"], unique=False)

    op.create_table(
        "hazards",
        sa.Column("hazard_id", sa.String(), nullable=False),
        sa.Column("hazard_no", sa.String(), nullable=False),
        sa.Column("domain", sa.String(), nullable=False),
        sa.Column("township", sa.String(), nullable=False),
        sa.Column("district", sa.Integer(), nullable=True),
        sa.Column("site", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("responsible", sa.String(), nullable=True),
        sa.Column("measure", sa.String(), nullable=False),
        sa.Column("found_by", sa.String(), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("exposed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("struck_off_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("struck_off_on_time", sa.Boolean(), nullable=True),
        sa.Column("recheck_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejections", sa.Integer(), nullable=False),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("hazard_id"),
    )
    with op.batch_alter_table("hazards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hazards_district"), ["district"], unique=False)
        batch_op.create_index(batch_op.f("ix_hazards_domain"), ["domain"], unique=False)
        batch_op.create_index(batch_op.f("ix_hazards_found_at"), ["found_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_hazards_hazard_no"), ["hazard_no"], unique=True)
        batch_op.create_index(batch_op.f("ix_hazards_overdue"), ["overdue"], unique=False)
        batch_op.create_index(batch_op.f("ix_hazards_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_hazards_township"), ["township"], unique=False)
        batch_op.create_index(batch_op.f("ix_hazards_unit"), ["unit"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("hazards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hazards_unit"))
        batch_op.drop_index(batch_op.f("ix_hazards_township"))
        batch_op.drop_index(batch_op.f("ix_hazards_status"))
        batch_op.drop_index(batch_op.f("ix_hazards_overdue"))
        batch_op.drop_index(batch_op.f("ix_hazards_hazard_no"))
        batch_op.drop_index(batch_op.f("ix_hazards_found_at"))
        batch_op.drop_index(batch_op.f("ix_hazards_domain"))
        batch_op.drop_index(batch_op.f("ix_hazards_district"))

    op.drop_table("hazards")
    with op.batch_alter_table("hazard_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hazard_events_type"))
        batch_op.drop_index(batch_op.f("ix_hazard_events_hazard_id"))

    op.drop_table("hazard_events")
