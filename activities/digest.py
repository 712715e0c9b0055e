"""The leaders' morning digest: for each leader with something to report, an e-mail through the outbox (the
relay sends it, retries it, and a channel that is down holds up nothing). Started each morning by the Temporal
Schedule `daily-digest` (WUHUAN_DIGEST_AT, China time) through the workflow DailyDigest. Idempotent: one digest
per leader and day (its outbox key), so a retried activity or a second run of the day sends nothing twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity

from domain import digest
from domain.digest import Digest, DigestRequest, DigestResult
from domain.taxonomy import Taxonomy
from store import digest as queries
from store.db import session
from store.directory import actor_of

# (db, username, key, subject, text, html) -> queued (False: that key was queued before)
QueueEmail = Callable[[Session, str, str, str, str, str], bool]


class DigestSender:
    def __init__(
        self,
        engine: Engine,
        taxonomy: Taxonomy,
        queue_email: QueueEmail,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.engine, self.taxonomy, self.queue_email, self.clock = engine, taxonomy, queue_email, clock

    def digests(self, db: Session, day, now: datetime) -> list[tuple[str, str, Digest]]:
        """(username, display name, digest) of every leader with something to report on `day`."""
        out = []
        for person in queries.leaders(db):
            actor = actor_of(person)
            reach = digest.reach_of(actor, self.taxonomy)
            if reach is None:
                continue
            d = digest.collect(person.username, day, queries.digest_cases(db, actor, reach, day, self.taxonomy))
            if not d.empty:
                out.append((person.username, person.display_name, d))
        return out

    @activity.defn
    def send_daily_digests(self, req: DigestRequest) -> DigestResult:
        now = self.clock()
        with session(self.engine) as db:
            leaders = len(queries.leaders(db))
            sent = 0
            for username, name, d in self.digests(db, req.day, now):
                key = f"digest:{req.day.isoformat()}:{username}"
                if self.queue_email(
                    db, username, key, digest.subject(d), digest.text(d, name, now), digest.html_body(d, name, now)
                ):
                    sent += 1
            db.commit()
        return DigestResult(day=req.day, leaders=leaders, sent=sent)
