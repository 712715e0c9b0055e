"""Who hears of what on which channel: the rule behind the outbox (activities/notifications.py queues by it, the
relay in activities/delivery.py sends by channel).

Every message lands in the in-app inbox. Besides it, a member of staff gets what is urgent by text (SMS) and
the rest by e-mail; someone who turned texts off gets their texts as e-mails instead; quiet hours (China time)
hold back what is not urgent until they end, while urgent messages go through. The installation-wide webhook,
when configured, still gets every message.

Texts are kept within two SMS segments: a text with any Chinese character is sent as UCS-2, 70 characters in a
single segment and 67 per part of a concatenated one, so two parts carry 134, the signature (【仙居矛调】)
included. A longer text is cut at the end of its body with "…"; a link (the tail) is never cut."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from domain.privacy import normalise_phone
from domain.times import CHINA, as_utc

INBOX, WEBHOOK, SMS, EMAIL = "inbox", "webhook", "sms", "email"
CHANNEL_ZH = {INBOX: "站内消息", WEBHOOK: "钉钉", SMS: "短信", EMAIL: "电子邮件"}

# What cannot wait for the morning: a case put in someone's hands, a colour turning, a task force, urging, and a
# clock about to run out or run out for the task force. Sent by text, through quiet hours.
URGENT_KINDS = frozenset(
    {"assigned", "turned_yellow", "turned_red", "task_force", "urged", "due_soon", "task_force_overdue"}
)

SMS_SEGMENT = 70  # UCS-2 characters in a single segment
SMS_PART = 67  # per part of a concatenated text (the rest of 70 is the concatenation header)
SMS_MAX_PARTS = 2
ELLIPSIS = "…"

_QUIET = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


@dataclass(frozen=True)
class QuietHours:
    """From `start` to `end`, China time; wraps midnight when start is later than end (22:00-07:30)."""

    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def ends_after(self, now: datetime) -> datetime | None:
        """When the quiet hours `now` falls in end (UTC), or None when `now` is not in them."""
        local = as_utc(now).astimezone(CHINA)
        if not self.contains(local.time().replace(tzinfo=None)):
            return None
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(UTC)


class QuietHoursError(ValueError):
    pass


def parse_quiet_hours(text: str | None) -> QuietHours | None:
    """'22:00-07:30' → QuietHours; None or blank → none. Raises QuietHoursError on anything else, including an
    empty window (start = end)."""
    if text is None or not text.strip():
        return None
    m = _QUIET.match(text.strip().replace("：", ":").replace(" ", ""))
    if not m:
        raise QuietHoursError("免打扰时段格式应为 HH:MM-HH:MM，例如 22:00-07:30")
    start, end = time(int(m[1]), int(m[2])), time(int(m[3]), int(m[4]))
    if start == end:
        raise QuietHoursError("免打扰时段的开始和结束不能相同")
    return QuietHours(start, end)


@dataclass(frozen=True)
class Reach:
    """What the outbox knows of one member of staff when it queues their message."""

    phone: str | None = None
    email: str | None = None
    sms: bool = True  # texts on
    email_on: bool = True
    quiet_hours: str | None = None


def mobile(phone: str | None) -> str | None:
    """The number normalised when it can receive texts (a mainland mobile), else None: a landline cannot."""
    p = normalise_phone(phone or "")
    return p if _MOBILE.match(p) else None


def personal_channel(kind: str, reach: Reach, available: frozenset[str] | set[str]) -> str | None:
    """The one personal channel (sms | email) a message of `kind` goes to besides the inbox, or None."""
    wants_text = kind in URGENT_KINDS
    if wants_text and SMS in available and reach.sms and mobile(reach.phone):
        return SMS
    # Not urgent, or texts off / impossible: by e-mail, when the person takes e-mail.
    if EMAIL in available and reach.email_on and reach.email:
        return EMAIL
    return None


def hold_until(kind: str, reach: Reach, now: datetime) -> datetime | None:
    """When a personal message queued `now` may first be sent, if later than now: the end of the person's quiet
    hours for what is not urgent. A malformed stored value holds nothing (the form validates what it stores)."""
    if kind in URGENT_KINDS:
        return None
    try:
        quiet = parse_quiet_hours(reach.quiet_hours)
    except QuietHoursError:
        return None
    return quiet.ends_after(now) if quiet else None


def sms_units(text: str) -> int:
    """UTF-16 code units, as a UCS-2 text is counted (a character outside the BMP takes two)."""
    return len(text.encode("utf-16-le")) // 2


def sms_capacity(parts: int = SMS_MAX_PARTS) -> int:
    return SMS_SEGMENT if parts <= 1 else SMS_PART * parts


def fit_sms(body: str, signature: str = "", tail: str = "", parts: int = SMS_MAX_PARTS) -> str:
    """`signature + body + tail` within `parts` segments: the body is cut (ending in …) when needed; the signature
    and the tail (a link) are kept whole. Whitespace runs become one space (a text has no layout)."""
    body = re.sub(r"\s+", " ", body).strip()
    room = sms_capacity(parts) - sms_units(signature) - sms_units(tail)
    if sms_units(body) > room:
        cut = []
        used = sms_units(ELLIPSIS)
        for ch in body:
            u = sms_units(ch)
            if used + u > room:
                break
            cut.append(ch)
            used += u
        body = "".join(cut).rstrip("，,；;、 ") + ELLIPSIS
    return f"{signature}{body}{tail}"


def sms_parts(text: str) -> int:
    n = sms_units(text)
    return 1 if n <= SMS_SEGMENT else -(-n // SMS_PART)
