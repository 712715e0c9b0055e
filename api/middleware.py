"""The ASGI middleware between the server and the routes (docs/security.md):

- `ClientAddress`: the client's real address. X-Forwarded-For / X-Real-IP (and X-Forwarded-Proto) are believed
  only when the connection comes from a configured proxy (WUHUAN_TRUSTED_PROXIES; none by default), so the rate
  limits, the sign-in throttle and the access log go by an address the client cannot choose. `wuhuan api` turns
  uvicorn's own forwarded-header handling off (it trusts loopback by default): this is the only place.
- `BodyLimit`: a request body is cut off at its limit while it is read, declared length or chunked: JSON and
  forms at WUHUAN_MAX_BODY_BYTES, multipart uploads at WUHUAN_MAX_UPLOAD_BYTES plus the form's overhead. 413 in
  the contract's error shape, before the rest of the body is taken in.
- `PlainRequestLine`: no control character or undecodable byte in a path or query (422 invalid_text).
- `NoStore`: `Cache-Control: no-store` on every answer of the JSON API that does not set its own, so staff data
  is kept by no browser or proxy cache."""

from __future__ import annotations

import json
from collections.abc import Iterable
from ipaddress import IPv4Network, IPv6Network, ip_address
from urllib.parse import unquote_plus

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.schemas import INVALID_TEXT, bad_text

MULTIPART_SLACK = 64 * 1024  # room for the form's boundaries and headers around the file
# The Temporal UI sends a whole history's payloads to the codec endpoint in one request.
CODEC_BODY_BYTES = 8 * 1024 * 1024

Networks = tuple[IPv4Network | IPv6Network, ...]


def _header(scope: Scope, name: bytes) -> str | None:
    values = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k == name]
    return ", ".join(values) if values else None


def _address(text: str) -> str | None:
    """A bare address out of one forwarded entry ("203.0.113.7", "203.0.113.7:5100", "[2001:db8::1]:80")."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return str(ip_address(text))
    except ValueError:
        return None


def trusted(host: str | None, proxies: Networks) -> bool:
    if not host or not proxies:
        return False
    try:
        address = ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in proxies)


def forwarded_client(peer: str | None, forwarded_for: str | None, real_ip: str | None, proxies: Networks) -> str | None:
    """The client's address behind trusted proxies, or None to keep the peer's. X-Forwarded-For is read from the
    right (each proxy appends the address it saw), skipping our own proxies: the first address that is not one of
    them is the client; anything to its left was written by the client and proves nothing."""
    if not trusted(peer, proxies):
        return None
    if forwarded_for:
        hops = [_address(part) for part in forwarded_for.split(",")]
        for hop in reversed(hops):
            if hop is None:
                return None  # a hop we cannot read: believe nothing beyond it
            if not trusted(hop, proxies):
                return hop
        return hops[0]  # every hop is one of our proxies
    if real_ip:
        return _address(real_ip)
    return None


class ClientAddress:
    def __init__(self, app: ASGIApp, proxies: Networks):
        self.app, self.proxies = app, proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.proxies:
            peer = scope.get("client")
            host = forwarded_client(
                peer[0] if peer else None,
                _header(scope, b"x-forwarded-for"),
                _header(scope, b"x-real-ip"),
                self.proxies,
            )
            if host is not None:
                # In place, like uvicorn's own middleware, so the server's access log shows it too.
                scope["client"] = (host, 0)
                proto = (_header(scope, b"x-forwarded-proto") or "").split(",")[-1].strip().lower()
                if scope["type"] == "http" and proto in ("http", "https"):
                    scope["scheme"] = proto
        await self.app(scope, receive, send)


class BodyTooLarge(HTTPException):
    """Raised from `receive` once the body passes its limit; FastAPI lets it through its body parsing, and the
    app's handler answers it in the contract's shape."""

    def __init__(self, code: str, message: str):
        super().__init__(413, {"code": code, "message": message})


def _too_large(scope: Scope, limit: int, upload: bool) -> BodyTooLarge:
    if upload:
        return BodyTooLarge("file_too_large", f"文件不能超过 {(limit - MULTIPART_SLACK) // 1024} KB")
    return BodyTooLarge("payload_too_large", f"请求内容过大（不能超过 {limit // 1024} KB）")


class BodyLimit:
    def __init__(self, app: ASGIApp, max_body: int, max_upload: int):
        self.app, self.max_body, self.max_upload = app, max_body, max_upload

    def limit_for(self, scope: Scope) -> tuple[int, bool]:
        content_type = (_header(scope, b"content-type") or "").lower()
        if content_type.startswith("multipart/form-data"):
            return self.max_upload + MULTIPART_SLACK, True
        if scope.get("path", "").startswith("/api/v1/codec/"):
            return max(self.max_body, CODEC_BODY_BYTES), False
        return self.max_body, False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, upload = self.limit_for(scope)
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.strip().isdigit() or int(declared) > limit):
            # Answered before a byte of the body is read; the server discards the rest.
            error = _too_large(scope, limit, upload)
            await _send_error(send, error, close=True)
            return
        seen = 0
        exceeded: BodyTooLarge | None = None
        started = False

        async def limited_receive() -> Message:
            nonlocal seen, exceeded
            if exceeded is not None:
                raise exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = _too_large(scope, limit, upload)
                    raise exceeded
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge as error:  # a route that caught nothing and let it through
            if started:
                raise
            await _send_error(send, error, close=True)


async def _send_error(send: Send, error: BodyTooLarge, close: bool) -> None:
    body = json.dumps({"detail": error.detail}, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:  # the rest of the body is not wanted: the connection is not reused
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class NoStore:
    """`Cache-Control: no-store` on /api/v1 answers that set no Cache-Control of their own."""

    def __init__(self, app: ASGIApp, prefixes: Iterable[str] = ("/api/v1/",)):
        self.app, self.prefixes = app, tuple(prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(self.prefixes):
            await self.app(scope, receive, send)
            return

        async def with_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_no_store)


class PlainRequestLine:
    """The path and query of every request under the input rule (services/schemas.py: `bad_text`, single-line
    here): a control character or an undecodable byte in a tracking code, a filter or a page number is a 422
    before any route sees it."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._plain(scope):
            body = json.dumps({"detail": {"code": "invalid_text", "message": INVALID_TEXT}}, ensure_ascii=False)
            data = body.encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
            await send({"type": "http.response.start", "status": 422, "headers": headers})
            await send({"type": "http.response.body", "body": data})
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _plain(scope: Scope) -> bool:
        if bad_text(scope.get("path", ""), multiline=False):
            return False
        query = scope.get("query_string", b"")
        if not query:
            return True
        try:
            text = unquote_plus(query.decode("ascii"), errors="strict")
        except (UnicodeDecodeError, ValueError):
            return False
        return not bad_text(text, multiline=False)
