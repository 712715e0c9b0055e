"""The auditor's pages of the staff console: a case's history as a timeline, as it stood at any moment (`as_of`),
a replay of its history against the running code, the dossier PDF, and the access log. Every read is logged by
the services (services/audit.py) like the JSON API's."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api import dossier as dossier_pdf
from api.deps import Ctx, client_address
from api.pages.rendering import redirect
from api.pages.staff import _page, _refused
from api.pages.staff_auth import STAFF, Me, checked_form
from domain.models import Role
from domain.times import from_china_wall_time
from services import access_log, audit, console
from services.errors import Refusal

router = APIRouter(include_in_schema=False)
REPLAYERS = (Role.auditor, Role.supervisor)


def _as_of(value: str | None) -> datetime | None:
    """A `datetime-local` value typed in the county (China time), or nothing."""
    if not value:
        return None
    try:
        return from_china_wall_time(datetime.fromisoformat(value))
    except ValueError:
        raise Refusal(422, "invalid_as_of", "时间格式不正确") from None


def _history_page(request: Request, me: Any, case_id: str, out: Any, as_of: str, replayed: Any) -> Response:
    context = {
        "h": out,
        "case_id": case_id,
        "as_of": as_of,
        "event_zh": console.EVENT_ZH,
        "can_replay": me.actor.role in REPLAYERS,
        "replayed": replayed,
    }
    return _page(request, me, "staff/history.html", context)


@router.get("/staff/cases/{case_id}/history", response_class=HTMLResponse)
async def history(case_id: str, request: Request, ctx: Ctx, me: Me, as_of: str | None = None) -> Response:
    try:
        at = _as_of(as_of)
        out = await audit.case_history(ctx, case_id, me.actor, at, client_address(request))
    except Refusal as err:
        return _refused(request, me, err)
    return _history_page(request, me, case_id, out, as_of or "", None)


@router.post("/staff/cases/{case_id}/replay", response_class=HTMLResponse)
async def replay(case_id: str, request: Request, ctx: Ctx, me: Me) -> Response:
    await checked_form(request, me)
    if me.actor.role not in REPLAYERS:
        return _refused(request, me, Refusal(403, "forbidden_role", "只有审计员和督办员可以回放案件"))
    try:
        result = await audit.replay(ctx, case_id, me.actor, client_address(request))
        out = await audit.case_history(ctx, case_id, me.actor, None, client_address(request))
    except Refusal as err:
        return _refused(request, me, err)
    return _history_page(request, me, case_id, out, "", result)


@router.get("/staff/cases/{case_id}/dossier.pdf")
async def dossier(case_id: str, request: Request, ctx: Ctx, me: Me) -> Response:
    try:
        data = await audit.dossier(ctx, case_id, me.actor, client_address(request))
    except Refusal as err:
        return _refused(request, me, err)
    pdf = await asyncio.to_thread(
        dossier_pdf.build, data.state, data.events, ctx.taxonomy, data.names, me.actor.username
    )
    name = quote(f"dossier-{data.state.case_no}.pdf")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}", "Cache-Control": "no-store"},
    )


@router.get("/staff/access-log", response_class=HTMLResponse)
async def access_log_page(
    request: Request, ctx: Ctx, me: Me, case_id: str | None = None, username: str | None = None
) -> Response:
    if me.actor.role not in REPLAYERS:
        return _refused(request, me, Refusal(403, "forbidden_role", "访问记录仅供审计员和督办员查看"))
    rows = await asyncio.to_thread(access_log.entries, ctx.engine, case_id or None, username or None, 500)
    return _page(
        request,
        me,
        "staff/access_log.html",
        {"rows": rows, "case_id": case_id or "", "username": username or "", "now": datetime.now(UTC)},
    )


@router.get("/staff/audit", include_in_schema=False)
async def audit_home() -> Response:
    return redirect(STAFF + "access-log")
