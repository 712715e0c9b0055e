"""A citizen on a phone (360×740), in Debian's chromium driven by Playwright, against the app served by uvicorn
with a real worker: intake → receipt → the QR code decoded from the screen → the tracking page it opens → a
photo with a GPS position → staff resolve → rating 2 → review → the supervisor sends it back → re-opened.
A second test does the core flow with JavaScript switched off."""

from __future__ import annotations

import io
import re

import httpx
import pytest
from sqlmodel import select

from store.db import session
from store.tables import MaterialRow
from testkit.waiting import poll
from tests.pages.conftest import PHONE_VIEWPORT
from tests.pages.helpers import FORM, LABOUR, decode_qr, gps_of, jpeg_with_gps

pytestmark = pytest.mark.browser


async def phone(browser, javascript: bool = True):
    context = await browser.new_context(
        viewport=PHONE_VIEWPORT,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        java_script_enabled=javascript,
    )
    return context, await context.new_page()


async def fits_the_screen(page) -> None:
    """Nothing wider than the 360 px viewport (no sideways scrolling)."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_VIEWPORT["width"], f"{page.url} is {width} px wide"


async def shoot(page, path) -> None:
    """A full-page screenshot, reduced to a 256-colour PNG (text stays sharp, the file a third as big)."""
    from PIL import Image

    shot = Image.open(io.BytesIO(await page.screenshot(full_page=True)))
    shot.convert("RGB").quantize(256).save(path, optimize=True)


async def body_text(page) -> str:
    return re.sub(r"\s+", " ", await page.inner_text("body"))


async def staff_token(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await http.post("/api/v1/auth/token", data={"username": username, "password": "wuhuan-demo"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def until_status(http: httpx.AsyncClient, headers, case_id: str, statuses: set[str]) -> dict:
    async def view():
        v = (await http.get(f"/api/v1/cases/{case_id}", headers=headers)).json()
        return v if v.get("status") in statuses and v.get("handler") else None

    return await poll(view, f"the case to reach {statuses}")


async def test_phone_intake_receipt_qr_track_photo_rate_review_reopened(browser, live_server, site, screenshots):
    context, page = await phone(browser)
    try:
        # Intake: first an empty form, to see the messages, then the real request.
        await page.goto(f"{live_server}/intake")
        await fits_the_screen(page)
        await page.get_by_role("button", name="提交诉求").click()
        await page.wait_for_selector("#error-summary")
        text = await body_text(page)
        assert "请填写您遇到的问题或诉求" in text and "请勾选同意" in text
        await shoot(page, screenshots / "intake-errors.png")

        await page.goto(f"{live_server}/intake")
        await page.fill("#description", LABOUR)
        assert await page.inner_text("[data-count-for=description]") == str(len(LABOUR))  # the live counter
        await page.fill("#name", FORM["name"])
        await page.fill("#phone", FORM["phone"])
        await page.select_option("#township", label="白塔镇")
        await page.fill("#address", FORM["address"])
        await page.check("#consent")
        await shoot(page, screenshots / "intake.png")
        await page.get_by_role("button", name="提交诉求").click()

        # The receipt.
        await page.wait_for_url(re.compile(r"/track/[^/]+/receipt$"))
        await fits_the_screen(page)
        text = await body_text(page)
        case_no = re.search(r"MT\d{8}-\d{4}", text).group(0)
        assert "受理回执" in text and "3分钟内" in text and "5分钟内" in text
        code = await page.get_attribute("#tracking-code", "data-code")
        assert code and code in page.url
        await shoot(page, screenshots / "receipt.png")
        from api.receipt import find_cjk_font

        if find_cjk_font() is not None:  # the same receipt as a PNG for a slip printer
            slip = await page.request.get(f"{live_server}/track/{code}/receipt.png")
            assert slip.ok and decode_qr(await slip.body()) == [f"{live_server}/track/{code}"]
            (screenshots / "receipt-slip.png").write_bytes(await slip.body())
        qr_png = await page.locator("svg.qr").screenshot()
        urls = decode_qr(qr_png)
        assert urls == [f"{live_server}/track/{code}"], urls

        # The other phone: scan, open.
        scanner, tracker = await phone(browser)
        try:
            await tracker.goto(urls[0])
            text = await body_text(tracker)
            assert "办理进度" in text and case_no in text and "督办码：绿色" in text
            case_id = site.case_id(code)
            site.watch(case_id)

            async with httpx.AsyncClient(base_url=live_server) as http:
                sup = await staff_token(http, "supervisor")
                await until_status(http, sup, case_id, {"assigned", "team_formed", "mediating"})
                await tracker.reload()
                text = await body_text(tracker)
                assert "县人力社保局" in text and "白塔镇" in text and "县********" in text
                assert "县人力社保局调解员" not in text and FORM["phone"] not in text

                # A photo straight from the "camera", with its GPS position.
                await tracker.set_input_files(
                    "#file-camera", files=[{"name": "工地.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps()}]
                )
                await tracker.fill("#note", "工地大门照片")
                await tracker.locator("#material form").first.get_by_role("button", name="上传材料").click()
                await tracker.wait_for_selector(".flash-ok")
                text = await body_text(tracker)
                assert "材料已上传：工地.jpg" in text and "补充材料：工地.jpg" in text
                await fits_the_screen(tracker)
                await shoot(tracker, screenshots / "tracking.png")
                await site.settled(case_id, lambda s: bool(s.materials))
                with session(site.engine) as db:
                    stored = db.exec(select(MaterialRow).where(MaterialRow.case_id == case_id)).one()
                from services import uploads

                assert gps_of(uploads.path_of(site.settings.data_dir, stored.stored_name).read_bytes()) == {}

                # Staff resolve it; the citizen rates 2 and asks for a review.
                r = await http.post(
                    f"/api/v1/cases/{case_id}/resolve",
                    headers=sup,
                    json={"outcome": "agreement", "summary": "包工头承诺月底前付清"},
                )
                assert r.status_code == 200, r.text
                await tracker.reload()
                await tracker.get_by_text("2星 · 不满意").click()
                await tracker.fill("#comment", "钱还没拿到")
                await tracker.get_by_role("button", name="提交评价").click()
                await tracker.wait_for_selector("#review-form")
                text = await body_text(tracker)
                assert "感谢您的评价" in text and "2 星" in text
                await tracker.fill("#reason", "包工头又失联了，钱一分没付")
                await tracker.locator("#review-form").get_by_role("button", name="申请复核").click()
                await tracker.wait_for_selector(".flash-ok")
                text = await body_text(tracker)
                assert "复核申请已提交" in text and "复核中" in text

                # The supervisor sends it back for re-handling.
                r = await http.post(
                    f"/api/v1/cases/{case_id}/review-decision",
                    headers=sup,
                    json={"rehandle": True, "reason": "未见付款凭证，退回重新调解"},
                )
                assert r.status_code == 200, r.text
                assert r.json()["status"] == "mediating"
            await tracker.reload()
            text = await body_text(tracker)
            assert "复核决定：重新办理" in text and "未见付款凭证，退回重新调解" in text
            assert "调处中" in text and "提交评价" not in text
            current = await tracker.inner_text(".step-current .step-name")
            assert current == "调解"
            await fits_the_screen(tracker)
            await shoot(tracker, screenshots / "tracking-reopened.png")
        finally:
            await scanner.close()
    finally:
        await context.close()


async def test_core_flow_without_javascript(browser, live_server, site):
    context, page = await phone(browser, javascript=False)
    try:
        await page.goto(f"{live_server}/")
        await page.get_by_role("link", name="登记诉求").click()
        await page.fill("#description", "邻居家空调外机正对我家窗户，噪音很大")
        await page.fill("#name", "李四")
        await page.fill("#phone", "0576-87654321")
        await page.get_by_role("button", name="提交诉求").click()
        await page.wait_for_selector("#error-summary")  # no consent yet: told so, values kept
        assert await page.input_value("#phone") == "0576-87654321"
        await page.check("#consent")
        await page.get_by_role("button", name="提交诉求").click()
        await page.wait_for_url(re.compile(r"/receipt$"))
        code = await page.get_attribute("#tracking-code", "data-code")
        site.watch(site.case_id(code))
        assert not await page.locator("[data-print]").is_visible()  # the print button needs JavaScript

        # Look the case up by the code typed by hand, in groups, as printed.
        await page.goto(f"{live_server}/")
        await page.fill("#code", " ".join(code[i : i + 4] for i in range(0, len(code), 4)))
        await page.get_by_role("button", name="查询进度").click()
        await page.wait_for_url(re.compile(r"/track/[^/]+$"))
        await page.fill("#text", "晚上十点后还在响")
        await page.get_by_role("button", name="提交更新").click()
        await page.wait_for_selector(".flash-ok")
        assert "已收到您更新的诉求" in await body_text(page)
        await fits_the_screen(page)
    finally:
        await context.close()
