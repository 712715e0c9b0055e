"""消息设置 in the staff console: texts and e-mail on or off and quiet hours, the same service as
`GET|PUT /api/v1/me/preferences`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import Ctx
from api.pages.rendering import form_text
from api.pages.staff import _back, _page
from api.pages.staff_auth import Me, checked_form
from services import preferences
from services.db import run
from services.errors import Refusal
from services.preferences import ChannelsIn, PreferencesIn

router = APIRouter(include_in_schema=False)
URL = "/staff/preferences"


@router.get(URL, response_class=HTMLResponse)
async def preferences_page(request: Request, ctx: Ctx, me: Me) -> Response:
    prefs = await run(ctx.engine, lambda db: preferences.get_preferences(db, me.actor.username, ctx.settings))
    return _page(request, me, "staff/preferences.html", {"prefs": prefs, "errors": {}, "values": None})


@router.post(URL, response_class=HTMLResponse)
async def preferences_submit(request: Request, ctx: Ctx, me: Me) -> Response:
    form = await checked_form(request, me)
    quiet = form_text(form, "quiet_hours").strip()  # blank: no quiet hours
    body = PreferencesIn(
        channels=ChannelsIn(sms=bool(form.get("sms")), email=bool(form.get("email"))), quiet_hours=quiet or None
    )
    try:
        await run(ctx.engine, lambda db: preferences.set_preferences(db, me.actor.username, body, ctx.settings))
    except Refusal as err:
        prefs = await run(ctx.engine, lambda db: preferences.get_preferences(db, me.actor.username, ctx.settings))
        values = {"sms": body.channels.sms, "email": body.channels.email, "quiet_hours": quiet}
        context = {"prefs": prefs, "errors": {err.field or "form": err.message}, "values": values}
        return _page(request, me, "staff/preferences.html", context, err.status_code)
    return _back(URL, "消息设置已保存")
