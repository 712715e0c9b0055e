"""The case log's hash chain, pure: a sealed chain verifies; each kind of tampering is named at its seq."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain import audit_chain as ac

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
STEPS = [
    ("received", "citizen", {"channel": "web"}),
    ("routed", "system", {"category": "labor", "unit": "renshe"}),
    ("assigned", "system", {"handler": "renshe.mediator"}),
    ("mediation_recorded", "renshe.mediator", {"note": "双方同意分期付款", "parties": ["王小明", "李老板"]}),
    ("resolved", "renshe.mediator", {"outcome": "agreement"}),
    ("rated", "citizen", {"score": 5}),
]


def chain(alg: str = "sm3", case_id: str = "c1") -> list[ac.Row]:
    rows = [
        ac.Row(case_id, i + 1, T0 + timedelta(minutes=i), t, a, copy.deepcopy(d)) for i, (t, a, d) in enumerate(STEPS)
    ]
    ac.seal_chain(rows, alg)
    return rows


def test_sm3_and_sha256_give_the_standard_test_vectors():
    # GB/T 32905-2016, appendix A.1 and A.2
    assert ac.digest_hex("sm3", b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert ac.digest_hex("sm3", b"abcd" * 16) == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    assert ac._sm3_gmssl(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert ac._sm3_gmssl(b"abcd" * 16) == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    assert ac.digest_hex("sha256", b"abc").startswith("ba7816bf")
    with pytest.raises(ValueError):
        ac.digest_hex("md5", b"abc")


def test_canonical_form_is_stable_and_exact():
    naive = datetime(2026, 11, 20, 8, 0)
    east8 = datetime(2026, 11, 20, 16, 0, tzinfo=timezone(timedelta(hours=8)))
    a = ac.canonical("c1", 1, naive, "received", "citizen", {"b": 1, "a": {"y": "中", "x": [1, 2]}})
    b = ac.canonical("c1", 1, east8, "received", "citizen", {"a": {"x": [1, 2], "y": "中"}, "b": 1})
    assert a == b
    assert a.decode() == (
        '{"actor":"citizen","at":"2026-11-20T08:00:00.000000Z","case_id":"c1",'
        '"detail":{"a":{"x":[1,2],"y":"中"},"b":1},"seq":1,"type":"received"}'
    )


@pytest.mark.parametrize("alg", ["sm3", "sha256"])
def test_a_sealed_chain_verifies(alg):
    rows = chain(alg)
    assert ac.verify(rows) is None
    assert ac.verify(rows, expected_last_seq=len(rows)) is None
    assert rows[0].prev_hash == ac.GENESIS and all(r.prev_hash == p.hash for p, r in zip(rows, rows[1:], strict=False))
    assert all(r.hash_alg == alg and len(r.hash) == 64 for r in rows)
    assert ac.verify([]) is None


def test_sm3_and_sha256_chains_differ_and_a_chain_may_switch_algorithm():
    assert chain("sm3")[-1].hash != chain("sha256")[-1].hash
    rows = chain("sm3")
    ac.seal_chain(rows[3:], "sha256", prev_hash=rows[2].hash)  # the county switched after seq 3
    assert [r.hash_alg for r in rows] == ["sm3"] * 3 + ["sha256"] * 3
    assert ac.verify(rows) is None


def test_sealing_is_deterministic():
    assert [r.hash for r in chain()] == [r.hash for r in chain()]


def expect(rows, seq, kind, type_=None):
    b = ac.verify(rows)
    assert b is not None and (b.seq, b.kind) == (seq, kind), b
    if type_ is not None:
        assert b.type == type_
    assert b.case_id == "c1" and str(seq) in b.describe() and kind in b.describe()
    return b


def test_a_changed_detail_is_named_at_its_seq():
    rows = chain()
    rows[3].detail["note"] = "双方同意一次付清"
    expect(rows, 4, ac.CONTENT_CHANGED, "mediation_recorded")


def test_a_changed_actor_is_named():
    rows = chain()
    rows[2].actor = "supervisor"
    expect(rows, 3, ac.CONTENT_CHANGED, "assigned")


def test_a_changed_timestamp_is_named_even_by_one_microsecond():
    rows = chain()
    rows[4].at += timedelta(microseconds=1)
    expect(rows, 5, ac.CONTENT_CHANGED, "resolved")


def test_a_changed_event_type_is_named():
    rows = chain()
    rows[5].type = "withdrawn"
    expect(rows, 6, ac.CONTENT_CHANGED, "withdrawn")


def test_a_deleted_row_is_named_as_missing():
    rows = chain()
    del rows[2]
    b = expect(rows, 3, ac.ROW_MISSING)
    assert b.type is None and "before seq 4" in b.note


def test_deleted_rows_at_the_end_are_caught_with_the_expected_count():
    rows = chain()
    assert ac.verify(rows[:-2]) is None  # a chain alone cannot know its end: the case row or a digest can
    b = ac.verify(rows[:-2], expected_last_seq=6)
    assert (b.seq, b.kind) == (5, ac.ROW_MISSING) and "5–6" in b.note


def test_a_deleted_row_with_the_rest_renumbered_is_caught():
    rows = chain()
    del rows[2]
    for r in rows[2:]:
        r.seq -= 1
    expect(rows, 3, ac.LINK_BROKEN, "mediation_recorded")


def test_reordered_rows_are_caught():
    rows = chain()
    rows[1], rows[2] = rows[2], rows[1]  # read back in the wrong order
    expect(rows, 2, ac.OUT_OF_ORDER, "assigned")
    rows = chain()
    rows[1].seq, rows[2].seq = 3, 2  # two events swapped in the database
    rows[1], rows[2] = rows[2], rows[1]
    expect(rows, 2, ac.LINK_BROKEN, "assigned")


def test_a_rehashed_row_breaks_the_next_link():
    rows = chain()
    rows[1].detail["unit"] = "sifa"
    ac.seal(rows[1], rows[1].prev_hash, "sm3")  # the forger re-hashed the row itself
    expect(rows, 3, ac.LINK_BROKEN, "assigned")


def test_an_erased_hash_and_an_unknown_algorithm_are_named():
    rows = chain()
    rows[3].hash = None
    expect(rows, 4, ac.UNSEALED)
    rows = chain()
    rows[0].hash_alg = "md5"
    expect(rows, 1, ac.UNKNOWN_ALGORITHM)
    rows = chain()
    rows[0].prev_hash = "f" * 64
    expect(rows, 1, ac.LINK_BROKEN)


def test_only_the_first_break_is_reported():
    rows = chain()
    rows[4].actor, rows[1].actor = "x", "y"
    expect(rows, 2, ac.CONTENT_CHANGED)


def heads(rows_by_case):
    return [{"case_id": rows[0].case_id, "last_seq": rows[-1].seq, "head_hash": rows[-1].hash} for rows in rows_by_case]


def test_the_heads_digest_covers_every_head_and_the_date():
    one, two = chain(case_id="c1"), chain(case_id="c2")
    h = heads([one, two])
    d = ac.heads_digest("2026-11-20", h, "sm3")
    assert d == ac.heads_digest("2026-11-20", list(reversed(h)), "sm3")
    assert d != ac.heads_digest("2026-11-21", h, "sm3")
    assert d != ac.heads_digest("2026-11-20", h[:1], "sm3")
    h[1]["last_seq"] -= 1
    assert d != ac.heads_digest("2026-11-20", h, "sm3")


def test_a_chain_extended_after_the_digest_still_holds_but_a_rewritten_one_does_not():
    rows = chain()
    held = heads([rows[:4]])
    now = {"c1": {r.seq: r.hash for r in rows}}
    assert ac.check_against_heads(held, now) == []
    rows[1].detail["unit"] = "sifa"  # rewritten and consistently re-hashed: the chain alone verifies
    ac.seal_chain(rows[1:], "sm3", prev_hash=rows[0].hash)
    assert ac.verify(rows) is None
    [m] = ac.check_against_heads(held, {"c1": {r.seq: r.hash for r in rows}})
    assert (m.case_id, m.seq, m.kind) == ("c1", 4, ac.REWRITTEN)
    [m] = ac.check_against_heads(held, {"c1": {r.seq: r.hash for r in rows[:3]}})
    assert m.kind == ac.ROW_MISSING
    [m] = ac.check_against_heads(held, {})
    assert m.kind == ac.ROW_MISSING and "no events" in m.note
