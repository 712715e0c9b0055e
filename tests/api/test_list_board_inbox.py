from __future__ import annotations

from testkit.waiting import poll
from tests.api.conftest import PHONE, assert_error

MARRIAGE = "我和老公闹离婚，孩子抚养问题谈不拢"


async def test_list_masks_personal_data_and_respects_jurisdiction(api):
    labour = await api.intake()
    family = await api.intake(description=MARRIAGE, address="福应街道某小区", phone="13900002222")
    await api.settled(labour["case_id"])
    await api.settled(family["case_id"], lambda s: s.handler is not None)

    async def listed(user: str, **params) -> dict:
        r = await api.get("/api/v1/cases", params=params, headers=await api.auth(user))
        assert r.status_code == 200, r.text
        assert PHONE not in r.text and "13900002222" not in r.text and "王小明" not in r.text
        return r.json()

    everything = await listed("supervisor")
    assert everything["total"] == 2 and {i["case_id"] for i in everything["items"]} == {
        labour["case_id"],
        family["case_id"],
    }
    item = next(i for i in everything["items"] if i["case_id"] == labour["case_id"])
    assert item["citizen_phone"] == "138****1234" and item["citizen_name"] == "王**"
    assert (item["category"], item["unit"], item["township"], item["handler"]) == (
        "labor",
        "renshe",
        "baita",
        "renshe.mediator",
    )

    mine = await listed("renshe.mediator")
    assert [i["case_id"] for i in mine["items"]] == [labour["case_id"]]
    theirs = await listed("fulian.mediator")
    assert [i["case_id"] for i in theirs["items"]] == [family["case_id"]]
    township = await listed("baita.leader")
    assert [i["case_id"] for i in township["items"]] == [labour["case_id"]]
    assert (await listed("inspector"))["total"] == 0

    # Filters and paging.
    assert [i["case_id"] for i in (await listed("supervisor", category="labor"))["items"]] == [labour["case_id"]]
    assert (await listed("supervisor", status="team_formed,assigned", township="fuying"))["total"] == 1
    assert (await listed("supervisor", q="离婚"))["total"] == 1
    assert [i["case_id"] for i in (await listed("supervisor", q="13900002222"))["items"]] == [family["case_id"]]
    assert (await listed("supervisor", overdue="true"))["total"] == 0
    page = await listed("supervisor", page=2, page_size=1)
    assert page["total"] == 2 and len(page["items"]) == 1 and page["page"] == 2
    assert_error(await api.get("/api/v1/cases", params={"page_size": 1000}, headers=await api.auth("supervisor")), 422)

    # The single case: 403 outside the jurisdiction, visible inside it.
    assert_error(
        await api.get(f"/api/v1/cases/{labour['case_id']}", headers=await api.auth("fulian.mediator")),
        403,
        "not_in_jurisdiction",
    )
    assert (await api.case(labour["case_id"], "renshe.mediator"))["handler"] == "renshe.mediator"
    assert (await api.case(labour["case_id"], "baita.mediator"))["township"] == "baita"
    assert_error(await api.get("/api/v1/cases"), 401, "not_authenticated")


async def test_supervision_board(api):
    labour = await api.intake()
    await api.settled(labour["case_id"])
    r = await api.get("/api/v1/supervision/board", headers=await api.auth("supervisor"))
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["by_colour"] == {"green": 1, "yellow": 0, "red": 0}
    (renshe,) = b["by_unit"]
    assert {k: renshe[k] for k in ("unit", "unit_zh", "green", "yellow", "red", "total", "open", "received")} == {
        "unit": "renshe",
        "unit_zh": "县人力社保局",
        "green": 1,
        "yellow": 0,
        "red": 0,
        "total": 1,
        "open": 1,
        "received": 1,
    }
    assert renshe["clocks"]["routed"]["compliance"] == 1.0 and renshe["clocks"]["team"]["met"] == 1
    assert b["by_township"][0]["township"] == "baita"
    sl = b["service_levels"]
    assert sl["routed"]["met"] == 1 and sl["routed"]["compliance"] == 1.0
    assert sl["yellow"]["running"] == 1 and sl["yellow"]["compliance"] is None
    assert b["yellow"] == [] and b["red"] == [] and b["task_forces"] == []
    assert b["average_resolution_days"] is None and b["satisfaction"]["count"] == 0

    leader = (await api.get("/api/v1/supervision/board", headers=await api.auth("fulian.leader"))).json()
    assert leader["totals"]["cases"] == 0 and leader["scope"] == "fulian"
    assert (await api.get("/api/v1/supervision/board", headers=await api.auth("county_leader"))).status_code == 200
    assert_error(
        await api.get("/api/v1/supervision/board", headers=await api.auth("renshe.mediator")), 403, "forbidden_role"
    )


async def test_notifications_inbox(api):
    labour = await api.intake()
    await api.teamed(labour["case_id"])
    mediator = await api.auth("renshe.mediator")

    async def inbox():
        return (await api.get("/api/v1/notifications", headers=mediator)).json()

    items = await poll(inbox, "the mediator's first notification")
    assert [n["kind"] for n in items] == ["assigned"]
    n = items[0]
    assert set(n) == {"id", "case_id", "kind", "text", "created_at", "read"}
    assert n["case_id"] == labour["case_id"] and n["read"] is False and "交办" in n["text"]
    assert_error(
        await api.post(f"/api/v1/notifications/{n['id']}/read", headers=await api.auth("fulian.mediator")), 404
    )
    r = await api.post(f"/api/v1/notifications/{n['id']}/read", headers=mediator)
    assert r.status_code == 200 and r.json()["read"] is True
    assert (await api.get("/api/v1/notifications", params={"unread": "true"}, headers=mediator)).json() == []
