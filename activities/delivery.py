"""The relay of the outbox (`notification_deliveries`): sends each row on its channel (activities/channels/:
the webhook, texts, e-mail) and retries what is refused, with backoff, forever.

The notifier and the record activity only write pending rows (in the transaction of what calls for them); this
relay runs as asyncio tasks inside each worker process (`relay_running`, started by `worker.run_worker`), one
loop per channel, and never inside a workflow or an activity: a channel that is down holds up no case and no
other channel.

Several workers may run it against one database: a row is claimed with a lease (an UPDATE that only succeeds
while nobody else holds an unexpired lease), so two relays do not send the same row at the same time. Delivery
is at least once: a relay that dies between sending and writing its outcome leaves the lease to expire and the
row is sent again, with the same delivery id (`X-Wuhuan-Delivery`) so the receiver can drop the repeat. Logs
name the row, the case, the kind and the channel, never the recipient's address, the text or a credential."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import select

from activities.channels import Channel, Outgoing, channels_for
from activities.channels.webhook import DELIVERY_HEADER, Webhook, message_body, refusal, short, sign_url
from domain import citizen_texts
from domain.channels import EMAIL, SMS, WEBHOOK, mobile
from domain.times import as_utc
from store.db import session
from store.outbox import receipt_key
from store.tables import Case, Notification, NotificationDelivery, Staff

__all__ = [
    "DELIVERY_HEADER",
    "Relay",
    "WebhookRelay",
    "backoff",
    "delivery_id",
    "message_body",
    "refusal",
    "relay_running",
    "sign_url",
]

log = logging.getLogger("wuhuan.delivery")

CHANNEL = WEBHOOK
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def delivery_id(key: str, recipient: str, channel: str = WEBHOOK) -> str:
    """What the receiver sees as the delivery's id: the same for every attempt of one row. The webhook's keeps
    the form it always had."""
    return f"{key}:{recipient}" if channel == WEBHOOK else f"{key}:{recipient}:{channel}"


def backoff(attempts: int, initial: timedelta, maximum: timedelta) -> timedelta:
    """Delay after the `attempts`-th failed attempt: initial, doubling, capped at maximum."""
    maximum = max(maximum, initial)
    exponent = min(max(attempts - 1, 0), 40)
    return min(initial * (2**exponent), maximum)


def _utc(t: datetime | None) -> datetime:
    """`t` in UTC, or the clock's now."""
    return datetime.now(UTC) if t is None else as_utc(t)


def _pending(db, key: str, recipient: str) -> bool:
    d = NotificationDelivery
    return db.exec(select(d.id).where(d.key == key, d.recipient == recipient, d.status == PENDING)).first() is not None


class _NotYet(Exception):
    """The row cannot be sent yet (a citizen's case not in the read model yet): retried like a refusal."""


class _Nowhere(Exception):
    """The row can never be sent (no mobile number, no e-mail address): marked failed, not retried."""


@dataclass
class _Claimed:
    id: int
    channel: str
    key: str
    recipient: str
    case_id: str
    kind: str
    attempts: int
    token: str
    message: Outgoing | None = None
    problem: str | None = None  # why it cannot go now (retry) ...
    nowhere: str | None = None  # ... or ever (failed)


class Relay:
    """Sends due deliveries on the channels it has. `deliver_due(now)` runs one round (tests call it with their
    own clock); `run()` runs one loop per channel until cancelled."""

    def __init__(
        self,
        engine: Engine,
        channels: Mapping[str, Channel],
        *,
        retry_initial: timedelta = timedelta(seconds=2),
        retry_max: timedelta = timedelta(minutes=10),
        interval: timedelta = timedelta(seconds=2),
        lease: timedelta = timedelta(seconds=60),
        batch: int = 50,
        concurrency: int = 4,
        jitter: float = 0.1,
    ):
        self.engine, self.channels = engine, dict(channels)
        self.retry_initial, self.retry_max, self.interval = retry_initial, retry_max, interval
        self.batch, self.jitter = batch, jitter
        longest = max((c.timeout for c in self.channels.values()), default=10.0)
        self.lease = max(lease, timedelta(seconds=longest * 2))  # a lease outlives the attempt it covers
        self._concurrency = concurrency

    @classmethod
    def from_settings(cls, engine: Engine, settings, **kw) -> Relay | None:
        """The relay of every channel the settings configure, or None when none is."""
        channels = channels_for(settings)
        if not channels:
            return None
        from domain.settings import parse_duration

        return cls(
            engine,
            channels,
            retry_initial=parse_duration(settings.notify_retry_initial),
            retry_max=parse_duration(settings.notify_retry_max),
            interval=parse_duration(settings.notify_relay_interval),
            **kw,
        )

    # --- one round -------------------------------------------------------------------------------------

    async def deliver_due(self, now: datetime | None = None, channel: str | None = None) -> Counter:
        """Send every row due at `now` (default: the clock) that no other relay holds, at most `batch` per
        channel, on every channel or only `channel`. Returns how many were delivered, failed (to be retried) and
        were undeliverable."""
        names = [channel] if channel is not None else list(self.channels)
        rounds = await asyncio.gather(*(self._round(name, now) for name in names))
        return sum(rounds, Counter())

    async def _round(self, channel: str, now: datetime | None) -> Counter:
        fixed, now = now is not None, _utc(now)
        ids = await asyncio.to_thread(self._due, channel, now)
        outcome: Counter = Counter()
        if not ids:
            return outcome
        gate = asyncio.Semaphore(self._concurrency)

        async def one(row_id: int) -> None:
            async with gate:
                at = now if fixed else _utc(None)  # on the real clock, a lease starts when it is taken
                claimed = await asyncio.to_thread(self._claim, row_id, at, channel)
                if claimed is not None:
                    outcome[await self._send(claimed, at)] += 1

        await asyncio.gather(*(one(i) for i in ids))
        return outcome

    def _due_filter(self, channel: str, now: datetime):
        d = NotificationDelivery
        return (
            d.channel == channel,
            d.status == PENDING,
            d.next_attempt_at <= now,
            or_(d.lease_until.is_(None), d.lease_until < now),
        )

    def _due(self, channel: str, now: datetime) -> list[int]:
        d = NotificationDelivery
        with session(self.engine) as db:
            return list(
                db.exec(
                    select(d.id)
                    .where(*self._due_filter(channel, now))
                    .order_by(d.next_attempt_at, d.id)
                    .limit(self.batch)
                ).all()
            )

    def _claim(self, row_id: int, now: datetime, channel: str | None = None) -> _Claimed | None:
        """Take the lease on one row; None when another relay took it (or it was delivered) meanwhile."""
        d = NotificationDelivery
        token = uuid.uuid4().hex
        if channel is None:
            with session(self.engine) as db:
                channel = db.exec(select(d.channel).where(d.id == row_id)).first() or WEBHOOK
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(d)
                .where(d.id == row_id, *self._due_filter(channel, now))
                .values(lease_until=now + self.lease, lease_token=token)
            ).rowcount
        if taken != 1:
            return None
        with session(self.engine) as db:
            row = db.get(d, row_id)
            c = _Claimed(
                id=row.id,
                channel=row.channel,
                key=row.key,
                recipient=row.recipient,
                case_id=row.case_id,
                kind=row.kind,
                attempts=row.attempts,
                token=token,
            )
            try:
                c.message = Outgoing(
                    delivery_id=delivery_id(row.key, row.recipient, row.channel),
                    channel=row.channel,
                    kind=row.kind,
                    case_id=row.case_id,
                    recipient=row.recipient,
                    address=self._address(db, row),
                    text=self._text(db, row),
                    subject=row.subject,
                    html=row.html,
                )
            except _NotYet as e:
                c.problem = str(e)
            except _Nowhere as e:
                c.nowhere = str(e)
        return c

    @staticmethod
    def _text(db, row: NotificationDelivery) -> str:
        if row.text is not None:
            return row.text
        text = db.exec(
            select(Notification.text).where(Notification.key == row.key, Notification.recipient == row.recipient)
        ).first()
        return text or f"您有一条新的案件消息（{row.kind}），请登录五环智控查看。"

    @staticmethod
    def _address(db, row: NotificationDelivery) -> str | None:
        """Where the row goes, read now (a corrected number counts): the citizen's phone from the case, a staff
        member's phone or e-mail address from the directory; None for the webhook."""
        if row.channel not in (SMS, EMAIL):
            return None
        case_id = citizen_texts.case_of(row.recipient)
        if case_id is not None:
            case = db.get(Case, case_id)
            if case is None:  # the receipt may be queued before the workflow's first record lands
                raise _NotYet("case not recorded yet")
            if row.key != receipt_key(case_id) and _pending(db, receipt_key(case_id), row.recipient):
                raise _NotYet("waiting for the receipt text")  # later texts point back to the receipt's link
            phone = mobile(case.citizen_phone)
            if phone is None or row.channel != SMS:
                raise _Nowhere("no mobile number")
            return phone
        person = db.get(Staff, row.recipient)
        if row.channel == SMS:
            phone = mobile(person.phone if person else None)
            if phone is None:
                raise _Nowhere("no mobile number")
            return phone
        if person is None or not person.email:
            raise _Nowhere("no e-mail address")
        return person.email

    async def _send(self, c: _Claimed, now: datetime) -> str:
        if c.nowhere is not None:
            await asyncio.to_thread(self._undeliverable, c, now, c.nowhere)
            log.warning(
                "delivery %s (case %s, %s, %s) cannot be sent: %s", c.id, c.case_id, c.kind, c.channel, c.nowhere
            )
            return "undeliverable"
        error = c.problem
        if error is None:
            assert c.message is not None
            try:
                error = await self.channels[c.channel].send(c.message)
            except Exception as e:  # noqa: BLE001  (a bug here must not stop the relay; the row stays pending)
                error = short(type(e).__name__)
        if error is None:
            await asyncio.to_thread(self._delivered, c, now)
            log.info(
                "delivery %s (case %s, %s) accepted by %s after %d attempt(s)",
                c.id,
                c.case_id,
                c.kind,
                c.channel,
                c.attempts + 1,
            )
            return "delivered"
        delay = backoff(c.attempts + 1, self.retry_initial, self.retry_max)
        delay *= 1 - self.jitter * random.random()
        await asyncio.to_thread(self._failed, c, now, error, delay)
        log.warning(
            "delivery %s (case %s, %s) not accepted by %s, attempt %d: %s; next attempt in %.1f s",
            c.id,
            c.case_id,
            c.kind,
            c.channel,
            c.attempts + 1,
            error,
            delay.total_seconds(),
        )
        return "failed"

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
                    text=None,  # a citizen's receipt holds the tracking link: kept no longer than needed
                    html=None,
                )
            )

    def _undeliverable(self, c: _Claimed, now: datetime, reason: str) -> None:
        d = NotificationDelivery
        with self.engine.begin() as conn:
            conn.execute(
                update(d)
                .where(d.id == c.id, d.status == PENDING, d.lease_token == c.token)
                .values(
                    status=FAILED,
                    last_error=reason,
                    last_attempt_at=now,
                    lease_until=None,
                    lease_token=None,
                    text=None,
                    html=None,
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

    async def _loop(self, channel: str) -> None:
        pause = self.interval.total_seconds()
        while True:
            try:
                done = await self.deliver_due(channel=channel)
            except Exception:
                log.exception("%s delivery round failed; next round in %.1f s", channel, pause)
                done = Counter()
            if sum(done.values()) < self.batch:  # a full batch: more may be due at once
                await asyncio.sleep(pause)

    async def run(self) -> None:
        """Deliver until cancelled, one loop per channel (a channel that times out slows only its own loop);
        a failed round (e.g. the database briefly away) is logged and retried."""
        log.info("relay started for %s (every %.1f s)", ", ".join(self.channels), self.interval.total_seconds())
        try:
            await asyncio.gather(*(self._loop(name) for name in self.channels))
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        for channel in self.channels.values():
            await channel.aclose()


class WebhookRelay(Relay):
    """The relay of the webhook alone (what the outbox had before texts and e-mail)."""

    def __init__(
        self,
        engine: Engine,
        url: str,
        *,
        secret: str | None = None,
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
        **kw,
    ):
        super().__init__(engine, {WEBHOOK: Webhook(url, secret=secret, timeout=timeout, client=client)}, **kw)
        self.url = url

    @classmethod
    def from_settings(cls, engine: Engine, settings, **kw) -> WebhookRelay | None:  # type: ignore[override]
        """The webhook's relay the settings ask for, or None when no webhook is configured."""
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
            **kw,
        )


@contextlib.asynccontextmanager
async def relay_running(engine: Engine, settings) -> AsyncIterator[Relay | None]:
    """Run the outbox's relay (when some channel is configured) as a task beside the body; cancelled when it
    ends."""
    relay = Relay.from_settings(engine, settings)
    task = asyncio.create_task(relay.run(), name="wuhuan-relay") if relay else None
    try:
        yield relay
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
