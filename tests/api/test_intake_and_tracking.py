from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from sqlmodel import select

from store.db import session
from store.tables import TrackingCode
from tests.api.conftest import PHONE


async def test_intake_routes_labour_case_to_renshe_and_baita_with_handler_and_team(api, engine):
    out = await api.intake()
    assert set(out) == {"case_id", "case_no", "tracking_code", "tracking_url", "qr_url"}
    assert re.fullmatch(r"MT\d{8}-0001", out["case_no"])
    code = out["tracking_code"]
    assert len(code) >= 20 and code not in out["case_no"]
    assert out["tracking_url"] == f"http://testserver/track/{code}"
    assert out["qr_url"] == f"/api/v1/track/{code}/qr.svg"

    view = await api.teamed(out["case_id"])
    assert (view["category"], view["unit"], view["township"]) == ("labor", "renshe", "baita")
    assert view["handler"] == "renshe.mediator"
    assert len(view["team"]) == 2 and "renshe.mediator" in view["team"]
    assert view["status"] == "team_formed" and view["source"] == "read_model" and view["stale"] is False
    clocks = {c["name"]: c for c in view["clocks"]}
    assert set(clocks) == {"routed", "assigned", "team", "yellow", "red"}
    assert all(clocks[n]["met_at"] and not clocks[n]["breached"] for n in ("routed", "assigned", "team"))
    assert view["intake"]["citizen_phone"] == "138****1234"
    assert PHONE not in str(view)

    # Only the hash of the code is stored.
    with session(engine) as db:
        rows = db.exec(select(TrackingCode)).all()
    assert [r.code_hash for r in rows] == [hashlib.sha256(code.encode()).hexdigest()]

    second = await api.intake(description="白塔镇另一工地拖欠工资")
    assert second["case_no"].endswith("-0002") and second["tracking_code"] != code


async def test_tracking_view_masks_names_and_never_shows_a_phone(api, engine):
    out = await api.intake()
    await api.settled(out["case_id"])
    r = await api.get(f"/api/v1/track/{out['tracking_code']}")
    assert r.status_code == 200, r.text
    t = r.json()
    assert PHONE not in r.text and "1234" not in r.text.replace(out["case_no"], "")
    assert "王小明" not in r.text and "县人力社保局调解员" not in r.text
    assert t["case_no"] == out["case_no"] and t["status"] == "team_formed"
    assert (t["category"], t["unit"], t["township"]) == ("labor", "renshe", "baita")
    assert t["supervision_color"] == "green" and t["can_rate"] is False
    assert t["handler"] == "县" + "*" * (len("县人力社保局调解员") - 1)
    stages = [e["stage"] for e in t["timeline"]]
    assert stages[:4] == ["received", "routed", "assigned", "team_formed"]
    assert all(set(e) == {"at", "stage", "text"} for e in t["timeline"])
    assert "renshe.mediator" not in r.text
    assert {c["name"] for c in t["clocks"]} >= {"routed", "assigned", "yellow", "red"}

    assert (await api.get("/api/v1/track/not-a-real-code")).status_code == 404
    qr = await api.get(out["qr_url"])
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml") and b"<svg" in qr.content
    png = await api.get(f"/api/v1/track/{out['tracking_code']}/qr.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")

    # A revoked code opens nothing.
    with session(engine) as db:
        row = db.get(TrackingCode, hashlib.sha256(out["tracking_code"].encode()).hexdigest())
        row.revoked_at = datetime.now(UTC)
        db.add(row)
        db.commit()
    r = await api.get(f"/api/v1/track/{out['tracking_code']}")
    assert r.status_code == 404 and r.json()["detail"]["code"] == "unknown_tracking_code"


async def test_clerk_intake_on_behalf_of_a_citizen(api):
    clerk = await api.auth("clerk")
    out = await api.intake(channel="phone", headers=clerk, township="baita", category="labor")
    view = await api.until(out["case_id"], lambda v: v["handler"] is not None)
    assert view["intake"]["channel"] == "phone" and view["intake"]["intake_by"] == "clerk"
    history = (await api.get(f"/api/v1/cases/{out['case_id']}/history", headers=await api.auth("auditor"))).json()
    assert history["events"][0]["type"] == "received" and history["events"][0]["actor"] == "clerk"
