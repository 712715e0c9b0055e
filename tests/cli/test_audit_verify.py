"""`wuhuan audit verify | digest`, run as the installed command against a real SQLite read model that the real
workflow filled (time-skipping server), then tampered with by plain SQL."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlmodel import select

from domain import audit_chain
from store.db import session
from store.tables import CaseEventRow
from tests.workflows.helpers import start_case, until

WUHUAN = Path(sys.executable).parent / "wuhuan"


async def wuhuan(engine, tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "WUHUAN_DATABASE_URL": str(engine.url), "WUHUAN_DATA_DIR": str(tmp_path / "data")}
    return await asyncio.to_thread(
        subprocess.run,
        [str(WUHUAN), "audit", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def two_teamed_cases(skipping_env, task_queue, cases):
    sts = []
    for _ in range(2):
        h = await start_case(skipping_env, task_queue, cases)
        sts.append(await until(h, lambda s: bool(s.team)))
    return sts


def rows_of(engine, case_id) -> list[CaseEventRow]:
    with session(engine) as db:
        return list(db.exec(select(CaseEventRow).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.seq)))


async def test_verify_names_the_case_and_seq_of_a_row_changed_by_sql(
    skipping_env, worker, task_queue, engine, cases, tmp_path
):
    one, two = await two_teamed_cases(skipping_env, task_queue, cases)
    rows = rows_of(engine, one.case_id)
    assert len(rows) >= 4 and all(r.hash and r.hash_alg == "sm3" for r in rows)
    assert audit_chain.verify(rows, expected_last_seq=one.next_seq - 1) is None

    out = await wuhuan(engine, tmp_path, "verify", "--all")
    assert out.returncode == 0, out.stdout + out.stderr
    total = len(rows) + len(rows_of(engine, two.case_id))
    assert f"verified 2 cases, {total} events ({total} sm3): 2 intact, 0 broken" in out.stdout

    victim = rows[2]
    with engine.begin() as conn:  # someone edits the record behind the system's back
        conn.execute(
            text("UPDATE case_events SET detail = :d WHERE case_id = :c AND seq = :s"),
            dict(d=json.dumps({**victim.detail, "handler": "someone.else"}), c=one.case_id, s=victim.seq),
        )
    out = await wuhuan(engine, tmp_path, "verify", "--all")
    assert out.returncode == 1, out.stdout + out.stderr
    assert (
        f"BROKEN  {one.case_no} (case {one.case_id}): seq {victim.seq} ({victim.type}): content changed" in out.stdout
    )
    assert two.case_no not in out.stdout
    assert "verified 2 cases" in out.stdout and "1 intact, 1 broken" in out.stdout

    out = await wuhuan(engine, tmp_path, "verify", "--case", two.case_id)
    assert out.returncode == 0 and "verified 1 cases" in out.stdout, out.stdout
    out = await wuhuan(engine, tmp_path, "verify", "--case", "no-such-case")
    assert out.returncode == 1 and "no case no-such-case" in out.stderr

    with engine.begin() as conn:  # the edit undone, the last row deleted instead
        conn.execute(
            text("UPDATE case_events SET detail = :d WHERE case_id = :c AND seq = :s"),
            dict(d=json.dumps(victim.detail), c=one.case_id, s=victim.seq),
        )
        conn.execute(
            text("DELETE FROM case_events WHERE case_id = :c AND seq = :s"), dict(c=one.case_id, s=rows[-1].seq)
        )
    out = await wuhuan(engine, tmp_path, "verify", "--case", one.case_id)
    assert out.returncode == 1
    assert f"{one.case_no} (case {one.case_id}): seq {rows[-1].seq}: row missing" in out.stdout, out.stdout


async def test_a_chain_rewritten_behind_a_digest_is_caught(skipping_env, worker, task_queue, engine, cases, tmp_path):
    one, two = await two_teamed_cases(skipping_env, task_queue, cases)
    digest_file = tmp_path / "held-by-the-county-archive.json"
    out = await wuhuan(engine, tmp_path, "digest", "--out", str(digest_file))
    assert out.returncode == 0, out.stderr
    held = json.loads(digest_file.read_text())
    assert held["case_count"] == 2 and held["algorithm"] == "sm3" and len(held["digest"]) == 64
    heads = {h["case_id"]: h for h in held["cases"]}
    assert heads[one.case_id]["last_seq"] == one.next_seq - 1
    assert heads[one.case_id]["head_hash"] == rows_of(engine, one.case_id)[-1].hash
    assert held["digest"] == audit_chain.heads_digest(held["date"], held["cases"], "sm3")

    out = await wuhuan(engine, tmp_path, "verify", "--digest", str(digest_file))
    assert out.returncode == 0, out.stdout
    assert "2 still in the chains, 0 not" in out.stdout

    # A forger with the database and the code rewrites one event and re-hashes the rest of the chain.
    with session(engine) as db:
        rows = list(db.exec(select(CaseEventRow).where(CaseEventRow.case_id == one.case_id).order_by(CaseEventRow.seq)))
        rows[1].detail = {**rows[1].detail, "unit": "sifa"}
        audit_chain.seal_chain(rows[1:], "sm3", prev_hash=rows[0].hash)
        for r in rows:
            db.add(r)
        db.commit()
    out = await wuhuan(engine, tmp_path, "verify")
    assert out.returncode == 0, out.stdout  # the chain alone is consistent again…
    out = await wuhuan(engine, tmp_path, "verify", "--digest", str(digest_file))
    assert out.returncode == 1, out.stdout  # …but no longer passes through the head the archive holds
    last = heads[one.case_id]["last_seq"]
    assert f"BROKEN  {one.case_no} (case {one.case_id}): seq {last}: rewritten behind the digest" in out.stdout
    assert "1 still in the chains, 1 not" in out.stdout and two.case_no not in out.stdout

    held["cases"][0]["last_seq"] -= 1  # and a digest file edited to match is caught too
    digest_file.write_text(json.dumps(held))
    out = await wuhuan(engine, tmp_path, "verify", "--case", two.case_id, "--digest", str(digest_file))
    assert out.returncode == 1 and "DIGEST FILE ALTERED" in out.stdout, out.stdout


async def test_digest_of_a_past_day_has_no_heads_yet(skipping_env, worker, task_queue, engine, cases, tmp_path):
    await two_teamed_cases(skipping_env, task_queue, cases)
    out = await wuhuan(engine, tmp_path, "digest", "--date", "2000-01-01")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert (d["date"], d["case_count"], d["cases"]) == ("2000-01-01", 0, [])
    assert d["until"] == "2000-01-02T00:00:00+08:00"
