"""What every page shares: the templates, the security headers, error pages, POST-redirect-GET with a one-time
flash message, and reading form fields."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api import receipt
from domain.times import china_local
from services.errors import Refusal

HERE = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
STATIC_DIR = HERE / "static"
templates.env.filters["cntime"] = receipt.china_time
templates.env.filters["zh_duration"] = receipt.zh_duration


def message_link(kind: str, subject_id: str) -> tuple[str, str]:
    """Where a message in the inbox leads: a hazard's page for the inspection's messages, else the case's."""
    if kind.startswith("hazard_"):
        return "查看隐患", f"/staff/inspection/hazards/{quote(subject_id, safe='')}"
    if kind.startswith("inspection_"):
        return "查看督查任务", "/staff/inspection"
    return "查看案件", f"/staff/cases/{quote(subject_id, safe='')}"


templates.env.globals["message_link"] = message_link
# A <input type="datetime-local"> value in China time (what a person in the county types).
templates.env.filters["local_input"] = lambda at: china_local(at).strftime("%Y-%m-%dT%H:%M")

# Pages load nothing from another site, cannot be framed, and keep tracking codes and case ids out of Referer.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
}
FLASH_COOKIE = "wuhuan_flash"


def render(
    request: Request, name: str, context: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> HTMLResponse:
    base = {"settings": request.app.state.ctx.settings, "now": datetime.now(UTC)}
    response = templates.TemplateResponse(request, name, {**base, **context}, status_code=status)
    response.headers.update(PAGE_HEADERS)
    if headers:
        response.headers.update(headers)
    return response


def error_page(request: Request, err: Refusal, extra: dict[str, Any] | None = None) -> HTMLResponse:
    detail = err.detail
    status = err.status_code
    context = {"detail": detail, **(extra or {})}
    if status == 404:
        return render(request, "404.html", context, 404)
    if status == 429:
        retry = (err.headers or {}).get("Retry-After")
        return render(
            request, "429.html", {**context, "retry_after": retry}, 429, {"Retry-After": retry} if retry else None
        )
    return render(request, "error.html", {**context, "status": status}, status)


def redirect(url: str, flash: tuple[str, str] | None = None, flash_path: str = "/") -> RedirectResponse:
    """303 to `url`, with a message shown once by the next page under `flash_path`."""
    response = RedirectResponse(url, status_code=303)
    response.headers.update({"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
    if flash is not None:
        kind, message = flash
        value = base64.urlsafe_b64encode(json.dumps({"kind": kind, "message": message}).encode()).decode()
        response.set_cookie(FLASH_COOKIE, value, max_age=120, path=flash_path, httponly=True, samesite="strict")
    return response


def take_flash(request: Request, response: Response, flash_path: str = "/") -> None:
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path=flash_path)


def read_flash(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode()))
        if data.get("kind") in ("ok", "error") and isinstance(data.get("message"), str):
            return {"kind": data["kind"], "message": data["message"][:300]}
    except (ValueError, TypeError, AttributeError):
        pass
    return None


def form_text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""
