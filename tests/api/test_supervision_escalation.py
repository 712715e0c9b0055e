"""Yellow and red through the API: the board's lists, the task force and its consultation, the citizen's view."""

from __future__ import annotations

from datetime import timedelta

from tests.api.conftest import assert_error


async def test_red_case_on_board_with_task_force_and_consultation(api, skipping_env, engine):
    out = await api.intake()
    case_id = out["case_id"]
    await api.settled(case_id)
    sup = await api.auth("supervisor")
    base = f"/api/v1/cases/{case_id}"
    assert_error(
        await api.post(
            f"{base}/consultations",
            headers=sup,
            json={"summary": "会商", "held_at": "2026-01-01T09:00:00", "participants": []},
        ),
        409,
        "illegal_state",
    )

    await skipping_env.sleep(timedelta(days=7, minutes=1))
    await api.settled(case_id, lambda s: s.colour == "yellow")
    board = (await api.get("/api/v1/supervision/board", headers=sup)).json()
    assert [c["case_id"] for c in board["yellow"]] == [case_id] and board["by_colour"]["yellow"] == 1
    assert board["yellow"][0]["handler"] == "renshe.mediator" and board["yellow"][0]["unit"] == "renshe"
    assert board["service_levels"]["yellow"]["breached"] == 1 and board["service_levels"]["yellow"]["compliance"] == 0

    await skipping_env.sleep(timedelta(days=7))
    await api.settled(case_id, lambda s: s.colour == "red" and s.task_force is not None)
    board = (await api.get("/api/v1/supervision/board", headers=sup)).json()
    assert [c["case_id"] for c in board["red"]] == [case_id] and board["yellow"] == []
    assert board["task_forces"][0]["case_id"] == case_id and board["task_forces"][0]["led_by"] == "cl.shehui"

    leader = await api.auth("county_leader")
    r = await api.post(
        f"{base}/consultations",
        headers=leader,
        json={
            "summary": "专班会商：人社局、白塔镇联合约谈项目方",
            "held_at": "2026-01-02T09:30:00",
            "participants": ["人社局", "白塔镇"],
        },
    )
    assert r.status_code == 200, r.text
    tf = r.json()["task_force"]
    assert tf["led_by"] == "cl.shehui" and len(tf["consultations"]) == 1
    assert tf["consultations"][0]["held_at"].startswith("2026-01-02T01:30:00")  # China time, stored in UTC
    board = (await api.get("/api/v1/supervision/board", headers=sup)).json()
    assert board["task_forces"][0]["consultations"] == 1
    assert (await api.post(f"{base}/urge", headers=leader, json={"note": "限期办结"})).status_code == 200

    t = (await api.get(f"/api/v1/track/{out['tracking_code']}")).json()
    assert t["supervision_color"] == "red"
    assert {"督办码转黄，已推送相关领导督促办理", "督办码转红，已推送县领导督办"} <= {e["text"] for e in t["timeline"]}
