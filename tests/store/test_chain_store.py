"""The hash chain in the read model: the record activity chains what it writes and a retry changes nothing; a row
written back into a gap chains where it belongs; an old database is sealed when it is adopted (store.migrate); a
county can switch to SHA-256 without breaking the chains already written."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import inspect, text
from sqlmodel import select

from activities.records import CaseRecorder
from domain import audit_chain
from domain.models import CaseEvent, CaseRecord
from store import chain
from store.db import make_engine, session
from store.migrate import upgrade
from store.tables import CaseEventRow
from tests.store.legacy_schema import create_legacy_tables
from tests.workflows.helpers import start_case, until


def rows_of(engine, case_id) -> list[CaseEventRow]:
    with session(engine) as db:
        return list(db.exec(select(CaseEventRow).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.seq)))


def as_events(rows) -> list[CaseEvent]:
    return [CaseEvent(seq=r.seq, at=r.at, type=r.type, actor=r.actor, detail=r.detail) for r in rows]


async def test_a_retry_inserts_nothing_and_changes_no_hash_and_a_gap_refills(
    skipping_env, worker, task_queue, engine, cases
):
    h = await start_case(skipping_env, task_queue, cases)
    st = await until(h, lambda s: bool(s.team))
    before = rows_of(engine, st.case_id)
    hashes = [(r.seq, r.prev_hash, r.hash, r.hash_alg) for r in before]
    recorder = CaseRecorder(engine)
    assert recorder.record_case_events(CaseRecord(case_id=st.case_id, events=as_events(before), state=st)) == 0
    assert [(r.seq, r.prev_hash, r.hash, r.hash_alg) for r in rows_of(engine, st.case_id)] == hashes

    # A row lost from the middle, written back from the workflow's history (what `audit reconcile` does), takes
    # the hash it had: the chain is whole again.
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM case_events WHERE case_id = :c AND seq = 2"), dict(c=st.case_id))
    assert audit_chain.verify(rows_of(engine, st.case_id)).kind == audit_chain.ROW_MISSING
    assert recorder.record_case_events(CaseRecord(case_id=st.case_id, events=as_events(before), state=st)) == 1
    assert [(r.seq, r.prev_hash, r.hash, r.hash_alg) for r in rows_of(engine, st.case_id)] == hashes


async def test_switching_to_sha256_keeps_old_links(skipping_env, worker, task_queue, engine, cases):
    h = await start_case(skipping_env, task_queue, cases)
    st = await until(h, lambda s: bool(s.team))
    rows = rows_of(engine, st.case_id)
    last = rows[-1]
    extra = CaseEvent(
        seq=last.seq + 1, at=last.at + timedelta(seconds=1), type="urged", actor="supervisor", detail={"note": "请加快"}
    )
    state = st.model_copy(update={"next_seq": last.seq + 2})
    assert (
        CaseRecorder(engine, hash_alg="sha256").record_case_events(
            CaseRecord(case_id=st.case_id, events=[extra], state=state)
        )
        == 1
    )
    now = rows_of(engine, st.case_id)
    assert [r.hash_alg for r in now] == ["sm3"] * len(rows) + ["sha256"]
    assert now[-1].prev_hash == last.hash and audit_chain.verify(now) is None
    assert now[-1].hash == audit_chain.link_hash("sha256", last.hash, audit_chain.content_of(now[-1]))


def test_an_old_database_is_sealed_on_upgrade_and_old_cases_keep_growing(tmp_path):
    path = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{path}")
    create_legacy_tables(engine)
    with engine.begin() as conn:  # case_events as they were before the chain: no chain columns, rows without hashes
        for column in ("prev_hash", "hash", "hash_alg"):
            conn.execute(text(f"ALTER TABLE case_events DROP COLUMN {column}"))
        for case_id, n in (("c1", 3), ("c2", 2)):
            for seq in range(1, n + 1):
                conn.execute(
                    text(
                        "INSERT INTO case_events (case_id, seq, at, type, actor, detail, recorded_at) "
                        "VALUES (:c, :s, :at, :t, 'system', :d, :at)"
                    ),
                    dict(
                        c=case_id,
                        s=seq,
                        at=f"2026-11-0{seq} 08:00:00.000000",
                        t=f"step{seq}",
                        d=f'{{"note": "旧记录", "n": {seq}}}',
                    ),
                )
    engine.dispose()

    engine = make_engine(f"sqlite:///{path}")
    assert upgrade(engine).sealed == 5
    assert {"prev_hash", "hash", "hash_alg"} <= {c["name"] for c in inspect(engine).get_columns("case_events")}
    c1, c2 = rows_of(engine, "c1"), rows_of(engine, "c2")
    assert all(r.hash and r.hash_alg == "sm3" for r in c1 + c2)
    assert audit_chain.verify(c1) is None and audit_chain.verify(c2) is None
    assert c1[1].detail == {"note": "旧记录", "n": 2}
    assert upgrade(engine).sealed == 0  # adopted once: nothing re-sealed
    assert [r.hash for r in rows_of(engine, "c1")] == [r.hash for r in c1]

    # A worker still writing to a case that no upgrade has sealed yet seals it first, in its own transaction.
    with engine.begin() as conn:
        conn.execute(text("UPDATE case_events SET hash = NULL, prev_hash = NULL, hash_alg = NULL WHERE case_id = 'c2'"))
    with session(engine) as db:
        assert chain.prev_hash_for(db, "c2", {1: None, 2: None}, 3, "sm3") == c2[-1].hash
        db.commit()
    assert [r.hash for r in rows_of(engine, "c2")] == [r.hash for r in c2]

    # A row whose hash is erased later is not papered over by the next upgrade: verify names it.
    with engine.begin() as conn:
        conn.execute(text("UPDATE case_events SET hash = NULL, detail = '{}' WHERE case_id = 'c1' AND seq = 3"))
    upgrade(engine)
    broken = audit_chain.verify(rows_of(engine, "c1"))
    assert (broken.seq, broken.kind) == (3, audit_chain.UNSEALED)
    engine.dispose()
