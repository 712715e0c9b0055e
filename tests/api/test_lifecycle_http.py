"""A case's whole life through HTTP, then the auditor's history and replay."""

from __future__ import annotations

import io

from PIL import Image

from testkit.waiting import poll
from tests.api.conftest import assert_error


def photo(fmt: str = "PNG", gps: bool = False) -> bytes:
    """A small real image; with gps, a JPEG whose EXIF carries a GPS position, as phone photos do."""
    out = io.BytesIO()
    img = Image.new("RGB", (40, 30), (200, 80, 40))
    if gps:
        exif = Image.Exif()
        exif[0x8825] = {1: "N", 2: (28.0, 50.0, 30.0), 3: "E", 4: (120.0, 44.0, 10.0)}  # GPSInfo
        exif[0x010F] = "PhoneMaker"
        img.save(out, fmt, exif=exif)
    else:
        img.save(out, fmt)
    return out.getvalue()


PNG = photo()


async def test_full_lifecycle_to_closed_with_history_and_replay(api, settings):
    out = await api.intake()
    case_id, code = out["case_id"], out["tracking_code"]
    await api.teamed(case_id)
    handler = await api.auth("renshe.mediator")
    base = f"/api/v1/cases/{case_id}"

    # The citizen adds a photo and an update; the supervisor urges.
    r = await api.post(
        f"/api/v1/track/{code}/materials",
        files={"file": ("欠条.png", PNG, "application/octet-stream")},
        data={"note": "工资欠条照片"},
    )
    assert r.status_code == 201, r.text
    material = r.json()
    assert material["content_type"] == "image/png" and material["filename"] == "欠条.png" and material["size"] > 0
    assert len(list((settings.data_dir / "materials").iterdir())) == 1
    r = await api.post(f"/api/v1/track/{code}/updates", json={"text": "老板电话 13900001111 也打不通了"})
    assert r.status_code == 200 and "13900001111" not in r.text
    r = await api.post(f"{base}/urge", json={"note": "请加快"}, headers=await api.auth("supervisor"))
    assert r.status_code == 200 and r.json()["urge_count"] == 1

    view = await api.case(case_id, "renshe.mediator")
    assert "record_mediation" in view["actions"] and "resolve" in view["actions"]
    assert [m["filename"] for m in view["materials"]] == ["欠条.png"]
    dl = await api.get(f"{base}/materials/{material['material_id']}", headers=handler)
    assert dl.status_code == 200 and Image.open(io.BytesIO(dl.content)).size == (40, 30)

    r = await api.post(
        f"{base}/mediations",
        headers=handler,
        json={
            "summary": "组织劳资双方调解",
            "held_at": "2026-01-05T10:00:00+08:00",
            "participants": ["王小明", "包工头"],
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "mediating" and len(r.json()["mediations"]) == 1
    r = await api.post(
        f"{base}/resolve", headers=handler, json={"outcome": "agreement", "summary": "达成协议，分两期支付"}
    )
    assert r.status_code == 200 and r.json()["status"] == "resolved"

    t = (await api.get(f"/api/v1/track/{code}")).json()
    assert t["status"] == "resolved" and t["can_rate"] is True and t["resolution"]["outcome"] == "agreement"
    r = await api.post(f"/api/v1/track/{code}/rating", json={"score": 5, "comment": "满意"})
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["status"] == "closed" and t["can_rate"] is False and t["rating"]["score"] == 5
    assert [e["stage"] for e in t["timeline"]][-3:] == ["resolved", "rated", "closed"]

    view = await api.until(case_id, lambda v: v["status"] == "closed")
    assert view["rating"]["score"] == 5
    assert_error(await api.post(f"{base}/urge", headers=await api.auth("supervisor")), 409, "case_closed")
    assert_error(await api.post(f"/api/v1/track/{code}/rating", json={"score": 1}), 409)

    # The auditor's timeline, read from the workflow's own history.
    auditor = await api.auth("auditor")
    r = await api.get(f"{base}/history", headers=auditor)
    assert r.status_code == 200, r.text
    h = r.json()
    assert h["case_id"] == case_id and h["runs"] == 1
    events = h["events"]
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events) == list(range(1, len(events) + 1))
    by_type = {e["type"]: e for e in events}
    order = [e["type"] for e in events]
    for earlier, later in [
        ("received", "routed"),
        ("routed", "assigned"),
        ("assigned", "team_formed"),
        ("team_formed", "mediation_recorded"),
        ("mediation_recorded", "resolved"),
        ("resolved", "rated"),
        ("rated", "closed"),
    ]:
        assert order.index(earlier) < order.index(later), order
    assert by_type["received"]["actor"] == "citizen"
    assert by_type["routed"]["actor"] == "system"
    assert by_type["assigned"]["detail"]["handler"] == "renshe.mediator"
    assert by_type["urged"]["actor"] == "supervisor"
    assert by_type["material_added"]["actor"] == "citizen"
    assert by_type["mediation_recorded"]["actor"] == "renshe.mediator"
    assert by_type["resolved"]["actor"] == "renshe.mediator"
    assert by_type["rated"]["actor"] == "citizen" and by_type["rated"]["detail"]["score"] == 5
    assert set(events[0]) == {"seq", "at", "type", "actor", "detail"}

    # A handler in the jurisdiction may read it too; someone outside may not.
    assert (await api.get(f"{base}/history", headers=handler)).status_code == 200
    assert_error(await api.get(f"{base}/history", headers=await api.auth("fulian.mediator")), 403)

    r = await api.post(f"{base}/replay", headers=auditor)
    assert r.status_code == 200, r.text
    assert r.json()["deterministic"] is True and r.json()["error"] is None
    assert r.json()["events"] > len(events) and r.json()["runs"] == 1
    assert_error(await api.post(f"{base}/replay", headers=handler), 403, "forbidden_role")


async def test_manual_triage_assign_team_and_withdraw(api):
    # A description the rules cannot classify waits for a person (routing_pending).
    out = await api.intake(description="我有个事情想请中心帮忙看看怎么处理")
    case_id = out["case_id"]
    sup = await api.auth("supervisor")

    async def waiting_for_a_person():
        listed = (await api.get("/api/v1/cases", params={"status": "received"}, headers=sup)).json()["items"]
        return any(i["case_id"] == case_id and i["needs_manual_triage"] for i in listed)

    await poll(waiting_for_a_person, "the case to wait for manual triage")
    assert "triage" in (await api.case(case_id))["actions"]
    base = f"/api/v1/cases/{case_id}"
    r = await api.post(f"{base}/triage", headers=sup, json={"category": "labor", "unit": "renshe", "township": "baita"})
    assert r.status_code == 200, r.text
    # The system assigns and teams the re-routed case on its own; a supervisor can also re-assign and re-team.
    view = await api.teamed(case_id)
    assert view["handler"] == "renshe.mediator" and view["needs_team"] is True
    r = await api.post(f"{base}/assign", headers=sup, json={"handler": "renshe.leader", "reason": "领导包案"})
    assert r.status_code == 200 and r.json()["handler"] == "renshe.leader"
    r = await api.post(f"{base}/team", headers=sup, json={"accept_suggestion": True})
    assert r.status_code == 200, r.text
    assert "renshe.leader" in r.json()["team"] and "baita.mediator" in r.json()["team"]
    r = await api.post(f"{base}/team", headers=sup, json={"members": ["renshe.leader", "baita.leader"]})
    assert r.status_code == 200 and r.json()["team"] == ["renshe.leader", "baita.leader"]
    r = await api.post(f"{base}/withdraw", headers=await api.auth("clerk"), json={"reason": "当事人已自行和解"})
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"


async def test_photo_location_is_stripped_before_it_is_kept(api):
    out = await api.intake()
    await api.teamed(out["case_id"])
    original = photo("JPEG", gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get(0x8825)
    r = await api.post(
        f"/api/v1/track/{out['tracking_code']}/materials", files={"file": ("现场.jpg", original, "image/jpeg")}
    )
    assert r.status_code == 201, r.text
    dl = await api.get(
        f"/api/v1/cases/{out['case_id']}/materials/{r.json()['material_id']}", headers=await api.auth("renshe.mediator")
    )
    kept = Image.open(io.BytesIO(dl.content))
    assert kept.size == (40, 30) and not kept.getexif()
    # Bytes that only look like an image are refused.
    r = await api.post(
        f"/api/v1/track/{out['tracking_code']}/materials",
        files={"file": ("x.jpg", b"\xff\xd8\xff" + b"\x00" * 100, "image/jpeg")},
    )
    assert_error(r, 415, "unreadable_image")


async def test_low_rating_review_and_rehandle_over_http(api):
    out = await api.intake()
    case_id, code = out["case_id"], out["tracking_code"]
    await api.teamed(case_id)
    handler = await api.auth("renshe.mediator")
    assert_error(await api.post(f"/api/v1/track/{code}/review", json={"reason": "不满意"}), 409)
    await api.post(
        f"/api/v1/cases/{case_id}/resolve", headers=handler, json={"outcome": "handled", "summary": "已协调"}
    )
    r = await api.post(f"/api/v1/track/{code}/rating", json={"score": 2, "comment": "钱只给了一半"})
    assert r.status_code == 200 and r.json()["can_review"] is True
    r = await api.post(f"/api/v1/track/{code}/review", json={"reason": "工资只付了一半"})
    assert r.status_code == 200 and r.json()["status"] == "under_review"
    assert r.json()["review"]["status"] == "requested"
    assert_error(
        await api.post(
            f"/api/v1/cases/{case_id}/review-decision", headers=handler, json={"rehandle": True, "reason": "x"}
        ),
        403,
    )
    r = await api.post(
        f"/api/v1/cases/{case_id}/review-decision",
        headers=await api.auth("supervisor"),
        json={"rehandle": True, "reason": "协议未履行完毕，退回重办"},
    )
    assert r.status_code == 200 and r.json()["status"] == "mediating"
    t = (await api.get(f"/api/v1/track/{code}")).json()
    assert t["status"] == "mediating" and t["review"]["status"] == "rehandled" and t["can_rate"] is False


async def test_reissued_code_replaces_the_old_one_at_once(api):
    out = await api.intake()
    await api.teamed(out["case_id"])
    assert_error(
        await api.post(f"/api/v1/cases/{out['case_id']}/reissue-code", headers=await api.auth("renshe.mediator")), 403
    )
    r = await api.post(
        f"/api/v1/cases/{out['case_id']}/reissue-code",
        headers=await api.auth("clerk"),
        json={"reason": "群众称查询码被他人看到"},
    )
    assert r.status_code == 200, r.text
    new = r.json()["tracking_code"]
    assert new != out["tracking_code"] and r.json()["tracking_url"].endswith(f"/track/{new}")
    assert_error(await api.get(f"/api/v1/track/{out['tracking_code']}"), 404)
    assert (await api.get(f"/api/v1/track/{new}")).status_code == 200
    history = (await api.get(f"/api/v1/cases/{out['case_id']}/history", headers=await api.auth("auditor"))).json()
    reissued = [e for e in history["events"] if e["type"] == "code_reissued"]
    assert reissued and reissued[0]["actor"] == "clerk" and new not in str(history)
