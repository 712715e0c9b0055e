"""`GET /api/v1/audit/access-log`: who read which case's history, replay or dossier (auditors, supervisors)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from api.deps import Ctx, require_roles
from domain.models import Actor, Role
from services import access_log

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
Auditors = Annotated[Actor, Depends(require_roles(Role.auditor, Role.supervisor))]


class AccessEntry(BaseModel):
    id: int
    username: str
    role: str
    case_id: str
    what: str  # history | replay | dossier | citizen_phone | privacy_export
    at: datetime
    client: str | None = None  # client address


@router.get("/access-log", response_model=list[AccessEntry])
def access_log_entries(
    reader: Auditors,
    ctx: Ctx,
    case_id: str | None = None,
    username: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AccessEntry]:
    """Newest first; filter by case and/or by reader."""
    return [
        AccessEntry.model_validate(r, from_attributes=True)
        for r in access_log.entries(ctx.engine, case_id, username, limit)
    ]
