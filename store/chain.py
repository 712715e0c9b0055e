"""The case log's hash chains in the database (the pure rules are in domain/audit_chain.py).

- `prev_hash_for`: the hash a case's new row chains onto (used by the record activity, in its transaction);
- `seal_legacy`: the upgrade step: chains the events of cases written before the chain existed (run by
  store.migrate when it adopts a database made before migrations, never at a worker's or API's start);
- `chains` / `heads`: what `wuhuan audit verify` and `wuhuan audit digest` read.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, select

from domain import audit_chain
from store.tables import Case, CaseEventRow


def default_alg() -> str:
    from domain.settings import get_settings

    return get_settings().audit_hash


def prev_hash_for(db: Session, case_id: str, hashes: dict[int, str | None], seq: int, alg: str) -> str:
    """The hash a new row `seq` of the case points at: the stored hash of row seq - 1 (GENESIS for seq 1).
    `hashes` maps the case's seqs to their hashes, read in the caller's transaction and updated by the caller as
    it seals new rows (so a row written back into a gap, as `audit reconcile` does, chains where it belongs).
    A case whose rows all predate the chain is sealed here first, as the upgrade step would. A previous row whose
    hash was removed is not re-sealed (verify reports it): the new row chains onto what its hash would be."""
    if seq == 1:
        return audit_chain.GENESIS
    if hashes.get(seq - 1) is not None:
        return hashes[seq - 1]  # type: ignore[return-value]
    rows = [r for r in _rows(db, case_id) if r.seq < seq]
    if rows and all(r.hash is None for r in rows):
        audit_chain.seal_chain(rows, alg)  # legacy rows: the caller's transaction writes them with the new ones
        hashes.update({r.seq: r.hash for r in rows})
        return rows[-1].hash  # type: ignore[return-value]
    if not rows:
        return audit_chain.GENESIS
    row = rows[-1]  # the nearest earlier row (a gap before `seq` is for verify to report)
    if row.hash is not None:
        return row.hash
    return audit_chain.link_hash(row.hash_alg or alg, row.prev_hash or audit_chain.GENESIS, audit_chain.content_of(row))


def _rows(db: Session, case_id: str) -> list[CaseEventRow]:
    return list(db.exec(select(CaseEventRow).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.seq)))


def seal_legacy(engine: Engine | Connection, alg: str | None = None) -> int:
    """Chain the events of every case none of whose rows has a hash yet (a database written before the chain existed).
    Cases with some hashed rows are left alone: a missing hash there is for `audit verify` to report, not to
    paper over. Returns how many rows were sealed. Given a connection in a transaction, it writes in that
    transaction."""
    sealed = 0
    with Session(engine, expire_on_commit=False) as db:
        unsealed = set(db.exec(select(CaseEventRow.case_id).where(CaseEventRow.hash.is_(None)).distinct()).all())
        if not unsealed:
            return 0
        alg = alg or default_alg()
        partly = set(
            db.exec(
                select(CaseEventRow.case_id)
                .where(CaseEventRow.case_id.in_(unsealed), CaseEventRow.hash.is_not(None))
                .distinct()
            ).all()
        )
        for case_id in sorted(unsealed - partly):
            rows = _rows(db, case_id)
            audit_chain.seal_chain(rows, alg)
            sealed += len(rows)
        db.commit()
    return sealed


def case_numbers(db: Session, case_ids: list[str] | None = None) -> dict[str, tuple[str, int]]:
    """case_id → (case_no, last_seq) from the read model's case rows."""
    q = select(Case.case_id, Case.case_no, Case.last_seq)
    if case_ids is not None:
        q = q.where(Case.case_id.in_(case_ids))
    return {cid: (no, last) for cid, no, last in db.exec(q).all()}


def chains(
    db: Session, case_id: str | None = None, until: datetime | None = None
) -> Iterator[tuple[str, list[CaseEventRow]]]:
    """(case_id, its rows by seq) for one case or all, optionally only rows whose time is before `until`."""
    q = select(CaseEventRow)
    if case_id is not None:
        q = q.where(CaseEventRow.case_id == case_id)
    if until is not None:
        q = q.where(CaseEventRow.at < until)
    q = q.order_by(CaseEventRow.case_id, CaseEventRow.seq).execution_options(yield_per=2000)
    for cid, rows in itertools.groupby(db.exec(q), key=lambda r: r.case_id):
        yield cid, list(rows)


def hashes_by_case(db: Session, case_id: str | None = None) -> dict[str, dict[int, str]]:
    """case_id → {seq: stored hash}, for one case or all."""
    q = select(CaseEventRow.case_id, CaseEventRow.seq, CaseEventRow.hash)
    if case_id is not None:
        q = q.where(CaseEventRow.case_id == case_id)
    out: dict[str, dict[int, str]] = {}
    for cid, seq, h in db.exec(q.execution_options(yield_per=5000)):
        out.setdefault(cid, {})[seq] = h
    return out


def event_count(db: Session) -> int:
    return db.exec(select(func.count()).select_from(CaseEventRow)).one()
