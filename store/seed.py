"""Load the demo county (taxonomy.yaml) into the database: units, townships and the demo accounts of
docs/http-api.md (demo accounts), with their matching profile (skills, capacity, home township). Idempotent:
existing rows are left as they are, except that demo accounts made before profiles existed (skills never set)
get theirs."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from domain.models import Role
from domain.passwords import hash_password
from domain.taxonomy import TOWNSHIP_LED, Taxonomy, is_department
from store.db import session
from store.tables import Staff, Township, Unit

CENTRE_ACCOUNTS = [
    ("clerk", "中心受理员", Role.clerk),
    ("supervisor", "中心督办员", Role.supervisor),
    ("auditor", "审计员", Role.auditor),
    ("county_leader", "分管县领导", Role.county_leader),
    ("inspector", "督查专员", Role.inspector),
]


LEADER_CAPACITY = 10  # a leader handles a case only when nobody else can
MEDIATOR_CAPACITY = 30


def unit_skills(taxonomy: Taxonomy, unit: str) -> list[str]:
    """The categories a unit handles (taxonomy.yaml); `township` for township staff: the categories a
    township leads or joins."""
    return [c.code for c in taxonomy.dispute_categories if unit in c.units]


def demo_accounts(taxonomy: Taxonomy) -> list[Staff]:
    """Accounts without password hashes (filled in by seed_demo)."""
    people = [Staff(username=u, display_name=n, role=r.value, password_hash="") for u, n, r in CENTRE_ACCOUNTS]
    for unit in taxonomy.units:
        if not is_department(unit.code):
            continue
        skills = unit_skills(taxonomy, unit.code)
        people.append(
            Staff(
                username=f"{unit.code}.leader",
                display_name=f"{unit.zh}主要领导",
                role=Role.leader.value,
                unit=unit.code,
                password_hash="",
                skills=skills,
                capacity=LEADER_CAPACITY,
            )
        )
        people.append(
            Staff(
                username=f"{unit.code}.mediator",
                display_name=f"{unit.zh}调解员",
                role=Role.mediator.value,
                unit=unit.code,
                password_hash="",
                skills=skills,
                capacity=MEDIATOR_CAPACITY,
            )
        )
    township_skills = unit_skills(taxonomy, TOWNSHIP_LED)
    for t in taxonomy.townships:
        people.append(
            Staff(
                username=f"{t.code}.leader",
                display_name=f"{t.zh}主要领导",
                role=Role.leader.value,
                township=t.code,
                password_hash="",
                skills=township_skills,
                capacity=LEADER_CAPACITY,
                home_township=t.code,
            )
        )
        people.append(
            Staff(
                username=f"{t.code}.mediator",
                display_name=f"{t.zh}调解员",
                role=Role.mediator.value,
                township=t.code,
                password_hash="",
                skills=township_skills,
                capacity=MEDIATOR_CAPACITY,
                home_township=t.code,
            )
        )
    return people


def seed_demo(engine: Engine, taxonomy: Taxonomy, password: str, time_cost: int = 3, memory_kib: int = 65536) -> int:
    """Returns how many accounts were created. The schema must be in place (store.migrate.upgrade): seeding
    writes rows, it never makes tables."""
    created = 0
    with session(engine) as db:
        for u in taxonomy.units:
            if db.get(Unit, u.code) is None:
                db.add(Unit(code=u.code, zh=u.zh, en=u.en))
        for t in taxonomy.townships:
            if db.get(Township, t.code) is None:
                db.add(Township(code=t.code, zh=t.zh, district=t.district))
        # Demo accounts share one known password, so one hash serves them all (a hash costs ~0.5 s).
        hashed: str | None = None
        for person in demo_accounts(taxonomy):
            existing = db.get(Staff, person.username)
            if existing is None:
                hashed = hashed or hash_password(password, time_cost, memory_kib)
                person.password_hash = hashed
                db.add(person)
                created += 1
            elif existing.skills is None and person.skills is not None:
                # Made before staff had a matching profile: give it the demo profile once.
                existing.skills = person.skills
                existing.home_township = existing.home_township or person.home_township
                db.add(existing)
        db.commit()
    return created
