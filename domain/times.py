"""Times. Everything is kept in UTC; the county reads China time (UTC+8, no daylight saving).

The read model stores times without a zone (SQLite has none; PostgreSQL sessions run in UTC), so a value read
back is naive and means UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import overload

CHINA = timezone(timedelta(hours=8), "CST")


@overload
def as_utc(t: datetime) -> datetime: ...
@overload
def as_utc(t: None) -> None: ...
def as_utc(t: datetime | None) -> datetime | None:
    """`t` as an aware UTC time: a naive one is taken to be UTC already; None stays None."""
    if t is None:
        return None
    return t.astimezone(UTC) if t.tzinfo is not None else t.replace(tzinfo=UTC)


def china_local(t: datetime) -> datetime:
    """What a clock on a wall in the county shows (a naive `t` means UTC)."""
    return as_utc(t).astimezone(CHINA)


def from_china_wall_time(t: datetime) -> datetime:
    """A time a person in the county typed: without an offset it is China time. Returned in UTC."""
    return (t if t.tzinfo is not None else t.replace(tzinfo=CHINA)).astimezone(UTC)
