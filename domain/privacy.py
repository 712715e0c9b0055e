"""Masking of personal data for lists, citizen pages and logs."""

from __future__ import annotations

import re
from typing import Any

PHONE_RE = re.compile(r"^1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}$")
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_ID_IN_TEXT = re.compile(r"(?<![0-9Xx])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9Xx])")


def normalise_phone(raw: str) -> str:
    return re.sub(r"[\s\-()（）]", "", raw or "").removeprefix("+86")


def valid_phone(raw: str) -> bool:
    return bool(PHONE_RE.match(normalise_phone(raw)))


def mask_phone(phone: str | None) -> str:
    p = normalise_phone(phone or "")
    if len(p) >= 7:
        return p[:3] + "*" * (len(p) - 7) + p[-4:]
    return "*" * len(p)


def mask_name(name: str | None) -> str:
    """张三丰 → 张**; one character names stay as a single *."""
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1) if len(name) > 1 else "*"


def mask_text(text: str) -> str:
    """Mask phone numbers and ID-card numbers that a citizen typed into free text."""
    text = _PHONE_IN_TEXT.sub(lambda m: m.group(1) + "****" + m.group(3), text)
    return _ID_IN_TEXT.sub(lambda m: m.group(1) + "********" + m.group(2), text)


def mask_detail(value: Any) -> Any:
    """The one rule for what staff views, exports, messages and PDFs show of free text: every string in an
    event's detail (a citizen's update, a reason, a note) has its phone and ID-card numbers masked, and a field
    that holds a phone (`citizen_phone`, `phone`) shows only its first three and last four digits. The full
    number is an explicit, logged action (services/privacy.py: reveal_phone)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {
            k: mask_phone(v) if isinstance(v, str) and "phone" in str(k) else mask_detail(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_detail(v) for v in value]
    return value
