"""Times in UTC. The read model stores them without a zone (SQLite has none; PostgreSQL sessions run in UTC), so
a value read back is naive and means UTC."""
from __future__ import annotations

from datetime import datetime, timezone


def as_utc(t: datetime | None) -> datetime | None:
    """`t` as an aware UTC time: a naive one is taken to be UTC already; None stays None."""
    if t is None:
        return None
    return t.astimezone(timezone.utc) if t.tzinfo is not None else t.replace(tzinfo=timezone.utc)
