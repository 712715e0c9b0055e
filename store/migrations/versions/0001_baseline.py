"""Baseline: the read model's schema as it stood when migrations were introduced.

Revision ID: 0001
Revises:
Create Date: 2026-12-05

Written out table by table (never from the models, which later revisions change). On a database made before
migrations existed, store.migrate runs this revision in its adopting mode (`adopt` in Alembic's config
attributes): a table that exists keeps its rows and gets only the nullable columns older releases lacked, an index
is created only where it is missing. Every time column holds UTC with its zone (timestamptz on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def adopting() -> bool:
    return bool(context.config.attributes.get("adopt"))


def create_table(name: str, *elements: sa.Column | sa.Constraint) -> None:
    inspector = sa.inspect(op.get_bind()) if adopting() else None  # offline (SQL script) runs never adopt
    if inspector is None or not inspector.has_table(name):
        op.create_table(name, *elements)
        return
    have = {c["name"] for c in inspector.get_columns(name)}
    for column in elements:
        if not isinstance(column, sa.Column) or column.name in have:
            continue
        if not column.nullable:
            # Old rows have no value for it: adopting cannot invent one, a revision of its own must.
            raise RuntimeError(f"{name}.{column.name} is NOT NULL and missing: this database cannot be adopted")
        op.add_column(name, column)


def create_index(name: str, table: str, columns: list[str], unique: bool = False) -> None:
    if adopting() and name in {i["name"] for i in sa.inspect(op.get_bind()).get_indexes(table)}:
        return
    op.create_index(name, table, columns, unique=unique)


def upgrade() -> None:
    create_table(
        "units",
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("zh", sa.String(), nullable=False),
        sa.Column("en", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )

    create_table(
        "townships",
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("zh", sa.String(), nullable=False),
        sa.Column("district", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )

    create_table(
        "staff",
        sa.Column("username", sa.String(), nullable=False),
        sa.Column("display_name", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("unit", sa.String(), nullable=True),
        sa.Column("township", sa.String(), nullable=True),
        sa.Column("phone", sa.String(), nullable=True),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("on_duty", sa.Boolean(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=True),
        sa.Column("leave_until", sa.Date(), nullable=True),
        sa.Column("home_township", sa.String(), nullable=True),
        sa.Column("last_assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("username"),
    )
    create_index("ix_staff_role", "staff", ["role"])
    create_index("ix_staff_township", "staff", ["township"])
    create_index("ix_staff_unit", "staff", ["unit"])

    create_table(
        "cases",
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("case_no", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("colour", sa.String(), nullable=False),
        sa.Column("category", sa.String(), nullable=True),
        sa.Column("unit", sa.String(), nullable=True),
        sa.Column("township", sa.String(), nullable=True),
        sa.Column("handler", sa.String(), nullable=True),
        sa.Column("team", sa.JSON(), nullable=True),
        sa.Column("team_units", sa.JSON(), nullable=True),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("citizen_name", sa.String(), nullable=False),
        sa.Column("citizen_phone", sa.String(), nullable=False),
        sa.Column("address", sa.String(), nullable=True),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("clocks", sa.JSON(), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("routed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("needs_manual_triage", sa.Boolean(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
    )
    create_index("ix_cases_case_no", "cases", ["case_no"], unique=True)
    create_index("ix_cases_category", "cases", ["category"])
    create_index("ix_cases_colour", "cases", ["colour"])
    create_index("ix_cases_handler", "cases", ["handler"])
    create_index("ix_cases_needs_manual_triage", "cases", ["needs_manual_triage"])
    create_index("ix_cases_overdue", "cases", ["overdue"])
    create_index("ix_cases_received_at", "cases", ["received_at"])
    create_index("ix_cases_status", "cases", ["status"])
    create_index("ix_cases_township", "cases", ["township"])
    create_index("ix_cases_unit", "cases", ["unit"])

    create_table(
        "case_assignments",
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("username", sa.String(), nullable=False),
        sa.Column("part", sa.String(), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "username"),
    )
    create_index("ix_case_assignments_load", "case_assignments", ["username", "open", "part"])

    create_table(
        "case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(), nullable=True),
        sa.Column("hash", sa.String(), nullable=True),
        sa.Column("hash_alg", sa.String(length=8), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "seq"),
    )
    create_index("ix_case_events_case_id", "case_events", ["case_id"])
    create_index("ix_case_events_type", "case_events", ["type"])

    create_table(
        "access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("what", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    create_index("ix_access_log_at", "access_log", ["at"])
    create_index("ix_access_log_case_id", "access_log", ["case_id"])
    create_index("ix_access_log_username", "access_log", ["username"])

    create_table(
        "tracking_codes",
        sa.Column("code_hash", sa.String(), nullable=False),
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("code_hash"),
    )
    create_index("ix_tracking_codes_case_id", "tracking_codes", ["case_id"])

    create_table(
        "case_number_counters",
        sa.Column("day", sa.String(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )

    create_table(
        "materials",
        sa.Column("material_id", sa.String(), nullable=False),
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("filename", sa.String(), nullable=False),
        sa.Column("content_type", sa.String(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("stored_name", sa.String(), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("uploaded_by", sa.String(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("material_id"),
    )
    create_index("ix_materials_case_id", "materials", ["case_id"])

    create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("recipient", sa.String(), nullable=False),
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", "recipient"),
    )
    create_index("ix_notifications_case_id", "notifications", ["case_id"])
    create_index("ix_notifications_key", "notifications", ["key"])
    create_index("ix_notifications_recipient", "notifications", ["recipient"])

    create_table(
        "notification_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("recipient", sa.String(), nullable=False),
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_token", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", "recipient", "channel"),
    )
    create_index("ix_notification_deliveries_case_id", "notification_deliveries", ["case_id"])
    create_index("ix_notification_deliveries_due", "notification_deliveries", ["status", "next_attempt_at"])

    create_table(
        "task_forces",
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("led_by", sa.String(), nullable=True),
        sa.Column("units", sa.JSON(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consultations", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("case_id"),
    )


def downgrade() -> None:
    op.drop_table("task_forces")
    op.drop_table("notification_deliveries")
    op.drop_table("notifications")
    op.drop_table("materials")
    op.drop_table("case_number_counters")
    op.drop_table("tracking_codes")
    op.drop_table("access_log")
    op.drop_table("case_events")
    op.drop_table("case_assignments")
    op.drop_table("cases")
    op.drop_table("staff")
    op.drop_table("townships")
    op.drop_table("units")
