"""Dependencies shared by the routers: the app context (the services' context plus the token key), a database
session for plain-`def` routes, the caller, and role checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from api.auth import read_token
from domain.models import Actor, Role
from services.context import Services
from services.errors import Refusal, unauthorized
from store import directory
from store.db import session
from store.tables import Staff

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


@dataclass
class AppContext(Services):
    secret: str = ""


def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]


def get_db(ctx: Ctx) -> Iterator[Session]:
    """For plain `def` routes (FastAPI runs them in a thread); async routes go through services.db."""
    with session(ctx.engine) as db:
        yield db


Db = Annotated[Session, Depends(get_db)]


def _staff_of(ctx: AppContext, token: str | None) -> Staff | None:
    if not token:
        return None
    username = read_token(ctx.secret, token)
    with session(ctx.engine) as db:
        staff = directory.active(db, username)
    if staff is None:
        raise unauthorized("invalid_token", "登录凭证无效")
    return staff


def optional_staff(ctx: Ctx, token: Annotated[str | None, Depends(oauth2)]) -> Staff | None:
    """The signed-in staff member, or None without a token; a bad token is a 401, never anonymous."""
    return _staff_of(ctx, token)


def current_staff(staff: Annotated[Staff | None, Depends(optional_staff)]) -> Staff:
    if staff is None:
        raise unauthorized()
    return staff


CurrentStaff = Annotated[Staff, Depends(current_staff)]
OptionalStaff = Annotated[Staff | None, Depends(optional_staff)]


def current_actor(staff: CurrentStaff) -> Actor:
    return directory.actor_of(staff)


def optional_actor(staff: OptionalStaff) -> Actor | None:
    return directory.actor_of(staff) if staff is not None else None


Caller = Annotated[Actor, Depends(current_actor)]
OptionalCaller = Annotated[Actor | None, Depends(optional_actor)]


def require_roles(*roles: Role) -> Callable[[Actor], Actor]:
    allowed = set(roles)

    def dependency(actor: Caller) -> Actor:
        if actor.role not in allowed:
            raise Refusal(403, "forbidden_role", "您的角色无权访问此功能")
        return actor

    return dependency


# A row's id in a path: within the database's 64-bit integers, so a huge number is a 422, never an overflow.
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def client_address(request: Request) -> str:
    """The client's address: the connection's peer, or what a trusted proxy said it was (api/middleware.py,
    WUHUAN_TRUSTED_PROXIES) — never a forwarded header from anyone else. Rate limits, the sign-in throttle and
    the access log go by it."""
    return request.client.host if request.client else "unknown"


LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def _local(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def public_base(request: Request) -> str:
    """Where citizens reach the system, for the links and QR codes handed to them: WUHUAN_PUBLIC_URL. Without
    it (the embedded default) the request's own address, but only a loopback one or WUHUAN_API_HOST: a link in
    a receipt must never point wherever a client's Host header said. Any other host gets the address the API
    listens on."""
    settings = request.app.state.ctx.settings
    if settings.public_url:
        return settings.public_url
    host = request.url.hostname or ""
    if _local(host) or host == settings.api_host:
        return str(request.base_url).rstrip("/")
    listen = settings.api_host if settings.api_host not in ("", "0.0.0.0", "::") else "127.0.0.1"
    listen = f"[{listen}]" if ":" in listen else listen
    return f"http://{listen}:{settings.api_port}"
