"""The inspection reports over HTTP (/api/v1/inspection): figures, the three lists and their workbooks, the
exposure list, the re-training roster and its attendance, summonses — with the county of
tests/services/inspection_county.py seeded around the real clock (its hand-worked figures hold at any moment), and
a hazard reported through the API showing up in the lists and figures."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

from openpyxl import load_workbook

from services.exports import XLSX
from testkit.waiting import poll
from tests.api.conftest import assert_error
from tests.api.test_inspection import REPORT, report
from tests.services.inspection_county import seed


async def test_figures_over_http(api, engine):
    seed(engine, datetime.now(UTC))
    sup = await api.auth("supervisor")
    r = await api.get("/api/v1/inspection/figures", headers=sup)
    assert r.status_code == 200, r.text
    f = r.json()
    # The same hand-worked figures as tests/services/test_inspection_figures.py.
    assert (f["due"], f["on_time"], f["rectification_rate"]) == (10, 5, 0.5)
    assert (f["recheck_due"], f["rechecked"], f["recheck_rate"], f["recurrence_rate"]) == (5, 4, 0.8, 0.5)
    assert f["overdue"] == 3 and f["overdue_by_unit"][0]["unit"] == "jiaojing"
    assert {g["district"]: g["rectification_rate"] for g in f["by_district"]}[5] is None

    r = await api.get("/api/v1/inspection/figures", params={"district": "2,3", "domain": "work_safety"}, headers=sup)
    assert (r.json()["due"], r.json()["on_time"]) == (2, 2)  # H01 H02
    mine = (await api.get("/api/v1/inspection/figures", headers=await api.auth("jiaojing.leader"))).json()
    assert (mine["found"], mine["due"], mine["overdue"]) == (3, 3, 2)

    r = await api.get("/api/v1/inspection/figures.xlsx", headers=sup)
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    assert load_workbook(BytesIO(r.content)).sheetnames == ["概览", "按片区", "按领域", "按单位逾期"]

    assert_error(await api.get("/api/v1/inspection/figures", params={"from": "last week"}, headers=sup), 422)
    assert_error(await api.get("/api/v1/inspection/figures", params={"district": "north"}, headers=sup), 422)
    assert_error(await api.get("/api/v1/inspection/figures", headers=await api.auth("clerk")), 403, "forbidden_role")
    assert_error(await api.get("/api/v1/inspection/figures"), 401)


async def test_lists_over_http(api, engine):
    seed(engine, datetime.now(UTC))
    sup = await api.auth("supervisor")
    r = await api.get("/api/v1/inspection/lists/hazards", headers=sup)
    assert r.status_code == 200, r.text
    assert r.json()["total"] == 12 and r.json()["rows"][0]["hazard_no"] == "H11"
    r = await api.get("/api/v1/inspection/lists/hazards", params={"status": "struck_off,rechecked"}, headers=sup)
    assert sorted(x["hazard_no"] for x in r.json()["rows"]) == ["H01", "H02", "H04", "H07", "H10"]
    r = await api.get("/api/v1/inspection/lists/measures", params={"page_size": 5, "page": 3}, headers=sup)
    assert [x["hazard_no"] for x in r.json()["rows"]] == ["H12", "H10"] and r.json()["total"] == 12
    r = await api.get("/api/v1/inspection/lists/responsibilities", headers=await api.auth("jiaojing.leader"))
    rows = {x["hazard_no"]: x for x in r.json()["rows"]}
    assert sorted(rows) == ["H03", "H04", "H12"]
    assert rows["H03"]["retraining"][0]["person"] == "张三" and rows["H03"]["summonses"][0]["held_at"] is None

    r = await api.get("/api/v1/inspection/lists/measures.xlsx", params={"township": "baita"}, headers=sup)
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    assert "attachment" in r.headers["content-disposition"]
    ws = load_workbook(BytesIO(r.content))["整改措施清单"]
    values = list(ws.iter_rows(values_only=True))
    assert values[0][:3] == ("编号", "隐患", "整改措施") and sorted(v[0] for v in values[1:]) == [
        "H01",
        "H02",
        "H05",
        "H09",
    ]

    assert_error(await api.get("/api/v1/inspection/lists/people", headers=sup), 404, "unknown_list")
    assert_error(await api.get("/api/v1/inspection/lists/people.xlsx", headers=sup), 404, "unknown_list")
    assert_error(await api.get("/api/v1/inspection/lists/hazards", params={"status": "lost"}, headers=sup), 422)
    assert_error(await api.get("/api/v1/inspection/lists/hazards.xlsx", headers=await api.auth("clerk")), 403)


async def test_exposure_roster_and_summonses(api, engine):
    seed(engine, datetime.now(UTC))
    sup, county = await api.auth("supervisor"), await api.auth("county_leader")
    r = await api.get("/api/v1/inspection/exposure", headers=await api.auth("auditor"))
    assert [e["hazard_no"] for e in r.json()] == ["H03", "H09", "H12", "H04"]
    assert r.json()[0]["leader"] == "jiaojing.leader" and r.json()[0]["still_open"] is True
    r = await api.get("/api/v1/inspection/exposure", headers=await api.auth("baita.mediator"))
    assert [e["hazard_no"] for e in r.json()] == ["H09"]

    classes = (await api.get("/api/v1/inspection/retraining", headers=sup)).json()
    assert [(c["enrolled"], c["unmarked"]) for c in classes] == [(2, 2), (1, 0)]
    person = classes[0]["people"][0]
    url = f"/api/v1/inspection/retraining/{person['id']}/attendance"
    assert_error(await api.post(url, json={"attended": True}, headers=county), 403, "forbidden_role")
    assert_error(await api.post(url, json={"attended": "maybe", "x": 1}, headers=sup), 422)
    r = await api.post(url, json={"attended": True}, headers=sup)
    assert r.status_code == 200 and (r.json()["attended"], r.json()["marked_by"]) == (True, "supervisor")
    classes = (await api.get("/api/v1/inspection/retraining", headers=sup)).json()
    assert (classes[0]["attended"], classes[0]["unmarked"]) == (1, 1)
    assert_error(await api.post("/api/v1/inspection/retraining/999/attendance", json={"attended": 1}, headers=sup), 404)

    (s,) = (await api.get("/api/v1/inspection/summonses", headers=sup)).json()
    assert (s["unit"], s["leader"], s["held"]) == ("jiaojing", "jiaojing.leader", False)
    url = f"/api/v1/inspection/summonses/{s['id']}/held"
    assert_error(await api.post(url, json={}, headers=await api.auth("jiaojing.leader")), 403)
    r = await api.post(url, json={"note": "县领导约谈交警大队主要负责人"}, headers=county)
    assert r.status_code == 200 and (r.json()["held_by"], r.json()["note"]) == (
        "county_leader",
        "县领导约谈交警大队主要负责人",
    )
    assert_error(await api.post(url, json={}, headers=sup), 409, "already_held")
    assert (await api.get("/api/v1/inspection/summonses", headers=await api.auth("baita.leader"))).json() == []


async def test_a_reported_hazard_is_on_the_lists_and_in_the_figures(api):
    """The whole path: reported through the API, written by the recorder, listed and counted."""
    out = await report(api, await api.auth("inspector"))
    sup = await api.auth("supervisor")

    async def listed():
        r = await api.get("/api/v1/inspection/lists/hazards", headers=sup)
        return r.json() if r.json()["total"] else None

    rows = (await poll(listed, "the hazard on the list"))["rows"]
    assert (rows[0]["hazard_id"], rows[0]["site"], rows[0]["unit_zh"]) == (
        out["hazard_id"],
        REPORT["site"],
        "县消防救援大队",
    )
    f = (await api.get("/api/v1/inspection/figures", headers=sup)).json()
    assert (f["found"], f["open"], f["due"], f["rectification_rate"], f["overdue"]) == (1, 1, 0, None, 0)
    r = await api.get("/api/v1/inspection/lists/responsibilities", headers=await api.auth("xiaofang.leader"))
    assert r.json()["rows"][0]["responsible"] == REPORT["responsible"]
    assert r.json()["rows"][0]["leader"] == "xiaofang.leader"
    assert (await api.get("/api/v1/inspection/lists/hazards", headers=await api.auth("renshe.leader"))).json()[
        "total"
    ] == 0
