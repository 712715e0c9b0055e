"""The inspection reports in the staff console: the three lists with filters and `导出Excel`, the exposure list,
the re-training roster with the supervisor's attendance buttons, summonses marked held, the figures board and the
inspection panel on the supervision board — over the real app with the hand-worked county of
tests/services/inspection_county.py seeded around the real clock."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from services.exports import XLSX
from store.db import session
from store.tables import RetrainingEnrolment, Summons
from tests.pages.staff_helpers import csrf_of, sign_in, text_of
from tests.services.inspection_county import seed


@pytest.fixture
def county(engine):
    seed(engine, datetime.now(UTC))
    return engine


async def test_the_three_lists_filter_and_export(site, county):
    await sign_in(site.http, "supervisor")
    r = await site.get("/staff/inspection/lists/hazards")
    assert r.status_code == 200, r.text
    text = text_of(r.text)
    assert "问题隐患清单" in text and "H01" in text and "H12" in text and "导出Excel" in text
    assert 'class="table-wrap"' in r.text  # tables scroll sideways on a phone

    r = await site.get("/staff/inspection/lists/measures", params={"township": "baita", "status": "struck_off"})
    text = text_of(r.text)
    assert "整改措施清单" in text and "H02" in text and "H01" not in text and "待回头看" in text
    assert 'href="/staff/inspection/lists/measures.xlsx?township=baita&amp;status=struck_off"' in r.text

    r = await site.get("/staff/inspection/lists/measures.xlsx", params={"township": "baita", "status": "struck_off"})
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    rows = list(load_workbook(BytesIO(r.content))["整改措施清单"].iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == ["H02"]

    r = await site.get("/staff/inspection/lists/responsibilities")
    text = text_of(r.text)
    assert "单位主要领导" in text and "张三" in text and "待约谈" in text
    assert (await site.get("/staff/inspection/lists/people")).status_code == 404
    assert (await site.get("/staff/inspection/lists/hazards", params={"status": "lost"})).status_code == 422


async def test_a_leader_sees_only_their_units_hazards(site, county):
    await sign_in(site.http, "jiaojing.leader")
    text = text_of((await site.get("/staff/inspection/lists/hazards")).text)
    assert "H03" in text and "H12" in text and "H01" not in text and "H09" not in text
    text = text_of((await site.get("/staff/inspection/exposure")).text)
    assert "H03" in text and "H09" not in text
    r = await site.get("/staff/inspection/retraining")
    assert "张三" in text_of(r.text) and "李四" not in text_of(r.text)
    assert "/attendance" not in r.text  # no attendance buttons but for the supervisor


async def test_clerks_are_refused(site, county):
    await sign_in(site.http, "clerk")
    for path in ("/staff/inspection/lists/hazards", "/staff/inspection/exposure", "/staff/inspection/board"):
        r = await site.get(path)
        assert r.status_code == 403 and "H01" not in r.text


async def test_exposure_page(site, county):
    await sign_in(site.http, "auditor")
    r = await site.get("/staff/inspection/exposure")
    text = text_of(r.text)
    assert r.status_code == 200 and "曝光台" in text
    assert text.index("H03") < text.index("H04")  # still open first
    assert "仍未整改" in text and "逾期天数" in text


async def test_attendance_is_marked_by_the_supervisor(site, county):
    await sign_in(site.http, "supervisor")
    r = await site.get("/staff/inspection/retraining")
    assert "到场" in r.text and "缺席" in r.text
    with session(county) as db:
        zhang = db.exec(select(RetrainingEnrolment).where(RetrainingEnrolment.person == "张三")).one()
    url = f"/staff/inspection/retraining/{zhang.id}/attendance"
    token = csrf_of(r.text)
    r = await site.post(url, data={"attended": "yes"})  # no CSRF token: nothing changes
    assert r.status_code == 403
    with session(county) as db:
        assert db.get(RetrainingEnrolment, zhang.id).attended is None
    r = await site.post(url, data={"attended": "yes", "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/staff/inspection/retraining"
    page = await site.get("/staff/inspection/retraining")
    assert "已登记：张三" in text_of(page.text)
    with session(county) as db:
        zhang = db.get(RetrainingEnrolment, zhang.id)
    assert (zhang.attended, zhang.marked_by) == (True, "supervisor")


async def test_a_summons_is_marked_held(site, county):
    await sign_in(site.http, "county_leader")
    r = await site.get("/staff/inspection/summonses")
    assert "已约谈" in r.text and "县公安局交警大队" in text_of(r.text)
    with session(county) as db:
        summons = db.exec(select(Summons)).one()
    url, token = f"/staff/inspection/summonses/{summons.id}/held", csrf_of(r.text)
    r = await site.post(url, data={"note": "约谈交警大队主要负责人", "csrf_token": token})
    assert r.status_code == 303
    text = text_of((await site.get("/staff/inspection/summonses")).text)
    assert "约谈交警大队主要负责人" in text and "0 待约谈" in text
    r = await site.post(url, data={"csrf_token": token})
    assert r.status_code == 303  # already held: back to the list with the message
    assert "已登记为已约谈" in text_of((await site.get("/staff/inspection/summonses")).text)


async def test_the_figures_board_and_the_supervision_panel(site, county):
    await sign_in(site.http, "supervisor")
    r = await site.get("/staff/inspection/board")
    assert r.status_code == 200, r.text
    text = text_of(r.text)
    # The hand-worked county: 5 of 10 due struck off on time, 4 of 5 re-checks done, 3 overdue now.
    assert "50.0%" in text and "80.0%" in text and "当前逾期未整改" in text
    assert 'id="inspection-data"' in r.text and "/static/vendor/echarts/echarts.min.js" in r.text
    assert "第5片区" in text and "导出Excel" in text
    r = await site.get("/staff/inspection/board.xlsx", params={"district": "2"})
    wb = load_workbook(BytesIO(r.content))
    overview = {row[0]: row[1] for row in wb["概览"].iter_rows(min_row=2, values_only=True)}
    assert overview["整改率（按期销号/到期）"] == 0.75  # baita: H01 H02 H05 of H01 H02 H05 H09

    r = await site.get("/staff/board")
    assert r.status_code == 200
    text = text_of(r.text)
    assert "隐患整改率" in text and "50.0%" in text and "回头看率" in text and "隐患当前逾期" in text
    assert 'href="/staff/inspection/board"' in r.text


@pytest.mark.browser
async def test_in_a_browser_the_list_exports_and_the_board_draws(browser, live_server, county, screenshots):
    """A supervisor downloads the responsibilities list from its page and opens it with openpyxl; a leader on a
    360 px phone reads the exposure list (the table scrolls inside its frame, the page does not) and the board
    draws its charts with the vendored ECharts."""
    from tests.pages.conftest import PHONE_VIEWPORT
    from tests.pages.test_browser import fits_the_screen, shoot
    from tests.pages.test_staff_browser import signed_in_page

    context, page = await signed_in_page(browser, live_server, "supervisor")
    try:
        await page.goto(f"{live_server}/staff/inspection/lists/responsibilities")
        await page.get_by_label("责任单位").select_option("jiaojing")
        await page.get_by_role("button", name="筛选").click()
        await page.wait_for_url("**unit=jiaojing**")
        async with page.expect_download() as download:
            await page.get_by_role("link", name="导出Excel").click()
        assert (await download.value).suggested_filename.endswith(".xlsx")
        with open(await (await download.value).path(), "rb") as fh:
            rows = list(load_workbook(BytesIO(fh.read()))["责任清单"].iter_rows(values_only=True))
        assert rows[0][:4] == ("编号", "责任单位", "责任人", "单位主要领导")
        assert sorted(r[0] for r in rows[1:]) == ["H03", "H04", "H12"]
        await page.goto(f"{live_server}/staff/inspection/board")
        await page.wait_for_selector("#chart-district svg")
        await page.wait_for_selector("#chart-units svg")
        await shoot(page, screenshots / "staff-inspection-board.png")
    finally:
        await context.close()

    context, page = await signed_in_page(browser, live_server, "jiaojing.leader", PHONE_VIEWPORT, phone=True)
    try:
        await page.goto(f"{live_server}/staff/inspection/exposure")
        assert "H03" in await page.inner_text("body")
        await fits_the_screen(page)  # the table scrolls inside its frame
        await shoot(page, screenshots / "staff-inspection-exposure-phone.png")
    finally:
        await context.close()
