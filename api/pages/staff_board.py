"""The supervision board (挂图作战) in the staff console: counts by colour, the units' and townships' figures as
sortable tables and a heat map, the yellow and red lists, the weekly trend against the county's baseline, any
period, an Excel download, and a wall mode (大屏) that refreshes itself. The same service and permissions as
`GET /api/v1/supervision/board`; a leader sees their own unit or township."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.downloads import attachment
from api.pages.staff import _page, _refused
from api.pages.staff_auth import Me
from domain.models import Role
from services import board, exports
from services import inspection_reports as inspection
from services.db import run
from services.errors import Refusal
from services.schemas import BoardView

router = APIRouter(include_in_schema=False)
VIEWERS = (Role.supervisor, Role.auditor, Role.county_leader, Role.leader)
WALL_REFRESH_SECONDS = 60


async def _view(request: Request, me, start: str | None, end: str | None) -> BoardView:
    ctx = request.app.state.ctx
    if me.actor.role not in VIEWERS:
        raise Refusal(403, "forbidden_role", "督办看板供督办员、审计员、县领导和单位（乡镇）负责人查看")
    period = board.parse_period(start or None, end or None)
    return await run(
        ctx.engine,
        lambda db: board.board(
            db, me.actor, ctx.taxonomy, datetime.now(UTC), period, baseline_days=ctx.settings.board_baseline_days
        ),
    )


def _charts(view: BoardView) -> dict[str, Any]:
    """What the charts draw, as plain data (the page's script only draws; every figure is in the tables too)."""
    units = [u for u in view.by_unit if u.open or u.received]
    return {
        "colours": [view.by_colour.get(c, 0) for c in ("green", "yellow", "red")],
        "weeks": [w.week for w in view.trend.weeks],
        "average": [w.average_days for w in view.trend.weeks],
        "baseline": view.trend.baseline_days,
        "heat_rows": [u.unit_zh for u in units],
        "heat": [[i, j, value] for j, u in enumerate(units) for i, value in enumerate((u.green, u.yellow, u.red))],
    }


@router.get("/staff/board", response_class=HTMLResponse)
async def board_page(request: Request, me: Me, wall: int = 0) -> Response:
    # The period's bounds are `from` and `to`, as in the API (`from` is a keyword in Python).
    start, end = request.query_params.get("from"), request.query_params.get("to")
    try:
        view = await _view(request, me, start, end)
    except Refusal as err:
        return _refused(request, me, err)
    query = "&".join(f"{k}={v}" for k, v in (("from", start), ("to", end)) if v)
    # The inspection panel: the same period, the same jurisdiction (services/inspection_reports.py).
    ctx = request.app.state.ctx
    filters = inspection.InspectionFilters(period=view.period)
    figures = await run(
        ctx.engine, lambda db: inspection.figures(db, me.actor, ctx.taxonomy, datetime.now(UTC), filters)
    )
    return _page(
        request,
        me,
        "staff/board.html",
        {
            "b": view,
            "wall": bool(wall),
            "start": start or "",
            "end": end or "",
            "query": query,
            "charts": json.dumps(_charts(view), ensure_ascii=False),
            "period_zh": exports.period_zh(view),
            "refresh": WALL_REFRESH_SECONDS,
            "inspection": figures,
        },
    )


@router.get("/staff/board.xlsx")
async def board_xlsx(request: Request, me: Me) -> Response:
    try:
        view = await _view(request, me, request.query_params.get("from"), request.query_params.get("to"))
    except Refusal as err:
        return _refused(request, me, err)
    return attachment(exports.board_export(view))
