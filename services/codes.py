"""Case numbers (MT<yyyymmdd>-<nnnn>, per China day) and tracking codes (民声码).

The tracking code is the citizen's credential: random, unrelated to the case number, and only its SHA-256
is stored, so the database alone cannot be used to follow a case."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from urllib.parse import quote

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from domain.times import CHINA
from services.schemas import TrackingLinks
from store.db import session
from store.tables import CaseNumberCounter, TrackingCode


def allocate_case_no(engine: Engine, now: datetime) -> str:
    return allocate_number(engine, now, "MT")


def allocate_hazard_no(engine: Engine, now: datetime) -> str:
    return allocate_number(engine, now, "YH")


def allocate_number(engine: Engine, now: datetime, prefix: str) -> str:
    """Atomically take the day's next number of a series (MT: cases, YH: hazards); the update holds the row's
    write lock until commit. The case series keeps its bare day key, as numbers were first kept."""
    day = now.astimezone(CHINA).strftime("%Y%m%d")
    key = day if prefix == "MT" else f"{prefix}{day}"
    for _ in range(10):
        with session(engine) as db:
            result = db.exec(
                update(CaseNumberCounter).where(CaseNumberCounter.day == key).values(last=CaseNumberCounter.last + 1)
            )
            if result.rowcount:
                number = db.exec(select(CaseNumberCounter.last).where(CaseNumberCounter.day == key)).one()
                db.commit()
                return f"{prefix}{day}-{number:04d}"
            db.add(CaseNumberCounter(day=key, last=1))
            try:
                db.commit()
            except IntegrityError:  # another request opened the day first: take the next one
                db.rollback()
                continue
            return f"{prefix}{day}-0001"
    raise RuntimeError(f"could not allocate a {prefix} number")


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def new_tracking_code(engine: Engine, case_id: str) -> tuple[str, str]:
    """Returns (code, hash); the row exists before the workflow is started."""
    code = secrets.token_urlsafe(16)
    digest = code_hash(code)
    with session(engine) as db:
        db.add(TrackingCode(code_hash=digest, case_id=case_id))
        db.commit()
    return code, digest


def reissue_tracking_code(engine: Engine, case_id: str) -> str:
    """Revoke every live code of the case and issue a new one, in one transaction."""
    code = secrets.token_urlsafe(16)
    now = datetime.now(UTC)
    with session(engine) as db:
        for row in db.exec(
            select(TrackingCode).where(TrackingCode.case_id == case_id, TrackingCode.revoked_at.is_(None))
        ):
            row.revoked_at = now
            db.add(row)
        db.add(TrackingCode(code_hash=code_hash(code), case_id=case_id))
        db.commit()
    return code


def drop_tracking_code(engine: Engine, digest: str) -> None:
    with session(engine) as db:
        db.exec(delete(TrackingCode).where(TrackingCode.code_hash == digest))
        db.commit()


def case_for_code(db: Session, code: str) -> str | None:
    """The case a live (not revoked) tracking code opens."""
    if not code or len(code) > 128:
        return None
    row = db.get(TrackingCode, code_hash(code))
    if row is None or row.revoked_at is not None:
        return None
    return row.case_id


def tracking_url(public_base: str, code: str) -> str:
    """The address the citizen's QR code opens."""
    return f"{public_base.rstrip('/')}/track/{code}"


def tracking_links(case_id: str, code: str, public_base: str) -> TrackingLinks:
    return TrackingLinks(
        case_id=case_id,
        tracking_code=code,
        tracking_url=tracking_url(public_base, code),
        qr_url=f"/api/v1/track/{quote(code, safe='')}/qr.svg",
    )
