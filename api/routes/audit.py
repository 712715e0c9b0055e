"""The auditor's view: a case's business events read from its workflow's own event history (across
continue-as-new runs), a replay of that history against the running code, and the dossier (services/audit.py)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from api import dossier as dossier_pdf
from api.deps import Caller, Ctx, client_address, require_roles
from domain.models import Actor, Role
from services import audit, privacy
from services.schemas import HistoryOut, ReplayOut

router = APIRouter(prefix="/api/v1/cases", tags=["audit"])
Replayer = Annotated[Actor, Depends(require_roles(Role.auditor, Role.supervisor))]


@router.get("/{case_id}/history", response_model=HistoryOut)
async def history(
    case_id: str,
    caller: Caller,
    ctx: Ctx,
    request: Request,
    as_of: Annotated[datetime | None, Query(description="ISO time: the case as it stood then")] = None,
) -> HistoryOut:
    """Every business step in order, with who took it (a username, `citizen` or `system`); with `as_of`, the
    steps up to that moment and the case's state then."""
    return await audit.case_history(ctx, case_id, caller, as_of, client_address(request))


@router.post("/{case_id}/replay", response_model=ReplayOut)
async def replay(case_id: str, caller: Replayer, ctx: Ctx, request: Request) -> ReplayOut:
    """Replay each run's history against the workflow code this server runs: is it still deterministic?"""
    return await audit.replay(ctx, case_id, caller, client_address(request))


@router.get(
    "/{case_id}/dossier.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "调解卷宗 (PDF)"}},
)
async def dossier(case_id: str, caller: Caller, ctx: Ctx, request: Request) -> Response:
    """调解卷宗: parties, timeline, mediation records, agreement, rating and review."""
    data = await audit.dossier(ctx, case_id, caller, client_address(request))
    pdf = await asyncio.to_thread(dossier_pdf.build, data.state, data.events, ctx.taxonomy, data.names, caller.username)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="dossier-{data.state.case_no}.pdf"',
            "Cache-Control": "no-store",
        },
    )


class CitizenPhoneOut(BaseModel):
    phone: str


@router.post("/{case_id}/citizen-phone", response_model=CitizenPhoneOut)
async def citizen_phone(
    case_id: str, caller: Caller, ctx: Ctx, request: Request, response: Response
) -> CitizenPhoneOut:
    """查看群众完整电话: the citizen's full phone number, for the handler, the lead unit's leader and the clerks.
    Every other view masks it; each call is written to the access log (`what: citizen_phone`) with who and when."""
    phone = await privacy.reveal_phone(ctx, case_id, caller, client_address(request))
    response.headers["Cache-Control"] = "no-store"
    return CitizenPhoneOut(phone=phone)
