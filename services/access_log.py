"""Who looked at which case: every read of a case's history, replay or dossier is appended to the
`access_log` table, after the reader passed the permission check and before anything is read. Append-only: the
API has no route that changes or deletes a row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import select

from domain.models import Actor
from store.db import session
from store.tables import AccessLogRow, utcnow

HISTORY, REPLAY, DOSSIER = "history", "replay", "dossier"
CITIZEN_PHONE = "citizen_phone"  # a citizen's full phone number shown (services/privacy.py)
EXPORT = "privacy_export"  # a citizen's data exported on request (wuhuan privacy export)


def record(
    engine: Engine, reader: Actor, case_id: str, what: str, client: str | None = None, at: datetime | None = None
) -> AccessLogRow:
    """Append one access in its own transaction (apart from the route's session, so it lands even if the read
    fails afterwards)."""
    row = AccessLogRow(
        username=reader.username, role=reader.role.value, case_id=case_id, what=what, at=at or utcnow(), client=client
    )
    with session(engine) as db:
        db.add(row)
        db.commit()
    return row


def entries(
    engine: Engine, case_id: str | None = None, username: str | None = None, limit: int = 200
) -> list[AccessLogRow]:
    """Newest first."""
    q = select(AccessLogRow)
    if case_id is not None:
        q = q.where(AccessLogRow.case_id == case_id)
    if username is not None:
        q = q.where(AccessLogRow.username == username)
    with session(engine) as db:
        return list(db.exec(q.order_by(AccessLogRow.at.desc(), AccessLogRow.id.desc()).limit(limit)))
