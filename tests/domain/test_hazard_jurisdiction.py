"""One hazard jurisdiction, two readings: for any actor and any hazards, the in-memory rule (domain.hazards.
sees_hazard, used on one hazard) and its SQL reading (store.inspection.hazard_filter, used by the lists, the
exposure list and the figures) select the same hazards. Generated actors and hazards, a real SQLite read model."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import delete, select

from domain.hazards import HazardFacts, sees_hazard
from domain.models import Actor, Role
from domain.taxonomy import TOWNSHIP_LED
from store import inspection as sql
from store.db import make_engine, session
from store.migrate import upgrade
from store.tables import HazardRow

USERS = ["insp.a", "insp.b", "x.leader", "e"]
UNITS = ["xiaofang", "yingji", "gongan", TOWNSHIP_LED]
TOWNS = ["baita", "tianshi", "anling"]
DISTRICTS = [1, 2, 6]

actors = st.builds(
    Actor,
    username=st.sampled_from(USERS),
    role=st.sampled_from([r for r in Role if r is not Role.citizen]),
    unit=st.none() | st.sampled_from(UNITS),
    township=st.none() | st.sampled_from(TOWNS),
    district=st.none() | st.sampled_from(DISTRICTS),
)
hazards = st.builds(
    HazardFacts,
    unit=st.sampled_from(UNITS),
    township=st.sampled_from(TOWNS),
    district=st.none() | st.sampled_from(DISTRICTS),
    found_by=st.sampled_from(USERS),
)
T0 = datetime(2026, 12, 1, tzinfo=UTC)
ENGINE = None


def engine():
    global ENGINE
    if ENGINE is None:
        ENGINE = make_engine(f"sqlite:///{tempfile.mkdtemp()}/hazard-jurisdiction.db")
        upgrade(ENGINE)
    return ENGINE


def row(i: int, f: HazardFacts) -> HazardRow:
    return HazardRow(
        hazard_id=f"h{i}",
        hazard_no=f"YH{i}",
        domain="traffic",
        township=f.township,
        district=f.district,
        site="x",
        description="x",
        severity="minor",
        unit=f.unit,
        measure="x",
        found_by=f.found_by,
        found_at=T0,
        deadline=T0,
        status="assigned",
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actor=actors, generated=st.lists(hazards, min_size=1, max_size=8))
def test_memory_and_sql_readings_agree(actor, generated):
    in_memory = {f"h{i}" for i, f in enumerate(generated) if sees_hazard(actor, f)}
    rows_seen = {f"h{i}" for i, f in enumerate(generated) if sees_hazard(actor, sql.facts_of_row(row(i, f)))}
    with session(engine()) as db:
        db.exec(delete(HazardRow))
        for i, f in enumerate(generated):
            db.add(row(i, f))
        db.commit()
        in_sql = set(db.exec(select(HazardRow.hazard_id).where(sql.hazard_filter(actor))).all())
    assert in_memory == in_sql == rows_seen


def test_the_rule_in_words():
    h = HazardFacts(unit="xiaofang", township="baita", district=2, found_by="insp.a")
    assert sees_hazard(Actor(username="s", role=Role.supervisor), h)
    assert sees_hazard(Actor(username="insp.b", role=Role.inspector, district=2), h)  # the district's inspector
    assert sees_hazard(Actor(username="insp.a", role=Role.inspector, district=5), h)  # found it elsewhere
    assert not sees_hazard(Actor(username="insp.c", role=Role.inspector, district=5), h)
    assert sees_hazard(Actor(username="inspector", role=Role.inspector), h)  # county-wide inspector
    assert sees_hazard(Actor(username="l", role=Role.leader, unit="xiaofang"), h)  # the responsible unit
    assert sees_hazard(Actor(username="l", role=Role.mediator, township="baita"), h)  # 属地: the township
    assert not sees_hazard(Actor(username="l", role=Role.leader, unit="gongan"), h)
    assert not sees_hazard(Actor(username="c", role=Role.clerk), h)  # clerks take in disputes, not hazards
