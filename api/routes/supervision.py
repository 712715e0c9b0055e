"""The supervision board (挂图作战) for the centre, the county and each unit's or township's leaders."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlmodel import select

from api import board, jurisdiction
from api.deps import Ctx, Db, actor_of, require_roles
from domain.models import Role
from store.tables import Case, NotificationDelivery, Staff, TaskForceRow

router = APIRouter(prefix="/api/v1/supervision", tags=["supervision"])
BoardViewer = Annotated[Staff, Depends(require_roles(Role.supervisor, Role.auditor, Role.county_leader, Role.leader))]


@router.get("/board")
def supervision_board(staff: BoardViewer, ctx: Ctx, db: Db) -> dict[str, Any]:
    """Colours by unit and township, service-level compliance, average time to resolution, the yellow and red
    lists, the task forces, satisfaction and the messages an external channel has not accepted yet; a leader
    sees the slice of their unit or township."""
    scope = jurisdiction.case_filter(actor_of(staff))
    q = select(Case) if scope is None else select(Case).where(scope)
    rows = db.exec(q).all()
    forces = db.exec(select(TaskForceRow)).all()
    pending = db.exec(select(NotificationDelivery).where(NotificationDelivery.status == "pending")).all()
    result = board.compute(rows, forces, ctx.taxonomy, datetime.now(timezone.utc), pending)
    result["scope"] = "county" if scope is None else (staff.unit or staff.township)
    return result
