"""The safety-inspection pages in Debian's chromium driven by Playwright, against the app under uvicorn with a real
worker: an inspector on a 360 px phone records a planned visit and reports the hazard found with a photo (its GPS
position stripped before it is stored); the responsible township's mediator, also on a phone, hands in evidence;
the inspector verifies it and the hazard is struck off (已销号). Then the lists export and open with openpyxl."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlmodel import select

from domain.inspection import week_of
from services import uploads
from store.db import session
from store.tables import InspectionPhoto, InspectionVisit
from testkit.waiting import poll
from tests.pages.conftest import PHONE_VIEWPORT
from tests.pages.helpers import gps_of, jpeg_with_gps
from tests.pages.test_browser import body_text, fits_the_screen, shoot
from tests.pages.test_staff_browser import signed_in_page
from workflows.hazard_rectification import workflow_id

pytestmark = pytest.mark.browser

INSPECTOR = "insp.gongan.06"  # team gongan-2, district 2 (白塔镇, 田市镇, 淡竹乡)


def plan_visit(engine) -> str:
    """This week's planned visit of the inspector's team, as the weekly Schedule writes it."""
    monday = week_of(datetime.now(UTC))
    with session(engine) as db:
        db.add(
            InspectionVisit(
                visit_id="p-browser",
                kind="weekly",
                week=monday,
                district=2,
                slot=1,
                township="baita",
                domain="drowning",
                team="gongan-2",
                planned_for=monday + timedelta(days=1),
            )
        )
        db.commit()
    return "p-browser"


async def on_phone(browser, base: str, username: str):
    return await signed_in_page(browser, base, username, PHONE_VIEWPORT, phone=True)


async def test_a_hazard_from_a_phone_to_struck_off(browser, live_server, site, engine, settings, screenshots):
    visit_id = plan_visit(engine)
    scene = jpeg_with_gps()
    assert gps_of(scene), "the test photo should carry a GPS position"

    # The inspector on site, on a phone.
    context, page = await on_phone(browser, live_server, INSPECTOR)
    try:
        await page.get_by_role("link", name="平安督查").click()
        await page.wait_for_url(f"{live_server}/staff/inspection")
        text = await body_text(page)
        assert "本周督查任务" in text and "白塔镇" in text and "预防溺水安全" in text
        await fits_the_screen(page)
        await shoot(page, screenshots / "inspection-phone.png")

        await page.get_by_role("link", name="记录走访").click()
        await page.wait_for_url(f"{live_server}/staff/inspection/visits/{visit_id}")
        await page.get_by_label("场所", exact=True).fill("白塔镇东溪水库")
        await page.get_by_label("走访情况（可选）").fill("库区东侧围栏破损")
        await page.get_by_role("button", name="记录走访").click()
        await page.wait_for_url(f"{live_server}/staff/inspection/visits/{visit_id}")
        assert "走访已记录" in await body_text(page)

        form = page.locator("form.hz-form")
        assert await form.get_by_label("领域", exact=True).input_value() == "drowning"  # from the visit
        assert await form.get_by_label("乡镇", exact=True).input_value() == "baita"
        await form.get_by_label("隐患描述").fill("库区围栏破损约十米，警示牌缺失")
        await form.get_by_label("重大").check()
        await form.get_by_label("责任单位").select_option("township")
        await form.get_by_label("责任人（可选）").fill("白塔镇分管副镇长")
        await form.get_by_label("整改措施").fill("修复围栏，设置警示牌，汛期每日巡查")
        await form.get_by_label("现场照片").set_input_files(
            files=[{"name": "scene.jpg", "mimeType": "image/jpeg", "buffer": scene}]
        )
        await fits_the_screen(page)
        await shoot(page, screenshots / "inspection-hazard-phone.png")
        await form.get_by_role("button", name="上报隐患").click()
        await page.wait_for_url(re.compile(r"/staff/inspection/hazards/[0-9a-f]+$"))
        hazard_id = page.url.rsplit("/", 1)[1]
        site.started.append(site.env.client.get_workflow_handle(workflow_id(hazard_id)))
        text = await body_text(page)
        assert "已上报" in text and "待整改" in text and "重大隐患" in text and "还剩" in text
        await fits_the_screen(page)
        # The photo is shown, and neither the stored file nor what is served carries EXIF.
        src = await page.locator("img.thumb").first.get_attribute("src")
        served = await page.request.get(f"{live_server}{src}")
        assert served.ok
        with Image.open(io.BytesIO(await served.body())) as shown:
            assert not shown.getexif()
        with session(engine) as db:
            (stored,) = db.exec(select(InspectionPhoto).where(InspectionPhoto.hazard_id == hazard_id)).all()
        with Image.open(uploads.path_of(settings.data_dir, stored.stored_name)) as kept:
            assert kept.format == "JPEG" and not kept.getexif() and "exif" not in kept.info
    finally:
        await context.close()

    # The township's mediator, on a phone: its hazards, then the evidence.
    context, page = await on_phone(browser, live_server, "baita.mediator")
    try:
        await page.get_by_role("link", name="平安督查").click()
        text = await body_text(page)
        assert "本单位隐患" in text and "白塔镇东溪水库" in text and "整改期限" in text
        assert "本周督查任务" not in text  # unannounced: the visited never see the plan
        await fits_the_screen(page)
        await shoot(page, screenshots / "inspection-unit-phone.png")
        await page.get_by_role("link", name=re.compile("白塔镇东溪水库")).click()
        await page.wait_for_url(f"{live_server}/staff/inspection/hazards/{hazard_id}")
        await page.get_by_label("整改材料（整改后的照片或PDF）").set_input_files(
            files=[{"name": "after.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps(64)}]
        )
        await page.get_by_label("整改情况说明").fill("围栏已修复，警示牌已设置")
        await page.get_by_role("button", name="提交整改材料").click()
        await page.wait_for_url(f"{live_server}/staff/inspection/hazards/{hazard_id}")
        text = await body_text(page)
        assert "整改材料已提交" in text and "待验收" in text
        await fits_the_screen(page)
    finally:
        await context.close()

    # The inspector verifies: struck off.
    context, page = await on_phone(browser, live_server, INSPECTOR)
    try:
        await page.goto(f"{live_server}/staff/inspection")
        waiting = page.locator("section", has=page.locator("#verify-h"))
        await waiting.get_by_role("link", name=re.compile("白塔镇东溪水库")).click()
        await page.wait_for_url(f"{live_server}/staff/inspection/hazards/{hazard_id}")
        assert "围栏已修复" in await body_text(page)
        await page.get_by_role("button", name="验收通过", exact=True).click()
        await page.wait_for_url(f"{live_server}/staff/inspection/hazards/{hazard_id}")
        text = await body_text(page)
        assert "已销号" in text and "回头看时间" in text
        await fits_the_screen(page)
        await shoot(page, screenshots / "inspection-struck-off-phone.png")
    finally:
        await context.close()

    headers = await site.auth("supervisor")

    async def struck_off():
        r = await site.get(f"/api/v1/inspection/hazards/{hazard_id}", headers=headers)
        return r.json() if r.status_code == 200 and r.json()["status"] == "struck_off" else None

    view = await poll(struck_off, "the hazard struck off")
    assert view["overdue"] is False and len(view["evidence"]) == 1


async def test_the_three_lists_export_and_open_with_openpyxl(browser, live_server, site):
    from openpyxl import load_workbook

    inspector = await site.auth(INSPECTOR)
    body = {
        "domain": "residential_fire",
        "township": "tianshi",
        "site": "田市镇幸福小区3幢",
        "description": "消防通道被电动车堵塞",
        "severity": "general",
        "unit": "xiaofang",
        "responsible": "物业经理张某",
        "measure": "清理通道，设置禁停标识",
    }
    r = await site.post("/api/v1/inspection/hazards", json=body, headers=inspector)
    assert r.status_code == 201, r.text
    hazard_id, hazard_no = r.json()["hazard_id"], r.json()["hazard_no"]
    site.started.append(site.env.client.get_workflow_handle(workflow_id(hazard_id)))

    async def recorded():
        r = await site.get(f"/api/v1/inspection/hazards/{hazard_id}", headers=inspector)
        return r.status_code == 200 and bool(r.json()["events"])

    await poll(recorded, "the hazard in the read model")

    context, page = await signed_in_page(browser, live_server, "supervisor")
    try:
        await page.get_by_role("link", name="平安督查").click()
        await page.get_by_role("link", name="三张清单").click()
        await page.wait_for_url(f"{live_server}/staff/inspection/lists/hazards")
        assert hazard_no in await body_text(page)
        for kind, title in (
            ("hazards", "问题隐患清单"),
            ("measures", "整改措施清单"),
            ("responsibilities", "责任清单"),
        ):
            await page.goto(f"{live_server}/staff/inspection/lists/{kind}")
            async with page.expect_download() as download:
                await page.get_by_role("link", name="导出Excel").click()
            got = await download.value
            assert got.suggested_filename.startswith(title) and got.suggested_filename.endswith(".xlsx")
            with open(await got.path(), "rb") as fh:
                book = load_workbook(io.BytesIO(fh.read()))
            cells = [str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row if c]
            assert hazard_no in cells, (kind, book.sheetnames)
            if kind == "measures":
                assert "清理通道，设置禁停标识" in cells
            if kind == "responsibilities":
                assert "物业经理张某" in cells
    finally:
        await context.close()
