"""Dependencies shared by the routers: the app context (the services' context plus the token key), a database
session for plain-`def` routes, the caller, and role checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
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


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def public_base(request: Request) -> str:
    """Where the API is reached from, for links handed to citizens."""
    return str(request.base_url).rstrip("/")
