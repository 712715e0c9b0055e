"""Message channels in the pages: 消息设置 in the console (from the header, with CSRF, checked quiet hours), the
接收短信通知 box on the intake forms (checked by default; unticked, the citizen gets no texts), and the case page's
deliveries with channel, recipient (the citizen masked), state, attempts and last error."""

from __future__ import annotations

import pytest
import pytest_asyncio

from store.db import session
from store.tables import Staff
from testkit.gateway import outbox
from testkit.waiting import poll
from tests.api.conftest import make_settings
from tests.conftest import worker_for
from tests.pages.helpers import FORM, PHONE
from tests.pages.staff_helpers import sign_in, text_of


@pytest.fixture
def settings(tmp_path, task_queue, gateway):
    return make_settings(tmp_path, task_queue, max_upload_bytes=256 * 1024, sms_gateway_url=gateway.url)


@pytest_asyncio.fixture
async def worker(skipping_env, engine, executor, task_queue, settings):
    async with worker_for(skipping_env, engine, executor, task_queue, settings) as w:
        yield w


def person(engine, username: str) -> Staff:
    with session(engine) as db:
        return db.get(Staff, username)


async def test_preferences_page_saves_texts_email_and_quiet_hours(site, engine):
    csrf = await sign_in(site.http, "renshe.mediator")
    home = await site.http.get("/staff/")
    assert 'href="/staff/preferences"' in home.text  # in the console's header
    page = await site.http.get("/staff/preferences")
    assert page.status_code == 200 and "消息设置" in page.text and "免打扰时段" in page.text
    assert 'id="sms" name="sms" value="1" checked' in page.text

    r = await site.http.post(
        "/staff/preferences", data={"csrf_token": csrf, "email": "1", "quiet_hours": "22:00-07:30"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/staff/preferences"
    saved = person(engine, "renshe.mediator")
    assert (saved.sms_enabled, saved.email_enabled, saved.quiet_hours) == (False, True, "22:00-07:30")
    page = await site.http.get("/staff/preferences")
    assert "消息设置已保存" in page.text and 'value="22:00-07:30"' in page.text

    r = await site.http.post("/staff/preferences", data={"csrf_token": csrf, "sms": "1", "quiet_hours": "23:00-23:00"})
    assert r.status_code == 422 and "免打扰时段的开始和结束不能相同" in text_of(r.text)
    assert person(engine, "renshe.mediator").quiet_hours == "22:00-07:30"  # nothing changed

    r = await site.http.post("/staff/preferences", data={"sms": "1"})  # no CSRF token
    assert r.status_code == 403 and person(engine, "renshe.mediator").sms_enabled is False


async def test_the_intake_forms_ask_about_texts_checked_by_default(site, engine):
    form = await site.http.get("/intake")
    assert 'id="sms" name="sms" type="checkbox" value="yes" checked' in form.text and "接收短信通知" in form.text
    kiosk = await site.http.get("/intake?channel=kiosk")
    assert "接收短信通知" in kiosk.text
    await sign_in(site.http, "clerk")
    staff_form = await site.http.get("/staff/intake")
    assert 'id="sms" name="sms" value="yes" checked' in staff_form.text

    # Unticked: no texts for this citizen; ticked (the form's default): the receipt text is queued.
    _, quiet_case = await site.register()  # FORM has no "sms": as if unticked
    _, texted_case = await site.register(sms="yes")
    await poll(lambda: outbox(engine, texted_case) or None, "the receipt in the outbox")
    assert [r.kind for r in outbox(engine, texted_case) if r.recipient.startswith("citizen:")] == ["citizen_receipt"]
    assert not [r for r in outbox(engine, quiet_case) if r.recipient.startswith("citizen:")]


async def test_the_case_page_lists_deliveries_with_channel_recipient_and_state(site, engine, gateway):
    gateway.then = 503
    _, case_id = await site.register(sms="yes")
    await site.settled(case_id, lambda s: s.handler is not None)  # the case is in the read model
    from activities.delivery import Relay

    relay = Relay.from_settings(engine, site.settings, jitter=0.0)
    await relay.deliver_due()
    await relay.aclose()
    await sign_in(site.http, "supervisor")
    page = await site.http.get(f"/staff/cases/{case_id}")
    text = text_of(page.text)
    assert "消息送达" in text and "受理回执短信" in text and "短信" in text and "HTTP 503" in text
    assert "群众（138****" in text and PHONE not in page.text
    assert FORM["phone"] not in page.text
