"""Issue 12: task force members, deadline, overdue; cases paused, extensions, sent back

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 10:20:40.646611
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("paused_seconds", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("extensions_approved", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("extensions_refused", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("sent_back", sa.Integer(), nullable=False, server_default="0"))

    with op.batch_alter_table("task_forces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("members", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("deadline", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("task_forces", schema=None) as batch_op:
        batch_op.drop_column("overdue_at")
        batch_op.drop_column("deadline")
        batch_op.drop_column("members")

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("sent_back")
        batch_op.drop_column("extensions_refused")
        batch_op.drop_column("extensions_approved")
        batch_op.drop_column("paused_seconds")
        batch_op.drop_column("paused")
