"""One jurisdiction, two readings: for any actor and any case, the in-memory rule (domain/jurisdiction.py, used on
a single case) and the SQL filter built from it (store/jurisdiction.py, used by lists, boards and exports)
select the same cases. Generated actors and cases, a real SQLite read model."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import delete, select

from domain.jurisdiction import CaseFacts, can_see, scope_of, sees
from domain.models import Actor, CaseIntake, CaseState, Role, ServiceLevels
from domain.taxonomy import TOWNSHIP_LED
from store import jurisdiction as sql_jurisdiction
from store.db import make_engine, session
from store.migrate import upgrade
from store.tables import Case

# Small pools, so that generated actors and cases share names and codes often.
USERS = ["a.mediator", "b.mediator", "c_leader", "d%x", "e"]
UNITS = ["renshe", "sifa", "fulian", TOWNSHIP_LED]
TOWNS = ["baita", "tianshi", "anling"]

people = st.sampled_from(USERS)
units = st.none() | st.sampled_from(UNITS)
towns = st.none() | st.sampled_from(TOWNS)
actors = st.builds(
    Actor, username=people, role=st.sampled_from([r for r in Role if r is not Role.citizen]), unit=units, township=towns
)
members = st.builds(Actor, username=people, role=st.just(Role.mediator), unit=units, township=towns)
cases = st.builds(
    lambda handler, team, unit, township: (handler, team, unit, township),
    st.none() | members,
    st.lists(members, max_size=3, unique_by=lambda m: m.username),
    units,
    towns,
)

LEVELS = ServiceLevels(
    routed_within=1, assigned_within=1, team_within=1, yellow_after=1, red_after=1, close_unrated_after=1
)
T0 = datetime(2026, 12, 1, tzinfo=UTC)


def state_of(i: int, handler: Actor | None, team: list[Actor], unit: str | None, township: str | None) -> CaseState:
    return CaseState(
        case_id=f"c{i}",
        case_no=f"N{i}",
        received_at=T0,
        intake_by="citizen",
        levels=LEVELS,
        intake=CaseIntake(description="x", citizen_name="x", citizen_phone="x"),
        handler=handler,
        team=team,
        unit=unit,
        township=township,
    )


def row_of(s: CaseState) -> Case:
    """The read model's row, as the record activity writes it."""
    from activities.records import apply_snapshot

    row = Case(
        case_id=s.case_id,
        case_no=s.case_no,
        status="received",
        colour="green",
        description="x",
        citizen_name="x",
        citizen_phone="x",
        channel="web",
        received_at=T0,
    )
    apply_snapshot(row, s)
    return row


ENGINE = None


def engine():
    global ENGINE
    if ENGINE is None:
        import tempfile

        ENGINE = make_engine(f"sqlite:///{tempfile.mkdtemp()}/jurisdiction.db")
        upgrade(ENGINE)
    return ENGINE


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actor=actors, generated=st.lists(cases, min_size=1, max_size=8))
def test_memory_and_sql_readings_agree(actor, generated):
    states = [state_of(i, *c) for i, c in enumerate(generated)]
    in_memory = {s.case_id for s in states if can_see(actor, s)}
    rows_seen = {s.case_id for s in states if sees(scope_of(actor), sql_jurisdiction.facts_of_row(row_of(s)))}
    with session(engine()) as db:
        db.exec(delete(Case))
        for s in states:
            db.add(row_of(s))
        db.commit()
        where = sql_jurisdiction.case_filter(scope_of(actor))
        q = select(Case.case_id) if where is None else select(Case.case_id).where(where)
        in_sql = set(db.exec(q).all())
    assert in_memory == in_sql == rows_seen


def test_the_rule_in_words():
    case = CaseFacts(handler="h", team=("m",), unit="renshe", township="baita", member_units=("sifa",))
    assert sees(scope_of(Actor(username="x", role=Role.auditor)), case)
    assert sees(scope_of(Actor(username="h", role=Role.mediator, unit="other")), case)  # handles it
    assert sees(scope_of(Actor(username="m", role=Role.mediator)), case)  # on the team
    assert sees(scope_of(Actor(username="y", role=Role.leader, unit="renshe")), case)  # lead unit
    assert sees(scope_of(Actor(username="y", role=Role.mediator, unit="sifa")), case)  # unit on team
    assert sees(scope_of(Actor(username="y", role=Role.leader, township="baita")), case)  # its township
    assert not sees(scope_of(Actor(username="y", role=Role.leader, unit="fulian")), case)
    assert not sees(scope_of(Actor(username="y", role=Role.leader, township="tianshi")), case)
    # The township placeholder is not a department: it opens no township-led case by itself.
    led = CaseFacts(handler=None, team=(), unit=TOWNSHIP_LED, township="baita", member_units=())
    assert not sees(scope_of(Actor(username="y", role=Role.leader, unit=TOWNSHIP_LED)), led)
