"""`wuhuan audit verify | digest`: the case log's hash chains (domain/audit_chain.py), checked and exported.

verify  — recomputes every case's chain from the rows in the read model and names, per broken case, the case
          number and the first broken link (seq, event type, what differs: content changed / link broken / row
          missing / …). With `--digest FILE` it also checks that today's chains still pass through the heads an
          older digest recorded (a chain rewritten behind the digest, even consistently re-hashed, is caught).
          Exit 0 when everything verifies, 1 otherwise.
digest  — the chain heads of every case (case_id, last seq, head hash) and one digest hash over them all, as
          JSON, for an outside party to hold. `--date D` takes the heads as they stood at the end of day D
          (China Standard Time, by the events' own times); without it, the heads now.

Both need the database at the head schema revision (`wuhuan db upgrade`; events written before the chain existed
were sealed when it adopted the database, store/chain.py `seal_legacy`) and stop with that advice otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from domain.times import CHINA

DIGEST_KIND = "wuhuan-audit-digest"


def register_verify(asub: argparse._SubParsersAction) -> None:
    v = asub.add_parser("verify", help="recompute the event hash chains and name the first broken link per case")
    which = v.add_mutually_exclusive_group()
    which.add_argument("--case", help="one case id (default: every case)")
    which.add_argument("--all", action="store_true", help="every case (the default)")
    v.add_argument(
        "--digest",
        type=Path,
        metavar="FILE",
        help="also check that the chains still extend the heads of this older digest",
    )
    v.set_defaults(func=cmd_verify)


def register_digest(asub: argparse._SubParsersAction) -> None:
    d = asub.add_parser("digest", help="export a digest of every case's chain head (JSON) for an outside party")
    d.add_argument(
        "--date",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="the heads at the end of this day (China time); default: the heads now",
    )
    d.add_argument("--out", type=Path, metavar="FILE", help="write the JSON here (default: stdout)")
    d.set_defaults(func=cmd_digest)


def _engine():
    from domain.settings import get_settings
    from store.db import engine_for
    from store.migrate import SchemaNotCurrent, require_current

    settings = get_settings()
    engine = engine_for(settings.database)
    try:
        require_current(engine)  # a check reads; it never changes the schema
    except SchemaNotCurrent as err:
        raise SystemExit(f"wuhuan audit: {err}") from None
    return settings, engine


def _name(numbers: dict[str, tuple[str, int]], case_id: str) -> str:
    return f"{numbers[case_id][0]} (case {case_id})" if case_id in numbers else f"case {case_id}"


# --- verify ------------------------------------------------------------------------------------------


def cmd_verify(args: argparse.Namespace) -> int:
    from domain import audit_chain
    from store import chain
    from store.db import session

    _, engine = _engine()
    old = None
    if args.digest is not None:
        try:
            old = json.loads(args.digest.read_text(encoding="utf-8"))
            assert old.get("kind") == DIGEST_KIND and isinstance(old.get("cases"), list)
        except (OSError, ValueError, AssertionError) as err:
            print(f"cannot read the digest {args.digest}: {err or 'not a wuhuan audit digest'}", file=sys.stderr)
            return 2

    broken: list[audit_chain.Break] = []
    cases = events = 0
    by_alg: dict[str, int] = {}
    with session(engine) as db:
        numbers = chain.case_numbers(db, [args.case] if args.case else None)
        chained: set[str] = set()
        for case_id, rows in chain.chains(db, args.case):
            chained.add(case_id)
            cases += 1
            events += len(rows)
            for r in rows:
                by_alg[r.hash_alg or "none"] = by_alg.get(r.hash_alg or "none", 0) + 1
            last = numbers.get(case_id, (None, None))[1]
            problem = audit_chain.verify(rows, expected_last_seq=last)
            if problem is not None:
                broken.append(problem)
        # A case the read model lists with events, but whose events are all gone.
        for case_id, (_, last) in sorted(numbers.items()):
            if last and case_id not in chained:
                cases += 1
                broken.append(
                    audit_chain.Break(case_id, 1, None, audit_chain.ROW_MISSING, f"all {last} recorded events are gone")
                )
        if args.case and not chained and args.case not in numbers:
            print(f"no case {args.case}: it has neither events nor a case row", file=sys.stderr)
            return 1
        mismatches = _check_digest(db, old, args.case) if old is not None else []

    for b in broken:
        print(f"BROKEN  {_name(numbers, b.case_id)}: {b.describe()}")
    algs = ", ".join(f"{n} {alg}" for alg, n in sorted(by_alg.items()))
    print(
        f"verified {cases} cases, {events} events ({algs or 'none'}): {cases - len(broken)} intact, "
        f"{len(broken)} broken"
    )
    failed = bool(broken)
    if old is not None:
        failed |= _report_digest(old, mismatches, numbers, args.case)
    return 1 if failed else 0


def _check_digest(db, old: dict[str, Any], case_id: str | None):
    from domain import audit_chain
    from store import chain

    heads = [h for h in old["cases"] if case_id is None or h["case_id"] == case_id]
    return audit_chain.check_against_heads(heads, chain.hashes_by_case(db, case_id))


def _report_digest(old: dict[str, Any], mismatches, numbers, case_id: str | None) -> bool:
    """Print the digest check; True when it failed."""
    from domain import audit_chain

    failed = False
    try:
        intact = audit_chain.heads_digest(old["date"], old["cases"], old["algorithm"]) == old["digest"]
    except (KeyError, TypeError, ValueError):
        intact = False
    if not intact:
        print(f"DIGEST FILE ALTERED: its cases no longer give its digest hash {str(old.get('digest'))[:16]}…")
        failed = True
    for m in mismatches:
        print(f"BROKEN  {_name(numbers, m.case_id)}: seq {m.seq}: {m.kind} — {m.note}")
    held = sum(1 for h in old["cases"] if case_id is None or h["case_id"] == case_id)
    print(
        f"digest of {old.get('date')} ({held} case heads): {held - len(mismatches)} still in the chains, "
        f"{len(mismatches)} not"
    )
    return failed or bool(mismatches)


# --- digest ------------------------------------------------------------------------------------------


def build_digest(db, alg: str, day: date | None, now: datetime) -> dict[str, Any]:
    from domain import audit_chain
    from store import chain

    until = datetime.combine(day + timedelta(days=1), time(0), CHINA) if day else None
    numbers = chain.case_numbers(db)
    heads: list[dict[str, Any]] = []
    events = 0
    for case_id, rows in chain.chains(db, until=until):
        events += len(rows)
        last = rows[-1]
        heads.append(
            {
                "case_id": case_id,
                "case_no": numbers.get(case_id, (None, 0))[0],
                "last_seq": last.seq,
                "head_hash": last.hash,
                "hash_alg": last.hash_alg,
            }
        )
    label = (day or now.astimezone(CHINA).date()).isoformat()
    return {
        "kind": DIGEST_KIND,
        "version": 1,
        "date": label,
        "until": until.isoformat() if until else None,
        "generated_at": now.astimezone(UTC).isoformat(),
        "algorithm": alg,
        "case_count": len(heads),
        "event_count": events,
        "cases": heads,
        "digest": audit_chain.heads_digest(label, heads, alg),
    }


def cmd_digest(args: argparse.Namespace) -> int:
    from store.db import session

    settings, engine = _engine()
    with session(engine) as db:
        out = build_digest(db, settings.audit_hash, args.date, datetime.now(UTC))
    text = json.dumps(out, ensure_ascii=False, indent=1) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(
            f"digest of {out['date']}: {out['case_count']} cases, {out['event_count']} events, "
            f"{out['algorithm']} {out['digest']} → {args.out}"
        )
    unsealed = [h["case_id"] for h in out["cases"] if h["head_hash"] is None]
    if unsealed:
        print(f"warning: {len(unsealed)} case head(s) have no hash; run `wuhuan audit verify`", file=sys.stderr)
    return 0
