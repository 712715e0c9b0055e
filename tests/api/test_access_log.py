"""Who looked at which case: reading a case's history or replaying it leaves a row in `access_log`, listed for
auditors and supervisors at GET /api/v1/audit/access-log."""

from __future__ import annotations

from sqlmodel import select

from store.db import session
from store.tables import AccessLogRow
from tests.api.conftest import assert_error


async def test_reading_history_and_replaying_are_logged_with_the_reader(api, engine):
    case_id = (await api.intake())["case_id"]
    await api.teamed(case_id)
    r = await api.get(f"/api/v1/cases/{case_id}/history", headers=await api.auth("auditor"))
    assert r.status_code == 200, r.text
    with session(engine) as db:
        [row] = db.exec(select(AccessLogRow).where(AccessLogRow.case_id == case_id)).all()
    assert (row.username, row.role, row.what, row.client) == ("auditor", "auditor", "history", "127.0.0.1")
    assert row.at is not None

    r = await api.post(f"/api/v1/cases/{case_id}/replay", headers=await api.auth("supervisor"))
    assert r.status_code == 200, r.text
    # A refused read is not an access: the mediator of another unit sees nothing and leaves no row.
    r = await api.get(f"/api/v1/cases/{case_id}/history", headers=await api.auth("gongan.mediator"))
    assert r.status_code == 403, r.text

    r = await api.get("/api/v1/audit/access-log", params={"case_id": case_id}, headers=await api.auth("auditor"))
    assert r.status_code == 200, r.text
    log = r.json()
    assert [(e["username"], e["role"], e["what"]) for e in log] == [
        ("supervisor", "supervisor", "replay"),
        ("auditor", "auditor", "history"),
    ]
    assert all(e["case_id"] == case_id and e["at"] and e["client"] for e in log)
    r = await api.get(
        "/api/v1/audit/access-log", params={"username": "supervisor"}, headers=await api.auth("supervisor")
    )
    assert [e["what"] for e in r.json()] == ["replay"]

    assert_error(
        await api.get("/api/v1/audit/access-log", headers=await api.auth("renshe.mediator")), 403, "forbidden_role"
    )
    assert_error(await api.get("/api/v1/audit/access-log"), 401)
