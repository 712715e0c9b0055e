"""The auditor's history and replay follow a case across continue-as-new runs."""

from __future__ import annotations

from tests.api.conftest import Api, make_settings


async def test_history_and_replay_span_continue_as_new_runs(tmp_path, skipping_env, engine, worker, task_queue, cases):
    import httpx

    from api.main import create_app

    settings = make_settings(tmp_path, task_queue, history_event_limit=60)
    app = create_app(settings, client=skipping_env.client, engine=engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        api = Api(http, skipping_env, cases)
        out = await api.intake()
        case_id = out["case_id"]
        await api.teamed(case_id)
        sup = await api.auth("supervisor")
        for i in range(12):
            r = await api.post(f"/api/v1/cases/{case_id}/urge", json={"note": f"第{i + 1}次"}, headers=sup)
            assert r.status_code == 200, r.text
        h = (await api.get(f"/api/v1/cases/{case_id}/history", headers=await api.auth("auditor"))).json()
        assert h["runs"] >= 2
        seqs = [e["seq"] for e in h["events"]]
        assert seqs == list(range(1, len(seqs) + 1))
        types = [e["type"] for e in h["events"]]
        assert types[0] == "received" and types.count("urged") == 12
        assert [e["detail"]["note"] for e in h["events"] if e["type"] == "urged"] == [f"第{i + 1}次" for i in range(12)]
        r = (await api.post(f"/api/v1/cases/{case_id}/replay", headers=sup)).json()
        assert r["deterministic"] is True and r["runs"] == h["runs"] and r["error"] is None
        assert (await api.case(case_id))["urge_count"] == 12


async def test_history_as_of_shows_the_case_as_it_stood_then(api, skipping_env):
    from datetime import timedelta

    out = await api.intake()
    case_id = out["case_id"]
    await api.teamed(case_id)
    before_resolution = await skipping_env.get_current_time()
    await skipping_env.sleep(timedelta(days=8))  # yellow
    r = await api.post(
        f"/api/v1/cases/{case_id}/resolve",
        headers=await api.auth("renshe.mediator"),
        json={"outcome": "agreement", "summary": "达成协议"},
    )
    assert r.status_code == 200, r.text
    auditor = await api.auth("auditor")
    then = (
        await api.get(
            f"/api/v1/cases/{case_id}/history", headers=auditor, params={"as_of": before_resolution.isoformat()}
        )
    ).json()
    assert then["state"]["status"] == "team_formed" and then["state"]["supervision_color"] == "green"
    assert then["state"]["handler"] == "renshe.mediator"
    assert "resolved" not in [e["type"] for e in then["events"]]
    later = (
        await api.get(
            f"/api/v1/cases/{case_id}/history",
            headers=auditor,
            params={"as_of": (before_resolution + timedelta(days=7, hours=1)).isoformat()},
        )
    ).json()
    assert later["state"]["supervision_color"] == "yellow" and later["state"]["status"] == "team_formed"
    now = (await api.get(f"/api/v1/cases/{case_id}/history", headers=auditor)).json()
    assert now["state"] is None and now["events"][-1]["type"] in ("clock_stopped", "clock_met", "resolved")
    early = (
        await api.get(
            f"/api/v1/cases/{case_id}/history", headers=auditor, params={"as_of": "2000-01-01T00:00:00+00:00"}
        )
    ).json()
    assert early["state"] is None and early["events"] == []
    bad = await api.get(f"/api/v1/cases/{case_id}/history", headers=auditor, params={"as_of": "2026-01-01T00:00:00"})
    assert bad.status_code == 422


async def test_dossier_pdf_of_a_closed_case(api, tmp_path):
    out = await api.intake()
    case_id, code = out["case_id"], out["tracking_code"]
    await api.teamed(case_id)
    handler = await api.auth("renshe.mediator")
    await api.post(
        f"/api/v1/cases/{case_id}/mediations",
        headers=handler,
        json={
            "summary": "组织劳资双方调解，项目方同意分两期支付",
            "held_at": "2026-11-28T10:00:00+08:00",
            "participants": ["王小明", "项目方"],
        },
    )
    await api.post(
        f"/api/v1/cases/{case_id}/resolve",
        headers=handler,
        json={"outcome": "agreement", "summary": "达成调解协议，十日内结清"},
    )
    await api.post(f"/api/v1/track/{code}/rating", json={"score": 5, "comment": "满意"})
    await api.settled(case_id, lambda s: s.status == "closed")
    assert (
        await api.get(f"/api/v1/cases/{case_id}/dossier.pdf", headers=await api.auth("fulian.mediator"))
    ).status_code == 403
    r = await api.get(f"/api/v1/cases/{case_id}/dossier.pdf", headers=await api.auth("auditor"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and len(r.content) > 2000
    (tmp_path / "dossier.pdf").write_bytes(r.content)
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(tmp_path / "dossier.pdf").pages)
    for expected in (out["case_no"], "调解卷宗", "达成调解协议", "分两期支付", "5星"):
        assert expected in text, expected
    assert "13800001234" not in text  # the phone is masked in the dossier too
