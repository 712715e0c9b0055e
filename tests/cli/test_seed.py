"""`wuhuan seed-demo` through the installed console script, against a real SQLite file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from domain.passwords import verify_password
from domain.taxonomy import get_taxonomy
from store.db import make_engine, session
from store.seed import demo_accounts
from store.tables import Staff, Township, Unit

WUHUAN = Path(sys.executable).parent / "wuhuan"


def run_seed(tmp_path: Path, password: str = "seed-test-pw") -> str:
    env = dict(
        os.environ,
        WUHUAN_DATABASE_URL=f"sqlite:///{tmp_path / 'read.db'}",
        WUHUAN_DATA_DIR=str(tmp_path / "data"),
        WUHUAN_DEMO_PASSWORD=password,
        WUHUAN_PASSWORD_HASH_TIME_COST="1",
        WUHUAN_PASSWORD_HASH_MEMORY_KIB="1024",
    )
    done = subprocess.run([str(WUHUAN), "seed-demo"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def created(output: str) -> int:
    match = re.search(r"(\d+) demo accounts created", output)
    assert match, output
    return int(match.group(1))


def test_seed_demo_is_idempotent_and_creates_the_contract_accounts(tmp_path):
    taxonomy = get_taxonomy()
    expected = {p.username for p in demo_accounts(taxonomy)}

    first = run_seed(tmp_path)
    assert created(first) == len(expected)
    second = run_seed(tmp_path)
    assert created(second) == 0

    engine = make_engine(f"sqlite:///{tmp_path / 'read.db'}")
    try:
        with session(engine) as db:
            staff = {s.username: s for s in db.exec(select(Staff))}
            units = set(db.exec(select(Unit.code)))
            townships = set(db.exec(select(Township.code)))
    finally:
        engine.dispose()

    assert set(staff) == expected
    for name in (
        "clerk",
        "supervisor",
        "auditor",
        "county_leader",
        "inspector",
        "renshe.mediator",
        "renshe.leader",
        "baita.leader",
        "baita.mediator",
    ):
        assert name in staff, name
    assert "township.leader" not in staff and "township.mediator" not in staff
    for unit in taxonomy.units:
        if unit.code != "township":
            assert {f"{unit.code}.leader", f"{unit.code}.mediator"} <= set(staff)
    for town in taxonomy.townships:
        assert {f"{town.code}.leader", f"{town.code}.mediator"} <= set(staff)
    assert staff["renshe.mediator"].unit == "renshe" and staff["baita.leader"].township == "baita"
    assert staff["county_leader"].role == "county_leader"
    assert units == {u.code for u in taxonomy.units}
    assert townships == {t.code for t in taxonomy.townships}
    # Every demo account signs in with the configured demo password.
    assert verify_password("seed-test-pw", staff["renshe.mediator"].password_hash)
    assert not verify_password("wuhuan-demo", staff["renshe.mediator"].password_hash)


def test_seed_demo_has_the_inspection_organisation(tmp_path):
    """About 100 inspectors of five lead units in teams of 4–5, every district covered by teams of more than one
    unit; one self-inspection inspector per township; inspectors belong to no unit, so they see no unit's cases."""
    taxonomy = get_taxonomy()
    run_seed(tmp_path)
    engine = make_engine(f"sqlite:///{tmp_path / 'read.db'}")
    try:
        with session(engine) as db:
            inspectors = list(db.exec(select(Staff).where(Staff.role == "inspector")))
    finally:
        engine.dispose()

    teams: dict[str, list[Staff]] = {}
    for s in inspectors:
        assert s.unit is None and s.township is None, s.username
        if s.team:
            teams.setdefault(s.team, []).append(s)
    in_teams = [s for members in teams.values() for s in members]
    assert 90 <= len(in_teams) <= 110
    assert {t.split("-")[0] for t in teams} == {"gongan", "yingji", "jiaojing", "xiaofang", "shijian"}
    for team, members in teams.items():
        assert 4 <= len(members) <= 5, team
        assert len({m.district for m in members}) == 1, f"{team} spans districts"
    by_district: dict[int, set[str]] = {}
    for team, members in teams.items():
        by_district.setdefault(members[0].district, set()).add(team.split("-")[0])
    assert set(by_district) == set(taxonomy.districts())
    assert all(len(units) >= 2 for units in by_district.values()), by_district
    assert {s.username for s in in_teams} >= {"insp.gongan.01", "insp.shijian.19"}
    assert next(s for s in in_teams if s.username == "insp.gongan.03").display_name == "公安局督查专员3"

    own = {s.username: s for s in inspectors if s.team is None and s.username != "inspector"}
    assert set(own) == {f"{t.code}.inspector" for t in taxonomy.townships}
    for t in taxonomy.townships:
        assert own[f"{t.code}.inspector"].district == t.district
    county_wide = next(s for s in inspectors if s.username == "inspector")
    assert county_wide.district is None and county_wide.team is None
