"""The clocks through HTTP (issue 12): pausing and resuming, asking for and deciding an extension, sending a case
back — with the contract's refusals (422 without a reason or with a bad duration, 409 resuming a case that is not
paused, 403 for another unit's staff and for a handler deciding their own request)."""

from __future__ import annotations

from datetime import datetime, timedelta

from testkit.waiting import poll
from tests.api.conftest import assert_error

DEBT = "邻居老李前年借了我两万元，写了借条，到期后一直拖着不还，多次催讨无果"


def due(view: dict, name: str) -> datetime:
    return datetime.fromisoformat(next(c["due_at"] for c in view["clocks"] if c["name"] == name))


async def test_pause_and_resume(api):
    case_id = (await api.intake())["case_id"]
    await api.teamed(case_id)
    base = f"/api/v1/cases/{case_id}"
    handler, leader = await api.auth("renshe.mediator"), await api.auth("renshe.leader")

    assert "pause" in (await api.case(case_id, "renshe.mediator"))["actions"]
    assert_error(await api.post(f"{base}/pause", json={}, headers=handler), 422)
    assert_error(await api.post(f"{base}/pause", json={"reason": "  "}, headers=handler), 422)
    assert_error(
        await api.post(f"{base}/pause", json={"reason": "等材料"}, headers=await api.auth("gongan.mediator")), 403
    )
    assert_error(await api.post(f"{base}/resume", json={}, headers=handler), 409)

    r = await api.post(f"{base}/pause", json={"reason": "等待当事人补充工资条，电话13900001111"}, headers=handler)
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["paused"] is True and "resume" in view["actions"] and "pause" not in view["actions"]
    assert view["pauses"][0]["by"] == "renshe.mediator" and view["pauses"][0]["resumed_at"] is None
    assert all(c["paused_at"] for c in view["clocks"] if c["name"] in ("yellow", "red"))
    assert_error(await api.post(f"{base}/pause", json={"reason": "again"}, headers=handler), 409)
    assert (await api.until(case_id, lambda v: v["paused"]))["paused"]

    r = await api.post(f"{base}/resume", json={"note": "材料已补齐"}, headers=leader)  # the lead unit's leader
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["paused"] is False and view["pauses"][0]["resumed_by"] == "renshe.leader"
    assert_error(await api.post(f"{base}/resume", headers=handler), 409)
    # The body of resume is optional.
    await api.post(f"{base}/pause", json={"reason": "等待仲裁"}, headers=handler)
    r = await api.post(f"{base}/resume", headers=handler)
    assert r.status_code == 200 and len(r.json()["pauses"]) == 2


async def test_extension_asked_and_decided(api):
    case_id = (await api.intake())["case_id"]
    before = await api.teamed(case_id)
    base = f"/api/v1/cases/{case_id}/extension"
    handler, leader = await api.auth("renshe.mediator"), await api.auth("renshe.leader")

    assert_error(
        await api.post(base, json={"duration": "3 days", "reason": "等结算"}, headers=handler), 422, "invalid_duration"
    )
    assert_error(
        await api.post(base, json={"duration": "P91D", "reason": "等结算"}, headers=handler), 422, "duration_too_long"
    )
    assert_error(await api.post(base, json={"duration": "P3D"}, headers=handler), 422)
    assert_error(await api.post(base, json={"duration": "P3D", "reason": "等结算"}, headers=leader), 403)

    r = await api.post(base, json={"duration": "P3D", "reason": "需等待工程款结算"}, headers=handler)
    assert r.status_code == 200, r.text
    asked = r.json()
    assert asked["extensions"][0]["status"] == "pending" and "request_extension" not in asked["actions"]
    assert "decide_extension" in (await api.case(case_id, "renshe.leader"))["actions"]
    assert "decide_extension" not in (await api.case(case_id, "renshe.mediator"))["actions"]

    decide = f"{base}/decision"
    assert_error(await api.post(decide, json={"approve": True, "reason": "同意"}, headers=handler), 403)
    assert_error(await api.post(decide, json={"approve": True}, headers=leader), 422)
    r = await api.post(decide, json={"approve": True, "reason": "同意延期3天"}, headers=leader)
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["extensions"][0]["status"] == "approved" and view["extensions"][0]["decided_by"] == "renshe.leader"
    assert due(view, "yellow") - due(before, "yellow") == timedelta(days=3)
    assert due(view, "red") - due(before, "red") == timedelta(days=3)
    assert_error(await api.post(decide, json={"approve": False, "reason": "无"}, headers=leader), 409)

    # A supervisor may decide too; a refusal moves nothing.
    await api.post(base, json={"duration": "P2D", "reason": "当事人住院"}, headers=handler)
    r = await api.post(decide, json={"approve": False, "reason": "理由不足"}, headers=await api.auth("supervisor"))
    assert r.status_code == 200 and r.json()["extensions"][1]["status"] == "refused"
    assert due(r.json(), "yellow") == due(view, "yellow")


async def test_send_back_to_the_clerks(api):
    out = await api.intake(description=DEBT)
    case_id = out["case_id"]
    view = await api.until(case_id, lambda v: v["status"] == "assigned")
    unit = view["unit"] if view["unit"] != "township" else view["township"]
    sender = await api.auth(f"{unit}.leader")
    base = f"/api/v1/cases/{case_id}/send-back"

    assert_error(await api.post(base, json={"reason": ""}, headers=sender), 422)
    outsider = "renshe.leader" if unit != "renshe" else "gongan.leader"
    assert_error(await api.post(base, json={"reason": "非本单位职责"}, headers=await api.auth(outsider)), 403)
    r = await api.post(base, json={"reason": "非本单位职责，属民间借贷"}, headers=sender)
    assert r.status_code == 200, r.text
    back = r.json()
    assert back["status"] == "received" and back["handler"] is None
    assert back["sent_back"][0]["reason"] == "非本单位职责，属民间借贷" and back["sent_back"][0]["unit"] == view["unit"]

    # The clerks' queue says who returned it and why.
    async def queued():
        r = await api.get("/api/v1/triage/queue", headers=await api.auth("clerk"))
        return next((i for i in r.json()["items"] if i["case_id"] == case_id and i["sent_back"]), None)

    item = await poll(queued)
    assert item["sent_back"][0]["reason"] == "非本单位职责，属民间借贷" and item["supervisor_decides"] is False
