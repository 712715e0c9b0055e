"""Revision 0004 fills in the board's columns for the cases already there: each clock's state from the `clocks`
JSON, the days to resolution from the two times, the review request from the `review_requested` events — the
same values the record activity writes for a new snapshot — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from domain.models import Clock
from store.db import make_engine, session
from store.migrate import upgrade
from store.tables import Case
from tests.store.test_migrations import insert

T = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_at_0003(request, tmp_path):
    url = (
        f"sqlite:///{tmp_path / 'old.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres").new_database()
    )
    engine = make_engine(url)
    upgrade(engine, "0003")
    yield engine
    engine.dispose()


def clock(name: str, due: timedelta, **state) -> dict:
    return Clock(name=name, due_at=T + due, **state).model_dump(mode="json")


def row(case_id: str, **over) -> dict:
    base = dict(
        case_id=case_id,
        case_no=f"WH-{case_id}",
        status="closed",
        colour="green",
        category="labor",
        unit="renshe",
        township="baita",
        handler="renshe.mediator",
        team=[],
        member_units=[],
        description="拖欠工资",
        citizen_name="王小明",
        citizen_phone="13800001234",
        address=None,
        channel="web",
        clocks=[],
        overdue=False,
        received_at=T,
        routed_at=None,
        assigned_at=None,
        resolved_at=None,
        closed_at=None,
        outcome=None,
        rating=None,
        needs_manual_triage=False,
        last_seq=1,
        updated_at=T,
    )
    return base | over


def test_upgrade_fills_the_board_columns_from_each_row(engine_at_0003):
    engine = engine_at_0003
    with engine.begin() as conn:
        insert(
            conn,
            "cases",
            row(
                "c1",
                clocks=[
                    clock("routed", timedelta(minutes=3), met_at=T + timedelta(minutes=1)),
                    clock("assigned", timedelta(minutes=5), breached=True, breached_at=T + timedelta(minutes=5)),
                    clock("team", timedelta(hours=1), stopped_at=T + timedelta(days=2)),
                    clock("yellow", timedelta(days=7), met_at=T + timedelta(days=2, hours=12)),
                    clock("red", timedelta(days=14), met_at=T + timedelta(days=2, hours=12)),
                ],
                resolved_at=T + timedelta(days=2, hours=12),
                rating=4,
            ),
            row(
                "c2",
                status="mediating",
                category="neighbor",
                unit="township",
                clocks=[
                    clock("routed", timedelta(minutes=3), met_at=T),
                    clock("assigned", timedelta(minutes=5), met_at=T),
                    clock("yellow", timedelta(days=10)),
                    clock("red", timedelta(days=17)),
                ],
            ),
        )
        # c2 was rated low twice, asked for review twice and was sent back: the latest request is the one kept.
        insert(
            conn,
            "case_events",
            *(
                dict(case_id="c2", seq=seq, at=T + timedelta(days=day), type=type_, actor="citizen", detail={})
                | dict(recorded_at=T, prev_hash=None, hash=None, hash_alg=None)
                for seq, day, type_ in ((1, 1, "review_requested"), (2, 2, "reopened"), (3, 3, "review_requested"))
            ),
        )

    upgrade(engine)
    with session(engine) as db:
        c1, c2 = db.exec(select(Case).order_by(Case.case_id)).all()
    states = lambda c: [c.clock_routed, c.clock_assigned, c.clock_team, c.clock_yellow, c.clock_red]  # noqa: E731
    assert states(c1) == ["met", "breached", "stopped", "met", "met"]
    assert states(c2) == ["met", "met", None, "running", "running"]  # township-led: no team clock
    assert c1.resolution_days == 2.5 and c2.resolution_days is None
    assert c1.review_requested_at is None
    assert c2.review_requested_at.replace(tzinfo=UTC) == T + timedelta(days=3)
