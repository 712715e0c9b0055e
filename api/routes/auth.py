"""Staff sign-in: OAuth2 password form → bearer JWT."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from api.auth import issue_token
from api.deps import Ctx, CurrentStaff, Db, client_address
from services.accounts import authenticate
from services.schemas import MeOut, TokenOut

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post(
    "/token",
    response_model=TokenOut,
    responses={
        401: {"description": "wrong username or password (invalid_credentials)"},
        429: {"description": "too many wrong passwords for this account or address: wait Retry-After seconds"},
        503: {"description": "too many sign-ins at once: try again after Retry-After seconds"},
    },
)
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, ctx: Ctx, db: Db) -> TokenOut:
    # A plain def: FastAPI runs it in a thread, so an Argon2 verification never blocks the event loop.
    staff = authenticate(db, ctx.logins, form.username, form.password, client_address(request))
    return TokenOut(access_token=issue_token(ctx.secret, staff.username, staff.role, ctx.settings.token_ttl_minutes))


@router.get("/me", response_model=MeOut)
def me(staff: CurrentStaff) -> MeOut:
    return MeOut(
        username=staff.username,
        display_name=staff.display_name,
        role=staff.role,
        unit=staff.unit,
        township=staff.township,
    )
