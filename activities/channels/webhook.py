"""A DingTalk-style robot (or the county's message gateway speaking its shape): every message, mentioning the
recipient, optionally signed. Its URL's access token is a credential: it never appears in a reason or a log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import httpx

from activities.channels import Outgoing
from domain.logs import scrub
from domain.privacy import mask_text

DELIVERY_HEADER = "X-Wuhuan-Delivery"


def sign_url(url: str, secret: str, timestamp_ms: int) -> str:
    """DingTalk-style signing: `timestamp` (ms) and `sign` = urlencode(base64(HMAC-SHA256(secret,
    f"{timestamp}\\n{secret}"))) appended to the webhook's own query parameters."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    sign = base64.b64encode(digest).decode()
    return str(httpx.URL(url).copy_merge_params({"timestamp": str(timestamp_ms), "sign": sign}))


def message_body(text: str, recipient: str) -> dict:
    """A DingTalk robot text message mentioning the recipient. Phone and ID numbers a citizen typed are
    masked: the channel leaves the county's systems."""
    return {"msgtype": "text", "text": {"content": mask_text(text)}, "at": {"atUserIds": [recipient]}}


def refusal(response: httpx.Response) -> str | None:
    """None when the channel accepted the message: a 2xx whose JSON body, if it has an `errcode` (DingTalk),
    says 0. Otherwise a short reason (no message text)."""
    if not 200 <= response.status_code < 300:
        return f"HTTP {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and "errcode" in body and str(body["errcode"]) != "0":
        msg = str(body.get("errmsg") or "")[:80]
        return short(f"errcode {body['errcode']}" + (f": {msg}" if msg else ""))
    return None


def short(text: str, limit: int = 200) -> str:
    """A reason fit for the table and the logs: no phone or ID numbers, no credentials, short."""
    return scrub(text)[:limit]


async def post(client: httpx.AsyncClient, url: str, body: dict, delivery_id: str, check=refusal) -> str | None:
    """POST `body`; None when accepted (by `check`), else a short reason in which the URL is never repeated."""
    try:
        response = await client.post(url, json=body, headers={DELIVERY_HEADER: delivery_id})
        return check(response)
    except httpx.TimeoutException:
        return "timeout"
    except httpx.HTTPError as e:
        base = url.split("?", 1)[0]
        return short(f"{type(e).__name__}: {str(e).replace(url, '<gateway>').replace(base, '<gateway>')}")


class HttpChannel:
    """What the HTTP channels share: one client, made when first needed (or given, by tests)."""

    name = "http"

    def __init__(self, timeout: float = 10.0, client: httpx.AsyncClient | None = None):
        self.timeout = timeout
        self._client, self._own_client = client, client is None

    def http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None and self._own_client:
            await self._client.aclose()
            self._client = None


class Webhook(HttpChannel):
    name = "webhook"

    def __init__(
        self, url: str, *, secret: str | None = None, timeout: float = 10.0, client: httpx.AsyncClient | None = None
    ):
        super().__init__(timeout, client)
        self.url, self.secret = url, secret

    async def send(self, message: Outgoing) -> str | None:
        url = sign_url(self.url, self.secret, int(time.time() * 1000)) if self.secret else self.url
        return await post(self.http(), url, message_body(message.text, message.recipient), message.delivery_id)
