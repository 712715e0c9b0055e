"""Load the demo county (taxonomy.yaml) into the database: units, townships and the demo accounts of
docs/http-api.md (demo accounts), with their matching profile (skills, capacity, home township), and the
safety-inspection organisation (docs/inspection.md): inspectors of five lead units in teams, each team assigned
to a district (片区包干), and one self-inspection inspector per township (乡镇自查). Every demo account has a
made-up phone number and e-mail address (`demo_phone`, `demo_email`). Idempotent: existing rows are left as they
are, except that demo accounts made before profiles existed (skills never set) get theirs, and those made before
phones and e-mail addresses get them."""

from __future__ import annotations

import hashlib

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


# The inspection teams (督查组): the lead units of the inspected domains each send TEAMS_PER_UNIT teams, of these
# sizes in turn (4–5 people), and team g of all (in this order) covers district g % 6 + 1, so that every
# district has teams of several units. 5 units × 19 people = 95 inspectors.
INSPECTION_UNITS = ["gongan", "yingji", "jiaojing", "xiaofang", "shijian"]
TEAMS_PER_UNIT = 4
TEAM_SIZES = [5, 5, 4, 5]

LEADER_CAPACITY = 10  # a leader handles a case only when nobody else can
MEDIATOR_CAPACITY = 30


def unit_skills(taxonomy: Taxonomy, unit: str) -> list[str]:
    """The categories a unit handles (taxonomy.yaml); `township` for township staff: the categories a
    township leads or joins."""
    return [c.code for c in taxonomy.dispute_categories if unit in c.units]


def demo_accounts(taxonomy: Taxonomy) -> list[Staff]:
    """Accounts without password hashes (filled in by seed_demo)."""
    people = [Staff(username=u, display_name=n, role=r.value, password_hash="") for u, n, r in CENTRE_ACCOUNTS]
    # The county leaders in charge (taxonomy.yaml county_leaders): a red case goes to the one over its lead unit or
    # township, who leads its task force; `county_leader` above is the centre's overall convener.
    people += [
        Staff(username=leader.username, display_name=leader.zh, role=Role.county_leader.value, password_hash="")
        for leader in taxonomy.county_leaders
    ]
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
    return people + inspectors(taxonomy)


def inspectors(taxonomy: Taxonomy) -> list[Staff]:
    """The demo inspectors (督查专员): teams of the lead units, assigned to districts, and the townships' own.
    Their `unit` stays empty, whatever unit sends them: an inspector sees hazards by district, never a unit's cases;
    the unit is in the team's code (`gongan-1`) and the name."""
    districts = sorted(taxonomy.districts())
    people: list[Staff] = []
    g = 0
    for code in INSPECTION_UNITS:
        unit_name = taxonomy.unit_zh(code).removeprefix("县")
        n = 0
        for k in range(TEAMS_PER_UNIT):
            district = districts[g % len(districts)]
            g += 1
            for _ in range(TEAM_SIZES[k % len(TEAM_SIZES)]):
                n += 1
                people.append(
                    Staff(
                        username=f"insp.{code}.{n:02d}",
                        display_name=f"{unit_name}督查专员{n}",
                        role=Role.inspector.value,
                        password_hash="",
                        district=district,
                        team=f"{code}-{k + 1}",
                    )
                )
    for t in taxonomy.townships:  # 乡镇自查: no team, so never on the weekly district plan
        people.append(
            Staff(
                username=f"{t.code}.inspector",
                display_name=f"{t.zh}自查督查员",
                role=Role.inspector.value,
                password_hash="",
                district=t.district,
                home_township=t.code,
            )
        )
    return people


DEMO_EMAIL_DOMAIN = "demo.wuhuan.invalid"  # .invalid: a made-up address can never reach anyone


def demo_phone(username: str) -> str:
    """A made-up mobile number, the same for a username on every seed: 1990 and seven digits of its hash."""
    digits = int(hashlib.sha256(username.encode()).hexdigest(), 16) % 10_000_000
    return f"1990{digits:07d}"


def demo_email(username: str) -> str:
    return f"{username}@{DEMO_EMAIL_DOMAIN}"


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
                person.phone, person.email = demo_phone(person.username), demo_email(person.username)
                db.add(person)
                created += 1
                continue
            if existing.phone is None or existing.email is None:  # made before demo staff had them
                existing.phone = existing.phone or demo_phone(existing.username)
                existing.email = existing.email or demo_email(existing.username)
                db.add(existing)
            if existing.skills is None and person.skills is not None:
                # Made before staff had a matching profile: give it the demo profile once.
                existing.skills = person.skills
                existing.home_township = existing.home_township or person.home_township
                db.add(existing)
        db.commit()
    return created
