"""Every refused request gets the contract's status and error shape and leaves the case untouched."""

from __future__ import annotations

from sqlmodel import func, select

from store.db import session
from store.tables import Case, CaseEventRow, TrackingCode
from tests.api.conftest import LABOUR, assert_error
from workflows.dispute_case import DisputeCase, workflow_id

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def counts(engine):
    with session(engine) as db:
        return (
            db.exec(select(func.count()).select_from(Case)).one(),
            db.exec(select(func.count()).select_from(CaseEventRow)).one(),
            db.exec(select(func.count()).select_from(TrackingCode)).one(),
        )


async def test_bad_intake_is_refused_and_creates_nothing(api, engine):
    before = counts(engine)
    cases = [
        ({"description": "   "}, "description_required"),
        ({"description": "欠" * 501}, "description_too_long"),
        ({"citizen": {"name": "王小明", "phone": "12345"}}, "invalid_phone"),
        ({"citizen": {"name": "", "phone": "13800001234"}}, "invalid_name"),
        ({"citizen": {"name": "王" * 51, "phone": "13800001234"}}, "invalid_name"),
        ({"township": "atlantis"}, "unknown_township"),
        ({"category": "piracy"}, "unknown_category"),
        ({"channel": "fax"}, "invalid_input"),
        ({"citizen": None}, "invalid_input"),
    ]
    for change, code in cases:
        body = {"description": LABOUR, "citizen": {"name": "王小明", "phone": "13800001234"}, "channel": "web"}
        body.update(change)
        r = await api.post("/api/v1/cases", json=body)
        detail = assert_error(r, 422, code)
        assert "13800001234" not in r.text, detail
    # Staff channels need a token; a mediator may not register cases.
    body = {"description": LABOUR, "citizen": {"name": "王小明", "phone": "13800001234"}, "channel": "clerk"}
    assert_error(await api.post("/api/v1/cases", json=body), 401)
    assert_error(await api.post("/api/v1/cases", json=body, headers=await api.auth("renshe.mediator")), 403)
    assert_error(
        await api.post("/api/v1/cases", json=body, headers={"Authorization": "Bearer nonsense"}), 401, "invalid_token"
    )
    assert counts(engine) == before


async def test_refused_steps_leave_state_and_events_unchanged(api, engine, skipping_env, settings):
    out = await api.intake()
    case_id, code = out["case_id"], out["tracking_code"]
    state_before = (await api.settled(case_id)).model_dump()
    handle = skipping_env.client.get_workflow_handle(workflow_id(case_id))
    with session(engine) as db:
        events_before = db.exec(
            select(func.count()).select_from(CaseEventRow).where(CaseEventRow.case_id == case_id)
        ).one()
    sup = await api.auth("supervisor")
    base = f"/api/v1/cases/{case_id}"

    # unknown codes and people
    assert_error(await api.post(f"{base}/assign", json={"handler": "nobody"}, headers=sup), 422, "unknown_handler")
    assert_error(
        await api.post(f"{base}/team", json={"members": ["renshe.mediator", "ghost"]}, headers=sup),
        422,
        "unknown_member",
    )
    assert_error(
        await api.post(f"{base}/triage", json={"category": "piracy", "unit": "renshe"}, headers=sup),
        422,
        "unknown_category",
    )
    assert_error(
        await api.post(
            f"{base}/triage", json={"category": "labor", "unit": "renshe", "township": "atlantis"}, headers=sup
        ),
        422,
        "unknown_township",
    )
    # the workflow's own refusal of a handler outside the lead unit
    assert_error(
        await api.post(f"{base}/assign", json={"handler": "fulian.mediator"}, headers=sup), 422, "handler_not_in_unit"
    )
    # uploads: type by content, size
    files = {"file": ("photo.png", b"MZ\x90\x00 this is an exe", "image/png")}
    assert_error(await api.post(f"/api/v1/track/{code}/materials", files=files), 415, "unsupported_file_type")
    files = {"file": ("big.png", PNG + b"\x00" * 5000, "image/png")}
    assert_error(await api.post(f"/api/v1/track/{code}/materials", files=files), 413, "file_too_large")
    assert_error(await api.post(f"/api/v1/track/{code}/materials", json={"x": 1}), 415)
    # rating before resolution
    assert_error(await api.post(f"/api/v1/track/{code}/rating", json={"score": 5}), 409, "illegal_state")
    assert_error(await api.post(f"/api/v1/track/{code}/rating", json={"score": 9}), 422, "invalid_input")
    assert_error(await api.post(f"/api/v1/track/{code}/updates", json={"text": "  "}), 422, "text_required")
    # the wrong person: outside the jurisdiction, and inside it but not the handler
    resolve = {"outcome": "agreement", "summary": "达成协议"}
    assert_error(
        await api.post(f"{base}/resolve", json=resolve, headers=await api.auth("fulian.mediator")),
        403,
        "not_in_jurisdiction",
    )
    assert_error(
        await api.post(f"{base}/resolve", json=resolve, headers=await api.auth("renshe.leader")), 403, "not_permitted"
    )
    assert_error(await api.post(f"{base}/urge", headers=await api.auth("renshe.mediator")), 403, "not_permitted")
    # the auditor only reads
    assert_error(
        await api.post(f"{base}/urge", json={"note": "快"}, headers=await api.auth("auditor")), 403, "read_only_role"
    )
    # no token / bad token
    assert_error(await api.post(f"{base}/resolve", json=resolve), 401, "not_authenticated")
    assert_error(await api.get(base, headers={"Authorization": "Bearer x.y.z"}), 401, "invalid_token")
    # steps not allowed in this state, unknown case
    assert_error(
        await api.post(
            f"{base}/consultations",
            json={"summary": "会商", "held_at": "2026-01-01T10:00:00", "participants": []},
            headers=sup,
        ),
        409,
    )
    assert_error(await api.post(f"{base}/reject", json={"reason": "不属于受理范围"}, headers=sup), 409, "illegal_state")
    assert_error(await api.post("/api/v1/cases/0123456789abcdef/urge", headers=sup), 404, "unknown_case")
    assert_error(await api.get("/api/v1/cases/0123456789abcdef", headers=sup), 404, "unknown_case")

    state_after = (await handle.query(DisputeCase.state)).model_dump()
    assert state_after == state_before
    with session(engine) as db:
        assert (
            db.exec(select(func.count()).select_from(CaseEventRow).where(CaseEventRow.case_id == case_id)).one()
            == events_before
        )
    history = await handle.fetch_history()
    assert not [e for e in history.events if e.HasField("workflow_execution_update_accepted_event_attributes")]
    stored = settings.data_dir / "materials"
    assert not stored.exists() or not any(stored.iterdir())  # refused uploads leave no file behind
