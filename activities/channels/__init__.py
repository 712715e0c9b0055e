"""The outbox's channels: one adapter per way of reaching people outside the system, each behind the same small
interface (`Channel`), so the relay (activities/delivery.py) sends every row the same way and a county can plug
in its own provider.

- `webhook.py` — a DingTalk-style robot or the county's message gateway, for every message (installation-wide);
- `sms.py` — texts through an HTTP gateway (WUHUAN_SMS_GATEWAY_URL), for urgent staff messages and citizens;
- `email.py` — e-mail through SMTP (WUHUAN_SMTP_*), for the rest of staff messages.

**Plugging in a provider.** Write a class with `name`, `timeout`, `async send(message) -> str | None` (None:
accepted; otherwise a short reason, no message text and no phone number, kept as the row's `last_error` and
retried with backoff) and `async aclose()`. For texts, subclass `sms.SmsGateway` and override `request` (the
provider's URL, headers and body; `message.delivery_id` is the idempotency key to pass on) and, when the
provider does not answer with a plain 2xx, `refusal`. Then return it from `channels_for` (below) under the name
"sms". Nothing else changes: the outbox rows, their retries and the case page stay as they are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Outgoing:
    """One message about to be sent: what a channel needs, resolved by the relay from the outbox row."""

    delivery_id: str  # the same on every attempt of this row: the receiver drops repeats by it
    channel: str
    kind: str
    case_id: str
    recipient: str  # a staff username, or citizen:<case_id>
    address: str | None  # the phone number or e-mail address (never logged); None for the webhook
    text: str
    subject: str | None = None
    html: str | None = None


class Channel(Protocol):
    name: str
    timeout: float  # seconds an attempt may take (the relay's lease outlives it)

    async def send(self, message: Outgoing) -> str | None:
        """None when the channel accepted the message, else a short reason (no text, no address)."""
        ...

    async def aclose(self) -> None: ...


def channels_for(settings) -> dict[str, Channel]:
    """The channels the settings configure, by name."""
    from activities.channels.email import SmtpEmail
    from activities.channels.sms import SmsGateway
    from activities.channels.webhook import Webhook

    found: dict[str, Channel] = {}
    if settings.notify_webhook_url:
        found["webhook"] = Webhook(settings.notify_webhook_url, secret=settings.notify_webhook_secret)
    if settings.sms_gateway_url:
        found["sms"] = SmsGateway(settings.sms_gateway_url, signature=settings.sms_signature)
    if settings.smtp_host:
        found["email"] = SmtpEmail.from_settings(settings)
    return found
