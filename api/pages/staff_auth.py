"""Who is using the staff console: the session cookie, the signed-in person, and the CSRF check every form post
passes. The cookie is HttpOnly and SameSite=Strict, so a page on another site can neither read it nor send it
with a form; the CSRF token is the second lock on the same door."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.datastructures import FormData

from api.deps import Ctx
from services import sessions
from services.db import run
from services.errors import Refusal

COOKIE = "wuhuan_staff"
CSRF_FIELD = "csrf_token"
STAFF = "/staff/"


class LoginRequired(Exception):
    """No live session: the console's handler sends the browser to the login page, then back."""

    def __init__(self, next_url: str):
        self.next_url = next_url


async def signed_in(request: Request, ctx: Ctx) -> sessions.Current | None:
    session_id = request.cookies.get(COOKIE)
    if not session_id:
        return None
    return await run(ctx.engine, lambda db: sessions.current(db, ctx.settings, session_id))


async def staff_member(request: Request, ctx: Ctx) -> sessions.Current:
    me = await signed_in(request, ctx)
    if me is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return me


Me = Annotated[sessions.Current, Depends(staff_member)]


async def checked_form(request: Request, me: sessions.Current, **limits: Any) -> FormData:
    """The posted form, once its CSRF token matches the session's; a post without it changes nothing."""
    form = await request.form(**({"max_files": 0, "max_fields": 50} | limits))
    token = form.get(CSRF_FIELD)
    if not me.csrf_ok(token if isinstance(token, str) else None):
        raise Refusal(403, "csrf_failed", "页面已过期或来源不明，请刷新页面后重新提交")
    return form


def login_url(next_url: str | None) -> str:
    return "/staff/login" + (f"?next={quote(next_url, safe='')}" if next_url else "")


def safe_next(value: str | None) -> str:
    """Only a path inside the console: never another site (an open redirect would carry the user away)."""
    if value and value.startswith(STAFF) and not value.startswith("//") and "\\" not in value:
        return value
    return STAFF
