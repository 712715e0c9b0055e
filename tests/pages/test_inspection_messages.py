"""A message about a hazard in the console's inbox leads to the hazard's page, not to a case page."""

from __future__ import annotations

from store.db import session
from store.tables import Notification
from tests.pages.staff_helpers import csrf_of, sign_in


async def test_a_hazard_message_opens_the_hazard(site, engine):
    with session(engine) as db:
        db.add(
            Notification(
                key="hz1:1", recipient="xiaofang.leader", case_id="hz1", kind="hazard_assigned", text="【隐患交办】……"
            )
        )
        db.commit()
    await sign_in(site.http, "xiaofang.leader")
    work = await site.http.get("/staff/")  # unread messages are on my work too
    assert 'href="/staff/inspection/hazards/hz1"' in work.text
    page = await site.http.get("/staff/messages")
    assert "查看隐患" in page.text and "查看案件" not in page.text
    with session(engine) as db:
        note_id = db.exec(Notification.__table__.select()).first().id
    r = await site.http.post(f"/staff/messages/{note_id}/read", data={"csrf_token": csrf_of(page.text), "go": "case"})
    assert r.status_code == 303 and r.headers["location"] == "/staff/inspection/hazards/hz1"
