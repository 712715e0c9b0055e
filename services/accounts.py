"""Staff sign-in: a username and password checked against the directory."""

from __future__ import annotations

from sqlmodel import Session

from domain.passwords import verify_password
from services.errors import unauthorized
from store.tables import Staff


def authenticate(db: Session, username: str, password: str) -> Staff:
    """The active staff member with this password; 401 otherwise (the same answer for every failure)."""
    staff = db.get(Staff, username.strip())
    if staff is None or not staff.active or not verify_password(password, staff.password_hash):
        raise unauthorized("invalid_credentials", "用户名或密码错误")
    return staff
