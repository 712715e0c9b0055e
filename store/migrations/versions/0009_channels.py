"""Issue 13: message channels — staff e-mail and message preferences; the outbox's own subject, text and HTML

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("sms_enabled", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("email_enabled", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("quiet_hours", sqlmodel.sql.sqltypes.AutoString(length=11), nullable=True))

    with op.batch_alter_table("notification_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column("text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("html", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notification_deliveries", schema=None) as batch_op:
        batch_op.drop_column("html")
        batch_op.drop_column("text")
        batch_op.drop_column("subject")

    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("quiet_hours")
        batch_op.drop_column("email_enabled")
        batch_op.drop_column("sms_enabled")
        batch_op.drop_column("email")
