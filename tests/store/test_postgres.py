"""The read model on PostgreSQL, the production database (docker-compose.yml), against a real server started
for the session (tests/postgres.py): a case's whole life through the workflow and its activities, the audit
chain and reconcile over what it wrote, schema upgrades, and the webhook relay's leases and backoff clock —
the places where SQLite and PostgreSQL differ (types, time zones, locking, concurrent UPDATEs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, text
from sqlmodel import select

from domain import audit_chain
from domain.models import CITIZEN, MediationAction, RateAction, ResolveAction
from store import chain
from store.db import make_engine, session
from store.migrate import upgrade
from store.tables import Case, CaseAssignment, Notification, TaskForceRow
from tests.activities import test_delivery as delivery
from tests.store.legacy_schema import create_legacy_tables
from tests.workflows.helpers import RENSHE_MEDIATOR, start_case, until
from workflows.dispute_case import DisputeCase


@pytest.fixture
def engine(pg_engine):
    """Every fixture here that takes `engine` (the worker's activities among them) writes to PostgreSQL."""
    return pg_engine


async def test_a_red_case_lives_its_whole_life_on_postgresql(skipping_env, worker, task_queue, engine, cases):
    assert engine.dialect.name == "postgresql"
    h = await start_case(skipping_env, task_queue, cases)
    await until(h, lambda s: bool(s.team))
    await h.execute_update(
        DisputeCase.record_mediation,
        MediationAction(actor=RENSHE_MEDIATOR, summary="首次调解", held_at=datetime.now(UTC), participants=["王小明"]),
    )
    await skipping_env.sleep(timedelta(days=14, minutes=1))
    await until(h, lambda s: s.task_force is not None)
    await h.execute_update(
        DisputeCase.resolve, ResolveAction(actor=RENSHE_MEDIATOR, outcome="agreement", summary="分两期结清工资")
    )
    st = await h.execute_update(DisputeCase.rate, RateAction(actor=CITIZEN, score=5))
    assert st.status == "closed"

    with session(engine) as db:
        row = db.get(Case, st.case_id)
        assert (row.status, row.colour, row.handler) == ("closed", "red", "renshe.mediator")
        assert abs(row.received_at.replace(tzinfo=UTC) - st.received_at) < timedelta(milliseconds=1)
        tf = db.get(TaskForceRow, st.case_id)
        assert tf.led_by == "cl.shehui" and "renshe.leader" in tf.members  # JSON list column on PostgreSQL
        told = set(db.exec(select(Notification.recipient, Notification.kind).where(Notification.case_id == st.case_id)))
        assert {
            ("renshe.mediator", "assigned"),
            ("renshe.leader", "turned_yellow"),
            ("cl.shehui", "turned_red"),
        } <= told
        assert not db.exec(
            select(CaseAssignment).where(CaseAssignment.case_id == st.case_id, CaseAssignment.open)
        ).all()
        numbers = chain.case_numbers(db)
        chains = dict(chain.chains(db))
    rows = chains[st.case_id]
    assert len(rows) == st.next_seq - 1 and {r.hash_alg for r in rows} == {"sm3"}
    assert audit_chain.verify(rows, expected_last_seq=numbers[st.case_id][1]) is None

    from cli.audit import reconcile

    assert await reconcile(skipping_env.client, engine, [st.case_id], dry_run=True) == []


def test_adopting_an_old_database_adds_a_missing_column_on_postgresql(postgres):
    engine = make_engine(postgres.new_database())
    create_legacy_tables(engine)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE staff DROP COLUMN home_township"))
    assert upgrade(engine).adopted
    assert "home_township" in {c["name"] for c in inspect(engine).get_columns("staff")}
    assert not upgrade(engine).adopted
    engine.dispose()


async def test_the_relay_on_postgresql(pg_engine, gateway):
    await delivery.test_refused_then_accepted_with_backoff_and_one_accepted_post(pg_engine, gateway)


async def test_two_relays_share_rows_on_postgresql(pg_engine, gateway):
    await delivery.test_two_relays_never_send_one_row_twice_at_once(pg_engine, gateway)


async def test_a_late_failure_does_not_undo_a_delivery_on_postgresql(pg_engine, gateway):
    await delivery.test_a_late_failure_does_not_undo_another_relays_delivery(pg_engine, gateway)


def test_a_zone_aware_time_in_hand_written_sql_is_stored_as_utc_on_a_server_at_plus_eight(pg_engine):
    at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    with pg_engine.begin() as conn:
        assert conn.execute(text("SELECT current_setting('timezone')")).scalar() == "UTC"
        conn.execute(text("CREATE TEMP TABLE t (x timestamp without time zone)"))
        conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": at})
        assert conn.execute(text("SELECT x FROM t")).scalar() == at.replace(tzinfo=None)
