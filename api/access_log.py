"""Who looked at which case (issue 5): every read of a case's history, replay or dossier is appended to the
`access_log` table, after the reader passed the permission check and before anything is read. Append-only: the
API has no route that changes or deletes a row."""
from __future__ import annotations

from datetime import datetime

from fastapi import Request
from sqlalchemy.engine import Engine
from sqlmodel import select

from api.deps import client_address
from store.db import session
from store.tables import AccessLogRow, Staff, utcnow

HISTORY, REPLAY, DOSSIER = "history", "replay", "dossier"


def record(engine: Engine, staff: Staff, case_id: str, what: str, request: Request | None = None,
           at: datetime | None = None) -> AccessLogRow:
    """Append one access in its own transaction (apart from the route's session, so it lands even if the read
    fails afterwards)."""
    row = AccessLogRow(username=staff.username, role=staff.role, case_id=case_id, what=what, at=at or utcnow(),
                       client=client_address(request) if request is not None else None)
    with session(engine) as db:
        db.add(row)
        db.commit()
    return row


def entries(engine: Engine, case_id: str | None = None, username: str | None = None,
            limit: int = 200) -> list[AccessLogRow]:
    """Newest first."""
    q = select(AccessLogRow)
    if case_id is not None:
        q = q.where(AccessLogRow.case_id == case_id)
    if username is not None:
        q = q.where(AccessLogRow.username == username)
    with session(engine) as db:
        return list(db.exec(q.order_by(AccessLogRow.at.desc(), AccessLogRow.id.desc()).limit(limit)))
