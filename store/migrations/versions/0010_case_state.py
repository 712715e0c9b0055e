"""Issue 14: cases.state — the workflow's whole CaseState as last recorded, so the case views are served from the
read model and no query reaches an open case (docs/durability.md, "The cache and replay"). Rows written before
this revision keep NULL until their case records again or `wuhuan audit reconcile` fills them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 10:55:55.498616
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("state")
