"""Pausing in Debian's chromium driven by Playwright, against the app under uvicorn with a real worker: the handler
pauses a case on its page (暂停计时), the citizen's tracking page says it waits and why, the handler resumes
(恢复计时) and the citizen's page says so."""

from __future__ import annotations

import pytest

from tests.pages.test_browser import body_text, shoot
from tests.pages.test_staff_browser import signed_in_page

pytestmark = pytest.mark.browser


async def test_a_handler_pauses_the_citizen_sees_it_the_handler_resumes(browser, live_server, site, screenshots):
    out = await site.intake()
    case_id, code = out["case_id"], out["tracking_code"]
    await site.teamed(case_id)
    context, page = await signed_in_page(browser, live_server, "renshe.mediator")
    citizen = await browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN", is_mobile=True)
    try:
        await page.goto(f"{live_server}/staff/cases/{case_id}")
        await page.locator("summary", has_text="暂停计时").click()
        form = page.locator("details[open] form")
        await form.get_by_label("暂停原因").fill("等待当事人补充工资条，电话13900001111")
        await form.get_by_role("button", name="暂停计时").click()
        await page.wait_for_url(f"{live_server}/staff/cases/{case_id}")
        text = await body_text(page)
        assert "已暂停计时" in text and "暂停计时中" in text and "等待当事人补充工资条" in text
        assert await page.locator("summary", has_text="恢复计时").count() == 1
        await shoot(page, screenshots / "staff-case-paused.png")

        track = await citizen.new_page()
        await track.goto(f"{live_server}/track/{code}")
        text = await body_text(track)
        assert "等待补充材料，计时暂停" in text and "等待当事人补充工资条" in text and "13900001111" not in text
        assert "‖ 暂停" in text  # the yellow and red clocks, standing still
        await shoot(track, screenshots / "track-paused.png")

        await page.locator("summary", has_text="恢复计时").click()
        form = page.locator("details[open] form")
        await form.get_by_label("说明（可选）").fill("当事人已补充材料")
        await form.get_by_role("button", name="恢复计时").click()
        await page.wait_for_url(f"{live_server}/staff/cases/{case_id}")
        text = await body_text(page)
        assert "已恢复计时" in text and "暂停计时中" not in text
        assert await page.locator("summary", has_text="暂停计时").count() == 1

        await site.until(case_id, lambda v: not v["paused"] and v["pauses"][0]["resumed_at"])
        await track.reload()
        text = await body_text(track)
        assert "恢复计时" in text and "‖ 暂停" not in text
    finally:
        await citizen.close()
        await context.close()
