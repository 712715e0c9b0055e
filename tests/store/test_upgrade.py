"""A read model created before matching profiles keeps working: adopting it (store.migrate.upgrade) adds the staff
profile's columns and fills the caseload table from the cases already recorded."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect, text
from sqlmodel import select

from domain.taxonomy import get_taxonomy
from store.db import make_engine, session
from store.migrate import head_revision, upgrade
from store.seed import seed_demo
from store.tables import CaseAssignment, Staff
from tests.store.legacy_schema import create_legacy_tables

T = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def old_database(path):
    """The schema of the first release: no profile columns, no case_assignments."""
    engine = make_engine(f"sqlite:///{path}")
    create_legacy_tables(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE case_assignments"))
        for column in ("skills", "leave_until", "home_township", "last_assigned_at"):
            conn.execute(text(f"ALTER TABLE staff DROP COLUMN {column}"))
        conn.execute(
            text(
                "INSERT INTO staff (username, display_name, role, township, password_hash, active, "
                "on_duty, capacity, created_at) VALUES ('baita.mediator', 'x', 'mediator', 'baita', 'h', "
                "1, 1, 30, '2026-11-01 00:00:00.000000')"
            )
        )
        for case_id, status, team in (
            ("c1", "team_formed", '["renshe.mediator", "baita.mediator"]'),
            ("c2", "closed", '["baita.mediator"]'),
        ):
            conn.execute(
                text(
                    "INSERT INTO cases (case_id, case_no, status, colour, handler, team, team_units, description, "
                    "citizen_name, citizen_phone, channel, clocks, overdue, received_at, assigned_at, "
                    "needs_manual_triage, last_seq, updated_at) VALUES (:id, :no, :st, 'green', 'renshe.mediator', "
                    ":team, '[]', 'd', 'n', 'p', 'web', '[]', 0, :t, :t, 0, 5, :t)"
                ),
                dict(id=case_id, no=f"N-{case_id}", st=status, team=team, t=T.isoformat(sep=" ")),
            )
    engine.dispose()


def test_old_database_gets_the_new_columns_and_its_caseload(tmp_path):
    path = tmp_path / "old.db"
    old_database(path)
    engine = make_engine(f"sqlite:///{path}")
    done = upgrade(engine)
    assert done.adopted and done.after == head_revision() and done.backfilled == 4
    columns = {c["name"] for c in inspect(engine).get_columns("staff")}
    assert {"skills", "leave_until", "home_township", "last_assigned_at"} <= columns
    with session(engine) as db:
        rows = {(r.case_id, r.username, r.part, r.open) for r in db.exec(select(CaseAssignment))}
        assert rows == {
            ("c1", "renshe.mediator", "handler", True),
            ("c1", "baita.mediator", "member", True),
            ("c2", "renshe.mediator", "handler", False),
            ("c2", "baita.mediator", "member", False),
        }
        person = db.get(Staff, "baita.mediator")
        assert person.skills is None and person.last_assigned_at == T
    assert not upgrade(engine).adopted  # stamped now: nothing to adopt twice
    # The demo seed gives accounts made before profiles existed their skills and home township.
    seed_demo(engine, get_taxonomy(), "pw", time_cost=1, memory_kib=1024)
    with session(engine) as db:
        person = db.get(Staff, "baita.mediator")
        assert "neighbor" in person.skills and person.home_township == "baita"
        assert "labor" in db.get(Staff, "renshe.mediator").skills
    engine.dispose()
