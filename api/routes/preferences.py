"""The caller's message preferences: texts, e-mail and quiet hours (contract, "Message channels")."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Caller, Ctx, Db
from services import preferences
from services.preferences import PreferencesIn, PreferencesOut

router = APIRouter(prefix="/api/v1/me", tags=["preferences"])


@router.get("/preferences", response_model=PreferencesOut)
def get_preferences(caller: Caller, ctx: Ctx, db: Db) -> PreferencesOut:
    return preferences.get_preferences(db, caller.username, ctx.settings)


@router.put("/preferences", response_model=PreferencesOut)
def put_preferences(body: PreferencesIn, caller: Caller, ctx: Ctx, db: Db) -> PreferencesOut:
    return preferences.set_preferences(db, caller.username, body, ctx.settings)
