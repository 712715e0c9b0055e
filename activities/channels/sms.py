"""Texts through the county's SMS gateway (contract, "Message channels"): a POST of JSON `{"id", "phone",
"text"}` with the header `X-Wuhuan-Delivery: <id>`, the same id on every retry; any 2xx means accepted.

Each text starts with the signature the carrier registered (WUHUAN_SMS_SIGNATURE) and is kept within two
segments (domain/channels.fit_sms: 134 UCS-2 characters; a longer body is cut with "…", a link never). The
phone number goes into the request body only: never into a URL, a reason or a log line.

A county whose provider speaks another shape subclasses `SmsGateway` and overrides `request` (and `refusal`);
see activities/channels/__init__.py."""

from __future__ import annotations

import httpx

from activities.channels import Outgoing
from activities.channels.webhook import HttpChannel, post
from domain.channels import fit_sms


class SmsGateway(HttpChannel):
    name = "sms"

    def __init__(
        self,
        url: str,
        *,
        signature: str = "【仙居矛调】",
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
    ):
        super().__init__(timeout, client)
        self.url, self.signature = url, signature

    def compose(self, message: Outgoing) -> str:
        """The text as it goes out: signature, body (cut to fit), and the link kept whole. The relay hands a
        citizen's receipt with its link after a line break: the tail."""
        body, _, tail = message.text.partition("\n")
        return fit_sms(body, self.signature, tail.strip())

    def request(self, message: Outgoing) -> tuple[str, dict]:
        """(url, JSON body) of the gateway's request. Override for another provider's shape."""
        return self.url, {"id": message.delivery_id, "phone": message.address, "text": self.compose(message)}

    @staticmethod
    def refusal(response: httpx.Response) -> str | None:
        return None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"

    async def send(self, message: Outgoing) -> str | None:
        if not message.address:
            return "no mobile number"
        url, body = self.request(message)
        return await post(self.http(), url, body, message.delivery_id, check=self.refusal)
