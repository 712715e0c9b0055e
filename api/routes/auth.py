"""Staff sign-in: OAuth2 password form → bearer JWT."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from api.auth import issue_token
from api.deps import Ctx, CurrentStaff, Db
from services.accounts import authenticate
from services.schemas import MeOut, TokenOut

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", response_model=TokenOut)
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], ctx: Ctx, db: Db) -> TokenOut:
    # A plain def: FastAPI runs it in a thread, so an Argon2 verification never blocks the event loop.
    staff = authenticate(db, form.username, form.password)
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
