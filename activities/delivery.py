"""The relay of the external message channel: sends the outbox (`notification_deliveries`) to a DingTalk-style
webhook (a DingTalk robot or the county's message gateway) and retries what it refuses, with backoff, forever.

`send_notifications` only writes pending rows (in the transaction of the inbox rows); this relay runs as an
asyncio task inside each worker process (`relay_running`, started by `worker.run_worker`) and never inside a
workflow or an activity, so a channel that is down holds up no case.

Several workers may run it against one database: a row is claimed with a lease (an UPDATE that only succeeds
while nobody else holds an unexpired lease), so two relays do not send the same row at the same time. Delivery
is at least once: a relay that dies between the POST and writing its outcome leaves the lease to expire and
the row is sent again, with the same `X-Wuhuan-Delivery: <key>:<recipient>` header so the receiver can drop the
repeat. Logs name the row, the case and the kind, never the recipient, the text or the webhook URL (its
access token is a credential)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import select

from domain.logs import scrub
from domain.privacy import mask_text
from domain.times import as_utc
from store.db import session
from store.tables import Notification, NotificationDelivery

log = logging.getLogger("wuhuan.delivery")

CHANNEL = "webhook"
PENDING, DELIVERED = "pending", "delivered"
DELIVERY_HEADER = "X-Wuhuan-Delivery"


def delivery_id(key: str, recipient: str) -> str:
    """What the receiver sees in the X-Wuhuan-Delivery header: the same for every attempt of one message."""
    return f"{key}:{recipient}"


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


def backoff(attempts: int, initial: timedelta, maximum: timedelta) -> timedelta:
    """Delay after the `attempts`-th failed attempt: initial, doubling, capped at maximum."""
    maximum = max(maximum, initial)
    exponent = min(max(attempts - 1, 0), 40)
    return min(initial * (2**exponent), maximum)


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
        return _short(f"errcode {body['errcode']}" + (f": {msg}" if msg else ""))
    return None


def _short(text: str, limit: int = 200) -> str:
    """A reason fit for the table and the logs: no phone or ID numbers, no credentials, short."""
    return scrub(text)[:limit]


def _utc(t: datetime | None) -> datetime:
    """`t` in UTC, or the clock's now."""
    return datetime.now(UTC) if t is None else as_utc(t)


@dataclass
class _Claimed:
    id: int
    key: str
    recipient: str
    case_id: str
    kind: str
    attempts: int
    token: str
    text: str


class WebhookRelay:
    """Sends due webhook deliveries. `deliver_due(now)` runs one round (tests call it with their own clock);
    `run()` repeats it every `interval` until cancelled."""

    def __init__(
        self,
        engine: Engine,
        url: str,
        *,
        secret: str | None = None,
        retry_initial: timedelta = timedelta(seconds=2),
        retry_max: timedelta = timedelta(minutes=10),
        interval: timedelta = timedelta(seconds=2),
        timeout: float = 10.0,
        lease: timedelta = timedelta(seconds=60),
        batch: int = 50,
        concurrency: int = 4,
        jitter: float = 0.1,
        client: httpx.AsyncClient | None = None,
    ):
        self.engine, self.url, self.secret = engine, url, secret
        self.retry_initial, self.retry_max, self.interval = retry_initial, retry_max, interval
        self.timeout, self.batch, self.jitter = timeout, batch, jitter
        self.lease = max(lease, timedelta(seconds=timeout * 2))  # a lease outlives the POST it covers
        self._concurrency = concurrency
        self._client, self._own_client = client, client is None

    @classmethod
    def from_settings(cls, engine: Engine, settings) -> WebhookRelay | None:
        """The relay the settings ask for, or None when no webhook is configured."""
        if not settings.notify_webhook_url:
            return None
        from domain.settings import parse_duration

        return cls(
            engine,
            settings.notify_webhook_url,
            secret=settings.notify_webhook_secret,
            retry_initial=parse_duration(settings.notify_retry_initial),
            retry_max=parse_duration(settings.notify_retry_max),
            interval=parse_duration(settings.notify_relay_interval),
        )

    # --- one round -------------------------------------------------------------------------------------

    async def deliver_due(self, now: datetime | None = None) -> Counter:
        """Send every row due at `now` (default: the clock) that no other relay holds, at most `batch` of
        them. Returns how many were delivered and how many failed."""
        fixed, now = now is not None, _utc(now)
        ids = await asyncio.to_thread(self._due, now)
        outcome: Counter = Counter()
        if not ids:
            return outcome
        gate = asyncio.Semaphore(self._concurrency)

        async def one(row_id: int) -> None:
            async with gate:
                at = now if fixed else _utc(None)  # on the real clock, a lease starts when it is taken
                claimed = await asyncio.to_thread(self._claim, row_id, at)
                if claimed is not None:
                    outcome["delivered" if await self._send(claimed, at) else "failed"] += 1

        await asyncio.gather(*(one(i) for i in ids))
        return outcome

    def _due_filter(self, now: datetime):
        d = NotificationDelivery
        return (
            d.channel == CHANNEL,
            d.status == PENDING,
            d.next_attempt_at <= now,
            or_(d.lease_until.is_(None), d.lease_until < now),
        )

    def _due(self, now: datetime) -> list[int]:
        d = NotificationDelivery
        with session(self.engine) as db:
            return list(
                db.exec(
                    select(d.id).where(*self._due_filter(now)).order_by(d.next_attempt_at, d.id).limit(self.batch)
                ).all()
            )

    def _claim(self, row_id: int, now: datetime) -> _Claimed | None:
        """Take the lease on one row; None when another relay took it (or it was delivered) meanwhile."""
        d = NotificationDelivery
        token = uuid.uuid4().hex
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(d)
                .where(d.id == row_id, *self._due_filter(now))
                .values(lease_until=now + self.lease, lease_token=token)
            ).rowcount
        if taken != 1:
            return None
        with session(self.engine) as db:
            row = db.get(d, row_id)
            text = db.exec(
                select(Notification.text).where(Notification.key == row.key, Notification.recipient == row.recipient)
            ).first()
        return _Claimed(
            id=row.id,
            key=row.key,
            recipient=row.recipient,
            case_id=row.case_id,
            kind=row.kind,
            attempts=row.attempts,
            token=token,
            text=text or f"您有一条新的案件消息（{row.kind}），请登录五环智控查看。",
        )

    async def _send(self, c: _Claimed, now: datetime) -> bool:
        url = sign_url(self.url, self.secret, int(time.time() * 1000)) if self.secret else self.url
        try:
            response = await self._http().post(
                url, json=message_body(c.text, c.recipient), headers={DELIVERY_HEADER: delivery_id(c.key, c.recipient)}
            )
            error = refusal(response)
        except httpx.TimeoutException:
            error = "timeout"
        except httpx.HTTPError as e:
            error = _short(f"{type(e).__name__}: {str(e).replace(self.url, '<webhook>')}")
        except Exception as e:  # noqa: BLE001  (a bug here must not stop the relay; the row stays pending)
            error = _short(type(e).__name__)
        if error is None:
            await asyncio.to_thread(self._delivered, c, now)
            log.info(
                "delivery %s (case %s, %s) accepted by the webhook after %d attempt(s)",
                c.id,
                c.case_id,
                c.kind,
                c.attempts + 1,
            )
            return True
        delay = backoff(c.attempts + 1, self.retry_initial, self.retry_max)
        delay *= 1 - self.jitter * random.random()
        await asyncio.to_thread(self._failed, c, now, error, delay)
        log.warning(
            "delivery %s (case %s, %s) not accepted, attempt %d: %s; next attempt in %.1f s",
            c.id,
            c.case_id,
            c.kind,
            c.attempts + 1,
            error,
            delay.total_seconds(),
        )
        return False

    def _delivered(self, c: _Claimed, now: datetime) -> None:
        d = NotificationDelivery
        with self.engine.begin() as conn:  # delivered is delivered, even if our lease ran out meanwhile
            conn.execute(
                update(d)
                .where(d.id == c.id, d.status == PENDING)
                .values(
                    status=DELIVERED,
                    delivered_at=now,
                    last_attempt_at=now,
                    attempts=d.attempts + 1,
                    last_error=None,
                    lease_until=None,
                    lease_token=None,
                )
            )

    def _failed(self, c: _Claimed, now: datetime, error: str, delay: timedelta) -> None:
        d = NotificationDelivery
        with self.engine.begin() as conn:  # only while we hold the lease: a relay that took over decides
            conn.execute(
                update(d)
                .where(d.id == c.id, d.status == PENDING, d.lease_token == c.token)
                .values(
                    attempts=d.attempts + 1,
                    last_error=error,
                    last_attempt_at=now,
                    next_attempt_at=now + delay,
                    lease_until=None,
                    lease_token=None,
                )
            )

    # --- running ---------------------------------------------------------------------------------------

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        return self._client

    async def run(self) -> None:
        """Deliver until cancelled; a failed round (e.g. the database briefly away) is logged and retried."""
        pause = self.interval.total_seconds()
        log.info("webhook relay started (every %.1f s)", pause)
        try:
            while True:
                try:
                    done = await self.deliver_due()
                except Exception:
                    log.exception("delivery round failed; next round in %.1f s", pause)
                    done = Counter()
                if sum(done.values()) < self.batch:  # a full batch: more may be due at once
                    await asyncio.sleep(pause)
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        if self._client is not None and self._own_client:
            await self._client.aclose()
            self._client = None


@contextlib.asynccontextmanager
async def relay_running(engine: Engine, settings) -> AsyncIterator[WebhookRelay | None]:
    """Run the webhook relay (when one is configured) as a task beside the body; cancelled when it ends."""
    relay = WebhookRelay.from_settings(engine, settings)
    task = asyncio.create_task(relay.run(), name="wuhuan-webhook-relay") if relay else None
    try:
        yield relay
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
