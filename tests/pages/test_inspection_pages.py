"""The safety-inspection pages over HTTP (httpx on the real app, the time-skipping Temporal server, a real worker
and read model): an inspector's week, recording a visit and reporting a hazard with a photo (every problem of the
form shown at once, what was typed and the photos kept), the responsible unit's hazards and its evidence,
verification both ways, re-check; and the JSON visit routes. Visits are never shown to the visited units."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest_asyncio
from PIL import Image

from domain.inspection import week_of
from store.db import session
from store.tables import InspectionVisit
from tests.api.conftest import assert_error
from tests.pages.helpers import gps_of, jpeg_with_gps
from tests.pages.staff_helpers import sign_in, text_of
from workflows.hazard_rectification import workflow_id

INSPECTOR = "insp.gongan.06"  # team gongan-2, district 2 (白塔镇, 田市镇, 淡竹乡)
HAZARD = {
    "domain": "drowning",
    "township": "baita",
    "site": "白塔镇东溪水库",
    "description": "库区围栏破损，警示牌缺失",
    "severity": "major",
    "unit": "township",
    "responsible": "白塔镇分管副镇长",
    "measure": "修复围栏，设置警示牌，安排巡查",
}


def plan(engine, visit_id: str, district: int, township: str, team: str, day: int = 0) -> None:
    """A planned visit of this week, as the weekly Schedule writes it."""
    monday = week_of(datetime.now(UTC))
    with session(engine) as db:
        db.add(
            InspectionVisit(
                visit_id=visit_id,
                kind="weekly",
                week=monday,
                district=district,
                slot=day + 1,
                township=township,
                domain="drowning",
                team=team,
                planned_for=monday + timedelta(days=day),
            )
        )
        db.commit()


@pytest_asyncio.fixture
async def person(app):
    """Another person at another desk (own cookie jar)."""
    import httpx

    clients = []

    async def make(username: str) -> tuple[httpx.AsyncClient, str]:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        clients.append(http)
        return http, await sign_in(http, username)

    yield make
    for http in clients:
        await http.aclose()


def hazard_id_of(location: str) -> str:
    m = re.fullmatch(r"/staff/inspection/hazards/([0-9a-f]+)", location)
    assert m, location
    return m.group(1)


async def test_an_inspector_records_a_planned_visit_and_reports_a_hazard_with_a_photo(site, engine):
    plan(engine, "p-baita", 2, "baita", "gongan-2")
    plan(engine, "p-fuying", 1, "fuying", "gongan-1")
    http = site.http
    csrf = await sign_in(http, INSPECTOR)
    hub = await http.get("/staff/inspection")
    assert hub.status_code == 200
    text = text_of(hub.text)
    assert "本周督查任务" in text and "白塔镇" in text and "本组" in text
    assert "福应街道" not in text  # another district's plan
    assert 'href="/staff/inspection/visits/p-baita"' in hub.text and ">记录走访<" in hub.text
    assert "新建专项暗访" in text and "待验收" in text and "待回头看" in text

    page = await http.get("/staff/inspection/visits/p-baita")
    assert page.status_code == 200 and ">记录走访<" in page.text and "上报隐患" not in page.text
    r = await http.post(
        "/staff/inspection/visits/p-baita", data={"csrf_token": csrf, "township": "baita", "domain": "", "site": ""}
    )
    assert r.status_code == 422 and "请填写走访的场所或点位" in text_of(r.text)
    r = await http.post(
        "/staff/inspection/visits/p-baita",
        data={"csrf_token": csrf, "township": "baita", "domain": "drowning", "site": "东溪水库", "note": "暗访"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/staff/inspection/visits/p-baita"
    page = await http.get("/staff/inspection/visits/p-baita")
    text = text_of(page.text)
    assert "走访已记录" in text and "已走访" in text and ">上报隐患<" in page.text
    assert 'capture="environment"' in page.text and 'accept="image/*"' in page.text and "multiple" in page.text
    with session(engine) as db:
        assert db.get(InspectionVisit, "p-baita").visited_by == INSPECTOR

    # Everything missing at once: all problems shown, what was typed kept, the photo kept for the next try.
    scene = jpeg_with_gps()
    assert gps_of(scene)
    bad = {**HAZARD, "description": "", "measure": "", "unit": "nowhere", "csrf_token": csrf}
    r = await http.post(
        "/staff/inspection/visits/p-baita/hazards", data=bad, files=[("photos", ("scene.jpg", scene, "image/jpeg"))]
    )
    assert r.status_code == 422
    text = text_of(r.text)
    assert "请描述发现的隐患" in text and "请填写整改措施" in text and "未知的责任单位代码" in text
    assert "请修改下面标出的 3 处" in text and "已上传 1 张照片" in text
    assert 'value="白塔镇东溪水库"' in r.text and "白塔镇分管副镇长" in r.text
    kept = re.findall(r'name="photo" value="([0-9a-f]+)"', r.text)
    assert len(kept) == 1

    good = {**HAZARD, "csrf_token": csrf, "photo": kept[0]}
    r = await http.post("/staff/inspection/visits/p-baita/hazards", data=good)
    assert r.status_code == 303, r.text
    hazard_id = hazard_id_of(r.headers["location"])
    site.started.append(site.env.client.get_workflow_handle(workflow_id(hazard_id)))
    page = await http.get(r.headers["location"])
    text = text_of(page.text)
    assert "已上报" in text and "待整改" in text and "白塔镇东溪水库" in text and "重大隐患" in text
    assert "整改期限" in text and "还剩" in text
    (src,) = re.findall(rf'<img src="(/staff/inspection/hazards/{hazard_id}/files/[0-9a-f]+)"', page.text)
    img = await http.get(src)
    assert img.status_code == 200 and img.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(img.content)) as shown:
        assert not shown.getexif()  # GPS and camera gone
    # No step for the inspector before evidence is handed in.
    assert "验收通过" not in page.text and "提交整改材料" not in page.text

    # The visit lists it; the same photo cannot serve a second report.
    visit = text_of((await http.get("/staff/inspection/visits/p-baita")).text)
    assert "白塔镇东溪水库" in visit
    r = await http.post("/staff/inspection/visits/p-baita/hazards", data=good)
    assert r.status_code == 422 and "不存在或已用于其他隐患" in text_of(r.text)


async def test_the_unit_hands_in_evidence_and_the_inspector_verifies_and_rechecks(site, engine, person):
    plan(engine, "p-baita", 2, "baita", "gongan-2")
    inspector = await site.auth(INSPECTOR)
    r = await site.post("/api/v1/inspection/hazards", json={**HAZARD, "visit_id": "p-baita"}, headers=inspector)
    assert r.status_code == 201, r.text
    hazard_id, hazard_no = r.json()["hazard_id"], r.json()["hazard_no"]
    site.started.append(site.env.client.get_workflow_handle(workflow_id(hazard_id)))
    url = f"/staff/inspection/hazards/{hazard_id}"

    unit, unit_csrf = await person("baita.mediator")
    hub = await unit.get("/staff/inspection")
    text = text_of(hub.text)
    assert "本单位隐患" in text and hazard_no in text and "整改期限" in text and "还剩" in text
    assert "本周督查任务" not in text and "记录走访" not in text  # unannounced: the unit never sees the plan
    assert (await unit.get("/staff/inspection/visits/p-baita")).status_code == 403
    page = await unit.get(url)
    assert ">提交整改材料<" in page.text and "验收通过" not in page.text and "走访记录" not in page.text
    r = await unit.post(url + "/evidence", data={"csrf_token": unit_csrf, "note": "围栏已修复"})
    assert r.status_code == 303 and "请选择" in text_of((await unit.get(url)).text)
    r = await unit.post(
        url + "/evidence",
        data={"csrf_token": unit_csrf, "note": "围栏已修复"},
        files={"file": ("after.jpg", jpeg_with_gps(), "image/jpeg")},
    )
    assert r.status_code == 303 and r.headers["location"] == url
    page = await unit.get(url)
    text = text_of(page.text)
    assert "整改材料已提交" in text and "待验收" in text and "围栏已修复" in text and "提交整改材料" not in page.text

    insp, csrf = await person(INSPECTOR)
    hub = text_of((await insp.get("/staff/inspection")).text)
    assert hazard_no in hub.split("待验收")[1].split("待回头看")[0]
    page = await insp.get(url)
    assert ">验收通过<" in page.text and "验收不通过" in page.text and "回头看：" not in page.text
    r = await insp.post(url + "/verify", data={"csrf_token": csrf, "accept": "no", "reason": ""})
    assert r.status_code == 303 and "须写明理由" in text_of((await insp.get(url)).text)
    r = await insp.post(url + "/verify", data={"csrf_token": csrf, "accept": "no", "reason": "警示牌未设置"})
    assert r.status_code == 303
    text = text_of((await insp.get(url)).text)
    assert "已退回责任单位" in text and "整改中" in text and "警示牌未设置" in text

    r = await unit.post(
        url + "/evidence",
        data={"csrf_token": unit_csrf, "note": "警示牌已设置"},
        files={"file": ("sign.png", jpeg_with_gps(), "image/jpeg")},
    )
    assert r.status_code == 303
    r = await insp.post(url + "/verify", data={"csrf_token": csrf, "accept": "yes"})
    assert r.status_code == 303
    page = await insp.get(url)
    text = text_of(page.text)
    assert "验收通过，隐患已销号" in text and "已销号" in text and "回头看时间" in text
    assert "回头看：整改保持" in text and "回头看：问题复发" in text and "验收通过</button>" not in page.text
    hub = text_of((await insp.get("/staff/inspection")).text)
    assert hazard_no in hub.split("待回头看")[1]

    r = await insp.post(url + "/recheck", data={"csrf_token": csrf, "holds": "yes", "note": "围栏完好"})
    assert r.status_code == 303
    page = await insp.get(url)
    text = text_of(page.text)
    assert "整改保持，隐患已关闭" in text and "回头看合格" in text and "回头看：问题复发" not in page.text

    # Lists: the unit's and the inspector's, filtered.
    listing = text_of((await insp.get("/staff/inspection/hazards?status=rechecked&district=2")).text)
    assert hazard_no in listing
    listing = text_of((await insp.get("/staff/inspection/hazards?status=assigned")).text)
    assert hazard_no not in listing and "没有符合条件的隐患" in listing


async def test_refusals_render_as_the_console_does(site, engine, person):
    plan(engine, "p-fuying", 1, "fuying", "gongan-1")
    inspector = await site.auth(INSPECTOR)
    r = await site.post("/api/v1/inspection/hazards", json=HAZARD, headers=inspector)
    hazard_id = r.json()["hazard_id"]
    site.started.append(site.env.client.get_workflow_handle(workflow_id(hazard_id)))
    url = f"/staff/inspection/hazards/{hazard_id}"

    leader, _ = await person("county_leader")  # overseers: links to the overview lists, no visit plan
    hub = await leader.get("/staff/inspection")
    assert hub.status_code == 200 and "本周督查任务" not in hub.text
    for link in ("board", "lists/hazards", "exposure", "retraining", "summonses"):
        assert f'href="/staff/inspection/{link}"' in hub.text

    clerk, _ = await person("clerk")
    r = await clerk.get("/staff/inspection")
    assert r.status_code == 403 and "无权查看" in r.text
    other, other_csrf = await person("renshe.mediator")  # another unit: nothing of the hazard shown
    r = await other.get(url)
    assert r.status_code == 403 and HAZARD["site"] not in r.text
    r = await other.post(
        url + "/evidence", data={"csrf_token": other_csrf}, files={"file": ("a.jpg", b"x", "image/jpeg")}
    )
    assert r.status_code == 403
    assert (await other.get("/staff/inspection/hazards/nope0000")).status_code == 404

    insp, csrf = await person(INSPECTOR)
    # Another district's visit: neither shown nor recorded.
    assert (await insp.get("/staff/inspection/visits/p-fuying")).status_code == 404
    r = await insp.post("/staff/inspection/visits/p-fuying", data={"csrf_token": csrf, "site": "某处"})
    assert r.status_code == 403
    # Without the CSRF token nothing changes.
    r = await insp.post(url + "/verify", data={"accept": "yes"})
    assert r.status_code == 403
    # Verifying before anything is handed in (a crafted post): refused with the rule's message, nothing changes.
    r = await insp.post(url + "/verify", data={"csrf_token": csrf, "accept": "yes"})
    assert r.status_code == 303
    page = (await insp.get(url)).text
    assert "flash-error" in page and "不能执行“验收”" in text_of(page) and "待整改" in text_of(page)

    # An unplanned visit, then recorded again: 409 as a message.
    r = await insp.post(
        "/staff/inspection/visits/new",
        data={
            "csrf_token": csrf,
            "kind": "special",
            "township": "tianshi",
            "domain": "food_drug",
            "site": "田市镇某餐馆",
        },
    )
    assert r.status_code == 303
    visit_url = r.headers["location"]
    page = await insp.get(visit_url)
    assert "专项暗访" in text_of(page.text) and ">上报隐患<" in page.text
    r = await insp.post(visit_url, data={"csrf_token": csrf, "site": "再来一次"})
    assert r.status_code == 303
    assert "不能重复记录" in text_of((await insp.get(visit_url)).text)
    r = await insp.post(
        "/staff/inspection/visits/new", data={"csrf_token": csrf, "kind": "daily", "township": "", "site": ""}
    )
    assert r.status_code == 422
    text = text_of(r.text)
    assert "请选择走访的乡镇（街道）" in text and "请选择督查领域" in text and "请填写走访的场所或点位" in text


async def test_the_visit_routes_of_the_json_api(site, engine):
    plan(engine, "p-baita", 2, "baita", "gongan-2")
    plan(engine, "p-fuying", 1, "fuying", "gongan-1")
    inspector = await site.auth(INSPECTOR)
    r = await site.get("/api/v1/inspection/visits", headers=inspector)
    assert r.status_code == 200
    assert [v["visit_id"] for v in r.json()["items"]] == ["p-baita"]
    r = await site.get("/api/v1/inspection/visits?district=1", headers=inspector)
    assert_error(r, 403, "not_in_jurisdiction")
    r = await site.get("/api/v1/inspection/visits?district=1", headers=await site.auth("supervisor"))
    assert [v["visit_id"] for v in r.json()["items"]] == ["p-fuying"]
    for unit in ("baita.leader", "baita.mediator", "gongan.leader"):
        assert_error(await site.get("/api/v1/inspection/visits", headers=await site.auth(unit)), 403, "forbidden_role")

    body = {"site": "东溪水库", "note": "围栏破损"}
    r = await site.post("/api/v1/inspection/visits/p-baita/record", json=body, headers=inspector)
    assert r.status_code == 200 and r.json() == {"visit_id": "p-baita"}
    r = await site.post("/api/v1/inspection/visits/p-baita/record", json=body, headers=inspector)
    assert_error(r, 409, "visit_already_recorded")
    r = await site.post("/api/v1/inspection/visits/p-fuying/record", json=body, headers=inspector)
    assert_error(r, 403, "not_in_jurisdiction")

    unplanned = {"kind": "leader_led", "township": "danzhu", "domain": "work_safety", "site": "淡竹乡某厂"}
    r = await site.post("/api/v1/inspection/visits", json=unplanned, headers=inspector)
    assert r.status_code == 201
    visit_id = r.json()["visit_id"]
    r = await site.get("/api/v1/inspection/visits?status=done", headers=inspector)
    assert {v["visit_id"] for v in r.json()["items"]} == {"p-baita", visit_id}
    assert_error(
        await site.post("/api/v1/inspection/visits", json={**unplanned, "township": "atlantis"}, headers=inspector),
        422,
        "unknown_township",
    )
    assert_error(
        await site.post("/api/v1/inspection/visits", json={**unplanned, "domain": "space"}, headers=inspector),
        422,
        "unknown_domain",
    )
    with session(engine) as db:
        assert db.get(InspectionVisit, "p-fuying").status == "planned"
