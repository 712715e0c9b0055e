"""The remote codec endpoint for the Temporal UI and CLI: authorised staff (supervisors, auditors) read the
encrypted payloads of a case's history (workflows/codec.py) in clear.

Protocol (Temporal's remote codec): `POST /api/v1/codec/decode` and `/encode` with a JSON body
`{"payloads": [{"metadata": {"encoding": "<base64>", ...}, "data": "<base64>"}]}` answered in the same shape.

Who may call it: a staff bearer token (`Authorization: Bearer <token>` from `POST /api/v1/auth/token`) of a
supervisor or an auditor, or the same token held in an HttpOnly cookie that `POST /api/v1/codec/session` sets
(for the Temporal UI of the dev server, which has no sign-in of its own and so no access token to pass: with
"Include cross-origin credentials" on, the browser sends the cookie, the UI and the API being the same site).
Every decode is logged with who asked, how many payloads and the namespace; never what they hold.
CORS answers only the Temporal UI's origins (WUHUAN_TEMPORAL_UI_PORT on 127.0.0.1 and localhost), and only on
these paths.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from google.protobuf.json_format import MessageToDict, ParseDict, ParseError
from pydantic import BaseModel, Field
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payload, Payloads

from api.deps import Ctx, oauth2, optional_staff
from domain.models import Role
from domain.settings import Settings
from services.errors import Refusal, unauthorized
from store.tables import Staff
from workflows.codec import EncryptionCodec, PayloadDecryptError, PayloadKeyError

log = logging.getLogger("wuhuan.api.codec")

PREFIX = "/api/v1/codec"
COOKIE = "wuhuan_codec"
READERS = {Role.supervisor.value, Role.auditor.value}
MAX_PAYLOADS = 10_000

router = APIRouter(prefix=PREFIX, tags=["codec"])


class PayloadsIn(BaseModel):
    payloads: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_PAYLOADS)


def codec_reader(request: Request, ctx: Ctx, token: Annotated[str | None, Depends(oauth2)]) -> Staff:
    """A supervisor or an auditor, by bearer token or by the codec cookie; 401 / 403 otherwise."""
    staff = optional_staff(ctx, token or request.cookies.get(COOKIE))
    if staff is None:
        raise unauthorized()
    if staff.role not in READERS:
        log.warning("codec refused to %s (role %s)", staff.username, staff.role)
        raise Refusal(403, "forbidden_role", "您的角色无权查看加密数据")
    return staff


CodecReader = Annotated[Staff, Depends(codec_reader)]


def codec_of(request: Request) -> EncryptionCodec:
    """This installation's codec (the same keys as the worker's), built on first use."""
    state = request.app.state
    codec = getattr(state, "payload_codec", None)
    if codec is None:
        from workflows.temporal_client import payload_codec

        codec = state.payload_codec = payload_codec(state.ctx.settings)
    return codec


def _payloads(body: PayloadsIn) -> list[Payload]:
    try:
        return list(ParseDict({"payloads": body.payloads}, Payloads()).payloads)
    except ParseError:
        raise Refusal(422, "invalid_payloads", "payloads 格式有误（metadata 与 data 须为 base64）") from None


def _answer(payloads: list[Payload]) -> JSONResponse:
    out = MessageToDict(Payloads(payloads=payloads))
    return JSONResponse({"payloads": out.get("payloads", [])})


@router.post("/decode")
async def decode(body: PayloadsIn, request: Request, staff: CodecReader) -> JSONResponse:
    """Decrypt payloads for the Temporal UI / CLI. Payloads that were never encrypted come back unchanged."""
    payloads = _payloads(body)
    namespace = request.headers.get("x-namespace", "-")
    try:
        decoded = await codec_of(request).decode(payloads)
    except (PayloadKeyError, PayloadDecryptError) as err:
        log.warning("codec decode by %s (%s) failed, namespace %s: %s", staff.username, staff.role, namespace, err)
        raise Refusal(422, "payload_undecryptable", f"无法解密：{err}") from None
    log.info("codec decode by %s (%s): %d payloads, namespace %s", staff.username, staff.role, len(payloads), namespace)
    return _answer(decoded)


@router.post("/encode")
async def encode(body: PayloadsIn, request: Request, staff: CodecReader) -> JSONResponse:
    """Encrypt payloads (the UI encodes the arguments of a signal or query it sends)."""
    payloads = _payloads(body)
    encoded = await codec_of(request).encode(payloads)
    log.info("codec encode by %s (%s): %d payloads", staff.username, staff.role, len(payloads))
    return _answer(encoded)


@router.post("/session", status_code=204)
async def session(
    staff: CodecReader, ctx: Ctx, token: Annotated[str | None, Depends(oauth2)], request: Request
) -> Response:
    """Keep your token in an HttpOnly cookie for the codec paths only, so that the Temporal UI (with "Include
    cross-origin credentials" on) can call the codec as you. Call it from the browser, e.g. in /docs after
    "Authorize". `DELETE` removes it."""
    token = token or request.cookies.get(COOKIE)
    response = Response(status_code=204)
    response.set_cookie(
        COOKIE,
        token or "",
        max_age=ctx.settings.token_ttl_minutes * 60,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    log.info("codec session opened for %s (%s)", staff.username, staff.role)
    return response


@router.delete("/session", status_code=204)
async def end_session() -> Response:
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


class _CodecCORS(CORSMiddleware):
    """CORS for the Temporal UI's origins, on the codec paths only."""

    def __init__(self, app: ASGIApp, **kwargs: Any):
        super().__init__(app, **kwargs)
        self.inner = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith(PREFIX + "/"):
            await super().__call__(scope, receive, send)
        else:
            await self.inner(scope, receive, send)


def ui_origins(settings: Settings) -> list[str]:
    return [f"http://{host}:{settings.temporal_ui_port}" for host in ("127.0.0.1", "localhost")]


def install(app: FastAPI, settings: Settings) -> None:
    app.include_router(router)
    app.add_middleware(
        _CodecCORS,
        allow_origins=ui_origins(settings),
        allow_methods=["POST", "OPTIONS"],
        allow_headers=["Content-Type", "Authorization", "X-Namespace"],
        allow_credentials=True,
        max_age=600,
    )
