"""The supervision board's word on the calendar (services/board.py, services/calendar.py): this year, and from
1 November the next, each known or not and from which source; a loaded year counts at once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml

from domain.calendar import parse_schedule
from domain.models import Actor, Role
from domain.taxonomy import get_taxonomy
from services import board
from store.calendar import save_schedule
from store.db import session

FIXTURE_2027 = Path(__file__).parents[1] / "domain" / "data" / "calendar-2027.yaml"
SUPERVISOR = Actor(username="supervisor", role=Role.supervisor)
RENSHE = Actor(username="renshe.leader", role=Role.leader, unit="renshe")


def years(engine, now: datetime, viewer: Actor = SUPERVISOR) -> list[tuple]:
    with session(engine) as db:
        view = board.board(db, viewer, get_taxonomy(), now)
    return [(y.year, y.known, y.source) for y in view.calendar.years]


def test_the_board_flags_next_year_from_november_until_it_is_loaded(engine):
    (this,) = years(engine, datetime(2026, 6, 1, 2, 0, tzinfo=UTC))
    assert this[:2] == (2026, True) and "chinesecalendar" in this[2]

    # 31 October 17:00 UTC is already 1 November in the county.
    december = years(engine, datetime(2026, 10, 31, 17, 0, tzinfo=UTC), RENSHE)
    assert [y[:2] for y in december] == [(2026, True), (2027, False)] and december[1][2] is None

    with session(engine) as db:
        save_schedule(db, parse_schedule(yaml.safe_load(FIXTURE_2027.read_text("utf-8"))), "ops", datetime.now(UTC))
        db.commit()
    assert years(engine, datetime(2026, 12, 5, 2, 0, tzinfo=UTC))[1] == (2027, True, parse_schedule(
        yaml.safe_load(FIXTURE_2027.read_text("utf-8"))).source)  # fmt: skip


def test_a_year_neither_the_package_nor_the_county_has(engine):
    assert years(engine, datetime(2031, 3, 1, tzinfo=UTC)) == [(2031, False, None)]
