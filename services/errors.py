"""Refusals: how a service says no. Every entry point shows them in its own way — the JSON API as the contract's
error shape `{"detail": {"code", "message"}}` with the HTTP status, a page as a message next to the form field
it concerns, the CLI as a line on stderr.

`status` uses HTTP's numbers because they are the vocabulary everybody already knows: 401 who are you, 403 not
yours, 404 unknown, 409 not in this state, 413 too large, 415 wrong kind of file, 422 invalid, 429 too many,
503 try again later."""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        field: str | None = None,
        **extra: Any,
    ):
        super().__init__(message)
        self.status_code = status
        self.code = code
        self.message = message
        self.headers = headers
        self.field = field  # the input field it concerns, for forms
        self.detail: dict[str, Any] = {"code": code, "message": message, **extra}


def not_found(code: str = "unknown_case", message: str = "案件不存在") -> Refusal:
    return Refusal(404, code, message)


def forbidden(code: str = "not_in_jurisdiction", message: str = "本案不在您的管辖范围内") -> Refusal:
    return Refusal(403, code, message)


def invalid(code: str, message: str, field: str | None = None) -> Refusal:
    return Refusal(422, code, message, field=field)


def unauthorized(code: str = "not_authenticated", message: str = "请先登录") -> Refusal:
    return Refusal(401, code, message, headers={"WWW-Authenticate": "Bearer"})


def temporal_unavailable(message: str = "案件引擎暂不可用，请稍后再试") -> Refusal:
    return Refusal(503, "temporal_unavailable", message)


def worker_unavailable() -> Refusal:
    return Refusal(503, "worker_unavailable", "案件处理服务暂未响应，请稍后再试")


def case_closed() -> Refusal:
    return Refusal(409, "case_closed", "案件已结束，不能再办理")
