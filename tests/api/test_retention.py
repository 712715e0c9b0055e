"""Retention (issue 15): the access log kept at least six months and then pruned; a citizen's data exported on
request; ended cases anonymised after the retention period with the event chain still verifiable."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from domain import audit_chain
from domain.settings import Settings
from services import access_log, retention
from store import chain
from store.db import session
from store.tables import AccessLogRow, Case, CaseEventRow, TrackingCode
from tests.api.conftest import PHONE

UPDATE = "老板另一个电话 13700009999，我住白塔镇上街村"


def verify(engine, case_id):
    with session(engine) as db:
        last = chain.case_numbers(db, [case_id])[case_id][1]
        [(_, rows)] = list(chain.chains(db, case_id))
        return audit_chain.verify(rows, expected_last_seq=last)


async def _closed_case(api) -> tuple[str, str, str]:
    out = await api.intake()
    case_id, code = out["case_id"], out["tracking_code"]
    await api.teamed(case_id)
    assert (await api.post(f"/api/v1/track/{code}/updates", json={"text": UPDATE})).status_code == 200
    handler = await api.auth("renshe.mediator")
    r = await api.post(
        f"/api/v1/cases/{case_id}/mediations",
        headers=handler,
        json={"summary": "组织王小明与包工头调解", "held_at": "2026-01-05T10:00:00+08:00", "participants": ["王小明"]},
    )
    assert r.status_code == 200, r.text
    r = await api.post(
        f"/api/v1/cases/{case_id}/resolve", headers=handler, json={"outcome": "agreement", "summary": "ok"}
    )
    assert r.status_code == 200, r.text
    assert (await api.post(f"/api/v1/track/{code}/rating", json={"score": 5, "comment": "满意"})).status_code == 200
    await api.settled(case_id, lambda s: s.status == "closed")
    return case_id, code, out["case_no"]


async def test_export_then_anonymise_keeps_the_chain_verifiable(api, engine, tmp_path):
    case_id, code, case_no = await _closed_case(api)
    assert verify(engine, case_id) is None

    data = retention.export_case(engine, case_no, "operator", datetime.now(UTC))
    assert data["citizen"]["phone"] == PHONE and data["citizen"]["name"] == "王小明"
    assert any(e["type"] == "citizen_updated" and e["detail"]["text"] == UPDATE for e in data["events"])
    json.dumps(data, ensure_ascii=False)
    assert [r.what for r in access_log.entries(engine, case_id)] == [access_log.EXPORT]

    # Not yet: the case ended just now.
    assert retention.anonymise(engine, timedelta(days=3 * 365), datetime.now(UTC)).cases == []
    later = datetime.now(UTC) + timedelta(days=3 * 365 + 1)
    done = retention.anonymise(engine, timedelta(days=3 * 365), later, tmp_path / "materials")
    assert done.cases == [case_no] and done.redacted_events >= 2

    with session(engine) as db:
        row = db.get(Case, case_id)
        held = json.dumps(row.model_dump(mode="json"), ensure_ascii=False)
        events = db.exec(select(CaseEventRow).where(CaseEventRow.case_id == case_id)).all()
        held += json.dumps([e.detail for e in events], ensure_ascii=False)
        assert db.exec(select(TrackingCode).where(TrackingCode.case_id == case_id)).all() == []
        assert row.category and row.outcome == "agreement" and row.rating == 5  # the statistics stay
    for personal in (PHONE, "王小明", "13700009999", "上街村", "拖欠工人"):
        assert personal not in held, held[max(0, held.find(personal) - 200) : held.find(personal) + 50]
    assert (await api.get(f"/api/v1/track/{code}")).status_code == 404

    # `wuhuan audit verify` still passes; anonymising again changes nothing.
    assert verify(engine, case_id) is None
    assert retention.anonymise(engine, timedelta(days=3 * 365), later).cases == []

    # ... and it still catches a change: a redacted row's hash, the vouching row, or a row redacted by hand.
    with session(engine) as db:
        rows = db.exec(select(CaseEventRow).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.seq)).all()
        anon = rows[-1]
        assert anon.type == audit_chain.ANONYMISED
        seq = int(next(iter(anon.detail["redacted"])))
        anon.detail = {**anon.detail, "redacted": {**anon.detail["redacted"], str(seq): "0" * 64}}
        db.add(anon)
        db.commit()
    broken = verify(engine, case_id)
    assert broken is not None and broken.kind == audit_chain.CONTENT_CHANGED


async def test_a_row_redacted_without_an_anonymisation_is_a_break(api, engine):
    case_id, _, _ = await _closed_case(api)
    with session(engine) as db:
        row = db.exec(
            select(CaseEventRow).where(CaseEventRow.case_id == case_id, CaseEventRow.type == "citizen_updated")
        ).one()
        row.detail = dict(audit_chain.REDACTED)
        db.add(row)
        db.commit()
    broken = verify(engine, case_id)
    assert broken is not None and broken.type == "citizen_updated" and broken.kind == audit_chain.CONTENT_CHANGED


def test_access_log_kept_six_months_then_pruned(engine):
    from domain.models import Actor, Role

    now = datetime(2027, 6, 1, tzinfo=UTC)
    reader = Actor(username="auditor", role=Role.auditor)
    for days in (10, 179, 181, 400):
        access_log.record(engine, reader, f"case-{days}", access_log.HISTORY, at=now - timedelta(days=days))
    kept = retention.log_retention(Settings())
    assert kept == timedelta(days=180)
    assert retention.prune_logs(engine, now, kept) == 2
    with session(engine) as db:
        assert sorted(r.case_id for r in db.exec(select(AccessLogRow))) == ["case-10", "case-179"]
    with pytest.raises(ValueError):
        retention.log_retention(Settings(log_retention="P90D"))
    with pytest.raises(ValueError):
        retention.prune_logs(engine, now, timedelta(days=30))
