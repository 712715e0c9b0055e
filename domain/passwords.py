"""Password hashing with Argon2 (pwdlib). The cost is configuration: tests lower it."""

from __future__ import annotations

from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher


@lru_cache
def hasher(time_cost: int = 3, memory_kib: int = 65536) -> PasswordHash:
    return PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib),))


def hash_password(password: str, time_cost: int = 3, memory_kib: int = 65536) -> str:
    return hasher(time_cost, memory_kib).hash(password)


def verify_password(password: str, hashed: str) -> bool:
    # Verification reads the parameters from the hash itself, whatever cost it was made with.
    try:
        return hasher().verify(password, hashed)
    except Exception:
        return False
