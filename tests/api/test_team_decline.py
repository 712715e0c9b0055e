"""POST /cases/{id}/team/decline, and the matcher's score breakdown in the case view."""

from __future__ import annotations

from store.db import session
from store.tables import Staff
from tests.api.conftest import assert_error


async def test_decline_replaces_the_member_and_the_view_explains_every_choice(api, engine):
    with session(engine) as db:
        first = db.get(Staff, "baita.mediator")  # a second township mediator, same profile and password
        db.add(
            Staff(
                username="baita.mediator2",
                display_name="白塔镇调解员二",
                role="mediator",
                township="baita",
                password_hash=first.password_hash,
                skills=first.skills,
                home_township="baita",
            )
        )
        db.commit()
    case_id = (await api.intake())["case_id"]
    await api.settled(case_id)  # the choices' explanations are read from the recorded events
    view = await api.case(case_id)
    assert view["team"] == ["renshe.mediator", "baita.mediator"]
    kinds = [m["type"] for m in view["matching"]]
    assert kinds == ["assigned", "team_formed"]
    assigned, team = view["matching"]
    assert assigned["member"] == "renshe.mediator" and assigned["candidates"][0]["factors"]
    assert [s["member"]["username"] for s in team["slots"]] == ["renshe.mediator", "baita.mediator"]
    assert "decline_team" in (await api.case(case_id, "baita.mediator"))["actions"]
    url = f"/api/v1/cases/{case_id}/team/decline"

    # Not a member (the lead unit's leader, the handler, someone outside the case): 403; no reason: 422.
    for user in ("renshe.leader", "renshe.mediator", "tianshi.mediator", "auditor"):
        assert_error(await api.post(url, json={"reason": "不参加"}, headers=await api.auth(user)), 403)
    member = await api.auth("baita.mediator")
    assert_error(await api.post(url, json={"reason": "  "}, headers=member), 422)
    assert_error(await api.post(url, json={}, headers=member), 422)

    r = await api.post(url, json={"reason": "本人与当事人系亲属，申请回避"}, headers=member)
    assert r.status_code == 200, r.text
    out = r.json()
    assert "baita.mediator" not in out["team"] and out["team_declined"] == ["baita.mediator"]
    declined = next(m for m in out["matching"] if m["type"] == "team_member_declined")  # the replacement may follow
    assert declined["member"] == "baita.mediator" and declined["reason"] == "本人与当事人系亲属，申请回避"

    view = await api.until(case_id, lambda v: "baita.mediator2" in v["team"])
    replaced = view["matching"][-1]
    assert replaced["type"] == "team_member_replaced" and replaced["replaces"] == "baita.mediator"
    assert replaced["member"] == "baita.mediator2" and replaced["candidates"][0]["username"] == "baita.mediator2"
    assert "综合" in replaced["reason"]
    assert "decline_team" in (await api.case(case_id, "baita.mediator2"))["actions"]

    # Not in a working state any more: 409.
    r = await api.post(
        f"/api/v1/cases/{case_id}/resolve",
        json={"outcome": "handled", "summary": "已支付"},
        headers=await api.auth("renshe.mediator"),
    )
    assert r.status_code == 200, r.text
    assert_error(await api.post(url, json={"reason": "不参加"}, headers=await api.auth("baita.mediator2")), 409)


async def test_a_member_accepts_the_invitation_once_and_the_handler_hears(api, engine):
    from sqlmodel import select

    from store.tables import Notification

    case_id = (await api.intake())["case_id"]
    await api.settled(case_id)
    assert "accept_team" in (await api.case(case_id, "baita.mediator"))["actions"]
    url = f"/api/v1/cases/{case_id}/team/accept"
    # The handler and people outside the team have nothing to accept.
    for user in ("renshe.mediator", "tianshi.mediator", "auditor"):
        assert_error(await api.post(url, headers=await api.auth(user)), 403)
    member = await api.auth("baita.mediator")
    r = await api.post(url, headers=member)
    assert r.status_code == 200, r.text
    assert r.json()["team_accepted"] == ["baita.mediator"]
    assert "accept_team" not in r.json()["actions"] and "decline_team" in r.json()["actions"]
    assert_error(await api.post(url, headers=member), 409, "already_accepted")

    async def told():
        with session(engine) as db:
            rows = db.exec(
                select(Notification).where(Notification.case_id == case_id, Notification.kind == "team_member_accepted")
            ).all()
        return rows or None

    from testkit.waiting import poll

    [note] = await poll(told, "the handler's notification")
    assert note.recipient == "renshe.mediator" and "baita.mediator" in note.text
