"""A read model created before the webhook outbox gets its table (and keeps its inbox) when it is adopted."""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlmodel import select

from store.db import make_engine, session
from store.migrate import upgrade
from store.tables import Notification, NotificationDelivery
from tests.store.legacy_schema import create_legacy_tables


def test_an_existing_database_gets_the_outbox_table(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    create_legacy_tables(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE notification_deliveries"))
        conn.execute(
            text(
                "INSERT INTO notifications (key, recipient, case_id, kind, text, channel, created_at, read) "
                "VALUES ('c1:3', 'renshe.mediator', 'c1', 'assigned', 't', 'inbox', "
                "'2026-11-01 00:00:00.000000', 0)"
            )
        )
    assert "notification_deliveries" not in inspect(engine).get_table_names()
    assert upgrade(engine).adopted
    assert "notification_deliveries" in inspect(engine).get_table_names()
    columns = {c["name"] for c in inspect(engine).get_columns("notification_deliveries")}
    assert {
        "key",
        "recipient",
        "case_id",
        "channel",
        "status",
        "attempts",
        "last_error",
        "last_attempt_at",
        "next_attempt_at",
        "delivered_at",
        "lease_until",
    } <= columns
    uniques = [set(u["column_names"]) for u in inspect(engine).get_unique_constraints("notification_deliveries")]
    assert {"key", "recipient", "channel"} in uniques
    with session(engine) as db:
        assert len(db.exec(select(Notification)).all()) == 1
        assert db.exec(select(NotificationDelivery)).all() == []  # nothing is sent for old messages
    assert not upgrade(engine).adopted
    engine.dispose()
