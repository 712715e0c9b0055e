"""Which channel a message takes, quiet hours (wrapping midnight, China time) and the length of a text."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from domain.channels import (
    EMAIL,
    SMS,
    QuietHoursError,
    Reach,
    fit_sms,
    hold_until,
    parse_quiet_hours,
    personal_channel,
    sms_parts,
    sms_units,
)
from domain.times import CHINA

BOTH = {SMS, EMAIL}
PERSON = Reach(phone="13912345678", email="a@b.invalid")


def china(h: int, m: int = 0, day: int = 20) -> datetime:
    return datetime(2026, 11, day, h, m, tzinfo=CHINA).astimezone(UTC)


def test_urgent_by_text_the_rest_by_email_and_the_fallbacks():
    assert personal_channel("assigned", PERSON, BOTH) == SMS
    assert personal_channel("due_soon", PERSON, BOTH) == SMS
    assert personal_channel("material_added", PERSON, BOTH) == EMAIL
    assert personal_channel("assigned", Reach(phone="13912345678", email="a@b.invalid", sms=False), BOTH) == EMAIL
    assert personal_channel("assigned", Reach(phone="0576-87654321", email="a@b.invalid"), BOTH) == EMAIL
    assert personal_channel("assigned", PERSON, {EMAIL}) == EMAIL
    assert personal_channel("material_added", Reach(phone="13912345678", email=None), BOTH) is None
    assert personal_channel("assigned", Reach(phone=None, email="a@b.invalid", email_on=False), BOTH) is None


def test_quiet_hours_wrap_midnight_and_hold_only_what_is_not_urgent():
    q = parse_quiet_hours("22:00-07:30")
    assert (q.start, q.end, str(q)) == (time(22), time(7, 30), "22:00-07:30")
    assert q.contains(time(23, 59)) and q.contains(time(0)) and q.contains(time(7, 29))
    assert not q.contains(time(7, 30)) and not q.contains(time(21, 59))
    night = Reach(quiet_hours="22:00-07:30")
    assert hold_until("material_added", night, china(23, 10)) == china(7, 30, day=21)
    assert hold_until("material_added", night, china(3, 0)) == china(7, 30)  # after midnight: this morning
    assert hold_until("material_added", night, china(12)) is None
    assert hold_until("assigned", night, china(23, 10)) is None  # urgent goes through
    lunch = parse_quiet_hours("12:00-13:30")
    assert lunch.ends_after(china(12, 15)) == china(13, 30) and lunch.ends_after(china(14)) is None
    assert parse_quiet_hours("") is None and parse_quiet_hours(None) is None
    for bad in ("22:00", "24:00-07:00", "22:00-22:00", "10pm-7am", "22:00-07:60"):
        with pytest.raises(QuietHoursError):
            parse_quiet_hours(bad)


def test_texts_fit_two_segments_keeping_signature_and_link():
    assert sms_units("中文") == 2 and sms_units("😀") == 2
    short = fit_sms("您的案件已办结。", "【仙居矛调】")
    assert short == "【仙居矛调】您的案件已办结。" and sms_parts(short) == 1
    link = "https://mtzx.example.gov.cn/track/" + "x" * 22
    long = fit_sms("诉求" * 100, "【仙居矛调】", link)
    assert long.startswith("【仙居矛调】诉求") and long.endswith("…" + link)
    assert sms_units(long) == 134 and sms_parts(long) == 2
    assert sms_units(fit_sms("字" * 134, "")) == 134 and fit_sms("字" * 135, "").endswith("…")
    assert fit_sms("一行\n  两行", "") == "一行 两行"
