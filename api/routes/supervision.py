"""The supervision board (挂图作战) for the centre, the county and each unit's or township's leaders, as JSON and as
an Excel workbook."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.deps import Ctx, Db, require_roles
from api.downloads import attachment
from domain.models import Actor, Role
from services import board, exports
from services.exports import XLSX
from services.schemas import BoardView

router = APIRouter(prefix="/api/v1/supervision", tags=["supervision"])
BoardViewer = Annotated[Actor, Depends(require_roles(Role.supervisor, Role.auditor, Role.county_leader, Role.leader))]
From = Annotated[
    str | None,
    Query(alias="from", description="ISO date (that China-time day on) or time (without offset: China time)"),
]
To = Annotated[
    str | None,
    Query(alias="to", description="ISO date (up to the end of that China-time day) or time (exclusive)"),
]


def _board(viewer: Actor, ctx: Ctx, db: Db, start: str | None, end: str | None) -> BoardView:
    period = board.parse_period(start, end)
    return board.board(
        db, viewer, ctx.taxonomy, datetime.now(UTC), period, baseline_days=ctx.settings.board_baseline_days
    )


@router.get("/board", response_model=BoardView)
def supervision_board(viewer: BoardViewer, ctx: Ctx, db: Db, start: From = None, end: To = None) -> BoardView:
    """Open cases by colour, unit and township; per unit and township the period's resolution times, clock
    compliance, satisfaction and review rate; the yellow and red lists with the county leader in charge; task
    forces at work; messages an external channel has not accepted yet; the weekly trend against the county's
    baseline. A leader sees the slice of their unit or township."""
    return _board(viewer, ctx, db, start, end)


@router.get(
    "/board.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "督办看板 (Excel)"}},
)
def supervision_board_xlsx(viewer: BoardViewer, ctx: Ctx, db: Db, start: From = None, end: To = None) -> Response:
    """The same board as an Excel workbook (概览, 按单位, 按乡镇, 黄码案件, 红码案件, 周趋势)."""
    return attachment(exports.board_export(_board(viewer, ctx, db, start, end)))
