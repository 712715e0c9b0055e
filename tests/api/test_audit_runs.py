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
