"""A member of staff's message preferences (`GET|PUT /api/v1/me/preferences`, the console's 消息设置): texts and
e-mail on or off, and quiet hours (China time) during which what is not urgent waits. The inbox is always on.
What the preferences decide is domain/channels.py; the outbox reads them when it queues a message."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from domain.channels import EMAIL, SMS, URGENT_KINDS, QuietHoursError, parse_quiet_hours
from domain.messages import KIND_ZH
from domain.privacy import mask_phone
from services.errors import Refusal, invalid
from services.schemas import Checked
from store.tables import Staff


class ChannelsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sms: bool | None = None
    email: bool | None = None
    inbox: bool | None = None  # only true: the inbox cannot be turned off


class PreferencesIn(Checked):
    """Fields left out keep their value; `"quiet_hours": null` (or "") clears the quiet hours."""

    model_config = ConfigDict(extra="forbid")
    channels: ChannelsIn = Field(default_factory=ChannelsIn)
    quiet_hours: str | None = Field(None, description='"HH:MM-HH:MM", China time, may wrap midnight: "22:00-07:30"')


class ChannelsOut(BaseModel):
    inbox: bool = True
    sms: bool
    email: bool


class PreferencesOut(BaseModel):
    channels: ChannelsOut
    quiet_hours: str | None
    phone: str | None = Field(None, description="the number texts go to, masked")
    email: str | None = None
    available: dict[str, bool] = Field(description="which channels this installation has configured")
    urgent_kinds: dict[str, str] = Field(description="messages sent by text, through quiet hours")


def view(person: Staff, settings) -> PreferencesOut:
    return PreferencesOut(
        channels=ChannelsOut(sms=person.sms_enabled, email=person.email_enabled),
        quiet_hours=person.quiet_hours,
        phone=mask_phone(person.phone) if person.phone else None,
        email=person.email,
        available={SMS: bool(settings.sms_gateway_url), EMAIL: bool(settings.smtp_host)},
        urgent_kinds={k: KIND_ZH.get(k, k) for k in sorted(URGENT_KINDS)},
    )


def _person(db: Session, username: str) -> Staff:
    person = db.get(Staff, username)
    if person is None:
        raise Refusal(404, "not_found", "找不到该工作人员")
    return person


def get_preferences(db: Session, username: str, settings) -> PreferencesOut:
    return view(_person(db, username), settings)


def set_preferences(db: Session, username: str, body: PreferencesIn, settings) -> PreferencesOut:
    """422 `inbox_always_on` for `"inbox": false`, `invalid_quiet_hours` for a malformed or empty window."""
    person = _person(db, username)
    if body.channels.inbox is False:
        raise invalid("inbox_always_on", "站内消息始终开启，不能关闭", field="inbox")
    if "quiet_hours" in body.model_fields_set:
        try:
            quiet = parse_quiet_hours(body.quiet_hours)
        except QuietHoursError as e:
            raise invalid("invalid_quiet_hours", str(e), field="quiet_hours") from e
        person.quiet_hours = str(quiet) if quiet else None
    if body.channels.sms is not None:
        person.sms_enabled = body.channels.sms
    if body.channels.email is not None:
        person.email_enabled = body.channels.email
    db.add(person)
    db.commit()
    db.refresh(person)
    return view(person, settings)
