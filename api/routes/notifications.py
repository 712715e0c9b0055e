"""The caller's inbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Caller, Db, RowId
from services import inbox as inbox_service
from services.schemas import NotificationOut

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


@router.get("", response_model=list[NotificationOut])
def inbox(
    caller: Caller, db: Db, unread: bool = False, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[NotificationOut]:
    return inbox_service.inbox(db, caller.username, unread, limit)


@router.post("/{notification_id}/read", response_model=NotificationOut)
def mark_read(notification_id: RowId, caller: Caller, db: Db) -> NotificationOut:
    return inbox_service.mark_read(db, caller.username, notification_id)
