"""One error shape everywhere: {"detail": {"code": "<snake_case>", "message": "<text>"}}.

Services raise `services.errors.Refusal`; FastAPI's own errors (unknown route, bad method, pydantic validation) and
anything unexpected are rewritten into the same shape here.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.errors import Refusal
from services.schemas import VALIDATION_CODES

log = logging.getLogger("wuhuan.api")

DEFAULT_CODES = {
    400: ("bad_request", "请求有误"),
    401: ("not_authenticated", "请先登录"),
    403: ("forbidden", "无权执行此操作"),
    404: ("not_found", "未找到"),
    405: ("method_not_allowed", "不支持该请求方法"),
    409: ("illegal_state", "当前状态不允许此操作"),
    413: ("payload_too_large", "上传内容过大"),
    415: ("unsupported_media_type", "不支持的文件类型"),
    422: ("invalid_input", "输入有误"),
    429: ("too_many_requests", "请求过于频繁，请稍后再试"),
    500: ("internal_error", "服务器内部错误"),
    503: ("service_unavailable", "服务暂不可用"),
}


def _shape(status: int, detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict) and "code" in detail:
        return detail
    code, message = DEFAULT_CODES.get(status, ("error", "请求失败"))
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    own_text = isinstance(detail, str) and detail and detail != phrase
    return {"code": code, "message": detail if own_text else message}


async def _refusal(request: Request, exc: Refusal) -> JSONResponse:
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return JSONResponse(
        {"detail": _shape(exc.status_code, exc.detail)},
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = []
    for err in exc.errors():
        # Never echo the input back: it may hold a citizen's phone number or a tracking code.
        errors.append(
            {"loc": list(err.get("loc", ())), "msg": str(err.get("msg", "")), "type": str(err.get("type", ""))}
        )
    own = next((e for e in errors if e["type"] in VALIDATION_CODES), None)
    if own is not None:  # one of the schemas' own checks: its code and message, like a service's refusal
        return JSONResponse({"detail": {"code": own["type"], "message": own["msg"], "errors": errors}}, status_code=422)
    # "citizen.phone", "score", ...: the field names only (a JSON decode error has a character position).
    names = (".".join(str(p) for p in e["loc"][1:] if isinstance(p, str)) for e in errors)
    fields = "、".join(dict.fromkeys(n for n in names if n))
    message = f"输入有误：{fields}" if fields else "输入有误"
    return JSONResponse({"detail": {"code": "invalid_input", "message": message, "errors": errors}}, status_code=422)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": {"code": "internal_error", "message": "服务器内部错误"}}, status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(Refusal, _refusal)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
