"""The supervision board (挂图作战) for the centre, the county and each unit's or township's leaders."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from api.deps import Ctx, Db, require_roles
from domain.models import Actor, Role
from services import board

router = APIRouter(prefix="/api/v1/supervision", tags=["supervision"])
BoardViewer = Annotated[Actor, Depends(require_roles(Role.supervisor, Role.auditor, Role.county_leader, Role.leader))]


@router.get("/board")
def supervision_board(viewer: BoardViewer, ctx: Ctx, db: Db) -> dict[str, Any]:
    """Colours by unit and township, service-level compliance, average time to resolution, the yellow and red
    lists, the task forces, satisfaction and the messages an external channel has not accepted yet; a leader
    sees the slice of their unit or township."""
    return board.board(db, viewer, ctx.taxonomy, datetime.now(UTC))
