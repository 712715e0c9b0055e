"""The staff console in Debian's chromium driven by Playwright, against the app under uvicorn with a real worker:
a clerk routes a case from the queue at a desk (1280 px); a mediator on a phone (360 px) accepts a team
invitation, records a mediation session and resolves; the county leader opens a red case and records the task
force's consultation."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest

from testkit.waiting import poll
from tests.pages.test_browser import body_text, fits_the_screen, shoot

pytestmark = pytest.mark.browser

DESK = {"width": 1280, "height": 900}
VAGUE = "我有点事情想反映一下，麻烦你们帮忙处理"


async def signed_in_page(browser, base: str, username: str, viewport=DESK, phone: bool = False):
    context = await browser.new_context(
        viewport=viewport, locale="zh-CN", is_mobile=phone, has_touch=phone, device_scale_factor=2 if phone else 1
    )
    page = await context.new_page()
    await page.goto(f"{base}/staff/")
    assert "/staff/login" in page.url
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill("wuhuan-demo")
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(f"{base}/staff/")
    return context, page


async def test_clerk_routes_a_case_from_the_queue(browser, live_server, site, screenshots):
    out = await site.intake(description=VAGUE)
    await site.settled(out["case_id"], lambda s: s.routing_attempted)
    context, page = await signed_in_page(browser, live_server, "clerk")
    try:
        await page.get_by_role("link", name="分流队列").click()
        assert out["case_no"] in await body_text(page)
        card = page.locator("section.triage-item", has_text=out["case_no"])
        await card.get_by_label("类别").select_option("neighbor")
        await card.get_by_label("承办单位").select_option("township")
        await card.get_by_label("属地乡镇").select_option("baita")
        await shoot(page, screenshots / "staff-triage.png")
        await card.get_by_role("button", name="分流").click()
        await page.wait_for_url(re.compile(r"/staff/cases/"))
        assert "已分流" in await body_text(page)
        view = await site.until(out["case_id"], lambda v: v["handler"] is not None)
        assert view["unit"] == "township" and view["township"] == "baita"
        await page.reload()
        await shoot(page, screenshots / "staff-case.png")
    finally:
        await context.close()


async def test_mediator_on_a_phone_accepts_records_and_resolves(browser, live_server, site, screenshots):
    case_id = (await site.intake())["case_id"]
    await site.teamed(case_id)
    context, page = await signed_in_page(browser, live_server, "baita.mediator", {"width": 360, "height": 740}, True)
    try:
        await fits_the_screen(page)
        await page.get_by_role("button", name="接受组团邀请").click()
        await page.wait_for_url(f"{live_server}/staff/")
        assert "已接受组团邀请" in await body_text(page)
        await shoot(page, screenshots / "staff-work-phone.png")
    finally:
        await context.close()
    context, page = await signed_in_page(browser, live_server, "renshe.mediator", {"width": 360, "height": 740}, True)
    try:
        await page.goto(f"{live_server}/staff/cases/{case_id}")
        await fits_the_screen(page)
        await page.locator("summary", has_text="记录调解").click()
        form = page.locator("details[open] form")
        await form.get_by_label("参加人员").fill("王小明、包工头李某")
        await form.get_by_label("调解情况").fill("双方同意分两期支付拖欠工资")
        await form.get_by_role("button", name="记录调解").click()
        await page.wait_for_url(re.compile(rf"/staff/cases/{case_id}$"))
        assert "调解记录已保存" in await body_text(page)
        await page.locator("summary", has_text="办结").click()
        form = page.locator("details[open] form")
        await form.get_by_label("办结结果").select_option("agreement")
        await form.get_by_label("办结情况").fill("签订调解协议，分两期结清")
        await form.get_by_role("button", name="办结").click()
        await page.wait_for_url(re.compile(rf"/staff/cases/{case_id}$"))
        text = await body_text(page)
        assert "已办结" in text and "签订调解协议" in text
        await fits_the_screen(page)
    finally:
        await context.close()
    assert (await site.case(case_id))["status"] == "resolved"


async def test_county_leader_opens_a_red_case_and_records_a_consultation(browser, live_server, site, screenshots):
    case_id = (await site.intake())["case_id"]
    await site.teamed(case_id)
    await site.env.sleep(timedelta(days=14, minutes=1))
    await site.until(case_id, lambda v: v["supervision_color"] == "red" and v["task_force"] is not None)
    context, page = await signed_in_page(browser, live_server, "county_leader")
    try:
        await page.get_by_role("link", name="红码专班").click()
        text = await body_text(page)
        assert "县领导领衔" in text and "牵头县领导" in text
        await shoot(page, screenshots / "staff-red.png")
        await page.get_by_role("link", name="打开案件（会商、督办）").first.click()
        await page.locator("summary", has_text="会商").click()
        form = page.locator("details[open] form")
        await form.get_by_label("参加人员").fill("人社局、白塔镇、县信访局")
        await form.get_by_label("会商决定").fill("人社局牵头约谈包工头，白塔镇三日内摸清工人名单")
        await form.get_by_role("button", name="会商").click()
        await page.wait_for_url(re.compile(rf"/staff/cases/{case_id}$"))
        assert "会商记录已保存" in await body_text(page)

        async def recorded():
            v = await site.case(case_id)
            return v if v["task_force"]["consultations"] else None

        view = await poll(recorded, "the consultation in the case view")
        assert "约谈包工头" in view["task_force"]["consultations"][0]["summary"]

        # The board shows it among the red cases, with a chart drawn by the vendored ECharts.
        await page.get_by_role("link", name="督办看板").click()
        red = page.locator("section", has=page.locator("#red-h"))
        assert view["case_no"] in await red.inner_text()
        await page.wait_for_selector("#chart-trend svg")
        await shoot(page, screenshots / "staff-board.png")
        async with page.expect_download() as download:
            await page.get_by_role("link", name="导出Excel").click()
        path = await (await download.value).path()
        from openpyxl import load_workbook

        assert (await download.value).suggested_filename.endswith(".xlsx")
        with open(path, "rb") as fh:
            book = load_workbook(io.BytesIO(fh.read()))
        assert {"按单位", "红码案件"} <= set(book.sheetnames)
        assert view["case_no"] in [c.value for c in book["红码案件"]["A"]]
        await page.goto(f"{live_server}/staff/board?wall=1")
        assert await page.locator('meta[http-equiv="refresh"]').count() == 1
        await shoot(page, screenshots / "staff-board-wall.png")
    finally:
        await context.close()


async def test_the_poster_prints_on_a4_and_its_code_opens_the_intake_page(browser, live_server, screenshots):
    from tests.pages.helpers import decode_qr

    context = await browser.new_context(viewport={"width": 794, "height": 1123}, locale="zh-CN")  # A4 at 96 dpi
    page = await context.new_page()
    try:
        await page.goto(f"{live_server}/poster")
        png = await page.screenshot(full_page=True)
        assert decode_qr(png) == [f"{live_server}/intake"]
        await shoot(page, screenshots / "poster.png")
        pdf = await page.pdf(format="A4", print_background=True)
        import io

        from pypdf import PdfReader

        assert len(PdfReader(io.BytesIO(pdf)).pages) == 1  # one sheet
    finally:
        await context.close()
