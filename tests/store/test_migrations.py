"""The schema migrations (store/migrate.py, store/migrations/): the head revision builds exactly the tables the
models describe, on SQLite and on PostgreSQL; a database made by `create_all` before migrations existed, with data
in it, is adopted and upgraded with every row intact; workers and API servers can tell an out-of-date schema."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel, select

from domain import audit_chain
from store.db import make_engine, session
from store.migrate import (
    BASELINE,
    SchemaNotCurrent,
    current_revision,
    head_revision,
    require_current,
    schema_problem,
    upgrade,
)
from store.tables import CaseEventRow
from tests.store.legacy_schema import create_legacy_tables

T = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request, tmp_path):
    """An empty database on each dialect (PostgreSQL: a fresh database on the session's throwaway server)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        url = request.getfixturevalue("postgres").new_database()
    engine = make_engine(url)
    yield engine
    engine.dispose()


def differences(engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)


def test_head_builds_exactly_the_schema_the_models_describe(empty_engine):
    assert schema_problem(empty_engine) is not None
    done = upgrade(empty_engine)
    assert (done.before, done.after, done.adopted) == (None, head_revision(), False)
    assert differences(empty_engine) == []
    assert schema_problem(empty_engine) is None and current_revision(empty_engine) == head_revision()
    again = upgrade(empty_engine)
    assert (again.before, again.after, again.adopted) == (head_revision(), head_revision(), False)


# --- adopting a database made before migrations --------------------------------------------------------------

JSON_COLUMNS = {"team", "team_units", "member_units", "clocks", "detail", "skills", "units"}
BOOL_COLUMNS = {"active", "on_duty", "overdue", "needs_manual_triage", "open", "read"}


def column_type(name: str):
    if name in JSON_COLUMNS:
        return sa.JSON()
    if name in BOOL_COLUMNS:
        return sa.Boolean()
    if name == "leave_until":
        return sa.Date()
    if name == "at" or name.endswith("_at") or name == "lease_until":
        return sa.DateTime(timezone=True)
    return None


def insert(conn, table: str, *rows: dict) -> None:
    """Rows written as today's code writes them, through frozen column lists rather than the models."""
    columns = sorted({k for row in rows for k in row})
    conn.execute(sa.table(table, *[sa.column(c, column_type(c)) for c in columns]).insert(), list(rows))


def chained(case_id: str, steps: list[tuple[str, str, dict]], alg: str = "sm3") -> list[dict]:
    """A case's event rows with the hash chain the record activity gives them."""
    rows, prev = [], audit_chain.GENESIS
    for seq, (type_, actor, detail) in enumerate(steps, start=1):
        at = T + timedelta(minutes=seq)
        h = audit_chain.link_hash(alg, prev, audit_chain.canonical(case_id, seq, at, type_, actor, detail))
        rows.append(
            dict(
                case_id=case_id,
                seq=seq,
                at=at,
                type=type_,
                actor=actor,
                detail=detail,
                recorded_at=at,
                prev_hash=prev,
                hash=h,
                hash_alg=alg,
            )
        )
        prev = h
    return rows


def fill_as_today(engine) -> None:
    """A working county's data as today's release leaves it: organisation, staff with profiles, three cases (open,
    closed, red with a task force), their sealed events, caseload, notifications and their outbox, a tracking
    code, a material, an access-log line and the day's case counter."""
    case = dict(
        status="assigned",
        colour="green",
        category="labor",
        unit="renshe",
        township="baita",
        handler="renshe.mediator",
        team=[],
        team_units=[],  # what revision 0002 derives for these teams, so every row stays as it was
        description="拖欠工资",
        citizen_name="王小明",
        citizen_phone="13800001234",
        address=None,
        channel="web",
        clocks=[],
        overdue=False,
        received_at=T,
        routed_at=T,
        assigned_at=T,
        resolved_at=None,
        closed_at=None,
        outcome=None,
        rating=None,
        needs_manual_triage=False,
        last_seq=3,
        updated_at=T,
    )
    with engine.begin() as conn:
        insert(conn, "units", dict(code="renshe", zh="人社局", en="HR"), dict(code="township", zh="乡镇", en=""))
        insert(conn, "townships", dict(code="baita", zh="白塔镇", district=1))
        staff = dict(
            unit=None,
            township=None,
            phone=None,
            password_hash="h",
            active=True,
            on_duty=True,
            capacity=30,
            created_at=T,
            skills=None,
            leave_until=None,
            home_township=None,
            last_assigned_at=None,
        )
        insert(
            conn,
            "staff",
            {
                **staff,
                "username": "renshe.mediator",
                "display_name": "调解员",
                "role": "mediator",
                "unit": "renshe",
                "skills": ["labor"],
                "last_assigned_at": T,
            },
            {
                **staff,
                "username": "baita.mediator",
                "display_name": "镇调解员",
                "role": "mediator",
                "township": "baita",
                "skills": ["neighbor"],
                "home_township": "baita",
                "leave_until": date(2026, 12, 1),
                "on_duty": False,
            },
            {**staff, "username": "supervisor", "display_name": "督办员", "role": "supervisor"},
        )
        insert(
            conn,
            "cases",
            {**case, "case_id": "c1", "case_no": "WH-20261120-0001", "team": ["baita.mediator"]},
            {
                **case,
                "case_id": "c2",
                "case_no": "WH-20261120-0002",
                "status": "closed",
                "outcome": "agreement",
                "rating": 5,
                "resolved_at": T,
                "closed_at": T,
                "last_seq": 2,
            },
            {
                **case,
                "case_id": "c3",
                "case_no": "WH-20261120-0003",
                "colour": "red",
                "overdue": True,
                "clocks": [{"name": "red", "due": T.isoformat(), "breached": True}],
            },
        )
        insert(
            conn,
            "case_events",
            *chained(
                "c1",
                [
                    ("received", "citizen", {"channel": "web"}),
                    ("routed", "system", {"unit": "renshe"}),
                    ("assigned", "system", {"handler": "renshe.mediator", "note": "中文"}),
                ],
            ),
            *chained("c2", [("received", "citizen", {}), ("closed", "system", {"rating": 5})]),
            *chained(
                "c3",
                [("received", "citizen", {}), ("routed", "system", {}), ("turned_red", "system", {"days": 14})],
                alg="sha256",
            ),
        )
        insert(
            conn,
            "case_assignments",
            dict(case_id="c1", username="renshe.mediator", part="handler", open=True, assigned_at=T),
            dict(case_id="c1", username="baita.mediator", part="member", open=True, assigned_at=T),
            dict(case_id="c2", username="renshe.mediator", part="handler", open=False, assigned_at=T),
            dict(case_id="c3", username="renshe.mediator", part="handler", open=True, assigned_at=T),
        )
        insert(
            conn,
            "notifications",
            dict(
                key="c1:3",
                recipient="renshe.mediator",
                case_id="c1",
                kind="assigned",
                text="新案件",
                channel="inbox",
                created_at=T,
                read=False,
            ),
        )
        insert(
            conn,
            "notification_deliveries",
            dict(
                key="c1:3",
                recipient="renshe.mediator",
                case_id="c1",
                kind="assigned",
                channel="webhook",
                status="pending",
                attempts=2,
                last_error="HTTP 503",
                created_at=T,
                last_attempt_at=T,
                next_attempt_at=T,
                delivered_at=None,
                lease_until=None,
                lease_token=None,
            ),
        )
        insert(conn, "tracking_codes", dict(code_hash="ab" * 32, case_id="c1", issued_at=T, revoked_at=None))
        insert(conn, "case_number_counters", dict(day="20261120", last=3))
        insert(
            conn,
            "materials",
            dict(
                material_id="m1",
                case_id="c1",
                filename="合同.pdf",
                content_type="application/pdf",
                size=1024,
                stored_name="m1.pdf",
                note=None,
                uploaded_by="renshe.mediator",
                uploaded_at=T,
            ),
        )
        insert(
            conn,
            "access_log",
            dict(username="supervisor", role="supervisor", case_id="c1", what="history", at=T, client="127.0.0.1"),
        )
        insert(
            conn,
            "task_forces",
            dict(case_id="c3", led_by="county_leader", units=["renshe"], started_at=T, consultations=1, closed_at=None),
        )


def snapshot(engine, like: dict[str, list[tuple]] | None = None) -> dict[str, list[tuple]]:
    """Every row of every table, as the database returns it; with `like`, only its tables, and of each row only as
    many columns as it had (what an upgrade must keep: later revisions add tables, and append columns derived
    from the rows)."""
    with engine.connect() as conn:
        names = [n for n in sa.inspect(conn).get_table_names() if n != "alembic_version"]
        tables = {n: [tuple(r) for r in conn.exec_driver_sql(f'SELECT * FROM "{n}" ORDER BY 1, 2')] for n in names}
    if like is None:
        return tables
    return {n: [r[: len(rows[0])] if rows else r for r in tables[n]] for n, rows in like.items()}


def board_columns(engine) -> dict[str, dict]:
    """Revision 0004's columns of each case."""
    names = ["clock_routed", "clock_assigned", "clock_team", "clock_yellow", "clock_red", "resolution_days"]
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT case_id, review_requested_at, {', '.join(names)} FROM cases"))
        return {r.case_id: dict(r._mapping) for r in rows}


def test_a_database_made_by_create_all_with_data_upgrades_with_every_row_intact(empty_engine):
    engine = empty_engine
    create_legacy_tables(engine)
    fill_as_today(engine)
    before = snapshot(engine)
    assert sum(map(len, before.values())) == 28
    assert "no revision" in schema_problem(engine)

    done = upgrade(engine)
    assert (done.before, done.after, done.adopted) == (None, head_revision(), True)
    assert (done.backfilled, done.sealed) == (0, 0)  # today's data needed nothing derived
    assert snapshot(engine, like=before) == before
    # Revision 0004's columns, derived from each row: c2 was resolved at its intake, none has clocks or a review.
    derived = board_columns(engine)
    assert [derived[c]["resolution_days"] for c in ("c1", "c2", "c3")] == [None, 0.0, None]
    assert {derived[c]["clock_routed"] for c in derived} == {None} and derived["c2"]["review_requested_at"] is None
    assert differences(engine) == []
    assert schema_problem(engine) is None
    with session(engine) as db:  # and today's code reads it
        rows = list(db.exec(select(CaseEventRow).where(CaseEventRow.case_id == "c3").order_by(CaseEventRow.seq)))
    assert audit_chain.verify(rows, expected_last_seq=3) is None and rows[2].detail == {"days": 14}

    assert not upgrade(engine).adopted  # stamped: the next upgrade has nothing to adopt
    assert snapshot(engine, like=before) == before


def test_an_adoption_that_fails_late_is_undone_and_done_again_next_time(empty_engine, monkeypatch):
    engine = empty_engine
    create_legacy_tables(engine)
    fill_as_today(engine)
    with engine.begin() as conn:  # as an older release left it: no caseload rows, no hash chain
        conn.execute(sa.text("DELETE FROM case_assignments"))
        conn.execute(sa.text("UPDATE case_events SET prev_hash = NULL, hash = NULL, hash_alg = NULL"))
    before = snapshot(engine)
    from store import chain

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # after the schema, the stamp and the caseload were written in the transaction

    monkeypatch.setattr(chain, "seal_legacy", interrupted)
    with pytest.raises(KeyboardInterrupt):
        upgrade(engine)
    assert snapshot(engine) == before and current_revision(engine) is None
    monkeypatch.undo()
    done = upgrade(engine)
    assert done.adopted and (done.backfilled, done.sealed) == (4, 8)
    assert current_revision(engine) == head_revision()


def test_an_adoption_that_fails_leaves_the_database_as_it_was(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    create_legacy_tables(engine)
    with engine.begin() as conn:  # a NOT NULL column no release ever lacked: not something adoption may invent
        conn.execute(sa.text("ALTER TABLE cases DROP COLUMN updated_at"))
        conn.execute(sa.text("DROP TABLE case_assignments"))
    with pytest.raises(RuntimeError, match="cases.updated_at is NOT NULL"):
        upgrade(engine)
    assert "case_assignments" not in sa.inspect(engine).get_table_names()
    assert current_revision(engine) is None
    with pytest.raises(ValueError, match="only be upgraded to head"):
        upgrade(engine, "base")
    engine.dispose()


def test_what_workers_and_api_servers_are_told(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with pytest.raises(SchemaNotCurrent, match="no tables yet: run `wuhuan db upgrade`"):
        require_current(engine)
    upgrade(engine, BASELINE)
    if BASELINE != head_revision():
        assert f"this release needs {head_revision()}" in schema_problem(engine)
    upgrade(engine)
    require_current(engine)
    with engine.begin() as conn:  # as if a newer release had upgraded it
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'ffff'"))
    assert "ffff, which this release does not know" in schema_problem(engine)
    engine.dispose()


def test_member_units_are_the_departments_of_the_members(empty_engine):
    """Revision 0002: the read model's team_units held the members' units or townships under the name of the
    category's team units; it becomes member_units, departments only, from the staff directory."""
    engine = empty_engine
    create_legacy_tables(engine)
    fill_as_today(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE cases SET team = :team, team_units = :old WHERE case_id = 'c1'"),
            {"team": '["renshe.mediator", "baita.mediator"]', "old": '["baita", "renshe"]'},
        )
    upgrade(engine)
    with session(engine) as db:
        from store.tables import Case

        assert db.get(Case, "c1").member_units == ["renshe"]
        assert db.get(Case, "c2").member_units == []
