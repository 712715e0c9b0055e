"""The clocks on the staff console (httpx on the real app, the time-skipping server, a real worker and read model):
`暂停计时`, `恢复计时`, `申请延期`, `审批延期` and `退回` offered only to whom and when the workflow allows, their
forms working, what the case page, the citizen's tracking page and the clerks' queue then say."""

from __future__ import annotations

import httpx
import pytest_asyncio

from tests.pages.staff_helpers import sign_in, step_buttons, text_of

DEBT = "邻居老李前年借了我两万元，写了借条，到期后一直拖着不还，多次催讨无果"
CLOCK_BUTTONS = {"暂停计时", "恢复计时", "申请延期", "审批延期", "退回"}


@pytest_asyncio.fixture
async def desk(app):
    """Another person at another desk: a client with its own cookie jar."""

    def make() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")

    return make


async def test_pause_and_resume_on_the_case_page_and_the_citizen_sees_it(site, desk):
    out = await site.intake()
    case_id, code = out["case_id"], out["tracking_code"]
    await site.teamed(case_id)
    url = f"/staff/cases/{case_id}"
    async with desk() as handler:
        csrf = await sign_in(handler, "renshe.mediator")
        page = (await handler.get(url)).text
        assert step_buttons(page) & CLOCK_BUTTONS == {"暂停计时", "申请延期"}
        r = await handler.post(f"{url}/steps/pause", data={"csrf_token": csrf, "reason": " "})
        assert r.status_code == 303
        assert "理由" in text_of((await handler.get(url)).text)  # refused: a reason is required
        r = await handler.post(
            f"{url}/steps/pause", data={"csrf_token": csrf, "reason": "等待当事人补充工资条，电话13900001111"}
        )
        assert r.status_code == 303 and r.headers["location"] == url
        page = (await handler.get(url)).text
        text = text_of(page)
        assert "已暂停计时" in text and "暂停计时中" in text and "等待当事人补充工资条" in text
        assert step_buttons(page) & CLOCK_BUTTONS == {"恢复计时", "申请延期"}

        track = text_of((await site.http.get(f"/track/{code}")).text)
        assert "等待补充材料，计时暂停" in track and "等待当事人补充工资条" in track
        assert "13900001111" not in track  # the staff's words, the phone number masked

        r = await handler.post(f"{url}/steps/resume", data={"csrf_token": csrf, "note": "材料已补齐"})
        assert r.status_code == 303
        page = (await handler.get(url)).text
        text = text_of(page)
        assert "已恢复计时" in text and "恢复计时" in text and "暂停计时中" not in text
        assert step_buttons(page) & CLOCK_BUTTONS == {"暂停计时", "申请延期"}
    await site.until(case_id, lambda v: not v["paused"] and len(v["pauses"]) == 1)
    track = text_of((await site.http.get(f"/track/{code}")).text)
    assert "等待补充材料，计时暂停：" in track  # in the record
    assert "恢复计时" in track and "计时暂停（自" not in track


async def test_an_extension_asked_and_approved_through_the_forms(site, desk):
    case_id = (await site.intake())["case_id"]
    await site.teamed(case_id)
    url = f"/staff/cases/{case_id}"
    async with desk() as handler:
        csrf = await sign_in(handler, "renshe.mediator")
        for days in ("", "abc", "0"):
            r = await handler.post(
                f"{url}/steps/request_extension", data={"csrf_token": csrf, "days": days, "reason": "等结算"}
            )
            assert r.status_code == 303
            assert "延期天数" in text_of((await handler.get(url)).text)
        r = await handler.post(f"{url}/steps/request_extension", data={"csrf_token": csrf, "days": "91", "reason": "x"})
        assert "不能超过 90 天" in text_of((await handler.get(url)).text)
        r = await handler.post(
            f"{url}/steps/request_extension", data={"csrf_token": csrf, "days": "3", "reason": "需等待工程款结算"}
        )
        page = (await handler.get(url)).text
        assert "延期申请已提交" in text_of(page) and "待审批" in page
        assert "申请延期" not in step_buttons(page) and "审批延期" not in step_buttons(page)
    async with desk() as leader:
        csrf = await sign_in(leader, "renshe.leader")
        page = (await leader.get(url)).text
        assert "审批延期" in step_buttons(page)
        assert "申请延期" not in step_buttons(page)  # only the handler asks
        assert "申请延期 3天" in text_of(page) and "需等待工程款结算" in text_of(page)
        r = await leader.post(
            f"{url}/steps/decide_extension", data={"csrf_token": csrf, "approve": "yes", "reason": "同意延期3天"}
        )
        assert r.status_code == 303
        page = (await leader.get(url)).text
        assert "延期审批意见已保存" in text_of(page) and "已批准" in text_of(page)
        assert "审批延期" not in step_buttons(page)
    view = await site.until(case_id, lambda v: any(e["status"] == "approved" for e in v["extensions"]))
    assert view["extensions"][0]["decided_by"] == "renshe.leader"
    async with desk() as auditor:
        await sign_in(auditor, "supervisor")
        text = text_of((await auditor.get(url)).text)
        assert "批准延期" in text and "黄码期限顺延至" in text  # the timeline


async def test_send_back_twice_and_the_clerks_queue(site, desk):
    out = await site.intake(description=DEBT)
    case_id = out["case_id"]
    view = await site.until(case_id, lambda v: v["status"] == "assigned")
    unit = view["unit"] if view["unit"] != "township" else view["township"]
    url = f"/staff/cases/{case_id}"
    async with desk() as clerk:
        clerk_csrf = await sign_in(clerk, "clerk")
        assert not step_buttons((await clerk.get(url)).text) & CLOCK_BUTTONS
        async with desk() as sender:
            csrf = await sign_in(sender, f"{unit}.leader")
            assert "退回" in step_buttons((await sender.get(url)).text)
            r = await sender.post(
                f"{url}/steps/send_back", data={"csrf_token": csrf, "reason": "属民间借贷，非本单位职责"}
            )
            assert r.status_code == 303
            assert "案件已退回中心重新分流" in text_of((await sender.get(url)).text)
            await site.until(case_id, lambda v: v["status"] == "received")
            queue = text_of((await clerk.get("/staff/triage")).text)
            assert out["case_no"] in queue and "第1次退回" in queue and "属民间借贷，非本单位职责" in queue
            assert "由督办员决定分流" not in queue
            r = await clerk.post(
                f"{url}/steps/triage",
                data={
                    "csrf_token": clerk_csrf,
                    "category": view["category"],
                    "unit": view["unit"],
                    "township": view["township"] or "",
                },
            )
            assert r.status_code == 303
            await site.until(case_id, lambda v: v["status"] == "assigned")
            r = await sender.post(f"{url}/steps/send_back", data={"csrf_token": csrf, "reason": "仍非本单位职责"})
            assert r.status_code == 303
        await site.until(case_id, lambda v: v["status"] == "received" and len(v["sent_back"]) == 2)
        queue = (await clerk.get("/staff/triage")).text
        assert "第2次退回" in text_of(queue) and "由督办员决定分流" in text_of(queue)
        assert f'action="/staff/cases/{case_id}/steps/triage"' not in queue  # not offered to a clerk
        assert "分流" not in step_buttons((await clerk.get(url)).text)
    async with desk() as supervisor:
        await sign_in(supervisor, "supervisor")
        queue = (await supervisor.get("/staff/triage")).text
        assert f'action="/staff/cases/{case_id}/steps/triage"' in queue
        page = (await supervisor.get(url)).text
        assert "分流" in step_buttons(page) and "退回 2" in text_of(page).replace("\n", " ")


async def test_a_task_force_on_the_case_page(site, desk, engine):
    """The joint mechanism's task force: the county leader who leads, its members and its deadline."""
    from datetime import timedelta

    from sqlmodel import select

    from store.db import session
    from store.tables import TaskForceRow

    case_id = (await site.intake())["case_id"]
    await site.teamed(case_id)
    await site.env.sleep(timedelta(days=15))  # red: the task force forms
    view = await site.until(case_id, lambda v: v["task_force"] is not None and v["task_force"].get("members"))
    tf = view["task_force"]
    async with desk() as leader:
        await sign_in(leader, tf["led_by"])
        page = text_of((await leader.get(f"/staff/cases/{case_id}")).text)
        assert "县领导领衔专班" in page and "专班成员" in page
        if tf.get("deadline"):
            assert "破难期限" in page
    with session(engine) as db:
        row = db.exec(select(TaskForceRow).where(TaskForceRow.case_id == case_id)).one()
        assert row.members == tf["members"]
