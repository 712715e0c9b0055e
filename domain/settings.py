"""Configuration from the environment (and an optional `.env`), as listed in docs/operations.md.

Read by the API, the worker and the command line; never by workflow code, which receives the values it
needs (the service levels) in its input so that a case keeps the clocks it was opened with.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import parseaddr
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import isodate
from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.hazards import HazardLevels
from domain.models import ServiceLevels


def parse_duration(text: str) -> timedelta:
    value = isodate.parse_duration(text)
    if not isinstance(value, timedelta):  # isodate returns Duration for months/years
        value = value.totimedelta(start=datetime(2000, 1, 1))
    if value <= timedelta(0):
        raise ValueError(f"duration must be positive: {text}")
    return value


def proxy_networks(text: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """WUHUAN_TRUSTED_PROXIES as networks: "10.0.0.5, 172.16.0.0/12" (a bare address is a /32 or /128)."""
    return tuple(ip_network(part.strip(), strict=False) for part in (text or "").split(",") if part.strip())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WUHUAN_", env_file=".env", extra="ignore")

    temporal_address: str | None = None
    temporal_namespace: str = "default"
    temporal_task_queue: str = "wuhuan-cases"
    # Cases a worker keeps in memory between workflow tasks (0 replays each case from its history on every task,
    # at 2.5x the worker's CPU). Safe because nothing of ours queries a case: a query answered by a worker that
    # picked a case up after a crash could leave its cached run ahead of its history, and the next step then
    # wrote a history that no longer replays; the views read the read model and `reconcile` replays histories
    # in its own process instead (docs/durability.md, "The cache and replay").
    worker_cached_workflows: int = Field(default=1000, ge=0)
    database_url: str | None = None
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    data_dir: Path = Path(".data")

    sla_routed_within: str = "PT3M"
    sla_assigned_within: str = "PT5M"
    sla_team_within: str = "PT1H"
    sla_yellow_after: str = "P7D"
    sla_red_after: str = "P14D"
    # The yellow and red clocks in natural days (the seed's 7 and 14) or working days (domain/calendar.py).
    sla_days: Literal["natural", "working"] = "natural"
    sla_remind_before: str = "P1D"  # the handler is reminded this long before the yellow clock
    # A red case's task force (县领导领衔+专班会商) works to this deadline; past it the overall convener is told.
    task_force_within: str = "P7D"
    close_unrated_after: str = "P7D"
    review_window: str = "P7D"  # after a rating of 1–2, the citizen may ask for review (复核)
    # The supervision board's weekly trend is read against this: the county's average days to resolve a dispute
    # before the system (the figure the county measured the old way of working by).
    board_baseline_days: float = Field(default=28.5, gt=0)

    rate_limit_intake: str = "10/minute"
    rate_limit_track: str = "60/minute"

    # Who the client is (docs/security.md, "Client addresses"): X-Forwarded-For and X-Real-IP are believed only
    # from these proxies (comma-separated addresses or CIDR networks); none by default, so a client cannot choose
    # the address its rate limits and the access log go by.
    trusted_proxies: str = ""
    # Where citizens reach the system, for the tracking links and QR codes (e.g. https://tiaojie.example.gov.cn).
    # Unset: the request's own address, but only when it is a loopback one or WUHUAN_API_HOST (docs/security.md).
    public_url: str | None = None
    # Sign-in (docs/security.md, "Floods"): after this many wrong passwords in a row an account (or an address)
    # waits login_lockout before it may try again, the wait doubling with each further failure up to the cap.
    login_failures_per_account: int = Field(default=5, ge=1)
    login_failures_per_address: int = Field(default=20, ge=1)
    login_lockout: str = "PT30S"
    login_lockout_max: str = "PT15M"
    # At most this many password hashes at once (Argon2 takes 64 MiB each); a sign-in waits this long for its
    # turn, then gets 503 with Retry-After.
    password_hash_concurrency: int = Field(default=2, ge=1)
    password_hash_wait_seconds: float = Field(default=5.0, ge=0)
    # Request bodies are cut off at this size while they are read (chunked or not); uploads (multipart) at
    # max_upload_bytes plus the form's own overhead instead.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # The read model's connection pool: connections kept, extra ones under load, and how long a request waits
    # for one before it is answered 503 with Retry-After.
    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout: float = Field(default=10.0, gt=0)
    # /docs and /redoc, with Swagger UI and ReDoc served from api/static/vendor (no CDN). Off in production.
    api_docs: bool = True

    # Auth. The embedded default keeps a generated key under data_dir so tokens survive a restart.
    secret_key: str | None = None
    token_ttl_minutes: int = 12 * 60
    # The staff console's browser sessions: at most this long, and ended after this long without a request.
    staff_session_ttl: str = "PT12H"
    staff_session_idle: str = "PT2H"
    demo_password: str = "wuhuan-demo"
    demo_accounts: bool = True
    # Argon2 cost; tests lower it (a recommended hash costs ~0.5 s on two cores).
    password_hash_time_cost: int = 3
    password_hash_memory_kib: int = 65536

    # Personal data in Temporal: every payload is encrypted (workflows/codec.py). Keys: `id:base64key,...`,
    # the first encrypts, all decrypt; none configured = one generated in <data_dir>/payload.keys (0600).
    payload_keys: str | None = None
    payload_encryption: bool = True  # False: stop encrypting (encrypted histories still decode)
    payload_cipher: str = "AES-256-GCM"  # or SM4-GCM (16-byte keys)

    # Triage: route without a person at or above this confidence (chosen by `wuhuan triage evaluate`:
    # the lowest threshold whose automatic routings were ≥ 97% right in cross-validation).
    triage_threshold: float = 0.5
    model_dir: Path | None = None  # default: <data_dir>/models
    repeat_window: str = "P30D"  # 重复访: same citizen or near-identical text within this window

    # Tamper-evident case log (domain/audit_chain.py): the hash of newly written case_events rows; each row
    # records its own algorithm, so switching keeps the chains already written verifiable.
    audit_hash: Literal["sm3", "sha256"] = "sm3"
    # Retention (Cybersecurity Law art. 21: logs kept at least six months; PIPL: personal data no longer than
    # needed). `wuhuan privacy prune-logs` (run daily by cron) deletes access-log rows older than log_retention,
    # which may not be under P180D; `wuhuan privacy anonymise` anonymises ended cases older than case_retention.
    log_retention: str = "P180D"
    case_retention: str = "P3Y"

    # Safety inspection (平安督查): rectification deadlines by severity, the reminder before a deadline, the
    # re-check (回头看) after striking off, and the window in which a unit's second overdue hazard brings its
    # leader a summons (约谈). Each hazard carries the values it was found with (domain.hazards.HazardLevels).
    hazard_deadline_major: str = "P3D"
    hazard_deadline_general: str = "P7D"
    hazard_deadline_minor: str = "P15D"
    hazard_recheck_after: str = "P30D"
    hazard_remind_before: str = "P1D"
    hazard_summons_within: str = "P90D"
    # The weekly inspection plan (片区督查计划) is made by a Temporal Schedule at this cron time (UTC; the
    # default is Monday 08:00 in China) with this many visits per district.
    inspection_plan_cron: str = "0 0 * * 1"
    inspection_visits_per_district: int = Field(default=2, ge=1, le=7)

    max_description_chars: int = 5000
    max_upload_bytes: int = 10 * 1024 * 1024
    # Continue-as-new once a case's history passes this many events (Temporal also suggests it).
    history_event_limit: int = 2000
    # How long a hazard's view waits for its workflow's state query before the hazard's first record. Cases are
    # never queried (services/cases.py).
    query_timeout_seconds: float = 3.0

    # Message channel beside the in-app inbox (activities/delivery.py): a DingTalk-style robot or the county's
    # message gateway. Unset = inbox only. Undeliverable messages are retried with backoff, never dropped.
    notify_webhook_url: str | None = None
    notify_webhook_secret: str | None = None  # DingTalk-style signing (timestamp + sign query parameters)
    notify_retry_initial: str = "PT2S"  # first retry delay, doubling per failed attempt ...
    notify_retry_max: str = "PT10M"  # ... up to this
    notify_relay_interval: str = "PT2S"  # how often each worker's relay looks for due deliveries

    # Texts (SMS) through the county's HTTP gateway (contract: "Message channels"; activities/channels/sms.py):
    # urgent staff messages and the citizen's texts. Unset = no texts (staff get e-mail instead). Each text
    # starts with the signature the carrier registered and is kept within two segments (domain/channels.py).
    sms_gateway_url: str | None = None
    sms_signature: str = "【仙居矛调】"
    # E-mail to staff through SMTP (activities/channels/email.py). Unset host = no e-mail.
    # The leaders' morning digest e-mail (China time, HH:MM), sent through the e-mail channel when one is set.
    digest_at: str = Field(default="07:30", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_from: str | None = None  # e.g. 五环智控 <noreply@example.gov.cn>; required with a host
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True  # upgrade the connection with STARTTLS before logging in

    @field_validator(
        "sla_routed_within",
        "sla_assigned_within",
        "sla_team_within",
        "sla_yellow_after",
        "sla_red_after",
        "sla_remind_before",
        "task_force_within",
        "close_unrated_after",
        "repeat_window",
        "review_window",
        "notify_retry_initial",
        "notify_retry_max",
        "notify_relay_interval",
        "staff_session_ttl",
        "staff_session_idle",
        "hazard_deadline_major",
        "hazard_deadline_general",
        "hazard_deadline_minor",
        "hazard_recheck_after",
        "hazard_remind_before",
        "hazard_summons_within",
        "login_lockout",
        "login_lockout_max",
    )
    @classmethod
    def _iso_duration(cls, v: str) -> str:
        parse_duration(v)
        return v

    @field_validator(
        "notify_webhook_url",
        "notify_webhook_secret",
        "sms_gateway_url",
        "smtp_host",
        "smtp_from",
        "smtp_user",
        "smtp_password",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("notify_webhook_url", "sms_gateway_url")
    @classmethod
    def _webhook_url(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is None:
            return v
        v = v.strip()
        parts = urlsplit(v)
        parts.port  # noqa: B018  (raises ValueError on a malformed port)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment or any(c.isspace() for c in v):
            raise ValueError(f"{info.field_name} must be an http:// or https:// URL with a host")
        return v

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, v: str) -> str:
        proxy_networks(v)  # raises ValueError on anything that is not an address or a network
        return v

    @field_validator("public_url", mode="before")
    @classmethod
    def _public_url(cls, v: object) -> object:
        if not isinstance(v, str) or not v.strip():
            return None
        v = v.strip().rstrip("/")
        parts = urlsplit(v)
        parts.port  # noqa: B018  (raises ValueError on a malformed port)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("public_url must be an http:// or https:// URL, e.g. https://tiaojie.example.gov.cn")
        return v

    @field_validator("sms_signature")
    @classmethod
    def _signature(cls, v: str) -> str:
        v = v.strip()
        if len(v) > 20 or any(c.isspace() for c in v):
            raise ValueError("sms_signature must be a short signature without spaces, e.g. 【仙居矛调】")
        return v

    @model_validator(mode="after")
    def _smtp(self) -> Settings:
        if self.smtp_host is None:
            return self
        if any(c.isspace() or c in "/:@" for c in self.smtp_host):
            raise ValueError("smtp_host must be a host name or address, without scheme or port")
        address = parseaddr(self.smtp_from or "")[1]
        if not address or "@" not in address:
            raise ValueError("smtp_from is required with smtp_host: an address, e.g. 五环智控 <noreply@example.gov.cn>")
        if (self.smtp_user is None) != (self.smtp_password is None):
            raise ValueError("smtp_user and smtp_password go together")
        return self

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'wuhuan.db'}"

    @property
    def models(self) -> Path:
        return self.model_dir or self.data_dir / "models"

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    def service_levels(self) -> ServiceLevels:
        return ServiceLevels(
            routed_within=parse_duration(self.sla_routed_within),
            assigned_within=parse_duration(self.sla_assigned_within),
            team_within=parse_duration(self.sla_team_within),
            yellow_after=parse_duration(self.sla_yellow_after),
            red_after=parse_duration(self.sla_red_after),
            close_unrated_after=parse_duration(self.close_unrated_after),
            history_event_limit=self.history_event_limit,
            review_window=parse_duration(self.review_window),
            days=self.sla_days,
            remind_before=parse_duration(self.sla_remind_before),
            task_force_within=parse_duration(self.task_force_within),
        )

    def hazard_levels(self) -> HazardLevels:
        return HazardLevels(
            major=parse_duration(self.hazard_deadline_major),
            general=parse_duration(self.hazard_deadline_general),
            minor=parse_duration(self.hazard_deadline_minor),
            recheck_after=parse_duration(self.hazard_recheck_after),
            remind_before=parse_duration(self.hazard_remind_before),
        )


@lru_cache
def get_settings() -> Settings:
    return Settings()
