"""Dependencies shared by the routers: the app context, a database session, the caller."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Callable, Iterator

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.auth import read_token
from api.errors import ApiError, unauthorized
from api.ratelimit import RateLimiter
from api.temporal import TemporalLink
from domain.models import Actor, Role, StaffRef
from domain.settings import Settings
from domain.taxonomy import Taxonomy
from domain.triage.service import ModelHolder
from store.db import session
from store.tables import Staff

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    taxonomy: Taxonomy
    temporal: TemporalLink
    secret: str
    limiter: RateLimiter
    models: ModelHolder


def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]


def get_db(ctx: Ctx) -> Iterator[Session]:
    with session(ctx.engine) as db:
        yield db


Db = Annotated[Session, Depends(get_db)]


def optional_staff(ctx: Ctx, db: Db, token: Annotated[str | None, Depends(oauth2)]) -> Staff | None:
    """The signed-in staff member, or None without a token; a bad token is a 401, never anonymous."""
    if not token:
        return None
    username = read_token(ctx.secret, token)
    staff = db.get(Staff, username)
    if staff is None or not staff.active:
        raise unauthorized("invalid_token", "登录凭证无效")
    return staff


def current_staff(staff: Annotated[Staff | None, Depends(optional_staff)]) -> Staff:
    if staff is None:
        raise unauthorized()
    return staff


CurrentStaff = Annotated[Staff, Depends(current_staff)]
OptionalStaff = Annotated[Staff | None, Depends(optional_staff)]


def actor_of(staff: Staff) -> Actor:
    return Actor(username=staff.username, role=Role(staff.role), unit=staff.unit, township=staff.township)


def staff_ref(staff: Staff) -> StaffRef:
    return StaffRef(username=staff.username, role=Role(staff.role), unit=staff.unit, township=staff.township)


def require_roles(*roles: Role) -> Callable[[Staff], Staff]:
    allowed = {r.value for r in roles}

    def dependency(staff: CurrentStaff) -> Staff:
        if staff.role not in allowed:
            raise ApiError(403, "forbidden_role", "您的角色无权访问此功能")
        return staff

    return dependency


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
