"""The staff console over HTTP (httpx on the real app, the time-skipping Temporal server, a real worker and
read model): signing in and out, the clerk's queue, the steps of a case, jurisdiction, CSRF, escaping."""

from __future__ import annotations

import re

import httpx
import pytest_asyncio

from tests.pages.staff_helpers import csrf_of, sign_in, step_buttons, text_of

VAGUE = "我有点事情想反映一下，麻烦你们帮忙处理"


@pytest_asyncio.fixture
async def browser_like(app):
    """A second client with its own cookie jar: another person at another desk."""

    def make() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")

    return make


async def test_login_page_session_cookie_and_logout(site):
    http = site.http
    r = await http.get("/staff/cases/whatever")
    assert r.status_code == 303 and r.headers["location"].startswith("/staff/login?next=")
    page = (await http.get("/staff/login")).text
    assert "用户名" in page and "密码" in page and ">登录<" in page

    r = await http.post("/staff/login", data={"username": "clerk", "password": "wrong", "next": "/staff/"})
    assert r.status_code == 401 and "用户名或密码错误" in text_of(r.text)
    assert "wuhuan_staff" not in r.headers.get("set-cookie", "")

    r = await http.post("/staff/login", data={"username": "clerk", "password": "wuhuan-demo", "next": "/staff/"})
    assert r.status_code == 303 and r.headers["location"] == "/staff/"
    cookie = r.headers["set-cookie"]
    assert "wuhuan_staff=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    # An open redirect is not offered: `next` outside the console lands on the console.
    r = await http.post(
        "/staff/login", data={"username": "clerk", "password": "wuhuan-demo", "next": "https://evil.example/"}
    )
    assert r.headers["location"] == "/staff/"

    home = await http.get("/staff/")
    assert home.status_code == 200 and "工作台" in home.text and "分流队列" in home.text
    session = http.cookies.get("wuhuan_staff")
    r = await http.post("/staff/logout", data={"csrf_token": csrf_of(home.text)})
    assert r.status_code == 303
    # The old cookie no longer opens anything, even if a copy of it was kept.
    http.cookies.set("wuhuan_staff", session)
    assert (await http.get("/staff/")).status_code == 303


async def test_clerk_routes_a_case_from_the_queue(site):
    out = await site.intake(description=VAGUE)
    case_id = out["case_id"]
    await site.settled(case_id, lambda s: s.routing_attempted)
    csrf = await sign_in(site.http, "clerk")
    queue = await site.http.get("/staff/triage")
    assert queue.status_code == 200 and out["case_no"] in queue.text and ">分流<" in queue.text
    r = await site.http.post(
        f"/staff/cases/{case_id}/steps/triage",
        data={"csrf_token": csrf, "category": "neighbor", "unit": "township", "township": "baita"},
    )
    assert r.status_code == 303 and r.headers["location"] == f"/staff/cases/{case_id}"
    page = await site.http.get(r.headers["location"])
    assert "已分流" in text_of(page.text)
    view = await site.until(case_id, lambda v: v["status"] != "received")
    assert (view["category"], view["unit"], view["township"]) == ("neighbor", "township", "baita")
    assert out["case_no"] not in (await site.http.get("/staff/triage")).text


async def test_a_cross_site_post_changes_nothing(site):
    out = await site.intake(description=VAGUE)
    case_id = out["case_id"]
    await site.settled(case_id, lambda s: s.routing_attempted)
    await sign_in(site.http, "clerk")
    for token in (None, "forged"):
        data = {"category": "neighbor", "unit": "township", "township": "baita"}
        if token:
            data["csrf_token"] = token
        r = await site.http.post(f"/staff/cases/{case_id}/steps/triage", data=data)
        assert r.status_code == 403 and r.json()["detail"]["code"] == "csrf_failed"
    assert (await site.case(case_id))["status"] == "received"


async def test_mediator_accepts_records_a_session_and_resolves(site, browser_like):
    case_id = (await site.intake())["case_id"]
    await site.teamed(case_id)
    async with browser_like() as member:
        csrf = await sign_in(member, "baita.mediator")
        work = (await member.get("/staff/")).text
        assert 'id="inv-h"' in work and ">接受组团邀请<" in work
        r = await member.post(f"/staff/cases/{case_id}/steps/accept_team", data={"csrf_token": csrf})
        assert r.status_code == 303
        after = (await member.get("/staff/")).text
        assert 'id="inv-h"' not in after and "已接受组团邀请" in after  # the answer, shown once
    async with browser_like() as handler:
        csrf = await sign_in(handler, "renshe.mediator")
        page = (await handler.get(f"/staff/cases/{case_id}")).text
        offered = step_buttons(page)
        assert {"记录调解", "办结", "撤回", "组团"} <= offered
        assert not offered & {"督办", "分流", "交办", "不予受理"}  # not this person's steps
        assert "已接受" in page
        r = await handler.post(
            f"/staff/cases/{case_id}/steps/record_mediation",
            data={
                "csrf_token": csrf,
                "held_at": "2026-01-05T09:30",
                "participants": "王小明、包工头李某",
                "summary": "双方同意分期支付",
            },
        )
        assert r.status_code == 303
        page = (await handler.get(f"/staff/cases/{case_id}")).text
        assert "调解记录已保存" in page and "双方同意分期支付" in page
        r = await handler.post(
            f"/staff/cases/{case_id}/steps/resolve",
            data={"csrf_token": csrf, "outcome": "agreement", "summary": "签订调解协议，分两期结清"},
        )
        assert r.status_code == 303
        assert "已办结" in text_of((await handler.get(f"/staff/cases/{case_id}")).text)
    assert (await site.case(case_id))["status"] == "resolved"


async def test_a_refused_step_is_shown_and_changes_nothing(site):
    case_id = (await site.intake())["case_id"]
    await site.teamed(case_id)
    csrf = await sign_in(site.http, "renshe.mediator")
    r = await site.http.post(
        f"/staff/cases/{case_id}/steps/resolve", data={"csrf_token": csrf, "outcome": "x", "summary": ""}
    )
    assert r.status_code == 303
    page = text_of((await site.http.get(f"/staff/cases/{case_id}")).text)
    assert "请检查" in page
    assert (await site.case(case_id))["status"] != "resolved"


async def test_another_unit_gets_nothing_of_the_case(site):
    out = await site.intake(description="我在白塔镇的工地干活，老板拖欠我工资三个月<script>alert(1)</script>")
    case_id = out["case_id"]
    await site.teamed(case_id)
    await sign_in(site.http, "fulian.mediator")
    r = await site.http.get(f"/staff/cases/{case_id}")
    assert r.status_code == 403
    assert out["case_no"] not in r.text and "拖欠" not in r.text
    assert out["case_no"] not in (await site.http.get("/staff/")).text
    # Someone who may see it sees the citizen's HTML as text.
    await sign_in(site.http, "supervisor")
    page = (await site.http.get(f"/staff/cases/{case_id}")).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


async def test_auditor_reads_history_replays_and_downloads_the_dossier(site):
    case_id = (await site.intake())["case_id"]
    await site.teamed(case_id)
    csrf = await sign_in(site.http, "auditor")
    page = await site.http.get(f"/staff/cases/{case_id}/history")
    assert page.status_code == 200 and "受理登记" in page.text and "回放验证" in page.text
    r = await site.http.post(f"/staff/cases/{case_id}/replay", data={"csrf_token": csrf})
    assert r.status_code == 200 and "回放一致" in text_of(r.text)
    pdf = await site.http.get(f"/staff/cases/{case_id}/dossier.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    log = text_of((await site.http.get(f"/staff/access-log?case_id={case_id}")).text)
    assert len(re.findall("auditor", log)) >= 3 and "回放" in log and "卷宗" in log


async def test_handler_uploads_the_agreement_and_only_the_case_people_can_open_it(site, browser_like):
    case_id = (await site.intake())["case_id"]
    await site.teamed(case_id)
    csrf = await sign_in(site.http, "renshe.mediator")
    pdf = one_page_pdf()  # a real one: PDFs are rebuilt page by page, and a file without pages is refused
    r = await site.http.post(
        f"/staff/cases/{case_id}/steps/add_material",
        data={"csrf_token": csrf, "note": "调解协议"},
        files={"file": ("协议.pdf", pdf, "application/pdf")},
    )
    assert r.status_code == 303
    page = (await site.http.get(f"/staff/cases/{case_id}")).text
    assert "材料已上传" in page and "调解协议" in page
    link = re.search(rf'href="(/staff/cases/{case_id}/materials/[0-9a-f]+)"', page).group(1)
    opened = await site.http.get(link)
    assert opened.status_code == 200 and opened.headers["content-type"] == "application/pdf"
    async with browser_like() as other:
        await sign_in(other, "fulian.mediator")
        assert (await other.get(link)).status_code == 403
    # Without the form's token nothing is stored.
    r = await site.http.post(
        f"/staff/cases/{case_id}/steps/add_material", files={"file": ("x.pdf", pdf, "application/pdf")}
    )
    assert r.status_code == 403
    assert len((await site.case(case_id))["materials"]) == 1


async def test_case_list_filters_pages_and_exports_within_jurisdiction(site, browser_like):
    import io

    from openpyxl import load_workbook

    first = await site.intake()
    other = await site.intake(description="我是白塔镇的，我家邻居盖房子占了我家的宅基地，多次协商无果")
    for out in (first, other):
        await site.settled(out["case_id"], lambda s: s.handler is not None)
    await sign_in(site.http, "supervisor")
    page = (await site.http.get("/staff/cases?unit=renshe")).text
    assert first["case_no"] in page and other["case_no"] not in page
    r = await site.http.get("/staff/cases/export.xlsx?unit=renshe")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    book = load_workbook(io.BytesIO(r.content))
    cells = [c.value for row in book.worksheets[0].iter_rows() for c in row]
    assert first["case_no"] in cells and other["case_no"] not in cells
    assert "13800001234" not in [str(c) for c in cells]  # phones masked as in the list
    async with browser_like() as leader:
        await sign_in(leader, "fulian.leader")
        assert first["case_no"] not in (await leader.get("/staff/cases")).text
        r = await leader.get("/staff/cases/export.xlsx")
        book = load_workbook(io.BytesIO(r.content))
        cells = [c.value for row in book.worksheets[0].iter_rows() for c in row]
        assert first["case_no"] not in cells and other["case_no"] not in cells


async def test_clerk_registers_a_walk_in_request_and_prints_the_receipt(site):
    csrf = await sign_in(site.http, "clerk")
    form = {
        "csrf_token": csrf,
        "channel": "clerk",
        "description": "白塔镇某工地拖欠我们工资三个月",
        "name": "李四",
        "phone": "12345",
        "address": "",
        "township": "",
        "category": "",
    }
    r = await site.http.post("/staff/intake", data=form)
    assert r.status_code == 422 and "电话号码格式不正确" in text_of(r.text)
    assert "白塔镇某工地拖欠我们工资三个月" in r.text  # what was typed is kept
    r = await site.http.post("/staff/intake", data={**form, "phone": "13900001111"})
    assert r.status_code == 303 and r.headers["location"].endswith("/receipt")
    code = r.headers["location"].split("/track/")[1].split("/")[0]
    case_id = site.case_id(code)
    site.watch(case_id)
    view = await site.case(case_id)
    assert view["intake"]["channel"] == "clerk" and view["intake"]["intake_by"] == "clerk"
    receipt = await site.http.get(r.headers["location"])
    assert receipt.status_code == 200 and view["case_no"] in receipt.text
    # A mediator does not register requests.
    await sign_in(site.http, "renshe.mediator")
    assert (await site.http.get("/staff/intake")).status_code == 403


def one_page_pdf() -> bytes:
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
