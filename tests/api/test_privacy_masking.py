"""Issue 15, finding 4: phone and ID-card numbers a citizen types into the description or an update are masked in
every staff view — the history (JSON and page), the notification texts (inbox, my work), the exports and the
dossier PDF; the full number is shown only by the explicit, access-logged 查看完整电话 of the people who call
the citizen."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from pypdf import PdfReader

from testkit.waiting import poll
from tests.api.conftest import PHONE, assert_error
from tests.pages.staff_helpers import sign_in

TYPED_PHONE, TYPED_ID = "13912345678", "33102219850101123X"
DESCRIPTION = f"白塔镇某工地包工头拖欠工人三个月工资，我的电话{TYPED_PHONE}，身份证{TYPED_ID}"
UPDATE = "老板另一个电话 13700009999 也打不通了"
IN_CLEAR = (TYPED_PHONE, TYPED_ID, "13700009999", PHONE)


def assert_masked(text: str, where: str) -> None:
    for number in IN_CLEAR:
        assert number not in text, f"{number} in clear in {where}"


async def _case_with_numbers(api) -> tuple[str, str]:
    out = await api.intake(description=DESCRIPTION)
    case_id, code = out["case_id"], out["tracking_code"]
    await api.teamed(case_id)
    r = await api.post(f"/api/v1/track/{code}/updates", json={"text": UPDATE})
    assert r.status_code == 200, r.text
    await api.settled(case_id, lambda s: len(s.citizen_updates) == 1)
    return case_id, code


async def test_history_messages_exports_and_dossier_mask_typed_numbers(api, tmp_path):
    case_id, _ = await _case_with_numbers(api)
    auditor, handler = await api.auth("auditor"), await api.auth("renshe.mediator")

    r = await api.get(f"/api/v1/cases/{case_id}/history", headers=auditor)
    assert r.status_code == 200, r.text
    updated = [e for e in r.json()["events"] if e["type"] == "citizen_updated"]
    assert updated and "137****9999" in updated[0]["detail"]["text"]
    assert_masked(r.text, "the JSON history")
    r = await api.get(
        f"/api/v1/cases/{case_id}/history", params={"as_of": "2100-01-01T00:00:00+08:00"}, headers=auditor
    )
    assert r.status_code == 200 and r.json()["state"] is not None
    assert_masked(r.text, "the history as of a moment")

    async def citizen_updated_message():
        msgs = (await api.get("/api/v1/notifications", headers=handler)).json()
        return [m for m in msgs if m["case_id"] == case_id and m["kind"] == "citizen_updated"] or None

    [msg] = await poll(citizen_updated_message, "the handler's message of the update")
    assert "137****9999" in msg["text"]
    assert_masked((await api.get("/api/v1/notifications", headers=handler)).text, "the inbox")

    r = await api.get("/api/v1/cases/export.xlsx", headers=await api.auth("supervisor"))
    assert r.status_code == 200, r.text
    wb = load_workbook(io.BytesIO(r.content))
    cells = " ".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None)
    assert "139****5678" in cells
    assert_masked(cells, "the case list workbook")

    r = await api.get(f"/api/v1/cases/{case_id}/dossier.pdf", headers=auditor)
    assert r.status_code == 200
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert "139****5678" in text and "137****9999" in text
    assert_masked(text, "the dossier PDF")


async def test_the_staff_history_page_masks_typed_numbers(api, settings):
    case_id, _ = await _case_with_numbers(api)
    await sign_in(api.http, "auditor")
    r = await api.get(f"/staff/cases/{case_id}/history")
    assert r.status_code == 200, r.text
    assert "群众更新诉求" in r.text
    assert_masked(r.text, "the staff history page")


async def test_the_full_phone_is_an_explicit_logged_action_of_those_who_call(api):
    case_id, _ = await _case_with_numbers(api)
    url = f"/api/v1/cases/{case_id}/citizen-phone"

    r = await api.post(url, headers=await api.auth("renshe.mediator"))  # the handler
    assert r.status_code == 200 and r.json() == {"phone": PHONE} and r.headers["cache-control"] == "no-store"
    for who in ("renshe.leader", "clerk"):
        assert (await api.post(url, headers=await api.auth(who))).status_code == 200, who
    for who in ("supervisor", "auditor", "county_leader"):  # they see the case, but do not call the citizen
        assert_error(await api.post(url, headers=await api.auth(who)), 403, "may_not_reveal_phone")
    assert_error(await api.post(url, headers=await api.auth("fulian.mediator")), 403)  # not in jurisdiction
    assert_error(await api.post(url), 401)

    log = (
        await api.get("/api/v1/audit/access-log", params={"case_id": case_id}, headers=await api.auth("auditor"))
    ).json()
    shown = [(e["username"], e["role"]) for e in log if e["what"] == "citizen_phone"]
    assert sorted(shown) == [("clerk", "clerk"), ("renshe.leader", "leader"), ("renshe.mediator", "mediator")]
    assert all(e["at"] for e in log)

    # Everything else still shows it masked.
    view = await api.case(case_id, "renshe.mediator")
    assert view["intake"]["citizen_phone"] == "138****1234"
