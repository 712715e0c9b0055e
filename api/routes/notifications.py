"""The caller's inbox."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import select

from api.deps import CurrentStaff, Db
from api.errors import ApiError
from api.schemas import NotificationOut
from store.tables import Notification

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


def _out(n: Notification) -> NotificationOut:
    return NotificationOut(id=n.id, case_id=n.case_id, kind=n.kind, text=n.text, created_at=n.created_at,
                           read=n.read)


@router.get("", response_model=list[NotificationOut])
def inbox(staff: CurrentStaff, db: Db, unread: bool = False,
          limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[NotificationOut]:
    q = select(Notification).where(Notification.recipient == staff.username)
    if unread:
        q = q.where(Notification.read == False)  # noqa: E712
    q = q.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    return [_out(n) for n in db.exec(q).all()]


@router.post("/{notification_id}/read", response_model=NotificationOut)
def mark_read(notification_id: int, staff: CurrentStaff, db: Db) -> NotificationOut:
    n = db.get(Notification, notification_id)
    if n is None or n.recipient != staff.username:
        raise ApiError(404, "unknown_notification", "消息不存在")
    if not n.read:
        n.read = True
        db.add(n)
        db.commit()
    return _out(n)
