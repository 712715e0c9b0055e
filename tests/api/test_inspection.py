"""A hazard's whole life through the contract's HTTP API (/api/v1/inspection): reported with a photo, handed in
by the responsible unit, refused and accepted at verification, struck off and re-checked — and every bad request
refused in the contract's error shape, leaving nothing behind."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlmodel import func, select

from store.db import session
from store.tables import HazardRow, InspectionPhoto
from testkit.waiting import poll
from tests.api.conftest import assert_error
from tests.api.test_lifecycle_http import photo
from workflows.hazard_rectification import workflow_id

REPORT = {
    "domain": "residential_fire",
    "township": "baita",
    "site": "白塔镇幸福小区3幢",
    "description": "消防通道被杂物和电动车堵塞",
    "severity": "major",
    "unit": "xiaofang",
    "responsible": "物业经理张某",
    "measure": "清理杂物，设置禁停标识，每日巡查",
}


async def report(api, headers, **over) -> dict:
    r = await api.post("/api/v1/inspection/hazards", json={**REPORT, **over}, headers=headers)
    assert r.status_code == 201, r.text
    out = r.json()
    api.started.append(api.env.client.get_workflow_handle(workflow_id(out["hazard_id"])))
    return out


async def hazard(api, hazard_id: str, user: str, predicate=lambda v: True) -> dict:
    headers = await api.auth(user)

    async def view():
        r = await api.get(f"/api/v1/inspection/hazards/{hazard_id}", headers=headers)
        if r.status_code != 200:
            return None
        v = r.json()
        return v if predicate(v) else None

    return await poll(view, "the hazard view")


def evidence_form(note: str = "已清理，加装禁停标识"):
    return {"file": ("after.png", photo(), "image/png")}, {"note": note}


async def test_a_hazard_from_report_with_photo_to_struck_off_and_rechecked(api, engine, settings):
    inspector = await api.auth("inspector")
    r = await api.post(
        "/api/v1/inspection/photos",
        files={"file": ("scene.jpg", photo("JPEG", gps=True), "image/jpeg")},
        headers=inspector,
    )
    assert r.status_code == 201, r.text
    photo_id = r.json()["photo_id"]
    before = datetime.now(UTC)
    created = await report(api, inspector, photos=[photo_id])
    assert created["hazard_no"].startswith("YH")
    # A major hazard: three days by default (WUHUAN_HAZARD_DEADLINE_MAJOR).
    deadline = datetime.fromisoformat(created["deadline"])
    assert timedelta(days=3) <= deadline - before < timedelta(days=3, minutes=1)

    hid = created["hazard_id"]
    v = await hazard(api, hid, "inspector", lambda v: bool(v["events"]))
    assert (v["status"], v["overdue"], v["exposed"]) == ("assigned", False, False)
    assert v["allowed_steps"] == []  # nothing handed in: nothing to verify yet
    # The photo is the hazard's, and its GPS position is gone.
    (p,) = v["photos"]
    r = await api.get(f"/api/v1/inspection/hazards/{hid}/files/{p['file_id']}", headers=inspector)
    assert r.status_code == 200
    assert not Image.open(io.BytesIO(r.content)).getexif()
    with session(engine) as db:
        assert db.get(InspectionPhoto, photo_id).hazard_id == hid

    # The responsible unit sees it and may hand in evidence; another department does not see it at all.
    unit = await hazard(api, hid, "xiaofang.mediator")
    assert unit["allowed_steps"] == ["submit_evidence"]
    assert_error(await api.get(f"/api/v1/inspection/hazards/{hid}", headers=await api.auth("renshe.leader")), 403)

    # Verifying with nothing handed in is refused.
    assert_error(
        await api.post(f"/api/v1/inspection/hazards/{hid}/verify", json={"accept": True}, headers=inspector), 409
    )

    files, data = evidence_form()
    r = await api.post(
        f"/api/v1/inspection/hazards/{hid}/evidence",
        files=files,
        data=data,
        headers=await api.auth("xiaofang.mediator"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "submitted"

    # Refused without a reason (422), then refused with one: back to the unit.
    r = await api.post(f"/api/v1/inspection/hazards/{hid}/verify", json={"accept": False}, headers=inspector)
    assert_error(r, 422, "reason_required")
    r = await api.post(
        f"/api/v1/inspection/hazards/{hid}/verify", json={"accept": False, "reason": "标识未安装"}, headers=inspector
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["rejections"]) == ("rectifying", 1)

    files, data = evidence_form("标识已安装")
    r = await api.post(
        f"/api/v1/inspection/hazards/{hid}/evidence", files=files, data=data, headers=await api.auth("xiaofang.leader")
    )
    assert r.status_code == 200, r.text
    r = await api.post(f"/api/v1/inspection/hazards/{hid}/verify", json={"accept": True}, headers=inspector)
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["status"] == "struck_off" and v["recheck_at"] and len(v["evidence"]) == 2
    assert v["allowed_steps"] == ["recheck"]
    with session(engine) as db:
        row = db.get(HazardRow, hid)
        assert (row.status, row.struck_off_on_time) == ("struck_off", True)

    r = await api.post(f"/api/v1/inspection/hazards/{hid}/recheck", json={"holds": True}, headers=inspector)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rechecked"
    # Nothing more to do on it: a second re-check is refused.
    r = await api.post(f"/api/v1/inspection/hazards/{hid}/recheck", json={"holds": True}, headers=inspector)
    assert r.status_code == 409, r.text

    listed = await api.get("/api/v1/inspection/hazards?status=rechecked&district=2", headers=inspector)
    assert [h["hazard_id"] for h in listed.json()["items"]] == [hid]
    listed = await api.get("/api/v1/inspection/hazards", headers=await api.auth("renshe.leader"))
    assert listed.json()["total"] == 0


@pytest.mark.parametrize(
    ("over", "code"),
    [
        ({"domain": "space"}, "unknown_domain"),
        ({"township": "atlantis"}, "unknown_township"),
        ({"unit": "nasa"}, "unknown_unit"),
        ({"deadline": "2020-01-01T09:00:00"}, "deadline_in_past"),
        ({"photos": ["0" * 32]}, "unknown_photo"),
        ({"visit_id": "nope"}, "unknown_visit"),
    ],
)
async def test_a_bad_report_is_refused_and_leaves_nothing_behind(api, engine, over, code):
    r = await api.post("/api/v1/inspection/hazards", json={**REPORT, **over}, headers=await api.auth("inspector"))
    assert_error(r, 422, code)
    with session(engine) as db:
        assert db.exec(select(func.count()).select_from(HazardRow)).one() == 0


async def test_who_may_report_hand_in_and_verify(api):
    # A clerk may not report; a severity outside the three is a 422 from the schema.
    assert_error(await api.post("/api/v1/inspection/hazards", json=REPORT, headers=await api.auth("clerk")), 403)
    r = await api.post(
        "/api/v1/inspection/hazards", json={**REPORT, "severity": "huge"}, headers=await api.auth("inspector")
    )
    assert r.status_code == 422
    created = await report(api, await api.auth("inspector"), unit="township")
    hid = created["hazard_id"]
    await hazard(api, hid, "baita.mediator", lambda v: bool(v["events"]))
    files, data = evidence_form()
    # The township is responsible: a department's staff may not hand in, nor may the township's inspector verify.
    r = await api.post(
        f"/api/v1/inspection/hazards/{hid}/evidence", files=files, data=data, headers=await api.auth("xiaofang.leader")
    )
    assert_error(r, 403)
    r = await api.post(
        f"/api/v1/inspection/hazards/{hid}/evidence", files=files, data=data, headers=await api.auth("baita.mediator")
    )
    assert r.status_code == 200, r.text
    assert_error(
        await api.post(
            f"/api/v1/inspection/hazards/{hid}/verify", json={"accept": True}, headers=await api.auth("baita.leader")
        ),
        403,
    )
    # Re-checking what was not struck off is refused and changes nothing.
    inspector = await api.auth("inspector")
    assert_error(
        await api.post(f"/api/v1/inspection/hazards/{hid}/recheck", json={"holds": True}, headers=inspector), 409
    )
    v = await hazard(api, hid, "inspector")
    assert v["status"] == "submitted"
    assert_error(await api.get("/api/v1/inspection/hazards/does-not-exist", headers=inspector), 404, "unknown_hazard")
