"""Browser sessions of the staff console: sign in with a password, a random session id in an HttpOnly cookie
(only its hash is stored), a CSRF token that every form of the session carries, an absolute lifetime and an
idle timeout, and signing out that ends the session for good."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from domain.models import Actor
from domain.settings import Settings, parse_duration
from domain.times import as_utc
from services.accounts import LoginGuard, authenticate
from store import directory
from store.tables import Staff, StaffSession

# A session's last-seen time is written at most this often: a page with several requests costs one write.
TOUCH_EVERY = timedelta(minutes=1)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("ascii", "replace")).hexdigest()


@dataclass
class SignedIn:
    session_id: str  # for the cookie; never stored
    csrf: str
    expires_at: datetime


@dataclass
class Current:
    staff: Staff
    actor: Actor
    csrf: str

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf, token or "")


def sign_in(
    db: Session, settings: Settings, guard: LoginGuard, username: str, password: str, client: str | None
) -> SignedIn:
    """A new session for the staff member; 401 invalid_credentials otherwise (429 / 503: services/accounts.py)."""
    staff = authenticate(db, guard, username, password, client)
    now = datetime.now(UTC)
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    expires = now + parse_duration(settings.staff_session_ttl)
    db.add(
        StaffSession(
            id_hash=_hash(session_id),
            username=staff.username,
            csrf=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=expires,
            client=client,
        )
    )
    db.commit()
    return SignedIn(session_id=session_id, csrf=csrf, expires_at=expires)


def current(db: Session, settings: Settings, session_id: str | None) -> Current | None:
    """The signed-in staff member of a live session; None for no, an unknown, ended, expired or idle session (or
    an account that was deactivated meanwhile)."""
    if not session_id or len(session_id) > 128:
        return None
    row = db.get(StaffSession, _hash(session_id))
    now = datetime.now(UTC)
    if row is None or row.ended_at is not None or as_utc(row.expires_at) <= now:
        return None
    if as_utc(row.last_seen_at) + parse_duration(settings.staff_session_idle) <= now:
        row.ended_at = now
        db.add(row)
        db.commit()
        return None
    staff = directory.active(db, row.username)
    if staff is None:
        return None
    if now - as_utc(row.last_seen_at) >= TOUCH_EVERY:
        row.last_seen_at = now
        db.add(row)
        db.commit()
    return Current(staff=staff, actor=directory.actor_of(staff), csrf=row.csrf)


def sign_out(db: Session, session_id: str | None) -> None:
    if not session_id:
        return
    row = db.get(StaffSession, _hash(session_id))
    if row is not None and row.ended_at is None:
        row.ended_at = datetime.now(UTC)
        db.add(row)
        db.commit()
