"""Staff authentication: JWT bearer tokens (HS256) signed with a key from the settings or, when none is
configured, a key generated once and kept at data_dir/secret.key (0600) so tokens survive restarts."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from domain.settings import Settings
from services.errors import unauthorized
from store.files import private_dir

ALGORITHM = "HS256"
ISSUER = "wuhuan"


def load_secret(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "secret.key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    private_dir(path.parent)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another API process made it first
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key)
    return key


def issue_token(secret: str, username: str, role: str, ttl_minutes: int) -> str:
    now = datetime.now(UTC)
    claims = {"sub": username, "role": role, "iss": ISSUER, "iat": now, "exp": now + timedelta(minutes=ttl_minutes)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(secret: str, token: str) -> str:
    """The username a valid token names; 401 otherwise."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["sub", "exp"]})
    except jwt.ExpiredSignatureError:
        raise unauthorized("token_expired", "登录已过期，请重新登录") from None
    except jwt.PyJWTError:
        raise unauthorized("invalid_token", "登录凭证无效") from None
    return str(claims["sub"])
