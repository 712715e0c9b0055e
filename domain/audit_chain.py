"""The tamper-evident case log: each `case_events` row carries a hash chained to the previous row of the same
case. Pure code (no I/O): the canonical form of a row, the link hash, verifying a chain, and the digest of chain
heads that an outside party can hold.

    hash(row) = H(prev_hash || "\\n" || canonical(row))

- `prev_hash` is the previous row's `hash` (seq - 1 of the same case), or GENESIS for seq 1, both as lowercase hex.
- `canonical(row)` is the UTF-8 JSON object {case_id, seq, at, type, actor, detail} with sorted keys, no spaces,
  `ensure_ascii=False`; `at` is ISO-8601 in UTC with microseconds and a `Z` (a naive time is taken as UTC);
  `detail` is serialised the same way (sorted keys at every level).
- H is SM3 (GB/T 32905-2016) by default or SHA-256, chosen per row by its `hash_alg` (`sm3` | `sha256`), so a
  county can switch algorithms without breaking the chains already written: a row's hash uses its own algorithm,
  over the previous row's hash whatever algorithm made that one.

SM3 comes from OpenSSL through `hashlib` when the local OpenSSL offers it (fast), else from `gmssl` (a declared
dependency, pure Python); both give the standard's test vectors (tests/domain/test_audit_chain.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

GENESIS = "0" * 64
ALGORITHMS = ("sm3", "sha256")

# What a broken link can be, in the words `wuhuan audit verify` prints.
CONTENT_CHANGED = "content changed"  # the row's business content no longer gives its hash
LINK_BROKEN = "link broken"  # the row does not point at the previous row's hash
ROW_MISSING = "row missing"  # a seq is absent (deleted), inside the chain or after its last row
OUT_OF_ORDER = "out of order"  # seqs not strictly in order
UNSEALED = "unsealed"  # no hash where one is due
UNKNOWN_ALGORITHM = "unknown algorithm"

# Anonymisation (PIPL; services/retention.py). A row whose content held personal data has its detail replaced by
# REDACTED; its hash, prev_hash and the links around it stay. The same operation appends a sealed ANONYMISED row
# whose detail lists each redacted seq with the hash it kept ({"redacted": {"3": "<hash>", ...}}). `verify` then
# accepts a redacted row only when the anonymisation row vouches for exactly that hash: the original content can
# no longer be checked (that is the point), but nothing can be changed, removed or redacted without it showing.
ANONYMISED = "anonymised"
REDACTED: dict[str, Any] = {"redacted": True}


def _sm3_openssl(data: bytes) -> str:
    return hashlib.new("sm3", data).hexdigest()


def _sm3_gmssl(data: bytes) -> str:
    from gmssl import func, sm3

    return sm3.sm3_hash(func.bytes_to_list(data))


def _pick_sm3():
    try:
        if _sm3_openssl(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0":
            return _sm3_openssl
    except ValueError:  # this OpenSSL has no SM3
        pass
    return _sm3_gmssl


sm3_hex = _pick_sm3()


def digest_hex(alg: str, data: bytes) -> str:
    if alg == "sm3":
        return sm3_hex(data)
    if alg == "sha256":
        return hashlib.sha256(data).hexdigest()
    raise ValueError(f"unknown hash algorithm {alg!r} (known: {', '.join(ALGORITHMS)})")


def canonical_time(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def canonical(case_id: str, seq: int, at: datetime, type: str, actor: str, detail: dict[str, Any] | None) -> bytes:
    """The row's business content as bytes: what its hash covers."""
    return canonical_json(
        {
            "case_id": case_id,
            "seq": int(seq),
            "at": canonical_time(at),
            "type": type,
            "actor": actor,
            "detail": detail or {},
        }
    ).encode("utf-8")


def link_hash(alg: str, prev_hash: str, content: bytes) -> str:
    return digest_hex(alg, prev_hash.encode("ascii") + b"\n" + content)


class ChainRow(Protocol):
    """What a chain is made of: store.tables.CaseEventRow fits, so does `Row` below."""

    case_id: str
    seq: int
    at: datetime
    type: str
    actor: str
    detail: dict[str, Any]
    prev_hash: str | None
    hash: str | None
    hash_alg: str | None


@dataclass
class Row:
    case_id: str
    seq: int
    at: datetime
    type: str
    actor: str
    detail: dict[str, Any]
    prev_hash: str | None = None
    hash: str | None = None
    hash_alg: str | None = None


def content_of(row: ChainRow) -> bytes:
    return canonical(row.case_id, row.seq, row.at, row.type, row.actor, row.detail)


def seal(row: ChainRow, prev_hash: str, alg: str) -> str:
    """Set the row's prev_hash, hash_alg and hash; returns its hash (the next row's prev_hash)."""
    row.prev_hash, row.hash_alg = prev_hash, alg
    row.hash = link_hash(alg, prev_hash, content_of(row))
    return row.hash


def seal_chain(rows: Iterable[ChainRow], alg: str, prev_hash: str = GENESIS) -> str:
    """Seal rows in order after `prev_hash` (GENESIS: from the start); returns the new head hash."""
    for row in rows:
        prev_hash = seal(row, prev_hash, alg)
    return prev_hash


@dataclass(frozen=True)
class Break:
    """The first broken link of a case's chain."""

    case_id: str
    seq: int  # where the chain breaks (for a missing row: the first missing seq)
    type: str | None  # the event type of the row found there (None when the row is missing)
    kind: str  # CONTENT_CHANGED | LINK_BROKEN | ROW_MISSING | ...
    note: str = ""

    def describe(self) -> str:
        what = f"seq {self.seq}" + (f" ({self.type})" if self.type else "")
        return f"{what}: {self.kind}" + (f" — {self.note}" if self.note else "")


def verify(rows: Sequence[ChainRow], expected_last_seq: int | None = None) -> Break | None:
    """Check one case's rows, given in storage order (by seq): seqs 1..n without gaps, each row pointing at the
    previous row's hash (GENESIS for seq 1), each hash recomputing from the row's content. `expected_last_seq`
    (e.g. the case row's last_seq) also catches rows deleted from the end. Returns the first break or None."""
    prev = GENESIS
    case_id = rows[0].case_id if rows else ""
    seqs_after = [r.seq for r in rows]
    vouched = {
        int(seq): h for r in rows if r.type == ANONYMISED for seq, h in dict(r.detail.get("redacted") or {}).items()
    }
    for i, row in enumerate(rows):
        expected = i + 1
        if row.seq != expected:
            rest = set(seqs_after[i:])
            if row.seq > expected and expected not in rest:
                last_missing = min((s for s in rest if s > expected), default=expected) - 1
                span = f"seq {expected}" if last_missing == expected else f"seqs {expected}–{last_missing}"
                return Break(case_id, expected, None, ROW_MISSING, f"{span} absent before seq {row.seq} ({row.type})")
            return Break(case_id, expected, row.type, OUT_OF_ORDER, f"found seq {row.seq} where seq {expected} belongs")
        if row.hash is None:
            return Break(case_id, row.seq, row.type, UNSEALED, "the row has no hash")
        if row.hash_alg not in ALGORITHMS:
            return Break(case_id, row.seq, row.type, UNKNOWN_ALGORITHM, f"hash_alg {row.hash_alg!r}")
        if row.prev_hash != prev:
            return Break(
                case_id,
                row.seq,
                row.type,
                LINK_BROKEN,
                "it does not point at the previous row's hash"
                if expected > 1
                else "the first row does not start from the genesis value",
            )
        if row.detail == REDACTED and row.type != ANONYMISED:
            if vouched.get(row.seq) != row.hash:
                return Break(
                    case_id, row.seq, row.type, CONTENT_CHANGED, "redacted, but no anonymisation vouches for it"
                )
        elif link_hash(row.hash_alg, row.prev_hash, content_of(row)) != row.hash:
            return Break(case_id, row.seq, row.type, CONTENT_CHANGED, "its content no longer matches its hash")
        prev = row.hash
    if expected_last_seq is not None and expected_last_seq > len(rows):
        n = len(rows) + 1
        span = f"seq {n}" if n == expected_last_seq else f"seqs {n}–{expected_last_seq}"
        return Break(
            case_id,
            n,
            None,
            ROW_MISSING,
            f"{span} absent after the last row (the case recorded {expected_last_seq} events)",
        )
    return None


# --- daily digest of chain heads -------------------------------------------------------------------------


def heads_digest(date: str, heads: Iterable[dict[str, Any]], alg: str) -> str:
    """One hash over the date and every head {case_id, last_seq, head_hash} in case_id order: what an outside
    party holds. Other fields of a head (case number, algorithm) are informative and not covered."""
    body = sorted(
        ({"case_id": h["case_id"], "last_seq": int(h["last_seq"]), "head_hash": h["head_hash"]} for h in heads),
        key=lambda h: h["case_id"],
    )
    return digest_hex(alg, canonical_json({"date": date, "heads": body}).encode("utf-8"))


@dataclass(frozen=True)
class DigestMismatch:
    case_id: str
    seq: int
    kind: str  # ROW_MISSING (the case or the row is gone) | "rewritten" (another hash there)
    note: str = ""


REWRITTEN = "rewritten behind the digest"


def check_against_heads(
    old_heads: Iterable[dict[str, Any]], hash_at: dict[str, dict[int, str]]
) -> list[DigestMismatch]:
    """Does each case's chain today still pass through the head an older digest recorded? `hash_at` maps
    case_id → {seq: stored hash} for today's rows (the chains themselves are checked by `verify`)."""
    out: list[DigestMismatch] = []
    for h in old_heads:
        case_id, seq, head = h["case_id"], int(h["last_seq"]), h["head_hash"]
        have = hash_at.get(case_id)
        if not have:
            out.append(DigestMismatch(case_id, seq, ROW_MISSING, "the case has no events any more"))
        elif seq not in have:
            out.append(DigestMismatch(case_id, seq, ROW_MISSING, f"seq {seq}, the digest's head, is gone"))
        elif have[seq] != head:
            out.append(
                DigestMismatch(
                    case_id, seq, REWRITTEN, f"seq {seq} hashes to {have[seq][:16]}…, the digest holds {head[:16]}…"
                )
            )
    return out
