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
from pydantic import ValidationError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
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


BUSY_RETRY_AFTER = "5"  # seconds: a 503 that names no wait of its own (Temporal or its worker not answering)


def _headers(status: int, headers: dict[str, str] | None) -> dict[str, str] | None:
    """A 503 always says when to come back (the OpenAPI document declares Retry-After on it)."""
    if status == 503 and not any(k.lower() == "retry-after" for k in headers or {}):
        return {**(headers or {}), "Retry-After": BUSY_RETRY_AFTER}
    return headers


async def _refusal(request: Request, exc: Refusal) -> JSONResponse:
    return JSONResponse(
        {"detail": exc.detail}, status_code=exc.status_code, headers=_headers(exc.status_code, exc.headers)
    )


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    # The framework's 400s are bodies it cannot read at all (FastAPI: not UTF-8; Starlette: a broken form or
    # multipart, too many fields): bad input like any other, so the 422 every client already handles (a JSON
    # syntax error is FastAPI's 422 already), not a lone 400 the document would have to declare everywhere.
    if exc.status_code == 400:
        return JSONResponse({"detail": {"code": "unreadable_body", "message": "请求内容无法解析"}}, status_code=422)
    return JSONResponse(
        {"detail": _shape(exc.status_code, exc.detail)},
        status_code=exc.status_code,
        headers=_headers(exc.status_code, getattr(exc, "headers", None)),
    )


def _printable(value: Any) -> Any:
    """A location or message part that can be sent: a lone surrogate (from a JSON key such as "\ud800") cannot
    be encoded as UTF-8 and would turn the 422 into a 500."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    return value if isinstance(value, int) else str(value)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = []
    for err in exc.errors():
        # Never echo the input back: it may hold a citizen's phone number or a tracking code.
        errors.append(
            {
                "loc": [_printable(p) for p in err.get("loc", ())],
                "msg": _printable(str(err.get("msg", ""))),
                "type": _printable(str(err.get("type", ""))),
            }
        )
    own = next((e for e in errors if e["type"] in VALIDATION_CODES), None)
    if own is not None:  # one of the schemas' own checks: its code and message, like a service's refusal
        return JSONResponse({"detail": {"code": own["type"], "message": own["msg"], "errors": errors}}, status_code=422)
    # "citizen.phone", "score", ...: the field names only (a JSON decode error has a character position).
    names = (".".join(str(p) for p in e["loc"][1:] if isinstance(p, str)) for e in errors)
    fields = "、".join(dict.fromkeys(n for n in names if n))
    message = f"输入有误：{fields}" if fields else "输入有误"
    return JSONResponse({"detail": {"code": "invalid_input", "message": message, "errors": errors}}, status_code=422)


async def _model_error(request: Request, exc: ValidationError) -> JSONResponse:
    """An input model built by a route or page from a query or form (not by FastAPI from the body): the same 422,
    with a location prefix like FastAPI's so field names read alike."""
    errors = [{**e, "loc": ("input", *e.get("loc", ()))} for e in exc.errors(include_input=False)]
    return await _validation_error(request, RequestValidationError(errors))


async def _too_big_number(request: Request, exc: OverflowError) -> JSONResponse:
    """A number past what the database stores (SQLite: 64 bits) that no bound caught first: the client's 422."""
    return JSONResponse({"detail": {"code": "number_out_of_range", "message": "数值超出范围"}}, status_code=422)


POOL_RETRY_AFTER = 2  # seconds: a burst that found every database connection taken is over by then


async def _pool_exhausted(request: Request, exc: SQLAlchemyTimeoutError) -> JSONResponse:
    """Every connection of the read model's pool stayed taken for WUHUAN_DB_POOL_TIMEOUT: the server is busy,
    not broken; the client may come back (a burst of intakes must never end in 500s)."""
    log.warning("database pool exhausted on %s %s", request.method, request.url.path)
    return JSONResponse(
        {"detail": {"code": "busy", "message": "系统繁忙，请稍后再试"}},
        status_code=503,
        headers={"Retry-After": str(POOL_RETRY_AFTER)},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": {"code": "internal_error", "message": "服务器内部错误"}}, status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(Refusal, _refusal)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ValidationError, _model_error)  # type: ignore[arg-type]
    app.add_exception_handler(OverflowError, _too_big_number)  # type: ignore[arg-type]
    app.add_exception_handler(SQLAlchemyTimeoutError, _pool_exhausted)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)
