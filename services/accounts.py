"""Staff sign-in: a username and password checked against the directory, guarded against floods
(docs/security.md, "Floods"):

- a throttle per account and per client address: after a few wrong passwords in a row the key must wait before
  it may try again, the wait doubling with each further failure (429 with Retry-After); while it waits even the
  right password is refused, so guessing gains nothing from speed;
- at most `password_hash_concurrency` Argon2 hashes at once (each takes 64 MiB); a sign-in waits briefly for
  its turn, then gets 503 with Retry-After instead of taking the server's memory;
- an unknown or deactivated account is checked against a dummy hash of the same cost, so the answer takes as
  long as for a real account and does not tell which usernames exist."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from sqlmodel import Session

from domain.passwords import hash_password, verify_password
from domain.settings import Settings, parse_duration
from services.errors import Refusal, unauthorized
from store.tables import Staff

# A key whose last failure is older than this many times the longest wait starts afresh.
FORGET_AFTER_CAPS = 4
MAX_KEYS = 100_000


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    until: float = 0.0  # no attempt before this (monotonic seconds)


@dataclass
class LoginGuard:
    """One per API process (services.context.Services.logins); `clock` is for tests."""

    settings: Settings | None = None
    clock: Callable[[], float] = time.monotonic
    _keys: dict[str, _Failures] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def _hashing(self) -> threading.BoundedSemaphore:
        return threading.BoundedSemaphore(self._settings.password_hash_concurrency)

    @cached_property
    def _dummy(self) -> str:
        s = self._settings
        return hash_password("not a password of anyone", s.password_hash_time_cost, s.password_hash_memory_kib)

    @property
    def _settings(self) -> Settings:
        if self.settings is None:
            raise RuntimeError("LoginGuard used before configure(settings)")
        return self.settings

    def _limits(self) -> list[tuple[str, int]]:
        s = self._settings
        return [("account", s.login_failures_per_account), ("address", s.login_failures_per_address)]

    # --- the throttle ---------------------------------------------------------------------------------------

    def check(self, username: str, client: str | None) -> None:
        """429 while the account or the address must wait."""
        now = self.clock()
        with self._lock:
            waits = [f.until - now for k in self._keys_of(username, client) if (f := self._keys.get(k)) is not None]
        wait = max(waits, default=0.0)
        if wait > 0:
            raise Refusal(
                429,
                "too_many_failed_logins",
                "密码错误次数过多，请稍后再试",
                headers={"Retry-After": str(max(1, int(wait + 0.999)))},
            )

    def failed(self, username: str, client: str | None) -> None:
        s = self._settings
        base = parse_duration(s.login_lockout).total_seconds()
        cap = parse_duration(s.login_lockout_max).total_seconds()
        now = self.clock()
        with self._lock:
            if len(self._keys) >= MAX_KEYS:
                self._prune(now, cap)
            for key, free in zip(self._keys_of(username, client), (n for _, n in self._limits()), strict=False):
                f = self._keys.get(key)
                if f is None or now - f.last > cap * FORGET_AFTER_CAPS:
                    f = self._keys[key] = _Failures()
                f.count += 1
                f.last = now
                if f.count >= free:  # the free attempts are used up: wait, doubling each time
                    f.until = now + min(cap, base * 2 ** (f.count - free))

    def succeeded(self, username: str, client: str | None) -> None:
        """The account starts afresh; the address does not (one good password of one's own must not buy another
        round of guesses at other accounts): its failures are forgotten with time."""
        with self._lock:
            self._keys.pop(self._keys_of(username, None)[0], None)

    @staticmethod
    def _keys_of(username: str, client: str | None) -> list[str]:
        keys = [f"account:{username.strip().lower()}"]
        if client:
            keys.append(f"address:{client}")
        return keys

    def _prune(self, now: float, cap: float) -> None:
        for key in [k for k, f in self._keys.items() if f.until <= now and now - f.last > cap]:
            del self._keys[key]

    # --- the hashes -----------------------------------------------------------------------------------------

    def verify(self, password: str, hashed: str | None) -> bool:
        """Check the password against the hash (or a dummy of the same cost), waiting at most
        `password_hash_wait_seconds` for a turn: 503 with Retry-After when every turn stays taken."""
        s = self._settings
        if not self._hashing.acquire(timeout=s.password_hash_wait_seconds):
            raise Refusal(503, "busy", "登录人数较多，请稍后再试", headers={"Retry-After": "2"})
        try:
            if hashed is None:
                verify_password(password, self._dummy)
                return False
            return verify_password(password, hashed)
        finally:
            self._hashing.release()


def authenticate(db: Session, guard: LoginGuard, username: str, password: str, client: str | None) -> Staff:
    """The active staff member with this password; 401 otherwise (the same answer, in the same time, for every
    failure), 429 while the account or address must wait, 503 when too many sign-ins are hashing."""
    username = username.strip()
    guard.check(username, client)
    staff = db.get(Staff, username)
    hashed = staff.password_hash if staff is not None and staff.active else None
    db.commit()  # give the connection back before the slow part: a hash must not hold one of the pool's
    if not guard.verify(password, hashed) or staff is None:
        guard.failed(username, client)
        raise unauthorized("invalid_credentials", "用户名或密码错误")
    guard.succeeded(username, client)
    return staff
