"""Triage for people: a preview for the intake form, and the clerks' manual triage queue (人工分流)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from api.deps import Ctx, Db, client_address, require_roles
from domain.models import Actor, Role
from services import triage
from services.schemas import QueueOut, TriagePreviewIn, TriagePreviewOut

router = APIRouter(prefix="/api/v1/triage", tags=["triage"])
QueueReader = Annotated[Actor, Depends(require_roles(Role.clerk, Role.supervisor))]


@router.post("/preview", response_model=TriagePreviewOut)
async def preview(body: TriagePreviewIn, request: Request, ctx: Ctx) -> TriagePreviewOut:
    """What routing would do with this text: the intake form shows it while a person types."""
    return await triage.preview(ctx, body, client_address(request))


@router.get("/queue", response_model=QueueOut)
def queue(caller: QueueReader, ctx: Ctx, db: Db) -> QueueOut:
    """Cases the classifier left to a person, oldest first (their 3-minute clock is running or missed)."""
    return triage.queue(db, ctx.taxonomy)
