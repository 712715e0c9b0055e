"""Triage for people: the intake form's preview, the clerks' queue, routing by a clerk, repeat requests."""

from __future__ import annotations

from sqlmodel import select

from store.db import session
from store.tables import CaseEventRow
from tests.api.conftest import LABOUR, assert_error

VAGUE = "我有点事情想反映一下，麻烦你们帮忙处理"


async def test_preview_routes_a_labour_text_like_intake_would(api):
    r = await api.post("/api/v1/triage/preview", json={"text": LABOUR})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["suggestions"][0]["category"] == "labor" and body["suggestions"][0]["unit"] == "renshe"
    assert body["township"] == "baita" and body["township_zh"] == "白塔镇" and body["auto"] is True
    assert_error(await api.post("/api/v1/triage/preview", json={"text": ""}), 422)
    assert_error(
        await api.post("/api/v1/triage/preview", json={"text": LABOUR, "category": "astrology"}),
        422,
        "unknown_category",
    )


async def test_vague_text_waits_in_the_queue_until_a_clerk_routes_it(api, engine):
    created = await api.intake(description=VAGUE)
    await api.settled(created["case_id"], lambda s: s.routing_attempted)
    assert_error(await api.get("/api/v1/triage/queue"), 401)
    assert_error(await api.get("/api/v1/triage/queue", headers=await api.auth("renshe.mediator")), 403)
    r = await api.get("/api/v1/triage/queue", headers=await api.auth("clerk"))
    assert r.status_code == 200, r.text
    item = next(i for i in r.json()["items"] if i["case_id"] == created["case_id"])
    assert item["suggestions"] and 0 <= item["suggestions"][0]["confidence"] < 1
    assert "人工" in item["reason"] and item["routed_clock_breached"] is False

    r = await api.post(
        f"/api/v1/cases/{created['case_id']}/triage",
        headers=await api.auth("clerk"),
        json={"category": "neighbor", "unit": "township", "township": "tianshi"},
    )
    assert r.status_code == 200, r.text
    view = await api.until(created["case_id"], lambda v: v["handler"] is not None)
    assert view["handler"] == "tianshi.mediator"
    r = await api.get("/api/v1/triage/queue", headers=await api.auth("clerk"))
    assert created["case_id"] not in [i["case_id"] for i in r.json()["items"]]


async def test_a_repeat_request_is_linked_and_flagged_not_merged(api, engine):
    first = await api.intake()
    await api.settled(first["case_id"])
    second = await api.intake(description=LABOUR + "，再次反映")
    await api.settled(second["case_id"])
    with session(engine) as db:
        flagged = db.exec(
            select(CaseEventRow).where(
                CaseEventRow.case_id == second["case_id"], CaseEventRow.type == "repeat_detected"
            )
        ).all()
    assert len(flagged) == 1 and flagged[0].detail["earlier"] == [first["case_id"]]
    both = [await api.case(first["case_id"]), await api.case(second["case_id"])]
    assert all(v["status"] != "closed" for v in both)  # two cases: nothing was merged
