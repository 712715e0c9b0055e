"""The citizen's pages over HTTP (no browser): forms, messages, the receipt, the tracking page, errors."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlmodel import select

from api import receipt
from services import codes as intake_codes
from store.db import session
from store.tables import MaterialRow, TrackingCode
from tests.api.conftest import assert_error, make_settings
from tests.pages.helpers import (
    FORM,
    NAME,
    PHONE,
    code_from,
    decode_qr,
    field_errors,
    gps_of,
    input_value,
    jpeg_with_gps,
    selected,
    text_of,
    textarea,
)

CODE_PAGE_HEADERS = {"cache-control": "no-store", "referrer-policy": "no-referrer"}


def assert_private(r: httpx.Response) -> None:
    for name, value in CODE_PAGE_HEADERS.items():
        assert r.headers.get(name) == value, (name, r.headers.get(name))


async def submit(site, **over) -> httpx.Response:
    return await site.post("/intake", data={**FORM, **over})


async def watched(http: httpx.AsyncClient, engine, env, cases, location: str) -> str:
    """The case a receipt location belongs to, terminated after the test."""
    from workflows.dispute_case import workflow_id

    with session(engine) as db:
        case_id = intake_codes.case_for_code(db, code_from(location))
    cases.append(env.client.get_workflow_handle(workflow_id(case_id)))
    return case_id


async def test_home_and_intake_form(site):
    home = await site.get("/")
    assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
    page = text_of(home.text)
    assert "登记诉求" in page and "查询进度" in page and 'action="/track"' in home.text
    assert "3分钟" in page and "5分钟" in page
    assert "/static/wuhuan.css" in home.text and "http" not in re.sub(r'https?://www\.w3\.org[^"]*', "", home.text)

    r = await site.get("/intake")
    assert r.status_code == 200
    assert_private(r)
    from domain.taxonomy import get_taxonomy

    tx = get_taxonomy()
    options = re.findall(r'<option value="([^"]*)"', r.text)
    assert all(t.code in options for t in tx.townships) and len(tx.townships) == 20
    assert all(t.zh in r.text for t in tx.townships)
    assert all(c.code in options and c.zh in r.text for c in tx.dispute_categories) and len(tx.dispute_categories) == 16
    assert selected(r.text, "category") == "" and "不确定" in r.text
    assert 'name="consent"' in r.text and "只用于办理本次诉求" in r.text
    assert 'maxlength="500"' in r.text and "最多 500 字" in r.text  # the test settings' description limit
    assert 'name="channel" value="web"' in r.text
    kiosk = await site.get("/intake?channel=kiosk")
    assert 'name="channel" value="kiosk"' in kiosk.text and 'class="kiosk"' in kiosk.text

    css = await site.get("/static/wuhuan.css")
    assert css.status_code == 200 and "@media print" in css.text


async def test_intake_errors_are_shown_next_to_the_fields_and_the_values_are_kept(site):
    r = await submit(site, description="  ", phone="12345", consent="")
    assert r.status_code == 422
    errors = field_errors(r.text)
    assert set(errors) == {"description", "phone", "consent"}, errors
    assert errors["description"] == "请填写您遇到的问题或诉求"
    assert "电话号码格式不正确" in errors["phone"]
    assert "请勾选同意" in errors["consent"]
    assert input_value(r.text, "name") == NAME and input_value(r.text, "phone") == "12345"
    assert input_value(r.text, "address") == FORM["address"] and selected(r.text, "township") == "baita"
    assert 'aria-invalid="true"' in r.text and "有 3 处需要修改" in r.text

    r = await submit(site, description="长" * 501, name="", township="nowhere", category="nothing")
    errors = field_errors(r.text)
    assert r.status_code == 422 and set(errors) == {"description", "name", "township", "category"}, errors
    assert errors["description"] == "诉求内容不能超过 500 字（现有 501 字）"
    assert textarea(r.text, "description") == "长" * 501

    r = await submit(site, address="地" * 201)
    assert r.status_code == 422 and set(field_errors(r.text)) == {"address"}

    with session(site.engine) as db:  # nothing was registered
        assert db.exec(select(TrackingCode)).all() == []


async def test_intake_gives_a_receipt_with_qr_code_and_promised_times(site, settings):
    r = await submit(site, phone="138 0000 1234", category="labor")
    assert r.status_code == 303
    assert_private(r)
    code = code_from(r.headers["location"])
    case_id = site.case_id(code)
    site.watch(case_id)

    page = await site.get(r.headers["location"])
    assert page.status_code == 200, page.text
    assert_private(page)
    text = text_of(page.text)
    case_no = re.search(r"MT\d{8}-\d{4}", text).group(0)
    view = await site.case(case_id)
    assert view["case_no"] == case_no and view["intake"]["channel"] == "web"
    assert view["intake"]["township_hint"] == "baita" and view["intake"]["category_hint"] == "labor"
    assert receipt.grouped_code(code) in text and code in page.text
    assert "<svg" in page.text and 'class="qr"' in page.text
    for words in ("3分钟内", "5分钟内", "1小时内", "超过7天", "超过14天", "申请复核"):
        assert words in text, words
    assert NAME not in text and PHONE not in text  # the receipt names no one
    assert "@media print" in (await site.get("/static/wuhuan.css")).text


async def test_receipt_promises_follow_the_settings(skipping_env, engine, worker, task_queue, tmp_path, cases):
    from api.main import create_app

    settings = make_settings(
        tmp_path, task_queue, sla_routed_within="PT90S", sla_assigned_within="PT10M", sla_yellow_after="P3D"
    )
    app = create_app(settings, client=skipping_env.client, engine=engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        r = await http.post("/intake", data=FORM)
        await watched(http, engine, skipping_env, cases, r.headers["location"])
        text = text_of((await http.get(r.headers["location"])).text)
    assert "1分钟30秒内" in text and "10分钟内" in text and "超过3天" in text


@pytest.mark.skipif(receipt.find_cjk_font() is None, reason="no CJK font installed (fonts-wqy-microhei)")
async def test_receipt_png_carries_the_qr_code_of_the_tracking_url(site):
    code, _ = await site.register()
    r = await site.get(f"/track/{code}/receipt.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png", r.text[:200]
    assert r.content.startswith(b"\x89PNG")
    assert_private(r)
    assert decode_qr(r.content) == [f"http://testserver/track/{code}"]
    import io

    from PIL import Image

    assert Image.open(io.BytesIO(r.content)).width == 576


async def test_receipt_png_without_a_cjk_font_is_a_503_and_the_html_receipt_still_works(site, monkeypatch):
    code, _ = await site.register()
    monkeypatch.setattr(receipt, "find_cjk_font", lambda candidates=None: None)
    r = await site.get(f"/track/{code}/receipt.png")
    assert_error(r, 503, "font_unavailable")
    assert (await site.get(f"/track/{code}/receipt")).status_code == 200
    assert receipt.find_cjk_font(("/nonexistent/font.ttc",)) is None


async def test_unknown_and_revoked_codes_get_a_friendly_404_page(site, engine):
    for path in ("/track/no-such-code", "/track/no-such-code/receipt"):
        r = await site.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
        assert "没有找到这件诉求" in text_of(r.text)
        assert_private(r)
    r = await site.post("/track/no-such-code/updates", data={"text": "补充"})
    assert r.status_code == 404 and "没有找到这件诉求" in r.text
    assert_error(await site.get("/track/no-such-code/receipt.png"), 404, "unknown_tracking_code")

    code, case_id = await site.register()
    assert (await site.get(f"/track/{code}")).status_code == 200
    clerk = await site.auth("clerk")
    r = await site.post(f"/api/v1/cases/{case_id}/reissue-code", headers=clerk, json={"reason": "回执被别人拍了"})
    assert r.status_code == 200, r.text
    new_code = r.json()["tracking_code"]
    r = await site.get(f"/track/{code}")
    assert r.status_code == 404 and "已经失效" in r.text
    assert (await site.get(f"/track/{code}/receipt")).status_code == 404
    assert (await site.get(f"/track/{new_code}")).status_code == 200


async def test_lookup_form_takes_a_typed_code_with_spaces_or_a_pasted_url(site):
    code, _ = await site.register()
    r = await site.get("/track", params={"code": f"  {receipt.grouped_code(code)} "})
    assert r.status_code == 303 and r.headers["location"] == f"/track/{code}"
    r = await site.get("/track", params={"code": f"http://example.org/track/{code}"})
    assert r.headers["location"] == f"/track/{code}"
    r = await site.get("/track", params={"code": ""})
    assert r.status_code == 422 and "请输入回执上的查询码" in r.text


async def test_tracking_page_shows_the_six_rings_unit_township_masked_handler_colour_and_clocks(site):
    code, case_id = await site.register()
    await site.settled(case_id)
    r = await site.get(f"/track/{code}")
    assert r.status_code == 200
    assert_private(r)
    assert "no-referrer" in r.text and "default-src 'self'" in r.headers["content-security-policy"]
    text = text_of(r.text)
    assert [
        s
        for s in ("受理", "分流", "交办", "调解", "监督", "评价")
        if s in re.findall(r'<span class="step-name">([^<]+)</span>', r.text)
    ] == ["受理", "分流", "交办", "调解", "监督", "评价"]
    assert len(re.findall(r'class="step step-done"', r.text)) == 3
    assert 'class="step step-current" aria-current="step"' in r.text and "调解 进行中 · 调解中" in text
    assert 'class="step step-running"' in r.text and "监督 进行中 · 全程督办 · 督办码绿色" in text
    assert "县人力社保局" in text and "白塔镇" in text and "劳资纠纷" in text
    assert "责任人 县" + "*" * 8 in text  # 县人力社保局调解员, masked
    assert "县人力社保局调解员" not in text and "renshe.mediator" not in r.text
    assert (
        NAME not in text
        and PHONE not in r.text
        and "1234" not in text.replace(re.search(r"MT\d{8}-\d{4}", text).group(0), "")
    )
    assert "督办码：绿色" in text and "colour-green" in r.text
    assert "分流（3分钟内） ✓ 按时 已按时完成" in text and "交办到人（5分钟内） ✓ 按时" in text
    assert re.search(r"办结时限（超期转黄码） ○ 计时中 还剩 7天", text), text
    assert 'accept="image/*,application/pdf"' in r.text and 'capture="environment"' in r.text
    assert "不超过 256 KB" in text and "JPG、PNG、WebP" in text and "PDF" in text
    assert 'action="/track/' in r.text and "/rating" not in r.text and "申请复核" not in text
    assert "受理回执" in text and "has-error" not in r.text and "flash" not in r.text


async def test_update_and_material_forms_post_redirect_get_with_a_flash(site, engine):
    code, case_id = await site.register()
    await site.settled(case_id)
    r = await site.post(f"/track/{code}/updates", data={"text": "老板今天又说下个月再付"})
    assert r.status_code == 303 and r.headers["location"] == f"/track/{code}"
    page = await site.get(r.headers["location"])
    assert "已收到您更新的诉求" in text_of(page.text) and "您更新了诉求：老板今天又说下个月再付" in text_of(page.text)
    again = await site.get(f"/track/{code}")
    assert "已收到您更新的诉求" not in again.text  # the flash is shown once

    r = await site.post(f"/track/{code}/updates", data={"text": "   "})
    assert r.status_code == 422 and "请填写更新内容" in text_of(r.text)

    r = await site.post(
        f"/track/{code}/materials",
        files={"file": ("合同.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")},
        data={"note": "合同"},
    )
    assert r.status_code == 415 and "只接受 JPEG、PNG、WebP 图片或 PDF 文件" in text_of(r.text)
    r = await site.post(
        f"/track/{code}/materials", files={"file": ("big.pdf", b"%PDF-" + b"0" * 300_000, "application/pdf")}
    )
    assert r.status_code == 413 and "文件不能超过 256 KB" in text_of(r.text)

    photo = jpeg_with_gps()
    r = await site.post(
        f"/track/{code}/materials", files={"file": ("工地.jpg", photo, "image/jpeg")}, data={"note": "工地照片"}
    )
    assert r.status_code == 303, r.text
    page = await site.get(r.headers["location"])
    assert "材料已上传：工地.jpg" in text_of(page.text) and "补充材料：工地.jpg" in text_of(page.text)
    await site.settled(case_id, lambda s: bool(s.materials))
    with session(engine) as db:
        rows = db.exec(select(MaterialRow).where(MaterialRow.case_id == case_id)).all()
    assert [m.filename for m in rows] == ["工地.jpg"]
    from services import uploads

    stored = uploads.path_of(site.settings.data_dir, rows[0].stored_name).read_bytes()
    assert gps_of(stored) == {}, "the photo's GPS position reached the case file"


async def test_rating_then_review_then_upheld_with_the_reason_shown(site):
    code, case_id = await site.register()
    await site.settled(case_id)
    sup = await site.auth("supervisor")
    r = await site.post(
        f"/api/v1/cases/{case_id}/resolve",
        headers=sup,
        json={"outcome": "agreement", "summary": "双方达成还款协议，分两期付清"},
    )
    assert r.status_code == 200, r.text
    page = await site.get(f"/track/{code}")
    text = text_of(page.text)
    assert "评价办理结果" in text and "处理结果 达成调解协议" in text and 'class="step step-current"' in page.text

    r = await site.post(f"/track/{code}/rating", data={"comment": "还行"})
    assert r.status_code == 422 and "请选择 1 至 5 星" in text_of(r.text) and textarea(r.text, "comment") == "还行"
    r = await site.post(f"/track/{code}/rating", data={"score": "2", "comment": "钱还没到账"})
    assert r.status_code == 303
    page = await site.get(r.headers["location"])
    text = text_of(page.text)
    assert "感谢您的评价" in text and "您的评价： ★★☆☆☆ 2 星 “钱还没到账”" in text
    assert "申请复核" in text and f'action="/track/{code}/review"' in page.text

    r = await site.post(f"/track/{code}/review", data={"reason": " "})
    assert r.status_code == 422 and "请写明申请复核的理由" in text_of(r.text)
    r = await site.post(f"/track/{code}/review", data={"reason": "工资只付了一半"})
    assert r.status_code == 303
    text = text_of((await site.get(r.headers["location"])).text)
    assert "复核申请已提交" in text and "工资只付了一半" in text
    assert f'action="/track/{code}/review"' not in text

    r = await site.post(
        f"/api/v1/cases/{case_id}/review-decision",
        headers=sup,
        json={"rehandle": False, "reason": "协议已约定第二期在月底前支付，尚未到期"},
    )
    assert r.status_code == 200, r.text
    text = text_of((await site.get(f"/track/{code}")).text)
    assert "复核决定：维持原处理结果" in text and "理由： 协议已约定第二期在月底前支付，尚未到期" in text


async def test_rate_limits_answer_with_a_429_page(skipping_env, engine, worker, task_queue, tmp_path, cases):
    from api.main import create_app

    settings = make_settings(tmp_path, task_queue, rate_limit_track="2/minute", rate_limit_intake="1/minute")
    app = create_app(settings, client=skipping_env.client, engine=engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        r = await http.post("/intake", data=FORM)
        assert r.status_code == 303
        code = code_from(r.headers["location"])
        await watched(http, engine, skipping_env, cases, r.headers["location"])
        r = await http.post("/intake", data=FORM)
        assert r.status_code == 429 and "操作太频繁了" in text_of(r.text) and r.headers.get("retry-after")
        # An invalid request counts as well (issue 15): a flood of them must meet the limit like valid ones.
        assert (await http.post("/intake", data={**FORM, "phone": "1"})).status_code == 429

        assert (await http.get(f"/track/{code}")).status_code == 200
        assert (await http.get("/track/wrong-code")).status_code == 404
        r = await http.get(f"/track/{code}")
        assert r.status_code == 429 and "操作太频繁了" in text_of(r.text)
        assert int(r.headers["retry-after"]) >= 1 and "请等待约" in text_of(r.text)


async def test_intake_while_temporal_is_away_keeps_what_was_typed(tmp_path, engine):
    from api.main import create_app
    from testkit.processes import free_port

    settings = make_settings(tmp_path, temporal_address=f"127.0.0.1:{free_port()}")
    app = create_app(settings, engine=engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        r = await http.post("/intake", data=FORM)
    assert r.status_code == 503, r.text[:300]
    assert "系统暂时无法受理" in text_of(r.text) and textarea(r.text, "description") == FORM["description"]
    assert input_value(r.text, "phone") == PHONE
    with session(engine) as db:
        assert db.exec(select(TrackingCode)).all() == []


async def test_the_centre_poster_carries_a_qr_code_of_the_intake_page(site):
    r = await site.http.get("/poster")
    assert r.status_code == 200 and "扫码登记" in r.text and "<svg" in r.text
    assert "http://testserver/intake" in r.text
    assert "https://" not in r.text.replace("http://testserver", "")  # nothing from another site
